"""The durable records of the CLASSIC and ENHANCED views (Supplement 157 ZZZA.6): generations, members,
conversion records, and the view flags of the instances and series they show or hide.

A *generation* (``view_build``) is claimed as "building", then published in one transaction: its new
instances shown, the originals they replace hidden, a conversion record per new instance with its sources
(and frames), and the fate of every original (``view_member``: converted, rewritten or unchanged).
Nothing here commits: the view builder (:mod:`qrscp.services.views`) owns the transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from qrscp.index.models import ConversionRecord, ConversionSource, Instance, Series, ViewBuild, ViewMember
from qrscp.index.registry import VIEW_FLAG
from qrscp.uids import ENHANCED_TO_CLASSIC, View

#: Fates of an original instance in a view (``view_member.fate``).
CONVERTED = "converted"
REWRITTEN = "rewritten"
UNCHANGED = "unchanged"
#: States of a generation (``view_build.state``): being written, then visible in the view.
BUILDING = "building"
BUILT = "built"


@dataclass(frozen=True)
class GeneratedInstance:
    """A new instance of a view generation as recorded: its identity, kind and sources.

    Attributes
    ----------
    sop_instance_uid, sop_class_uid, series_instance_uid, study_instance_uid : str
    kind : str
        CONVERTED or REWRITTEN.
    engine_kind : str
        The conversion engine's own kind (enhanced, classic, recovered, overlay-gsps, rewritten).
    sources : sequence of (str, str, int or None, int or None)
        (source SOP Instance UID, its SOP Class UID, source frame, frame of the new instance), in order.
    """

    sop_instance_uid: str
    sop_class_uid: str
    series_instance_uid: str
    study_instance_uid: str
    kind: str
    engine_kind: str
    sources: Sequence[tuple[str, str, int | None, int | None]]


def utc_now() -> dt.datetime:
    """Naive UTC, as the index stores times."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# --- generations --------------------------------------------------------------------------------------


def latest_generation(session: Session, patient_fk: int, view: View) -> ViewBuild | None:
    """The newest generation row of a patient's view (built or building), or None."""
    return session.scalar(
        select(ViewBuild)
        .where(ViewBuild.patient_fk == patient_fk, ViewBuild.view == view.value)
        .order_by(ViewBuild.generation.desc())
        .limit(1)
    )


def generation_row(session: Session, build_id: int) -> ViewBuild | None:
    """The generation row `build_id` as it is now, or None once deleted."""
    return session.get(ViewBuild, build_id)


def last_built_generation(session: Session, patient_fk: int, view: View) -> int:
    """The number of the newest built generation of a patient's view (0: none)."""
    return session.scalar(
        select(func.max(ViewBuild.generation)).where(
            ViewBuild.patient_fk == patient_fk, ViewBuild.view == view.value, ViewBuild.state == BUILT
        )
    ) or 0


def add_generation(session: Session, patient_fk: int, view: View, generation: int, started: dt.datetime) -> None:
    """Add the "building" row of a generation (its unique constraint fails when another builder has it)."""
    session.add(ViewBuild(patient_fk=patient_fk, view=view.value, generation=generation, state=BUILDING, started=started))


def abandon_generation(session: Session, build_id: int) -> None:
    """Delete a generation row left "building" (a crashed builder), so that it can be built again."""
    session.execute(delete(ViewBuild).where(ViewBuild.id == build_id, ViewBuild.state == BUILDING))


def discard_generation(session: Session, patient_fk: int, view: View, generation: int) -> None:
    """Delete the "building" row of a generation whose build failed."""
    session.execute(
        delete(ViewBuild).where(
            ViewBuild.patient_fk == patient_fk,
            ViewBuild.view == view.value,
            ViewBuild.generation == generation,
            ViewBuild.state == BUILDING,
        )
    )


# --- what earlier generations did ---------------------------------------------------------------------


