"""Checking a C-FIND request and planning its answer: the level, the SQL clauses of its keys (PS3.4
C.2.2.2), the columns to select, the filters SQL cannot do, and how each requested key is answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from sqlalchemy import ColumnElement, Integer

from qrscp.index import matching, queries
from qrscp.index.keys import (
    KEYS_BY_KEYWORD,
    SERVICE_KEYWORDS,
    UNIQUE_KEY_FOR_LEVEL,
    Key,
    depth,
    levels_of,
    model_level,
)
from qrscp.index.models import Instance, Patient, Study
from qrscp.services.query_request import QueryError, key_value, request_elements, request_level, single_uid
from qrscp.status import Status
from qrscp.uids import Level, View

#: Date/time pairs matched as one DT when combined date-time matching was negotiated (C.2.2.2.5.4).
COMBINED_PAIRS = (
    ("StudyDate", "StudyTime"),
    ("SeriesDate", "SeriesTime"),
    ("PatientBirthDate", "PatientBirthTime"),
    ("PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime"),
    ("ContentDate", "ContentTime"),
    ("AcquisitionDate", "AcquisitionTime"),
    ("InstanceCreationDate", "InstanceCreationTime"),
    ("PresentationCreationDate", "PresentationCreationTime"),
)


@dataclass(frozen=True)
class Answer:
    """How to answer one requested key: computed once per request, used for every match."""

    element: DataElement
    key: Key | None
    label: str | None  # the selected column's label; None when not answered from a column
    is_int: bool

    @classmethod
    def of(cls, element: DataElement, key: Key | None) -> Answer:
        if key is None or key.computed:
            return cls(element, key, key.keyword if key else None, False)
        is_int = isinstance(key.model.__table__.c[key.column].type, Integer)
        return cls(element, key, key_label(key), is_int)


@dataclass
class FindPlan:
    """A checked C-FIND request."""

    level: Level
    information_model: str
    relational: bool
    view: View
    identifier: Dataset
    clauses: list[ColumnElement]
    item_filters: list[tuple[Key, Dataset]]
    columns: dict[str, ColumnElement]  # label -> column
    returned: list[Answer]  # request elements in order, with how to answer them
    #: Multi-valued keys matched by wild card: SQL may match across values ("C*T" vs "CX\\YT"),
    #: so each row is checked again in Python: (label, VR, request value, unknown matches).
    value_filters: list[tuple[str, str, object, bool]] = field(default_factory=list)
    #: Keywords (or tags) of requested Optional Keys that the index does not hold: returned empty.
    unsupported_keys: list[str] = field(default_factory=list)


def key_column(key: Key) -> ColumnElement:
    """The index column of a key."""
    return getattr(key.model, key.column)


def key_label(key: Key) -> str:
    """The label a key's column is selected under (unique over tables)."""
    return f"{key.model.__tablename__}_{key.column}"


def plan_find(
    identifier: Dataset,
    model: str,
    relational: bool,
    view: View,
    combined: bool,
    *,
    case_insensitive_names: bool,
    match_unknown: bool,
    dialect: str,
) -> FindPlan:
    """Check a C-FIND request identifier and plan its answer.

    Parameters
    ----------
    identifier : pydicom.Dataset
        The request identifier.
    model : str
        Patient Root or Study Root FIND SOP Class UID.
    relational : bool
        Relational queries were negotiated.
    view : View
    combined : bool
        Combined date-time matching was negotiated.
    case_insensitive_names : bool
        PN values match case-insensitively (``[query] case_insensitive_person_names``).
    match_unknown : bool
        An empty stored value matches (``[query] match_unknown``).
    dialect : str
        The database dialect name (aggregates are written per dialect).

    Raises
    ------
    QueryError
        Missing or unknown level, a key below the level without relational queries, a missing unique
        key above the level (hierarchical search).
    """
    levels = levels_of(model)
    level = request_level(identifier, levels)
    plan = FindPlan(level, model, relational, view, identifier, [], [], {}, [])
    lower_clauses: dict[Level, list[ColumnElement]] = {}
    combined_done: set[str] = set()
    if combined:
        _combined_clauses(identifier, model, level, relational, plan, lower_clauses, combined_done)
    for element, value in request_elements(identifier):
        _plan_key(plan, element, value, lower_clauses, combined_done, case_insensitive_names, match_unknown, dialect)
    if lower_clauses:
        plan.clauses.append(queries.related_below(level, view, lower_clauses))
    if not relational:
        _check_unique_keys_above(identifier, model, level)
    plan.columns["patient_specific_character_set"] = Patient.specific_character_set
    if depth(level) >= depth(Level.STUDY):
        plan.columns["study_specific_character_set"] = Study.specific_character_set
    if level is Level.IMAGE:
        plan.columns["instance_specific_character_set"] = Instance.specific_character_set
    return plan


