"""The records of the views in the index: a generation claimed once, published in one transaction (flags,
conversion records, members), what a view still has to handle, re-sent originals hidden again."""

from __future__ import annotations

import pytest
from indexdata import instance_dataset, register
from pydicom.uid import ExplicitVRLittleEndian
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from qrscp.index import view_records, view_scope
from qrscp.index.models import ConversionRecord, Instance, Patient, Series, ViewMember
from qrscp.index.registry import register_instance
from qrscp.index.view_records import BUILDING, BUILT, CONVERTED, UNCHANGED, GeneratedInstance
from qrscp.uids import CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, View

STUDY = "1.2.3"
ORIGINALS = ("1.2.3.1.1", "1.2.3.1.2", "1.2.3.2.1")  # two CT images of series .1, one of series .2
NEW = "1.2.3.9.1"


@pytest.fixture
def patient(sessions) -> int:
    """A patient with three instances as received, in every view; returns its id."""
    register(sessions, [instance_dataset("P1", STUDY, uid.rsplit(".", 1)[0], uid) for uid in ORIGINALS])
    with sessions() as session:
        return session.scalar(select(Patient.id))


def _claim(sessions, patient_fk: int, generation: int) -> None:
    with sessions() as session:
        view_records.add_generation(session, patient_fk, View.ENHANCED, generation, view_records.utc_now())
        session.commit()


def _publish_first_generation(sessions, patient_fk: int) -> None:
    """Generation 1 of the ENHANCED view: the two images of series .1 converted into NEW, .2.1 unchanged."""
    _claim(sessions, patient_fk, 1)
    generated = instance_dataset("P1", STUDY, "1.2.3.9", NEW, sop_class_uid=LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE)
    register(sessions, [generated], views=frozenset())  # stored invisibly, as the builder does
    record = GeneratedInstance(
        sop_instance_uid=NEW,
        sop_class_uid=LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
        series_instance_uid="1.2.3.9",
        study_instance_uid=STUDY,
        kind=CONVERTED,
        engine_kind="enhanced",
        sources=[(ORIGINALS[0], CT_IMAGE_STORAGE, None, 1), (ORIGINALS[1], CT_IMAGE_STORAGE, None, 2)],
    )
    fates = {ORIGINALS[0]: CONVERTED, ORIGINALS[1]: CONVERTED, ORIGINALS[2]: UNCHANGED}
    with sessions() as session:
        view_records.publish_generation(
            session, patient_fk, View.ENHANCED, 1, generated=[record], fates=fates, now=view_records.utc_now()
        )
        session.commit()


def _flags(session, model, column) -> dict[str, bool]:
    return dict(session.execute(select(column, model.in_enhanced)).all())


def test_a_generation_is_claimed_once(sessions, patient):
    _claim(sessions, patient, 1)
    with pytest.raises(IntegrityError):
        _claim(sessions, patient, 1)
    with sessions() as session:
        latest = view_records.latest_generation(session, patient, View.ENHANCED)
        assert (latest.generation, latest.state) == (1, BUILDING)
        assert view_records.last_built_generation(session, patient, View.ENHANCED) == 0
        view_records.discard_generation(session, patient, View.ENHANCED, 1)
        session.commit()
        assert view_records.latest_generation(session, patient, View.ENHANCED) is None


def test_publishing_shows_the_new_instance_hides_its_sources_and_records_everything(sessions, patient):
    with sessions() as session:
        assert [row.sop_instance_uid for row in view_scope.newcomers(session, patient, View.ENHANCED)] == list(ORIGINALS)
    _publish_first_generation(sessions, patient)
    with sessions() as session:
        assert _flags(session, Instance, Instance.sop_instance_uid) == {
            ORIGINALS[0]: False, ORIGINALS[1]: False, ORIGINALS[2]: True, NEW: True
        }
        assert _flags(session, Series, Series.series_instance_uid) == {"1.2.3.1": False, "1.2.3.2": True, "1.2.3.9": True}
        assert session.scalar(select(Instance.in_default).where(Instance.sop_instance_uid == NEW)) is False
        record = session.scalar(select(ConversionRecord))
        assert (record.sop_instance_uid, record.view, record.generation, record.kind) == (NEW, "ENHANCED", 1, CONVERTED)
        assert [(s.position, s.source_sop_instance_uid, s.frame) for s in record.sources] == [
            (1, ORIGINALS[0], 1), (2, ORIGINALS[1], 2)
        ]
        members = dict(session.execute(select(ViewMember.sop_instance_uid, ViewMember.fate)).all())
        assert members == {ORIGINALS[0]: CONVERTED, ORIGINALS[1]: CONVERTED, ORIGINALS[2]: UNCHANGED}
        assert view_records.latest_generation(session, patient, View.ENHANCED).state == BUILT
        assert view_records.last_built_generation(session, patient, View.ENHANCED) == 1
        assert view_records.reidentified_originals(session, patient, View.ENHANCED, before=2) == set(ORIGINALS[:2])
        assert view_records.reidentified_originals(session, patient, View.ENHANCED, before=1) == set()
        assert [r.sop_instance_uid for r in view_records.conversion_records(session, patient, View.ENHANCED, before=2)] == [NEW]
        originals = view_records.generation_originals(session, patient, View.ENHANCED, 1)
        assert [row.sop_instance_uid for row in originals] == list(ORIGINALS)
        assert [(g, uid) for g, uid, _ in view_records.generated_files(session, patient, View.ENHANCED)] == [(1, NEW)]
        assert view_records.generated_instance(session, NEW)[0].generation == 1
        assert view_records.generated_instance(session, ORIGINALS[2]) is None
        assert view_scope.newcomers(session, patient, View.ENHANCED) == []
        assert view_scope.patients_with_newcomers(session, View.ENHANCED, None) == set()
        assert view_scope.patients_with_newcomers(session, View.CLASSIC, None) == {patient}
        assert view_scope.instance_outside_view(session, [ORIGINALS[0], ORIGINALS[2]], View.ENHANCED) == ORIGINALS[0]
        assert view_scope.series_outside_view(session, ["1.2.3.2", "1.2.3.1"], View.ENHANCED) == "1.2.3.1"
        assert view_scope.series_outside_view(session, ["1.2.3.2"], View.ENHANCED) is None


def test_a_resent_replaced_original_is_pending_until_hidden_again(sessions, patient):
    _publish_first_generation(sessions, patient)
    with sessions() as session:  # the modality sends the first image again, duplicate policy "replace"
        register_instance(
            session, instance_dataset("P1", STUDY, "1.2.3.1", ORIGINALS[0]), file_path="again",
            file_size=1, transfer_syntax_uid=ExplicitVRLittleEndian, replace=True,
        )
        session.commit()
    with sessions() as session:
        assert view_scope.patients_with_newcomers(session, View.ENHANCED, [patient]) == {patient}
        assert view_scope.newcomers(session, patient, View.ENHANCED) == []  # covered: not a new generation
        assert view_records.hide_replaced_again(session, patient, View.ENHANCED) == 1
        session.commit()
    with sessions() as session:
        assert view_scope.patients_with_newcomers(session, View.ENHANCED, [patient]) == set()
        assert view_records.hide_replaced_again(session, patient, View.ENHANCED) == 0
        assert _flags(session, Series, Series.series_instance_uid)["1.2.3.1"] is False
