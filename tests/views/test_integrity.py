"""Referential integrity, checked generically over both views of every factory patient (C.3.5, ZZZA.5).

In every object of a view, every reference to an instance of the patient names an instance of the same
view (the Conversion Source Attributes Sequence excepted); frame references name existing frames; nothing
is sent twice; the view replaces what it must (no classic CT/MR/PET series in ENHANCED, no enhanced image
in CLASSIC).
"""

from __future__ import annotations

from collections import Counter

import pytest
from pydicom.dataset import Dataset
from pynetdicom import StoragePresentationContexts

from qrscp.services.views.plan import CONVERSION_SOURCE_ATTRIBUTES_SEQUENCE
from qrscp.testing.factory import make_patient_studies, write_datasets
from qrscp.uids import (
    CLASSIC_TO_LEGACY_CONVERTED,
    ENHANCED_TO_CLASSIC,
    PATIENT_ROOT_FIND,
    PATIENT_ROOT_GET,
)
from tests.views.conftest import view_negotiation

UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
STORAGE = [(cx.abstract_syntax, UNCOMPRESSED) for cx in StoragePresentationContexts]
VIEWS = ("CLASSIC", "ENHANCED")


def reference_items(ds: Dataset):
    """Yield (referenced SOP Instance UID, frame numbers or None) of every reference item outside (0020,9172)."""
    stack = [ds]
    while stack:
        item = stack.pop()
        if "ReferencedSOPInstanceUID" in item:
            frames = item.get("ReferencedFrameNumber")
            if frames is not None and not isinstance(frames, (list, tuple)) and not hasattr(frames, "__len__"):
                frames = [frames]
            yield str(item.ReferencedSOPInstanceUID), None if frames in (None, "") else [int(f) for f in frames]
        for element in item:
            if element.VR == "SQ" and element.tag != CONVERSION_SOURCE_ATTRIBUTES_SEQUENCE:
                stack.extend(element.value)


def _patient_view(client, patient_id: str, view: str) -> list[Dataset]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "PATIENT"
    identifier.PatientID = patient_id
    identifier.QueryRetrieveView = view
    result = client.get(identifier, PATIENT_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(PATIENT_ROOT_GET))
    assert result.code == 0x0000, result.status
    return [r.dataset() for r in result.received]


def _patient_count(client, patient_id: str, view: str) -> int:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "PATIENT"
    identifier.PatientID = patient_id
    identifier.NumberOfPatientRelatedInstances = None
    identifier.QueryRetrieveView = view
    status, matches = client.find(identifier, PATIENT_ROOT_FIND, ext_neg=view_negotiation(PATIENT_ROOT_FIND))
    assert status.Status == 0 and len(matches) == 1
    return int(matches[0].NumberOfPatientRelatedInstances)


@pytest.fixture
def factory_archive(archive, dicom_client, tmp_path):
    data = make_patient_studies(patients=2, studies_per_patient=3, slices=3, rows=16, columns=16, seed=5)
    statuses = dicom_client.store(write_datasets(data.instances, tmp_path / "patients"))
    assert all(int(s.Status) == 0 for s in statuses)
    return data


def test_both_views_of_every_patient_have_referential_integrity(factory_archive, dicom_client):
    data = factory_archive
    for patient in data.patients:
        originals = {str(ds.SOPInstanceUID) for study in data.studies_of(patient.patient_id) for ds in study.instances}
        views = {view: _patient_view(dicom_client, patient.patient_id, view) for view in VIEWS}
        everything = originals | {str(ds.SOPInstanceUID) for received in views.values() for ds in received}
        for view, received in views.items():
            uids = [str(ds.SOPInstanceUID) for ds in received]
            assert len(uids) == len(set(uids)), f"{view}: an instance was sent twice"
            assert _patient_count(dicom_client, patient.patient_id, view) == len(uids)
            frames_of = {str(ds.SOPInstanceUID): int(ds.get("NumberOfFrames", 1) or 1) for ds in received}
            for ds in received:
                for target, frames in reference_items(ds):
                    if target not in everything:
                        continue  # a reference to an instance the archive never received
                    assert target in frames_of, (
                        f"{view}: {ds.SOPClassUID} {ds.SOPInstanceUID} references {target}, not in the view"
                    )
                    if frames is not None:
                        assert all(1 <= f <= frames_of[target] for f in frames), (view, target, frames)
                if str(ds.SOPInstanceUID) not in originals:
                    assert ds.QueryRetrieveView == view
                    assert "ConversionSourceAttributesSequence" in ds or "PerFrameFunctionalGroupsSequence" in ds
            classes = Counter(str(ds.SOPClassUID) for ds in received)
            if view == "CLASSIC":
                assert not set(classes) & set(ENHANCED_TO_CLASSIC)
            else:
                # Classic images remain only as lone images of their series (C.3.5 note 2).
                series = Counter(str(ds.SeriesInstanceUID) for ds in received if str(ds.SOPClassUID) in CLASSIC_TO_LEGACY_CONVERTED)
                assert all(count == 1 for count in series.values()), series
            # Same study UIDs in every view: conversion never moves an instance to another study.
            assert {str(ds.StudyInstanceUID) for ds in received} == {s.study_uid for s in data.studies_of(patient.patient_id)}
