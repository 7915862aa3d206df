"""Supplement 157 Annex ZZZC end to end: the ZZZB CT slices and presentation state, queried and retrieved in
the CLASSIC and ENHANCED views over the network."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from qrscp.uids import (
    CT_IMAGE_STORAGE,
    ENHANCED_MULTIFRAME_CONVERSION_EQUIPMENT,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
)
from tests.views.conftest import (
    ZZZ_ACCESSION,
    ZZZ_FIRST_SLICE_UID,
    ZZZ_GSPS_UID,
    ZZZ_PATIENT_ID,
    ZZZ_SECOND_SLICE_UID,
    ZZZ_SERIES_UID,
    ZZZ_STUDY_UID,
    view_negotiation,
)

STUDY_KEYS = [
    "StudyDate", "StudyTime", "ModalitiesInStudy", "SOPClassesInStudy", "ReferringPhysicianName",
    "StudyDescription", "PhysiciansOfRecord", "NameOfPhysiciansReadingStudy", "AdmittingDiagnosesDescription",
    "PatientName", "PatientBirthDate", "PatientBirthTime", "PatientSex", "PatientAge", "PatientSize",
    "PatientWeight", "Occupation", "AdditionalPatientHistory", "PatientComments", "StudyInstanceUID", "StudyID",
    "OtherStudyNumbers", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
]

#: The ZZZC.2 C-FIND responses: values that do not depend on the view.
ZZZC_STUDY_VALUES = {
    "StudyDate": "20061230",
    "StudyTime": "100000",
    "AccessionNumber": ZZZ_ACCESSION,
    "QueryRetrieveLevel": "STUDY",
    "PatientID": ZZZ_PATIENT_ID,
    "PatientBirthDate": "19301018",
    "StudyInstanceUID": ZZZ_STUDY_UID,
    "StudyID": "1234",
}
#: The values that differ per view (ZZZC.2.1, both tables).
ZZZC_VIEW_VALUES = {
    "CLASSIC": {
        "SOPClassesInStudy": {GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, CT_IMAGE_STORAGE},
        "NumberOfStudyRelatedSeries": 2,
        "NumberOfStudyRelatedInstances": 3,
    },
    "ENHANCED": {
        "SOPClassesInStudy": {GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE},
        "NumberOfStudyRelatedSeries": 2,
        "NumberOfStudyRelatedInstances": 2,
    },
}


def _values(element_value) -> set[str]:
    if element_value is None or element_value == "":
        return set()
    if isinstance(element_value, str):
        return {element_value}
    return {str(v) for v in element_value}


def _study_request(view: str) -> Dataset:
    identifier = Dataset()
    for keyword in STUDY_KEYS:
        setattr(identifier, keyword, None)
    identifier.AccessionNumber = ZZZ_ACCESSION
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.QueryRetrieveView = view
    identifier.PatientID = ZZZ_PATIENT_ID
    return identifier


def _find(client, identifier: Dataset) -> list[Dataset]:
    status, matches = client.find(identifier, STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_FIND))
    assert status.Status == 0x0000, status
    return matches


def _level_request(level: str, view: str, **keys: str) -> Dataset:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level
    identifier.QueryRetrieveView = view
    identifier.StudyInstanceUID = ZZZ_STUDY_UID
    if level in ("SERIES", "IMAGE"):
        identifier.SeriesInstanceUID = keys.get("SeriesInstanceUID", "")
        identifier.Modality = ""
        identifier.NumberOfSeriesRelatedInstances = None
    if level == "IMAGE":
        identifier.SOPInstanceUID = ""
        identifier.SOPClassUID = ""
    return identifier


@pytest.mark.parametrize("view", ["CLASSIC", "ENHANCED"])
def test_zzzc_study_level_c_find(zzzb_archive, dicom_client, view):
    (match,) = _find(dicom_client, _study_request(view))
    for keyword, value in ZZZC_STUDY_VALUES.items():
        assert str(match.get(keyword, "")) == value, keyword
    assert match.QueryRetrieveView == view
    assert str(match.PatientName).rstrip("^") == "277654"
    assert _values(match.ModalitiesInStudy) == {"CT", "PR"}
    expected = ZZZC_VIEW_VALUES[view]
    assert _values(match.SOPClassesInStudy) == expected["SOPClassesInStudy"]
    assert int(match.NumberOfStudyRelatedSeries) == expected["NumberOfStudyRelatedSeries"]
    assert int(match.NumberOfStudyRelatedInstances) == expected["NumberOfStudyRelatedInstances"]


@pytest.mark.parametrize("view", ["CLASSIC", "ENHANCED"])
def test_zzzc_series_and_image_levels(zzzb_archive, dicom_client, view):
    series = _find(dicom_client, _level_request("SERIES", view))
    assert len(series) == 2
    by_modality = {str(s.Modality): s for s in series}
    assert set(by_modality) == {"CT", "PR"}
    assert all(s.QueryRetrieveView == view for s in series)
    assert int(by_modality["PR"].NumberOfSeriesRelatedInstances) == 1
    assert int(by_modality["CT"].NumberOfSeriesRelatedInstances) == (2 if view == "CLASSIC" else 1)
    images = _find(dicom_client, _level_request("IMAGE", view))
    uids = {str(i.SOPInstanceUID): str(i.SOPClassUID) for i in images}
    if view == "CLASSIC":
        # ZZZC.2.1: "Only the Classic image instances and the original Presentation State".
        assert uids == {
            ZZZ_GSPS_UID: GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
            ZZZ_FIRST_SLICE_UID: CT_IMAGE_STORAGE,
            ZZZ_SECOND_SLICE_UID: CT_IMAGE_STORAGE,
        }
        assert str(by_modality["CT"].SeriesInstanceUID) == ZZZ_SERIES_UID
    else:
        assert sorted(uids.values()) == sorted(
            [GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE]
        )
        assert not set(uids) & {ZZZ_GSPS_UID, ZZZ_FIRST_SLICE_UID, ZZZ_SECOND_SLICE_UID}
        assert str(by_modality["CT"].SeriesInstanceUID) != ZZZ_SERIES_UID


def _move(client, archive, storage_scp, view: str):
    scp = storage_scp("ZZZDEST")
    client.add_peer(archive, scp)
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.QueryRetrieveView = view
    identifier.StudyInstanceUID = ZZZ_STUDY_UID
    result = client.move(identifier, "ZZZDEST", STUDY_ROOT_MOVE, ext_neg=view_negotiation(STUDY_ROOT_MOVE))
    assert result.code == 0x0000, result.status
    return {r.sop_instance_uid: r for r in scp.received}


def test_zzzc_classic_c_move_sends_the_originals(zzzb_archive, dicom_client, storage_scp):
    received = _move(dicom_client, zzzb_archive, storage_scp, "CLASSIC")
    assert {uid: r.sop_class_uid for uid, r in received.items()} == {
        ZZZ_GSPS_UID: GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
        ZZZ_FIRST_SLICE_UID: CT_IMAGE_STORAGE,
        ZZZ_SECOND_SLICE_UID: CT_IMAGE_STORAGE,
    }


def test_zzzc_enhanced_c_move_sends_the_legacy_converted_image_and_rewritten_presentation_state(
    zzzb_archive, dicom_client, storage_scp
):
    received = _move(dicom_client, zzzb_archive, storage_scp, "ENHANCED")
    by_class = {r.sop_class_uid: r.dataset() for r in received.values()}
    assert set(by_class) == {GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE}
    lce = by_class[LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE]
    gsps = by_class[GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE]
    for ds in (lce, gsps):
        assert ds.StudyInstanceUID == ZZZ_STUDY_UID  # "the same Study Instance UID is retrieved"
        assert ds.QueryRetrieveView == "ENHANCED"
        assert ds.PatientID == ZZZ_PATIENT_ID
        assert ds.SOPInstanceUID not in (ZZZ_GSPS_UID, ZZZ_FIRST_SLICE_UID, ZZZ_SECOND_SLICE_UID)
        last_equipment = ds.ContributingEquipmentSequence[-1]
        code = last_equipment.PurposeOfReferenceCodeSequence[0]
        assert (code.CodeValue, code.CodingSchemeDesignator) == ENHANCED_MULTIFRAME_CONVERSION_EQUIPMENT[:2]
    assert int(lce.NumberOfFrames) == 2
    assert lce.SeriesInstanceUID != ZZZ_SERIES_UID
    assert gsps.ContributingEquipmentSequence[-1].ContributionDescription == (
        "Updated UID references during Legacy Enhanced Classic conversion"
    )
    assert lce.ContributingEquipmentSequence[-1].ContributionDescription == (
        "Legacy Enhanced Image created from Classic Images"
    )
    # The rewritten presentation state names the frame of the LCE that holds the first slice.
    frame_of = {}
    for number, frame in enumerate(lce.PerFrameFunctionalGroupsSequence, start=1):
        frame_of[str(frame.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID)] = number
    assert set(frame_of) == {ZZZ_FIRST_SLICE_UID, ZZZ_SECOND_SLICE_UID}
    (series_item,) = gsps.ReferencedSeriesSequence
    assert series_item.SeriesInstanceUID == lce.SeriesInstanceUID
    (image_item,) = series_item.ReferencedImageSequence
    assert image_item.ReferencedSOPClassUID == LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE
    assert image_item.ReferencedSOPInstanceUID == lce.SOPInstanceUID
    assert int(image_item.ReferencedFrameNumber) == frame_of[ZZZ_FIRST_SLICE_UID]
    assert gsps.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID == ZZZ_GSPS_UID
    assert gsps.SeriesInstanceUID not in (ZZZ_SERIES_UID,)


def test_zzzc_query_and_retrieve_agree(zzzb_archive, dicom_client):
    """The UIDs a C-FIND announces are those a C-GET delivers, and a second query repeats them (ZZZA.6)."""
    first = {str(i.SOPInstanceUID) for i in _find(dicom_client, _level_request("IMAGE", "ENHANCED"))}
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.QueryRetrieveView = "ENHANCED"
    identifier.StudyInstanceUID = ZZZ_STUDY_UID
    uncompressed = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
    result = dicom_client.get(
        identifier,
        STUDY_ROOT_GET,
        storage=[(LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, uncompressed),
                 (GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, uncompressed)],
        ext_neg=view_negotiation(STUDY_ROOT_GET),
    )
    assert result.code == 0x0000, result.status
    assert {r.sop_instance_uid for r in result.received} == first
    second = {str(i.SOPInstanceUID) for i in _find(dicom_client, _level_request("IMAGE", "ENHANCED"))}
    assert second == first


def test_zzzc_enhanced_view_objects_are_valid_iods(zzzb_archive, dicom_client):
    from sqlalchemy import select

    from qrscp.index.models import Instance
    from qrscp.testing.dcmtk import dciodvfy_errors, dciodvfy_path

    if dciodvfy_path() is None:
        pytest.skip("dciodvfy (dicom3tools) not installed")
    _find(dicom_client, _level_request("IMAGE", "ENHANCED"))
    with zzzb_archive.sessions() as session:
        generated = session.scalars(
            select(Instance).where(Instance.in_enhanced == True, Instance.in_default == False)  # noqa: E712
        ).all()
    assert sorted(i.sop_class_uid for i in generated) == sorted(
        [GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE]
    )
    for instance in generated:
        assert dciodvfy_errors(zzzb_archive.file_store.absolute(instance.file_path)) == [], instance.sop_class_uid
