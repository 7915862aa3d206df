"""Instances arriving after a view was served: served objects never change, newcomers get new objects
(the rule documented in qrscp.services.views)."""

from __future__ import annotations

from pydicom.dataset import Dataset

from qrscp.testing.factory import PatientSpec, derive_uid, make_gsps, make_series, write_datasets
from qrscp.uids import (
    CT_IMAGE_STORAGE,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    STUDY_ROOT_GET,
)
from tests.views.conftest import view_negotiation

UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
STORAGE = [
    (uid, UNCOMPRESSED)
    for uid in (CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE)
]


def _enhanced_view(client, study: str) -> dict[str, Dataset]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study
    identifier.QueryRetrieveView = "ENHANCED"
    result = client.get(identifier, STUDY_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(STUDY_ROOT_GET))
    assert result.code == 0x0000, result.status
    return {r.sop_instance_uid: (r.dataset_bytes, r.dataset()) for r in result.received}


def test_newcomers_get_new_objects_and_served_objects_never_change(archive, dicom_client, tmp_path):
    patient = PatientSpec.from_seed(41)
    study = derive_uid("views-newcomers", "study")
    series = make_series("CT", slices=6, rows=16, columns=16, patient=patient, study_uid=study, seed=41)
    early, late = series[:4], series[4:]
    first_gsps = make_gsps(early[:1], seed=41)
    assert all(int(s.Status) == 0 for s in dicom_client.store(write_datasets([*early, first_gsps], tmp_path / "a")))

    served = _enhanced_view(dicom_client, study)
    (old_lce_uid,) = [uid for uid, (_, ds) in served.items() if ds.SOPClassUID == LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE]
    assert int(served[old_lce_uid][1].NumberOfFrames) == 4

    # Two more slices of the same series, and a presentation state on an early (already converted) slice.
    late_gsps = make_gsps(early[1:2], seed=42)
    assert all(int(s.Status) == 0 for s in dicom_client.store(write_datasets([*late, late_gsps], tmp_path / "b")))

    now = _enhanced_view(dicom_client, study)
    for uid, (data, _) in served.items():
        assert now[uid][0] == data, "an object already served changed"
    new = {uid: ds for uid, (_, ds) in now.items() if uid not in served}
    new_lces = [ds for ds in new.values() if ds.SOPClassUID == LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE]
    (new_lce,) = new_lces
    assert int(new_lce.NumberOfFrames) == 2
    # The converted series UID derives from the source series: late slices join it as a new instance.
    assert new_lce.SeriesInstanceUID == served[old_lce_uid][1].SeriesInstanceUID
    assert {str(i.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID)
            for i in new_lce.PerFrameFunctionalGroupsSequence} == {str(ds.SOPInstanceUID) for ds in late}
    (new_gsps,) = [ds for ds in new.values() if ds.SOPClassUID == GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE]
    referenced = {
        str(image.ReferencedSOPInstanceUID)
        for item in new_gsps.ReferencedSeriesSequence
        for image in item.ReferencedImageSequence
    }
    assert referenced == {old_lce_uid}  # resolved through the first generation's records
    assert len(now) == len(served) + 2


def test_a_re_sent_original_does_not_reappear_in_the_view(make_archive, tmp_path):
    from qrscp.testing.network import client_for

    archive = make_archive(lambda config: setattr(config.storage, "duplicate_policy", "replace"))
    client = client_for(archive)
    patient = PatientSpec.from_seed(43)
    study = derive_uid("views-newcomers", "replace")
    series = make_series("CT", slices=3, rows=16, columns=16, patient=patient, study_uid=study, seed=43)
    paths = write_datasets(series, tmp_path / "a")
    assert all(int(s.Status) == 0 for s in client.store(paths))
    served = _enhanced_view(client, study)
    assert len(served) == 1
    assert all(int(s.Status) == 0 for s in client.store(paths[:1]))  # replaced: index row written anew
    again = _enhanced_view(client, study)
    assert {uid: data for uid, (data, _) in again.items()} == {uid: data for uid, (data, _) in served.items()}


def test_newcomer_references_follow_the_image_not_its_overlay_presentation_state(archive, dicom_client, tmp_path):
    patient = PatientSpec.from_seed(44)
    study = derive_uid("views-newcomers", "overlay")
    series = make_series("CT", slices=3, rows=16, columns=16, patient=patient, study_uid=study, seed=44, overlay=True)
    assert all(int(s.Status) == 0 for s in dicom_client.store(write_datasets(series, tmp_path / "a")))
    served = _enhanced_view(dicom_client, study)
    (lce_uid,) = [uid for uid, (_, ds) in served.items() if ds.SOPClassUID == LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE]
    late_gsps = make_gsps(series[1:2], seed=45)
    assert all(int(s.Status) == 0 for s in dicom_client.store(write_datasets([late_gsps], tmp_path / "b")))
    now = _enhanced_view(dicom_client, study)
    (rewritten,) = [
        ds for uid, (_, ds) in now.items()
        if uid not in served and ds.SOPClassUID == GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE
    ]
    referenced = {
        str(image.ReferencedSOPInstanceUID)
        for item in rewritten.ReferencedSeriesSequence
        for image in item.ReferencedImageSequence
    }
    assert referenced == {lce_uid}
