"""C-STORE and C-FIND over the network with pynetdicom: round trips, query levels, the bad-input table."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pynetdicom.dsutils import split_dataset
from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation
from sqlalchemy import func, select

from qrscp.index.models import Instance
from qrscp.status import Status, is_failure
from qrscp.testing.factory import (
    EITHER,
    REJECTED,
    STORED,
    available_transfer_syntaxes,
    make_series,
    malformed_variants,
    write_datasets,
)
from qrscp.uids import CT_IMAGE_STORAGE, PATIENT_ROOT_FIND, STUDY_ROOT_FIND


def _instance_count(archive) -> int:
    with archive.sessions() as session:
        return session.scalar(select(func.count()).select_from(Instance))


def _stored_files(archive) -> set[Path]:
    return {p for p in Path(archive.file_store.root).rglob("*.dcm") if ".tmp" not in p.parts}


@pytest.mark.parametrize("syntax", available_transfer_syntaxes())
def test_byte_identical_store_and_get_round_trip(tmp_path, archive, dicom_client, syntax):
    series = make_series("CT", slices=2, rows=32, columns=32, seed=31, transfer_syntax=syntax)
    files = write_datasets(series, tmp_path / "in")
    statuses = dicom_client.store_as_is(files)
    assert [s.Status for s in statuses] == [0, 0]
    keys = Dataset()
    keys.QueryRetrieveLevel = "SERIES"
    keys.StudyInstanceUID = series[0].StudyInstanceUID
    keys.SeriesInstanceUID = series[0].SeriesInstanceUID
    result = dicom_client.get(keys, storage=[(CT_IMAGE_STORAGE, [syntax])])
    assert result.code == Status.SUCCESS
    sent = {}
    for path in files:
        meta, offset = split_dataset(path)
        sent[str(meta.MediaStorageSOPInstanceUID)] = path.read_bytes()[offset:]
    assert {r.sop_instance_uid: r.dataset_bytes for r in result.received} == sent
    assert {r.transfer_syntax_uid for r in result.received} == {syntax}


def _keys(level: str, **values) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


@pytest.fixture
def two_series(archive, dicom_client) -> list[Dataset]:
    first = make_series("CT", slices=3, seed=41)
    second = make_series("MR", slices=2, seed=41, study_uid=first[0].StudyInstanceUID)
    assert all(s.Status == 0 for s in dicom_client.store(first + second))
    return first + second


@pytest.mark.parametrize(
    "model, level, keys, expected",
    [
        (PATIENT_ROOT_FIND, "PATIENT", {"PatientID": ""}, 1),
        (STUDY_ROOT_FIND, "STUDY", {"StudyInstanceUID": "", "ModalitiesInStudy": ""}, 1),
        (STUDY_ROOT_FIND, "SERIES", {"SeriesInstanceUID": "", "Modality": ""}, 2),
        (STUDY_ROOT_FIND, "IMAGE", {"SOPInstanceUID": ""}, 5),
    ],
)
def test_c_find_at_every_level(dicom_client, two_series, model, level, keys, expected):
    identifier = _keys(level, **keys)
    if level in ("SERIES", "IMAGE"):
        identifier.StudyInstanceUID = two_series[0].StudyInstanceUID
    if level == "IMAGE":
        identifier.SeriesInstanceUID = two_series[0].SeriesInstanceUID
        expected = 3
    final, matches = dicom_client.find(identifier, model)
    assert final.Status == Status.SUCCESS
    assert len(matches) == expected
    assert all(m.QueryRetrieveLevel == level for m in matches)


@pytest.mark.parametrize("offer_combined, expected", [(True, {"early", "late"}), (False, {"late"})])
def test_combined_date_time_matching_when_negotiated(archive, dicom_client, offer_combined, expected):
    # 2020-01-05 10:15 lies inside the combined range 2020-01-04 12:00 .. 2020-01-05 14:00 but outside
    # the time range 12:00-14:00 taken independently of the date (C.2.2.2.5.4).
    studies = {"early": ("20200105", "101500"), "late": ("20200105", "131500")}
    uids = {}
    for seed, (name, (date, time)) in enumerate(sorted(studies.items()), start=61):
        series = make_series("CT", slices=1, rows=16, columns=16, seed=seed)
        for ds in series:
            ds.StudyDate, ds.StudyTime = date, time
        assert [s.Status for s in dicom_client.store(series)] == [0]
        uids[str(series[0].StudyInstanceUID)] = name
    item = SOPClassExtendedNegotiation()
    item.sop_class_uid = STUDY_ROOT_FIND
    item.service_class_application_information = b"\x00\x01" if offer_combined else b"\x00\x00"
    identifier = _keys("STUDY", StudyInstanceUID="", StudyDate="20200104-20200105", StudyTime="120000-140000")
    final, matches = dicom_client.find(identifier, STUDY_ROOT_FIND, ext_neg=[item])
    assert final.Status == Status.SUCCESS
    assert {uids[str(m.StudyInstanceUID)] for m in matches} == expected


@pytest.mark.parametrize(
    "extra_keys, pending",
    [({}, Status.PENDING), ({"PatientMotherBirthName": "", "ReasonForStudy": ""}, Status.PENDING_WARNING)],
    ids=["indexed-keys", "keys-not-indexed"],
)
def test_c_find_pending_status_tells_unsupported_optional_keys(dicom_client, two_series, extra_keys, pending):
    identifier = _keys("SERIES", StudyInstanceUID=two_series[0].StudyInstanceUID, SeriesInstanceUID="", **extra_keys)
    statuses: list[int] = []
    final, matches = dicom_client.find(identifier, STUDY_ROOT_FIND, pending_statuses=statuses)
    assert final.Status == Status.SUCCESS
    assert statuses == [pending, pending]
    for match in matches:  # keys that are not supported are returned zero length (C.2.2.1.3)
        assert all(keyword in match and match[keyword].value in ("", None) for keyword in extra_keys)


@pytest.mark.parametrize("tags", [[0x00020003], [0x00020003, 0x00020010, 0x00020000]], ids=["orthanc", "several"])
def test_file_meta_keys_are_never_returned(dicom_client, two_series, tags):
    # Orthanc's instance-level C-FIND asks for (0002,0003); File Meta is not part of a data set.
    identifier = _keys("IMAGE", StudyInstanceUID=two_series[0].StudyInstanceUID,
                       SeriesInstanceUID=two_series[0].SeriesInstanceUID, SOPInstanceUID="")
    for tag in tags:
        identifier.add(DataElement(tag, dictionary_VR(tag), None))
    statuses: list[int] = []
    final, matches = dicom_client.find(identifier, STUDY_ROOT_FIND, pending_statuses=statuses)
    assert final.Status == Status.SUCCESS
    assert matches and set(statuses) == {Status.PENDING_WARNING}
    for match in matches:
        assert match.SOPInstanceUID and not [tag for tag in match.keys() if tag.group <= 0x0002]


def test_study_description_comes_from_a_later_instance(archive, dicom_client):
    from qrscp.testing.factory import make_gsps

    images = make_series("CT", slices=2, rows=16, columns=16, seed=47)
    state = make_gsps(images, seed=47)
    for keyword in ("StudyDescription", "AccessionNumber"):
        if keyword in state:
            del state[keyword]
    assert [s.Status for s in dicom_client.store([state])] == [0]
    assert [s.Status for s in dicom_client.store(images)] == [0, 0]
    final, [study] = dicom_client.find(_keys("STUDY", StudyInstanceUID=images[0].StudyInstanceUID,
                                             StudyDescription="", AccessionNumber=""), STUDY_ROOT_FIND)
    assert final.Status == Status.SUCCESS
    assert study.StudyDescription == images[0].StudyDescription and study.StudyDescription
    assert study.AccessionNumber == images[0].AccessionNumber


def test_c_find_failure_has_an_error_comment(dicom_client, two_series):
    identifier = Dataset()
    identifier.PatientID = ""  # no Query/Retrieve Level
    final, matches = dicom_client.find(identifier)
    assert is_failure(final.Status) and final.ErrorComment
    assert matches == []


@pytest.mark.parametrize("variant", malformed_variants(seed=7), ids=lambda v: v.name)
def test_bad_input_table_over_the_network(tmp_path, archive, dicom_client, variant):
    if len(variant.affected_sop_instance_uid) > 64:
        pytest.skip("pynetdicom will not put a UID over 64 characters in a C-STORE command")
    before_rows, before_files = _instance_count(archive), _stored_files(archive)
    path = tmp_path / "input.dcm"
    path.write_bytes(variant.part10_bytes())
    [status] = dicom_client.store_as_is([path])
    assert "Status" in status, "the archive must answer, not abort"
    if variant.expected == REJECTED:
        assert is_failure(status.Status), f"{variant.name}: 0x{status.Status:04X}"
        assert status.get("ErrorComment"), variant.name
        assert _instance_count(archive) == before_rows
        assert _stored_files(archive) == before_files
    elif variant.expected == STORED:
        assert not is_failure(status.Status), f"{variant.name}: 0x{status.Status:04X} {status.get('ErrorComment')}"
        assert _instance_count(archive) == before_rows + 1
    else:
        assert variant.expected == EITHER
        grew = _instance_count(archive) - before_rows
        assert grew == (0 if is_failure(status.Status) else 1)
    assert dicom_client.echo() == 0  # still serving
