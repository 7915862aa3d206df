"""Patient, study and series values that do not depend on the order in which instances arrive.

The first instance of a study creates its patient, study and series rows. A later instance of the same
entity fills every value that is still empty (absent or zero length) with its own non-empty value: a
study whose first instance was a presentation state without Study Description answers the description
of the images that followed. A value already present is kept (the first non-empty value received wins),
so when instances disagree (two Series Numbers in one series) the index answers the first one; each
stored instance keeps its own values. ``[storage] duplicate_policy = "replace"`` rewrites the rows from
the replacing instance instead.

The fill is one ``UPDATE ... SET column = COALESCE(NULLIF(column, ''), :value)`` of the empty columns
only, so a concurrent store cannot overwrite a value either.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from pydicom.dataset import Dataset
from sqlalchemy import Integer, func, select, update
from sqlalchemy.orm import Session

from qrscp.index.keys import KEYS, MODEL_FOR_LEVEL, Key
from qrscp.index.values import element_int, element_text, fold_case, sequence_json
from qrscp.uids import Level

#: Columns that identify a row: never filled.
IDENTITY_COLUMNS = frozenset({"patient_id", "issuer_of_patient_id", "study_instance_uid", "series_instance_uid"})


@functools.lru_cache(maxsize=None)
def mergeable_keys(level: Level) -> tuple[Key, ...]:
    """The keys of `level` stored in a column of its row, identity columns left out."""
    return tuple(
        key for key in KEYS
        if key.level is level and key.column is not None and key.column not in IDENTITY_COLUMNS
    )


#: The parent levels whose empty values a later instance fills, and their columns in that order (the
#: registry's joined look-up of known parents selects them).
MERGED_LEVELS = (Level.PATIENT, Level.STUDY, Level.SERIES)


@functools.lru_cache(maxsize=None)
def _keys_and_tags(level: Level) -> tuple[tuple[Key, int], ...]:
    """(key, tag) of :func:`mergeable_keys`: an absent tag is skipped without reading the data set."""
    return tuple((key, key.tag) for key in mergeable_keys(level))


@functools.lru_cache(maxsize=None)
def _is_int(key: Key) -> bool:
    return isinstance(key.model.__table__.c[key.column].type, Integer)


def key_values(dataset: Dataset, key: Key) -> dict[str, object]:
    """The column value(s) of `key` taken from `dataset` (with the case-folded sibling of a name)."""
    if key.vr == "SQ":
        value: object = sequence_json(dataset, key.keyword)
    elif _is_int(key):
        value = element_int(dataset, key.keyword)
    else:
        value = element_text(dataset, key.keyword)
    values = {key.column: value}
    if key.ci_column:
        values[key.ci_column] = fold_case(value)
    return values


def is_empty(value: object) -> bool:
    """True for a value the index treats as not received (NULL or zero length)."""
    return value is None or value == ""


def fill_missing(session: Session, level: Level, row_id: int, stored: Mapping[str, object], dataset: Dataset) -> None:
    """Fill the empty columns of the `level` row `row_id` from `dataset`.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    level : Level
        PATIENT, STUDY or SERIES.
    row_id : int
        The row's primary key.
    stored : mapping
        The row's current values by column name (at least those of :func:`mergeable_keys`).
    dataset : pydicom.Dataset
        The instance being registered.
    """
    values: dict[str, object] = {}
    for key, tag in _keys_and_tags(level):
        if is_empty(stored.get(key.column)) and tag in dataset:
            candidate = key_values(dataset, key)
            if not is_empty(candidate[key.column]):
                values.update(candidate)
    if not values:
        return
    model = MODEL_FOR_LEVEL[level]
    table = model.__table__
    guarded = {}
    for name, value in values.items():
        column = table.c[name]
        current = column if isinstance(column.type, Integer) else func.nullif(column, "")
        guarded[name] = func.coalesce(current, value)
    session.execute(update(model).where(model.id == row_id).values(guarded))


MERGED_COLUMNS = tuple((level, key.column) for level in MERGED_LEVELS for key in mergeable_keys(level))


def fill_parents(session: Session, dataset: Dataset, row_ids: Mapping[Level, int], stored: Sequence) -> None:
    """Fill the empty parent values from `dataset`; `stored` holds the values of :data:`MERGED_COLUMNS`."""
    by_level: dict[Level, dict[str, object]] = {level: {} for level in MERGED_LEVELS}
    for (level, column), value in zip(MERGED_COLUMNS, stored):
        by_level[level][column] = value
    for level, values in by_level.items():
        if any(is_empty(value) for value in values.values()):
            fill_missing(session, level, row_ids[level], values, dataset)


def fill_row(session: Session, dataset: Dataset, level: Level, row_id: int) -> None:
    """Fill the empty values of an existing parent row, read first (the path of a new series or study)."""
    model = MODEL_FOR_LEVEL[level]
    keys = mergeable_keys(level)
    row = session.execute(select(*(getattr(model, key.column) for key in keys)).where(model.id == row_id)).first()
    if row is not None:
        fill_missing(session, level, row_id, dict(zip((key.column for key in keys), row)), dataset)
