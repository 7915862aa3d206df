"""Which patients a request touches, whether their view still has instances to handle, and which named
instances or series lie outside a view (C.4.2.2.2.2 note 3). Read-only SQL for the view builder.

The common request names one study, series, instance or patient: its statement is compiled once per
dialect and run on the driver, because building and hashing it in SQLAlchemy costs more than running it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, literal, or_, select
from sqlalchemy.orm import Session, aliased

from qrscp.index.models import Instance, Patient, Series, Study, ViewBuild, ViewMember
from qrscp.index.registry import VIEW_FLAG
from qrscp.index.view_records import UNCHANGED
from qrscp.uids import View

_STATEMENTS: dict[tuple[str, View, bool], Any] = {}
_COMPILED: dict[tuple[str, View, str], Any] = {}


def scope_rows(connection: Connection, kind: str, view: View, values: list[str]) -> list[tuple[int, bool]]:
    """Rows (patient_fk, has newcomers) of the patients named by `kind` = `values`.

    Parameters
    ----------
    connection : sqlalchemy.Connection
    kind : str
        The unique key naming the patients: ``SOPInstanceUID``, ``SeriesInstanceUID``,
        ``StudyInstanceUID`` or ``PatientID``.
    view : View
        CLASSIC or ENHANCED.
    values : list of str
        Its values (one or more).

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


def newcomers(session: Session, patient_fk: int, view: View) -> list[Instance]:
    """The instances as received of a patient that no generation of `view` covered yet, by SOP Instance UID."""
    statement = (
        select(Instance)
        .join(Series, Instance.series_fk == Series.id)
        .join(Study, Series.study_fk == Study.id)
        .where(Study.patient_fk == patient_fk, newcomers_clause(view))
        .order_by(Instance.sop_instance_uid)
    )
    return list(session.scalars(statement))


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


def patients_receiving(session: Session, patients: Iterable[int], since: dt.datetime) -> set[int]:
    """Those of `patients` with a study that received an instance after `since` (naive UTC)."""
    return set(session.scalars(select(Study.patient_fk).where(Study.patient_fk.in_(patients), Study.last_received > since)))


def instance_outside_view(session: Session, sop_instance_uids: list[str], view: View) -> str | None:
    """One of the indexed `sop_instance_uids` that is not in `view`, or None."""
    flag = getattr(Instance, VIEW_FLAG[view])
    return session.scalars(
        select(Instance.sop_instance_uid).where(Instance.sop_instance_uid.in_(sop_instance_uids), flag == False)  # noqa: E712
    ).first()


def series_outside_view(session: Session, series_instance_uids: list[str], view: View) -> str | None:
    """One of the indexed `series_instance_uids` with no instance in `view`, or None."""
    flag = getattr(Instance, VIEW_FLAG[view])
    in_view = exists().where(Instance.series_fk == Series.id, flag == True)  # noqa: E712
    return session.scalars(
        select(Series.series_instance_uid).where(Series.series_instance_uid.in_(series_instance_uids), ~in_view)
    ).first()
