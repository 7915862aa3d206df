"""Messy real-world input in a view: invalid values, large private blocks, overlays, mixed transfer syntaxes,
and a presentation state that references an instance the archive never received."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pynetdicom import StoragePresentationContexts

from qrscp.testing.factory import PatientSpec, derive_uid, make_gsps, make_series, write_datasets
from qrscp.uids import (
    CLASSIC_TO_LEGACY_CONVERTED,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    STUDY_ROOT_GET,
)
from tests.views.conftest import view_negotiation
from tests.views.test_integrity import reference_items

UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
STORAGE = [(cx.abstract_syntax, UNCOMPRESSED) for cx in StoragePresentationContexts]

VARIANTS = [
    {"invalid_values": True},
    {"private_block_bytes": 70000},
    {"overlay": True},
    {"two_orientations": True},
    {"mixed_transfer_syntaxes": True},
    {"missing_type2": True},
]


@pytest.mark.parametrize("modality", ["CT", "MR", "PET"])
def test_enhanced_view_of_messy_series(archive, dicom_client, tmp_path, modality):
    patient = PatientSpec.from_seed(90)
    study = derive_uid("views-messy", modality)
    datasets = []
    for number, variant in enumerate(VARIANTS):
        series = make_series(modality, slices=3, rows=16, columns=16, patient=patient, study_uid=study,
                             seed=900 + number, series_number=10 + number, **variant)
        datasets += series
    missing = make_series(modality, slices=1, rows=16, columns=16, patient=patient, study_uid=study, seed=999)
    datasets.append(make_gsps([datasets[0], missing[0]], seed=90))  # one reference is never satisfied
    statuses = dicom_client.store(write_datasets(datasets, tmp_path / "in"))
    assert all(int(s.Status) in (0x0000, 0xB000, 0xB006, 0xB007) for s in statuses), statuses

    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study
    identifier.QueryRetrieveView = "ENHANCED"
    result = dicom_client.get(identifier, STUDY_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(STUDY_ROOT_GET))
    assert result.code == 0x0000, result.status
    received = [r.dataset() for r in result.received]
    uids = {str(ds.SOPInstanceUID) for ds in received}
    assert len(uids) == len(received)
    # Every multi-image classic series was converted; nothing classic with siblings remains.
    classic = [ds for ds in received if str(ds.SOPClassUID) in CLASSIC_TO_LEGACY_CONVERTED]
    assert len({str(ds.SeriesInstanceUID) for ds in classic}) == len(classic)
    (gsps,) = [
        ds for ds in received
        if ds.SOPClassUID == GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE and ds.get("ContentLabel") != "OVERLAY"
        and "ConversionSourceAttributesSequence" in ds
        and str(ds.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID) == str(datasets[-1].SOPInstanceUID)
    ]
    targets = {uid for uid, _ in reference_items(gsps)}
    assert str(missing[0].SOPInstanceUID) in targets  # the dangling reference is kept as it was
    assert (targets - {str(missing[0].SOPInstanceUID)}) <= uids
