"""A true Enhanced MR with a SEG and presentation states that reference its frames, served in the CLASSIC view:
every reference is rewritten to the classic instance of the frame, across the patient's studies."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from qrscp.services.views.plan import referenced_instances
from qrscp.testing.factory import PatientSpec, derive_uid, make_enhanced_mr, make_gsps, make_seg, write_datasets
from qrscp.uids import (
    ENHANCED_MR_IMAGE_STORAGE,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    MR_IMAGE_STORAGE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
)
from tests.views.conftest import view_negotiation

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
STORAGE = [
    (uid, UNCOMPRESSED)
    for uid in (
        MR_IMAGE_STORAGE,
        ENHANCED_MR_IMAGE_STORAGE,
        GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
        SEGMENTATION_STORAGE,
        "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
        "1.2.840.10008.5.1.4.1.1.2.2",  # Legacy Converted Enhanced CT Image Storage
    )
]
FRAMES = 6


def _frame_gsps(images, frames: list[int], *, seed: int, study_uid: str | None = None) -> Dataset:
    """A presentation state whose image reference names `frames` of the (single, multi-frame) image."""
    gsps = make_gsps(images, seed=seed, study_uid=study_uid)
    for series_item in gsps.ReferencedSeriesSequence:
        for image_item in series_item.ReferencedImageSequence:
            image_item.ReferencedFrameNumber = frames if len(frames) > 1 else frames[0]
    return gsps


@pytest.fixture
def enhanced_patient(archive, dicom_client, tmp_path):
    patient = PatientSpec.from_seed(77)
    study_a = derive_uid("views-test", "study-a")
    study_b = derive_uid("views-test", "study-b")
    mr = make_enhanced_mr(frames=FRAMES, rows=32, columns=32, patient=patient, study_uid=study_a, seed=77)
    seg = make_seg(mr, seed=77)
    gsps_a = _frame_gsps([mr], [2, 5], seed=77)
    gsps_b = _frame_gsps([mr], [3], seed=78, study_uid=study_b)
    assert gsps_b.StudyInstanceUID == study_b and gsps_b.PatientID == mr.PatientID
    paths = write_datasets([mr, seg, gsps_a, gsps_b], tmp_path / "enhanced")
    statuses = dicom_client.store(paths)
    assert [int(s.Status) for s in statuses] == [0, 0, 0, 0]
    return {"mr": mr, "seg": seg, "gsps_a": gsps_a, "gsps_b": gsps_b, "study_a": study_a, "study_b": study_b}


def _get_study(client, study_uid: str, view: str | None):
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    ext_neg = None
    if view is not None:
        identifier.QueryRetrieveView = view
        ext_neg = view_negotiation(STUDY_ROOT_GET)
    result = client.get(identifier, STUDY_ROOT_GET, storage=STORAGE, ext_neg=ext_neg)
    assert result.code == 0x0000, result.status
    return [r.dataset() for r in result.received]


def _image_references(gsps: Dataset) -> list[tuple[str, str, object]]:
    return [
        (str(series.SeriesInstanceUID), str(image.ReferencedSOPInstanceUID), image.get("ReferencedFrameNumber"))
        for series in gsps.ReferencedSeriesSequence
        for image in series.ReferencedImageSequence
    ]


def test_classic_view_splits_the_enhanced_mr_and_rewrites_every_reference(enhanced_patient, dicom_client):
    data = enhanced_patient
    mr_uid = str(data["mr"].SOPInstanceUID)
    received = _get_study(dicom_client, data["study_a"], "CLASSIC")
    by_class: dict[str, list[Dataset]] = {}
    for ds in received:
        by_class.setdefault(str(ds.SOPClassUID), []).append(ds)
    assert sorted((uid, len(v)) for uid, v in by_class.items()) == sorted(
        [(MR_IMAGE_STORAGE, FRAMES), (SEGMENTATION_STORAGE, 1), (GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, 1)]
    )
    classic_by_frame = {}
    for ds in by_class[MR_IMAGE_STORAGE]:
        (source,) = ds.ConversionSourceAttributesSequence
        assert source.ReferencedSOPInstanceUID == mr_uid
        classic_by_frame[int(source.ReferencedFrameNumber)] = ds
        assert ds.QueryRetrieveView == "CLASSIC"
        assert ds.StudyInstanceUID == data["study_a"]
    assert sorted(classic_by_frame) == list(range(1, FRAMES + 1))
    classic_series = {str(ds.SeriesInstanceUID) for ds in classic_by_frame.values()}
    assert len(classic_series) == 1

    (gsps,) = by_class[GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE]
    assert gsps.SOPInstanceUID != data["gsps_a"].SOPInstanceUID
    assert gsps.QueryRetrieveView == "CLASSIC"
    references = _image_references(gsps)
    assert {uid for _, uid, _ in references} == {classic_by_frame[2].SOPInstanceUID, classic_by_frame[5].SOPInstanceUID}
    assert {series for series, _, _ in references} == classic_series
    assert all(frame in (None, 1, "1") for _, _, frame in references)  # single-frame targets

    (seg,) = by_class[SEGMENTATION_STORAGE]
    assert seg.SOPInstanceUID != data["seg"].SOPInstanceUID
    seg_references = referenced_instances(seg)
    assert mr_uid not in seg_references
    assert seg_references == {str(ds.SOPInstanceUID) for ds in classic_by_frame.values()}

    # The presentation state of the other study of the same patient follows too, and stays in its study.
    (gsps_b,) = _get_study(dicom_client, data["study_b"], "CLASSIC")
    assert gsps_b.StudyInstanceUID == data["study_b"]
    assert gsps_b.SOPInstanceUID != data["gsps_b"].SOPInstanceUID
    assert {uid for _, uid, _ in _image_references(gsps_b)} == {classic_by_frame[3].SOPInstanceUID}


def test_default_and_enhanced_views_keep_the_enhanced_mr(enhanced_patient, dicom_client):
    data = enhanced_patient
    originals = {str(data[key].SOPInstanceUID) for key in ("mr", "seg", "gsps_a")}
    assert {str(ds.SOPInstanceUID) for ds in _get_study(dicom_client, data["study_a"], None)} == originals
    # Nothing in the patient is classic CT/MR/PET, so the ENHANCED view is the default one (C.4.1.3.2.3 n. 3).
    assert {str(ds.SOPInstanceUID) for ds in _get_study(dicom_client, data["study_a"], "ENHANCED")} == originals
    # A CLASSIC build does not leak into the default view's answers.
    _get_study(dicom_client, data["study_a"], "CLASSIC")
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "IMAGE"
    identifier.StudyInstanceUID = data["study_a"]
    identifier.SeriesInstanceUID = ""
    identifier.SOPInstanceUID = ""
    for series_uid in {str(data[key].SeriesInstanceUID) for key in ("mr", "seg", "gsps_a")}:
        identifier.SeriesInstanceUID = series_uid
        status, matches = dicom_client.find(identifier, STUDY_ROOT_FIND)
        assert status.Status == 0
        assert {str(m.SOPInstanceUID) for m in matches} <= originals


def test_classic_view_of_a_received_legacy_converted_image_recovers_the_original_uids(archive, dicom_client, tmp_path):
    """ZZZA.7: without the sources, the UIDs in the Conversion Source Attributes become the classic UIDs again."""
    from qrscp.convert import UIDSource, to_enhanced
    from qrscp.uids import CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE
    from tests.views.conftest import ZZZ_FIRST_SLICE_UID, ZZZ_SECOND_SLICE_UID, ZZZ_STUDY_UID, zzzb_datasets

    first, second, _ = zzzb_datasets()
    (lce, *_overlays) = to_enhanced([first, second], uids=UIDSource("another archive"), view="ENHANCED")
    lce = lce.dataset
    frame_of = {
        str(item.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID): number
        for number, item in enumerate(lce.PerFrameFunctionalGroupsSequence, start=1)
    }
    gsps = _frame_gsps([lce], [frame_of[ZZZ_FIRST_SLICE_UID]], seed=79)
    assert all(int(s.Status) == 0 for s in dicom_client.store(write_datasets([lce, gsps], tmp_path / "lce")))

    received = _get_study(dicom_client, ZZZ_STUDY_UID, "CLASSIC")
    classic = {str(ds.SOPInstanceUID) for ds in received if ds.SOPClassUID == CT_IMAGE_STORAGE}
    assert classic == {ZZZ_FIRST_SLICE_UID, ZZZ_SECOND_SLICE_UID}
    assert not [ds for ds in received if ds.SOPClassUID == LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE]
    (rewritten,) = [ds for ds in received if ds.SOPClassUID == GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE]
    assert {uid for _, uid, _ in _image_references(rewritten)} == {ZZZ_FIRST_SLICE_UID}


def test_classic_images_held_by_a_received_enhanced_image_are_not_shown_twice(archive, dicom_client, tmp_path):
    """The classic slices and a Legacy Converted image made of them elsewhere, both received: each view shows
    the content once (ENHANCED: the received LCE; CLASSIC: the classic slices)."""
    from qrscp.convert import UIDSource, to_enhanced
    from qrscp.uids import CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE
    from tests.views.conftest import ZZZ_FIRST_SLICE_UID, ZZZ_SECOND_SLICE_UID, ZZZ_STUDY_UID, zzzb_datasets

    first, second, gsps = zzzb_datasets()
    (lce, *_overlays) = to_enhanced([first, second], uids=UIDSource("another archive"), view="ENHANCED")
    lce = lce.dataset
    frame_of = {
        str(item.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID): number
        for number, item in enumerate(lce.PerFrameFunctionalGroupsSequence, start=1)
    }
    paths = write_datasets([first, second, gsps, lce], tmp_path / "both")
    assert all(int(s.Status) == 0 for s in dicom_client.store(paths))

    enhanced = _get_study(dicom_client, ZZZ_STUDY_UID, "ENHANCED")
    images = [ds for ds in enhanced if ds.SOPClassUID in (CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE)]
    assert [str(ds.SOPInstanceUID) for ds in images] == [str(lce.SOPInstanceUID)]
    (rewritten,) = [ds for ds in enhanced if ds.SOPClassUID == GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE]
    assert [(uid, int(frame)) for _, uid, frame in _image_references(rewritten)] == [
        (str(lce.SOPInstanceUID), frame_of[ZZZ_FIRST_SLICE_UID])
    ]

    classic = _get_study(dicom_client, ZZZ_STUDY_UID, "CLASSIC")
    assert sorted(str(ds.SOPInstanceUID) for ds in classic if ds.SOPClassUID != GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE) == sorted(
        [ZZZ_FIRST_SLICE_UID, ZZZ_SECOND_SLICE_UID]
    )
    assert len(classic) == 3