def conversion_records(session: Session, patient_fk: int, view: View, *, before: int) -> list[ConversionRecord]:
    """The conversion records of the generations before `before`, in the order they were written."""
    return list(
        session.scalars(
            select(ConversionRecord)
            .where(
                ConversionRecord.patient_fk == patient_fk,
                ConversionRecord.view == view.value,
                ConversionRecord.generation < before,
            )
            .order_by(ConversionRecord.id)
        ).all()
    )


def reidentified_originals(session: Session, patient_fk: int, view: View, *, before: int) -> set[str]:
    """Originals of the generations before `before` that got a new identity (converted or rewritten)."""
    return set(
        session.scalars(
            select(ViewMember.sop_instance_uid).where(
                ViewMember.patient_fk == patient_fk,
                ViewMember.view == view.value,
                ViewMember.generation < before,
                ViewMember.fate.in_([CONVERTED, REWRITTEN]),
            )
        )
    )


def enhanced_originals(session: Session, patient_fk: int, view: View, *, before: int) -> list[Instance]:
    """Enhanced images as received, of the generations before `before`, shown unchanged in `view`."""
    kept = select(ViewMember.sop_instance_uid).where(
        ViewMember.patient_fk == patient_fk,
        ViewMember.view == view.value,
        ViewMember.generation < before,
        ViewMember.fate == UNCHANGED,
    )
    return list(
        session.scalars(
            select(Instance)
            .where(Instance.sop_instance_uid.in_(kept), Instance.sop_class_uid.in_(list(ENHANCED_TO_CLASSIC)))
            .order_by(Instance.sop_instance_uid)
        )
    )


def generation_originals(session: Session, patient_fk: int, view: View, generation: int) -> list[Instance]:
    """The originals one generation covered, by SOP Instance UID (to replay it)."""
    member_uids = list(
        session.scalars(
            select(ViewMember.sop_instance_uid).where(
                ViewMember.patient_fk == patient_fk,
                ViewMember.view == view.value,
                ViewMember.generation == generation,
            )
        )
    )
    return list(
        session.scalars(select(Instance).where(Instance.sop_instance_uid.in_(member_uids)).order_by(Instance.sop_instance_uid))
    )


def generated_files(session: Session, patient_fk: int, view: View) -> list[tuple[int, str, str]]:
    """(generation, SOP Instance UID, file path) of every generated instance of a patient's view."""
    rows = session.execute(
        select(ConversionRecord.generation, Instance.sop_instance_uid, Instance.file_path)
        .join(Instance, Instance.sop_instance_uid == ConversionRecord.sop_instance_uid)
        .where(ConversionRecord.patient_fk == patient_fk, ConversionRecord.view == view.value)
    ).all()
    return [tuple(row) for row in rows]


def generated_instance(session: Session, sop_instance_uid: str) -> tuple[ConversionRecord, Instance] | None:
    """The conversion record and index row of a generated instance, or None when it is not one."""
    record = session.scalar(select(ConversionRecord).where(ConversionRecord.sop_instance_uid == sop_instance_uid))
    row = session.scalar(select(Instance).where(Instance.sop_instance_uid == sop_instance_uid))
    if record is None or row is None:
        return None
    return record, row


# --- showing and hiding -------------------------------------------------------------------------------


def hide_replaced_again(session: Session, patient_fk: int, view: View) -> int:
    """Hide originals that `view` replaced but that became visible again (re-sent, policy "replace").

    Returns
    -------
    int
        Number of instances hidden (0: nothing changed).
    """
    flag = getattr(Instance, VIEW_FLAG[view])
    replaced = select(ViewMember.sop_instance_uid).where(
        ViewMember.patient_fk == patient_fk, ViewMember.view == view.value, ViewMember.fate != UNCHANGED
    )
    rows = session.execute(
        select(Instance.id, Instance.series_fk).where(
            Instance.sop_instance_uid.in_(replaced), Instance.in_default == True, flag == True  # noqa: E712
        )
    ).all()
    if not rows:
        return 0
    session.execute(update(Instance).where(Instance.id.in_([r[0] for r in rows])).values({VIEW_FLAG[view]: False}))
    for series_fk in {r[1] for r in rows}:
        _refresh_series_flag(session, series_fk, VIEW_FLAG[view])
    return len(rows)


