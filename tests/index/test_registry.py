"""Registering and removing instances: parents upserted, invalid values kept, text decoded."""

from __future__ import annotations

import io
import json

import pytest
from indexdata import instance_dataset, register
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
from sqlalchemy import event, func, select

from qrscp.index.models import Instance, Patient, Series, Study
from qrscp.index.registry import (
    DuplicateInstanceError,
    RegistryError,
    get_instance,
    register_instance,
    remove_instance,
)
from qrscp.testing.factory import make_series
from qrscp.uids import View


def _counts(session) -> tuple[int, int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (Patient, Study, Series, Instance))


def _from_bytes(ds, charset: str):
    """`ds` written with `charset` and read back, as a C-STORE data set arrives."""
    ds.SpecificCharacterSet = charset
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return dcmread(io.BytesIO(buffer.getvalue()))


def test_an_instance_of_a_known_series_costs_one_query_and_one_insert(sessions):
    register(sessions, [instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1")])
    statements: list[str] = []
    engine = sessions.kw["bind"]

    def record(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions() as session:
            register_instance(session, instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.2"), file_path="y",
                              file_size=1, transfer_syntax_uid=ExplicitVRLittleEndian, known_absent=True)
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # The joined parent look-up, the instance row; Last Received is rewritten at most once a second.
    assert statements.count("SELECT") == 1
    assert statements.count("INSERT") == 1
    assert statements.count("UPDATE") <= 1
    with sessions() as session:
        assert _counts(session) == (1, 1, 1, 2)


def test_a_known_series_under_another_patient_keeps_the_general_path(sessions):
    register(sessions, [instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1")])
    register(sessions, [instance_dataset("P2", "1.2.3", "1.2.3.1", "1.2.3.1.2")])
    with sessions() as session:
        # As before the fast path: the second patient is indexed, its instance filed in the known series.
        assert _counts(session) == (2, 1, 1, 2)
        assert get_instance(session, "1.2.3.1.2").series.series_instance_uid == "1.2.3.1"


def test_parents_are_shared_and_attributes_indexed(sessions):
    datasets = [
        instance_dataset("P1", "1.2.3", "1.2.3.1", f"1.2.3.1.{i}", PatientName="Doe^John", Modality="CT",
                         InstanceNumber=i, ImageType=["ORIGINAL", "PRIMARY", "AXIAL"], StudyDate="20200105")
        for i in range(1, 4)
    ]
    register(sessions, datasets)
    with sessions() as session:
        assert _counts(session) == (1, 1, 1, 3)
        instance = get_instance(session, "1.2.3.1.2")
        assert instance.instance_number == 2
        assert instance.image_type == "ORIGINAL\\PRIMARY\\AXIAL"
        assert instance.file_path == "1.2.3/1.2.3.1/1.2.3.1.2.dcm"
        assert instance.source_ae_title == "MODALITY"
        assert instance.series.modality == "CT"
        assert instance.series.study.study_date == "20200105"
        assert instance.series.study.patient.patient_name_ci == "doe^john"
        assert instance.series.study.last_received is not None


@pytest.mark.filterwarnings("ignore:Invalid value")
def test_invalid_values_are_kept_as_received(sessions):
    ds = instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1", PatientSex="0000", PatientBirthDate="1970-01-01")
    ds = _from_bytes(ds, "ISO_IR 100")
    # Numbers that are not numbers arrive as raw elements that pydicom cannot convert.
    ds._dict[0x00200013] = RawDataElement(0x00200013, "IS", 3, b"abc", 0, False, True)
    ds._dict[0x00200011] = RawDataElement(0x00200011, "IS", 4, b"x12 ", 0, False, True)
    register(sessions, [ds])
    with sessions() as session:
        instance = get_instance(session, "1.2.3.1.1")
        assert instance.instance_number is None
        assert instance.series.series_number == "x12"
        patient = instance.series.study.patient
        assert patient.patient_sex == "0000"
        assert patient.patient_birth_date == "1970-01-01"


@pytest.mark.parametrize(
    "charset, name",
    [("ISO_IR 100", "Müller^Jürgen"), ("ISO_IR 192", "王^小東"), ("ISO_IR 192", "Łukasz^Żółć")],
)
def test_names_are_stored_decoded(sessions, charset, name):
    ds = _from_bytes(instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1", PatientName=name), charset)
    register(sessions, [ds])
    with sessions() as session:
        patient = session.scalar(select(Patient))
        assert patient.patient_name == name
        assert patient.patient_name_ci == name.lower()
        assert patient.specific_character_set == charset


def test_sequences_are_kept_as_json(sessions):
    item = Dataset()
    item.ScheduledProcedureStepID = "SPS1"
    item.RequestedProcedureID = "RP1"
    ds = instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1", RequestAttributesSequence=[item])
    register(sessions, [ds])
    with sessions() as session:
        stored = json.loads(session.scalar(select(Series.request_attributes_sequence)))
        assert stored[0]["00400009"]["Value"] == ["SPS1"]


def test_duplicate_is_refused_unless_replaced(sessions):
    register(sessions, [instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1", StudyDescription="first")])
    with sessions() as session, pytest.raises(DuplicateInstanceError):
        register_instance(session, instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1"), file_path="x",
                          file_size=1, transfer_syntax_uid=ExplicitVRLittleEndian)
    with sessions() as session:
        register_instance(session, instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1", StudyDescription="second"),
                          file_path="y", file_size=2, transfer_syntax_uid=ExplicitVRLittleEndian, replace=True)
        session.commit()
    with sessions() as session:
        assert _counts(session) == (1, 1, 1, 1)
        instance = get_instance(session, "1.2.3.1.1")
        assert (instance.file_path, instance.series.study.study_description) == ("y", "second")


@pytest.mark.parametrize("missing", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
def test_missing_unique_key_is_refused(sessions, missing):
    ds = instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1")
    delattr(ds, missing)
    with sessions() as session, pytest.raises(RegistryError, match=missing):
        register_instance(session, ds, file_path="x", file_size=1, transfer_syntax_uid=ExplicitVRLittleEndian)


def test_remove_instance_removes_empty_parents(sessions):
    register(sessions, [
        instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1"),
        instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.2"),
        instance_dataset("P1", "1.2.3", "1.2.3.2", "1.2.3.2.1"),
    ])
    with sessions() as session:
        remove_instance(session, get_instance(session, "1.2.3.1.1"))
        session.commit()
        assert _counts(session) == (1, 1, 2, 2)
        remove_instance(session, get_instance(session, "1.2.3.2.1"))
        session.commit()
        assert _counts(session) == (1, 1, 1, 1)
        remove_instance(session, get_instance(session, "1.2.3.1.2"))
        session.commit()
        assert _counts(session) == (0, 0, 0, 0)


def test_view_membership_is_recorded(sessions):
    register(sessions, [instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.1")], views=frozenset({View.ENHANCED}))
    with sessions() as session:
        instance = get_instance(session, "1.2.3.1.1")
        assert (instance.in_default, instance.in_classic, instance.in_enhanced) == (False, False, True)
        assert (instance.series.in_default, instance.series.in_enhanced) == (False, True)
    register(sessions, [instance_dataset("P1", "1.2.3", "1.2.3.1", "1.2.3.1.2")])
    with sessions() as session:
        series = session.scalar(select(Series))
        assert (series.in_default, series.in_classic, series.in_enhanced) == (True, True, True)


@pytest.mark.parametrize("modality", ["CT", "MR", "PET"])
def test_factory_series_with_invalid_values(sessions, modality):
    series = make_series(modality, slices=3, rows=16, columns=16, invalid_values=True)
    for ds in series:
        del ds.PixelData
    register(sessions, series)
    with sessions() as session:
        assert _counts(session)[3] == 3
        instance = get_instance(session, series[0].SOPInstanceUID)
        assert instance.sop_class_uid == series[0].SOPClassUID
        assert instance.series.modality == series[0].Modality
        assert instance.rows == 16


def test_concurrent_stores_into_one_new_study(sessions):
    """Two associations storing the first instances of the same study never collide on its rows."""
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def store(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                with sessions() as session:
                    register_instance(session, instance_dataset("P1", "1.2.3", "1.2.3.1", f"1.2.3.1.{worker}.{i}"),
                                      file_path=f"{worker}/{i}", file_size=1, transfer_syntax_uid=ExplicitVRLittleEndian)
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 -- reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=store, args=(worker,)) for worker in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sessions() as session:
        assert _counts(session) == (1, 1, 1, 20)


def _row_values(session, model, **identity) -> dict:
    row = session.scalars(select(model).filter_by(**identity)).one()
    skip = {"id", "patient_fk", "study_fk", "last_received", "study_instance_uid", "series_instance_uid",
            "patient_id"}
    return {c.name: getattr(row, c.key) for c in model.__table__.columns if c.name not in skip}


def _study(prefix: str) -> list:
    """A presentation state without study/series descriptions first, then two images that carry them."""
    study = f"1.2.{prefix}"
    return [
        instance_dataset(f"P{prefix}", study, f"{study}.1", f"{study}.1.1", Modality="PR", StudyDescription=""),
        instance_dataset(f"P{prefix}", study, f"{study}.2", f"{study}.2.1", Modality="CT", SeriesNumber=2),
        instance_dataset(f"P{prefix}", study, f"{study}.2", f"{study}.2.2", Modality="CT", SeriesNumber=2,
                         StudyDescription="CHEST", SeriesDescription="AXIAL 1mm", PatientBirthDate="19700101",
                         AccessionNumber="A17"),
    ]


def test_parent_values_do_not_depend_on_the_order_of_arrival(sessions):
    forward, backward = _study("71"), _study("72")
    register(sessions, forward)
    for ds in reversed(backward):  # each in its own transaction, as separate C-STOREs are
        register(sessions, [ds])
    with sessions() as session:
        assert _row_values(session, Patient, patient_id="P71") == _row_values(session, Patient, patient_id="P72")
        assert _row_values(session, Study, study_instance_uid="1.2.71") == _row_values(
            session, Study, study_instance_uid="1.2.72")
        for series in (".1", ".2"):
            assert _row_values(session, Series, series_instance_uid="1.2.71" + series) == _row_values(
                session, Series, series_instance_uid="1.2.72" + series)
        assert session.scalar(select(Study.study_description).filter_by(study_instance_uid="1.2.71")) == "CHEST"
        assert session.scalar(select(Study.accession_number).filter_by(study_instance_uid="1.2.71")) == "A17"
        assert session.scalar(select(Patient.patient_birth_date).filter_by(patient_id="P71")) == "19700101"
        assert session.scalar(select(Series.series_description).filter_by(series_instance_uid="1.2.71.2")) == "AXIAL 1mm"
        # The presentation state's own series keeps its own (empty) values.
        assert session.scalar(select(Series.series_description).filter_by(series_instance_uid="1.2.71.1")) in ("", None)


def test_disagreeing_instances_keep_the_first_non_empty_value(sessions):
    register(sessions, [
        instance_dataset("P73", "1.2.73", "1.2.73.1", "1.2.73.1.1", SeriesNumber=3, StudyDescription="HEAD"),
    ])
    register(sessions, [
        instance_dataset("P73", "1.2.73", "1.2.73.1", "1.2.73.1.2", SeriesNumber=4, StudyDescription="NECK"),
    ])
    with sessions() as session:
        assert session.scalar(select(Series.series_number)) == "3"
        assert session.scalar(select(Study.study_description)) == "HEAD"