def _plan_key(
    plan: FindPlan,
    element: DataElement,
    value: object,
    lower_clauses: dict[Level, list[ColumnElement]],
    combined_done: set[str],
    ci: bool,
    match_unknown: bool,
    dialect: str,
) -> None:
    """Plan one request element: how it is answered and, when it has a value, how it matches."""
    keyword = keyword_for_tag(element.tag)
    if keyword in SERVICE_KEYWORDS:
        return
    key = KEYS_BY_KEYWORD.get(keyword)
    plan.returned.append(Answer.of(element, key))
    if key is None:
        # Not indexed: returned empty (C.2.2.1.3), and the matches are Pending FF01.
        plan.unsupported_keys.append(keyword or str(element.tag))
        return
    key_level = model_level(key, plan.information_model)
    below = depth(key_level) > depth(plan.level)
    if below and not plan.relational:
        raise QueryError(
            Status.CANNOT_UNDERSTAND,
            f"{keyword} is a {key_level.value} key, below {plan.level.value} level",
        )
    if key.computed:
        _computed_key(plan, key, value, below, plan.view, dialect)
        return
    if not below:
        plan.columns[key_label(key)] = key_column(key)
    if key.vr == "SQ":
        item = value[0] if value else None
        if item is not None and len(item) and not below:
            plan.item_filters.append((key, item))
        return
    if keyword in combined_done or not key.matched:
        return
    clause = matching.clause(
        matching.Target(key_column(key), key.vr, key.multiple, getattr(key.model, key.ci_column) if key.ci_column else None),
        value,
        case_insensitive_names=ci,
        match_unknown=match_unknown and not key.unique and keyword not in matching.NEVER_UNKNOWN,
    )
    if clause is None:
        return
    (lower_clauses.setdefault(key_level, []) if below else plan.clauses).append(clause)
    if key.multiple and not below and any(matching.has_wildcard(v) for v in matching.request_values(value) or []):
        unknown = match_unknown and not key.unique and keyword not in matching.NEVER_UNKNOWN
        plan.value_filters.append((key_label(key), key.vr, value, unknown))


def _combined_clauses(identifier, model, level, relational, plan, lower_clauses, done) -> None:
    for date_keyword, time_keyword in COMBINED_PAIRS:
        if date_keyword not in identifier or time_keyword not in identifier:
            continue
        date_key, time_key = KEYS_BY_KEYWORD[date_keyword], KEYS_BY_KEYWORD[time_keyword]
        key_level = model_level(date_key, model)
        if depth(key_level) > depth(level) and not relational:
            continue  # reported as a key below the level by the main loop
        clause = matching.combined_datetime(
            key_column(date_key), key_column(time_key), identifier[date_keyword].value, identifier[time_keyword].value
        )
        if clause is None:
            continue
        done.update((date_keyword, time_keyword))
        if depth(key_level) > depth(level):
            lower_clauses.setdefault(key_level, []).append(clause)
        else:
            plan.clauses.append(clause)


def _computed_key(plan: FindPlan, key: Key, value: object, below: bool, view: View, dialect: str) -> None:
    if below:
        return
    plan.columns[key.keyword] = queries.aggregate_column(key.keyword, view, dialect)
    if matching.request_values(value) is None:
        return  # universal matching: only answered
    if key.keyword == "ModalitiesInStudy":
        matcher = lambda column: matching.clause(matching.Target(column, "CS"), value)
        plan.clauses.append(queries.modalities_in_study(view, matcher))
    elif key.keyword == "SOPClassesInStudy":
        matcher = lambda column: matching.clause(matching.Target(column, "UI"), value)
        plan.clauses.append(queries.sop_classes_in_study(view, matcher))


def _check_unique_keys_above(identifier: Dataset, model: str, level: Level) -> None:
    """Hierarchical search (C.4.1.2.1): a single value of the unique key of each level above."""
    for upper in levels_of(model):
        if depth(upper) >= depth(level):
            break
        keyword = UNIQUE_KEY_FOR_LEVEL[upper]
        if single_uid(key_value(identifier, keyword)) is None:
            raise QueryError(
                Status.CANNOT_UNDERSTAND,
                f"{level.value} query needs one {keyword} (hierarchical)",
            )
