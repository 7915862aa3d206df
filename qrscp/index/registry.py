"""Registering instances in the index: the rows behind C-FIND, C-MOVE and C-GET.

``register_instance`` upserts the patient, study and series of a dataset and inserts its instance row.
Parents are inserted with ``INSERT ... ON CONFLICT DO NOTHING`` and read back, so that two associations
storing into the same new study at once never collide on a unique constraint (SQLite and PostgreSQL).
Nothing here commits: the caller commits after the file is safely in the store.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable

from pydicom.dataset import Dataset
from sqlalchemy import Integer, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from qrscp.index.keys import KEYS, Key
from qrscp.index.models import Base, Instance, Patient, Series, Study
from qrscp.index.values import element_int, element_text, fold_case, sequence_json
from qrscp.uids import Level, View

log = logging.getLogger(__name__)

#: Every view: an instance stored as received appears in all of them until a view builder says otherwise.
ALL_VIEWS: frozenset[View] = frozenset(View)
#: Seconds: a study's Last Received is rewritten only when it is older than this.
LAST_RECEIVED_RESOLUTION_S = 1.0
#: The instance column of each view's membership flag.
VIEW_FLAG = {View.DEFAULT: "in_default", View.CLASSIC: "in_classic", View.ENHANCED: "in_enhanced"}


class RegistryError(ValueError):
    """The dataset cannot be indexed (a missing unique key) or the instance is already indexed."""


class DuplicateInstanceError(RegistryError):
    """The SOP Instance UID is already indexed and ``replace`` was not asked for."""


@functools.lru_cache(maxsize=None)
def _is_int_column(model: type[Base], column: str) -> bool:
    return isinstance(model.__table__.c[column].type, Integer)


@functools.lru_cache(maxsize=None)
def _stored_keys(level: Level) -> tuple:
    """The keys of `level` that have an index column (fixed: computed once)."""
    return tuple(key for key in KEYS if key.level is level and key.column is not None)


def level_values(dataset: Dataset, level: Level) -> dict[str, object]:
    """The column values of `level` taken from `dataset` for every stored key of that level.

    Parameters
    ----------
    dataset : pydicom.Dataset
    level : Level

    Returns
    -------
    dict
        ORM attribute name -> value (text, int or None), Person Name case-folded siblings included.
    """
    values: dict[str, object] = {}
    for key in _stored_keys(level):
        if key.vr == "SQ":
            values[key.column] = sequence_json(dataset, key.keyword)
        elif _is_int_column(key.model, key.column):
            values[key.column] = element_int(dataset, key.keyword)
        else:
            values[key.column] = element_text(dataset, key.keyword)
        if key.ci_column:
            values[key.ci_column] = fold_case(values[key.column])
    return values


def _insert(session: Session, model: type[Base]):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    return insert(model)  # pragma: no cover - other databases: plain insert, no race protection


def _upsert(
    session: Session,
    model: type[Base],
    identity: dict[str, object],
    values: Callable[[], dict[str, object]],
    *,
    overwrite: bool,
) -> int:
    """Return the id of the row of `model` with `identity`, inserting it with `values()` if absent.

    `values` is called only when the row is written: most instances arrive for known parents.
    """
    where = [getattr(model, name) == value for name, value in identity.items()]
    row_id = session.scalar(select(model.id).where(*where))
    if row_id is not None:
        if overwrite:
            session.execute(update(model).where(model.id == row_id).values(**values()))
        return row_id
    statement = _insert(session, model).values(**identity, **values())
    if hasattr(statement, "on_conflict_do_nothing"):
        statement = statement.on_conflict_do_nothing(index_elements=list(identity))
    session.execute(statement)
    return session.scalar(select(model.id).where(*where))


_INSTANCE_INSERT = Instance.__table__.insert()


def _required_uid(dataset: Dataset, keyword: str) -> str:
    uid = element_text(dataset, keyword)
    if not uid:
        raise RegistryError(f"{keyword} is missing or empty")
    return uid


# Constant statements of the hot path (compiled and cache-keyed once).
_KNOWN_PARENTS = (
    select(
        Series.id, Study.id, Study.study_instance_uid, Study.last_received, Patient.patient_id,
        Patient.issuer_of_patient_id, *(getattr(Series, flag) for flag in VIEW_FLAG.values()),
    )
    .join(Study, Series.study_fk == Study.id)
    .join(Patient, Study.patient_fk == Patient.id)
    .where(Series.series_instance_uid == bindparam("series_uid"))
)
_TOUCH_STUDY = update(Study.__table__).where(Study.__table__.c.id == bindparam("study_fk")).values(
    last_received=bindparam("now")
)


def _known_parents(
    session: Session,
    study_uid: str,
    series_uid: str,
    identity: dict[str, object],
    now: dt.datetime,
    flags: dict[str, bool],
) -> int | None:
    """The series id when the series, its study and patient are already indexed as this dataset says.

    The hot path of a C-STORE into a known series: one joined query instead of three upserts, and the
    study's Last Received and the series' view flags written only when they change (Last Received at
    most once a second: the eager view policy counts quiet time in seconds). None means: take the
    general path (new series, or a series filed under another study or patient than this dataset's).
    """
    connection = session.connection()
    row = connection.execute(_KNOWN_PARENTS, {"series_uid": series_uid}).first()
    if row is None:
        return None
    series_fk, study_fk, indexed_study_uid, last_received, patient_id, issuer, *indexed_flags = row
    if indexed_study_uid != study_uid or (patient_id, issuer) != (identity["patient_id"], identity["issuer_of_patient_id"]):
        return None
    if last_received is None or (now - last_received).total_seconds() >= LAST_RECEIVED_RESOLUTION_S:
        connection.execute(_TOUCH_STUDY, {"study_fk": study_fk, "now": now})
    missing = {flag: True for (flag, on), indexed in zip(flags.items(), indexed_flags) if on and not indexed}
    if missing:
        session.execute(update(Series).where(Series.id == series_fk).values(missing))
    return series_fk


def _register_parents(
    session: Session,
    dataset: Dataset,
    study_uid: str,
    series_uid: str,
    identity: dict[str, object],
    charset: str | None,
    now: dt.datetime,
    flags: dict[str, bool],
    replace: bool,
) -> int:
    """Upsert the patient, study and series of `dataset`; return the series id."""

    def patient_values() -> dict[str, object]:
        values = level_values(dataset, Level.PATIENT)
        for name in identity:
            values.pop(name)
        return {**values, "specific_character_set": charset}

    patient_fk = _upsert(session, Patient, identity, patient_values, overwrite=replace)

    def study_values() -> dict[str, object]:
        values = level_values(dataset, Level.STUDY)
        values.pop("study_instance_uid")
        return {**values, "patient_fk": patient_fk, "specific_character_set": charset, "last_received": now}

    study_fk = _upsert(session, Study, {"study_instance_uid": study_uid}, study_values, overwrite=replace)
    session.execute(update(Study).where(Study.id == study_fk).values(last_received=now))

    def series_values() -> dict[str, object]:
        values = level_values(dataset, Level.SERIES)
        values.pop("series_instance_uid")
        return {**values, "study_fk": study_fk, **flags}

    series_fk = _upsert(session, Series, {"series_instance_uid": series_uid}, series_values, overwrite=replace)
    missing_flags = [getattr(Series, flag) == False for flag, on in flags.items() if on]
    if missing_flags:
        session.execute(
            update(Series).where(Series.id == series_fk, or_(*missing_flags)).values({f: True for f, on in flags.items() if on})
        )
    return series_fk


def register_instance(
    session: Session,
    dataset: Dataset,
    *,
    file_path: str,
    file_size: int,
    transfer_syntax_uid: str,
    source_ae_title: str = "",
    views: frozenset[View] = ALL_VIEWS,
    replace: bool = False,
    known_absent: bool = False,
) -> int:
    """Index one stored instance; does not commit.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    dataset : pydicom.Dataset
        The instance (its header is enough: Pixel Data may have been left out).
    file_path : str
        Where the file is, relative to the store root.
    file_size : int
        Its size in bytes.
    transfer_syntax_uid : str
        The transfer syntax of the stored file.
    source_ae_title : str, optional
        The AE that sent it.
    views : frozenset of View, optional
        The views the instance appears in (default all three: as received).
    replace : bool, optional
        Replace an already indexed instance of the same SOP Instance UID (and update the patient,
        study and series attributes from this dataset); otherwise that is a DuplicateInstanceError.
    known_absent : bool, optional
        The caller has just checked that the SOP Instance UID is not indexed: skip that query (a
        concurrent insert still fails on the unique constraint with an IntegrityError).

    Returns
    -------
    int
        The id of the new instance row (inserted, not committed).

    Raises
    ------
    RegistryError
        Study, Series or SOP Instance UID missing; DuplicateInstanceError when already indexed.
    """
    sop_instance_uid = _required_uid(dataset, "SOPInstanceUID")
    study_uid = _required_uid(dataset, "StudyInstanceUID")
    series_uid = _required_uid(dataset, "SeriesInstanceUID")
    if not known_absent or replace:
        _remove_indexed(session, sop_instance_uid, replace)
    charset = element_text(dataset, "SpecificCharacterSet")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    flags = {flag: view in views for view, flag in VIEW_FLAG.items()}
    series_fk = _parents(session, dataset, study_uid, series_uid, charset, now, flags, replace)
    return _insert_instance(
        session, dataset, sop_instance_uid, series_fk, flags, charset, now,
        file_path=file_path, file_size=file_size, transfer_syntax_uid=transfer_syntax_uid, source_ae_title=source_ae_title,
    )


def _parents(
    session: Session,
    dataset: Dataset,
    study_uid: str,
    series_uid: str,
    charset: str | None,
    now: dt.datetime,
    flags: dict[str, bool],
    replace: bool,
) -> int:
    """The series id of `dataset`: its patient, study and series found as indexed, or upserted."""
    identity = {
        "patient_id": element_text(dataset, "PatientID"),
        "issuer_of_patient_id": element_text(dataset, "IssuerOfPatientID"),
    }
    series_fk = None if replace else _known_parents(session, study_uid, series_uid, identity, now, flags)
    if series_fk is None:
        series_fk = _register_parents(session, dataset, study_uid, series_uid, identity, charset, now, flags, replace)
    return series_fk


def _insert_instance(
    session: Session,
    dataset: Dataset,
    sop_instance_uid: str,
    series_fk: int,
    flags: dict[str, bool],
    charset: str | None,
    now: dt.datetime,
    *,
    file_path: str,
    file_size: int,
    transfer_syntax_uid: str,
    source_ae_title: str,
) -> int:
    """Insert the instance row of `dataset` in series `series_fk`; return its id."""
    instance_values = level_values(dataset, Level.IMAGE)
    instance_values.pop("sop_instance_uid")
    instance_values["transfer_syntax_uid"] = transfer_syntax_uid
    # One constant Core INSERT of the table with the values as parameters: the ORM unit of work, or a
    # statement built per instance with .values(), cost more than the rest of the registration (py-spy).
    result = session.connection().execute(
        _INSTANCE_INSERT,
        {
            **instance_values,
            **flags,
            "sop_instance_uid": sop_instance_uid,
            "series_fk": series_fk,
            "specific_character_set": charset,
            "file_path": file_path,
            "file_size": file_size,
            "received": now,
            "source_ae_title": source_ae_title.strip(),
        },
    )
    return int(result.inserted_primary_key[0])


def _remove_indexed(session: Session, sop_instance_uid: str, replace: bool) -> None:
    """Remove the indexed instance `sop_instance_uid` when `replace`; DuplicateInstanceError otherwise."""
    if session.scalar(select(Instance.id).where(Instance.sop_instance_uid == sop_instance_uid)) is not None:
        if not replace:
            raise DuplicateInstanceError(f"SOP Instance {sop_instance_uid} is already indexed")
        remove_instance(session, get_instance(session, sop_instance_uid))


def get_instance(session: Session, sop_instance_uid: str) -> Instance | None:
    """The indexed instance with `sop_instance_uid`, or None."""
    return session.scalar(select(Instance).where(Instance.sop_instance_uid == sop_instance_uid))


def remove_instance(session: Session, instance: Instance) -> None:
    """Remove `instance` from the index, then its series, study and patient when left empty.

    Does not commit and does not touch the stored file.
    """
    series_fk = instance.series_fk
    session.delete(instance)
    session.flush()
    if session.scalar(select(exists().where(Instance.series_fk == series_fk))):
        refresh_series_views(session, series_fk)
        return
    study_fk = session.scalar(select(Series.study_fk).where(Series.id == series_fk))
    session.execute(delete(Series).where(Series.id == series_fk))
    if study_fk is None or session.scalar(select(exists().where(Series.study_fk == study_fk))):
        return
    patient_fk = session.scalar(select(Study.patient_fk).where(Study.id == study_fk))
    session.execute(delete(Study).where(Study.id == study_fk))
    if patient_fk is None or session.scalar(select(exists().where(Study.patient_fk == patient_fk))):
        return
    session.execute(delete(Patient).where(Patient.id == patient_fk))


def refresh_series_views(session: Session, series_fk: int) -> None:
    """Recompute the view flags of a series from its instances (after a view builder changed them)."""
    values = {
        flag: exists().where(Instance.series_fk == series_fk, getattr(Instance, flag) == True)
        for flag in VIEW_FLAG.values()
    }
    session.execute(update(Series).where(Series.id == series_fk).values(values))


__all__ = [
    "ALL_VIEWS",
    "DuplicateInstanceError",
    "Key",
    "RegistryError",
    "get_instance",
    "level_values",
    "refresh_series_views",
    "register_instance",
    "remove_instance",
]
