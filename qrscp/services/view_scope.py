"""Which patients a request touches, whether their view still has instances to handle, and whether the
request's unique keys are consistent with the view (C.4.2.2.2.2 note 3). Read-only SQL for the view builder.

The common request names one study, series, instance or patient: its statement is compiled once per
dialect and run on the driver, because building and hashing it in SQLAlchemy costs more than running it.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from sqlalchemy import Connection, and_, bindparam, exists, literal, or_, select
from sqlalchemy.orm import Session, aliased

from qrscp.index.models import Instance, Patient, Series, Study, ViewBuild, ViewMember
from qrscp.services.query import QueryError
from qrscp.services.view_plan import UNCHANGED
from qrscp.status import Status
from qrscp.uids import View

#: The instance column of each converted view.
VIEW_FLAG = {View.CLASSIC: "in_classic", View.ENHANCED: "in_enhanced"}

_STATEMENTS: dict[tuple[str, View, bool], Any] = {}
_COMPILED: dict[tuple[str, View, str], Any] = {}


class ViewError(QueryError):
    """A request is inconsistent with its view (C.4.2.2.2.2 note 3): failure `status` with `comment`."""


def explicit_uids(identifier: Dataset | None, keyword: str) -> list[str]:
    """Values of a unique key given as a single value or a list of UIDs (no wildcard, not universal)."""
    if identifier is None or keyword not in identifier:
        return []
    value = identifier[keyword].value
    if value is None or value == "":
        return []
    values = [value] if isinstance(value, str) else list(value)
    values = [str(v).strip() for v in values if str(v).strip()]
    if any("*" in v or "?" in v for v in values):
        return []
    return values


#: Unique keys that choose the patients of a request, most specific first.
SCOPE_KEYS = ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "PatientID")


def scope_of(identifier: Dataset | None) -> tuple[str | None, list[str]]:
    """The most specific unique key given as single value or list, and its values (None: every patient)."""
    for keyword in SCOPE_KEYS:
        values = explicit_uids(identifier, keyword)
        if values and (keyword != "PatientID" or len(values) == 1):
            return keyword, values
    return None, []


def scope_rows(connection: Connection, kind: str, view: View, values: list[str]) -> list[tuple[int, bool]]:
    """Rows (patient_fk, has newcomers) of the patients named by `kind` = `values`.

    The single-value case (nearly every request) runs SQL compiled once, straight on the driver:
    building and hashing this statement in SQLAlchemy would cost more than running it.
    """
    if len(values) != 1:
        statement = scope_statement(kind, view, many=True)
        return [(row[0], bool(row[1])) for row in connection.execute(statement, {"values": values})]
    key = (kind, view, connection.dialect.name)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = scope_statement(kind, view, many=False).compile(dialect=connection.dialect)
        _COMPILED[key] = compiled
    params = compiled.construct_params({"value": values[0]})
    if compiled.positional:
        driver_params: Any = tuple(params[name] for name in compiled.positiontup)
    else:
        driver_params = params
    return [(row[0], bool(row[1])) for row in connection.exec_driver_sql(compiled.string, driver_params)]


def scope_statement(kind: str, view: View, *, many: bool) -> Any:
    """SELECT patient_fk, <has newcomers> for the patients named by `kind` (= :value or IN :values)."""
    key = (kind, view, many)
    statement = _STATEMENTS.get(key)
    if statement is not None:
        return statement

    def matches(column: Any) -> Any:
        return column.in_(bindparam("values", expanding=True)) if many else column == bindparam("value")

    if kind == "PatientID":
        patient = Patient.id
        statement = select(patient, has_newcomers(patient, view)).where(matches(Patient.patient_id))
    else:
        patient = Study.patient_fk
        statement = select(patient, has_newcomers(patient, view)).distinct().select_from(Study)
        if kind == "StudyInstanceUID":
            statement = statement.where(matches(Study.study_instance_uid))
        else:
            statement = statement.join(Series, Series.study_fk == Study.id)
            if kind == "SeriesInstanceUID":
                statement = statement.where(matches(Series.series_instance_uid))
            else:
                statement = statement.join(Instance, Instance.series_fk == Series.id)
                statement = statement.where(matches(Instance.sop_instance_uid))
    _STATEMENTS[key] = statement
    return statement


def stale_clause(instance: Any, view: View) -> Any:
    """An instance as received that `view` has not handled: not covered by any generation, or covered as
    replaced (converted/rewritten) but visible again (re-sent under duplicate policy "replace")."""
    covered = exists().where(ViewMember.view == view.value, ViewMember.sop_instance_uid == instance.sop_instance_uid)
    replaced = exists().where(
        ViewMember.view == view.value,
        ViewMember.sop_instance_uid == instance.sop_instance_uid,
        ViewMember.fate != UNCHANGED,
    )
    visible = getattr(instance, VIEW_FLAG[view]) == True  # noqa: E712
    return and_(instance.in_default == True, or_(~covered, and_(visible, replaced)))  # noqa: E712


def has_newcomers(patient_column: Any, view: View) -> Any:
    """EXISTS an instance as received of the patient that the view still has to handle."""
    instance, series, study = aliased(Instance), aliased(Series), aliased(Study)
    return (
        select(literal(1))
        .select_from(instance)
        .join(series, instance.series_fk == series.id)
        .join(study, series.study_fk == study.id)
        .where(study.patient_fk == patient_column, stale_clause(instance, view))
        .correlate_except(instance, series, study)
        .exists()
    )


def newcomers_clause(view: View) -> Any:
    """An instance as received that no generation of `view` covered yet (the next generation's input)."""
    covered = exists().where(ViewMember.view == view.value, ViewMember.sop_instance_uid == Instance.sop_instance_uid)
    return and_(Instance.in_default == True, ~covered)  # noqa: E712


def patients_with_newcomers(session: Session, view: View, patients: list[int] | None) -> set[int]:
    """Patients (all when `patients` is None) that have instances `view` still has to handle."""
    statement = (
        select(Study.patient_fk)
        .distinct()
        .select_from(Instance)
        .join(Series, Instance.series_fk == Series.id)
        .join(Study, Series.study_fk == Study.id)
        .where(stale_clause(Instance, view))
    )
    if patients is not None:
        if not patients:
            return set()
        statement = statement.where(Study.patient_fk.in_(patients))
    return set(session.scalars(statement))


def patients_with_view(session: Session, view: View) -> list[int]:
    """Patients for which at least one generation of `view` was built."""
    return list(session.scalars(select(ViewBuild.patient_fk).distinct().where(ViewBuild.view == view.value)))


def check_consistency(sessions: Any, identifier: Dataset | None, view: View) -> None:
    """Refuse a request whose SOP Instance or Series Instance UID names an entity outside `view`.

    Parameters
    ----------
    sessions : sqlalchemy.orm.sessionmaker
    identifier : pydicom.dataset.Dataset or None
    view : View
        CLASSIC or ENHANCED (C.4.2.2.2.2 note 3: "It is not permitted to specify a view that is
        inconsistent with the requested unique key(s)"). Unknown UIDs are no error: they match nothing.

    Raises
    ------
    ViewError
        Status A900 with an Error Comment naming the view.
    """
    flag = getattr(Instance, VIEW_FLAG[view])
    sop_uids = explicit_uids(identifier, "SOPInstanceUID")
    series_uids = explicit_uids(identifier, "SeriesInstanceUID")
    if not sop_uids and not series_uids:
        return
    with sessions() as session:
        if sop_uids:
            outside = session.scalars(
                select(Instance.sop_instance_uid).where(Instance.sop_instance_uid.in_(sop_uids), flag == False)  # noqa: E712
            ).first()
            if outside is not None:
                raise ViewError(
                    Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
                    f"SOP Instance UID not in the {view.value} view",
                )
        if series_uids:
            in_view = exists().where(Instance.series_fk == Series.id, flag == True)  # noqa: E712
            outside = session.scalars(
                select(Series.series_instance_uid).where(Series.series_instance_uid.in_(series_uids), ~in_view)
            ).first()
            if outside is not None:
                raise ViewError(
                    Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
                    f"Series Instance UID not in the {view.value} view",
                )