def publish_generation(
    session: Session,
    patient_fk: int,
    view: View,
    generation: int,
    *,
    generated: Sequence[GeneratedInstance],
    fates: Mapping[str, str],
    now: dt.datetime,
) -> None:
    """Show a generation in `view`: flags, conversion records, members, and its row marked built.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Commit it after this call: the whole generation becomes visible at once.
    patient_fk, view, generation
        The generation, claimed with :func:`add_generation`.
    generated : sequence of GeneratedInstance
        Its new instances, already stored (with no view flag).
    fates : mapping of str to str
        SOP Instance UID -> fate of every original the generation covers, in order.
    now : datetime
        Naive UTC: ``created`` of the records, ``finished`` of the generation.
    """
    flag = VIEW_FLAG[view]
    replaced = [uid for uid, fate in fates.items() if fate in (CONVERTED, REWRITTEN)]
    new_uids = [instance.sop_instance_uid for instance in generated]
    _show(session, flag, replaced, new_uids)
    for instance in generated:
        session.add(_conversion_record(patient_fk, view, generation, instance, now))
    for uid, fate in fates.items():
        session.add(ViewMember(patient_fk=patient_fk, view=view.value, sop_instance_uid=uid, generation=generation, fate=fate))
    session.execute(
        update(ViewBuild)
        .where(
            ViewBuild.patient_fk == patient_fk,
            ViewBuild.view == view.value,
            ViewBuild.generation == generation,
        )
        .values(state=BUILT, finished=now)
    )


def _show(session: Session, flag: str, hidden: list[str], shown: list[str]) -> None:
    """Clear `flag` of the `hidden` instances, set it on the `shown` ones, recompute their series' flag."""
    for chunk in _chunks(hidden):
        session.execute(update(Instance).where(Instance.sop_instance_uid.in_(chunk)).values({flag: False}))
    for chunk in _chunks(shown):
        session.execute(update(Instance).where(Instance.sop_instance_uid.in_(chunk)).values({flag: True}))
    series_fks: set[int] = set()
    for chunk in _chunks(hidden + shown):
        series_fks.update(session.scalars(select(Instance.series_fk).where(Instance.sop_instance_uid.in_(chunk))))
    for series_fk in series_fks:
        _refresh_series_flag(session, series_fk, flag)


def _refresh_series_flag(session: Session, series_fk: int, flag: str) -> None:
    """A series is in a view when one of its instances is."""
    in_view = exists().where(Instance.series_fk == series_fk, getattr(Instance, flag) == True)  # noqa: E712
    session.execute(update(Series).where(Series.id == series_fk).values({flag: in_view}))


def _conversion_record(
    patient_fk: int, view: View, generation: int, instance: GeneratedInstance, now: dt.datetime
) -> ConversionRecord:
    record = ConversionRecord(
        patient_fk=patient_fk,
        view=view.value,
        generation=generation,
        kind=instance.kind,
        engine_kind=instance.engine_kind,
        sop_instance_uid=instance.sop_instance_uid,
        sop_class_uid=instance.sop_class_uid,
        series_instance_uid=instance.series_instance_uid,
        study_instance_uid=instance.study_instance_uid,
        created=now,
    )
    record.sources = [
        ConversionSource(
            position=position,
            source_sop_instance_uid=uid,
            source_sop_class_uid=sop_class,
            source_frame=source_frame,
            frame=frame,
        )
        for position, (uid, sop_class, source_frame, frame) in enumerate(instance.sources, start=1)
    ]
    return record


def _chunks(values: Sequence[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
