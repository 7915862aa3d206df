"""Header-only instances for the index and query tests (no pixels: the index never reads them)."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.index.registry import ALL_VIEWS, register_instance
from qrscp.uids import CT_IMAGE_STORAGE


def instance_dataset(
    patient_id: str,
    study_uid: str,
    series_uid: str,
    sop_uid: str,
    *,
    sop_class_uid: str = CT_IMAGE_STORAGE,
    **attributes: object,
) -> Dataset:
    """A dataset with the identifying UIDs and any `attributes` given by keyword."""
    ds = Dataset()
    ds.PatientID = patient_id
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.SOPInstanceUID = sop_uid
    ds.SOPClassUID = sop_class_uid
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def register(sessions, datasets, *, views=ALL_VIEWS) -> None:
    """Register `datasets` in one committed transaction."""
    with sessions() as session:
        for ds in datasets:
            register_instance(
                session,
                ds,
                file_path=f"{ds.StudyInstanceUID}/{ds.SeriesInstanceUID}/{ds.SOPInstanceUID}.dcm",
                file_size=1000,
                transfer_syntax_uid=ExplicitVRLittleEndian,
                source_ae_title="MODALITY",
                views=views,
            )
        session.commit()
