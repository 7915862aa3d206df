"""Fixtures of the end-to-end view tests: the Annex ZZZB objects, view negotiation, storing with storescu."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation

from qrscp.testing.dcmtk import dcmtk_tool, run_dcmtk
from qrscp.testing.factory import write_datasets
from qrscp.uids import (
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    CT_IMAGE_STORAGE,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    PATIENT_ROOT_FIND,
    STUDY_ROOT_FIND,
)

# Annex ZZZB.2 / ZZZC.2 identities.
ZZZ_PATIENT_ID = "RIDER-2357766186"
ZZZ_ACCESSION = "2263295914110886"
ZZZ_STUDY_UID = "1.3.6.1.4.1.9328.50.1.331429121990566779475389049484716775937"
ZZZ_SERIES_UID = "1.3.6.1.4.1.9328.50.1.160525591228102999616019562758104412505"
ZZZ_FRAME_OF_REFERENCE_UID = "1.3.6.1.4.1.9328.50.1.69905286559358212664901756199898527044"
ZZZ_FIRST_SLICE_UID = "1.3.6.1.4.1.9328.50.1.21169049221871725649891126757390969029"
ZZZ_SECOND_SLICE_UID = "1.3.6.1.4.1.9328.50.1.118458571690318148036673922876743615666"
ZZZ_GSPS_UID = "1.2.276.0.7230010.3.1.4.2989371993.3196.1272478982.1246"
ZZZ_GSPS_SERIES_UID = "1.2.276.0.7230010.3.1.3.2989371993.3196.1272478982.1245"


def view_negotiation(*sop_classes: str) -> list[SOPClassExtendedNegotiation]:
    """SOP Class Extended Negotiation items offering the Enhanced Multi-Frame Image Conversion option."""
    items = []
    for uid in sop_classes:
        item = SOPClassExtendedNegotiation()
        item.sop_class_uid = uid
        if uid in (PATIENT_ROOT_FIND, STUDY_ROOT_FIND):
            item.service_class_application_information = b"\x01\x00\x00\x00\x01"
        elif uid in (COMPOSITE_INSTANCE_ROOT_GET, COMPOSITE_INSTANCE_ROOT_MOVE):
            item.service_class_application_information = b"\x00\x01"
        else:
            item.service_class_application_information = b"\x01\x01"
        items.append(item)
    return items


def _file_meta(ds: Dataset) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _zzzb_slice(sop_instance_uid: str, instance_number: int, z: float, scan_parameter: float,
                contribution: str, seed: int) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceCreationDate = "20061230"
    ds.InstanceCreationTime = "094053"
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_instance_uid
    ds.StudyDate = "20061230"
    ds.ContentDate = "20061230"
    ds.StudyTime = "100000"
    ds.ContentTime = ""
    ds.AccessionNumber = ZZZ_ACCESSION
    ds.Modality = "CT"
    ds.Manufacturer = ""
    ds.ReferringPhysicianName = ""
    ds.PatientName = "277654^"
    ds.PatientID = ZZZ_PATIENT_ID
    ds.PatientBirthDate = "19301018"
    ds.PatientSex = ""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "CTP: DICOM-S142-Baseline: 20090627:021422"
    ds.ContrastBolusAgent = ""
    ds.BodyPartExamined = "CHEST"
    ds.ScanOptions = "HELICAL MODE"
    ds.SliceThickness = "1.250000"
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500.000000"
    ds.ReconstructionDiameter = "375.000000"
    ds.DistanceSourceToDetector = "949.075012"
    ds.DistanceSourceToPatient = "541.000000"
    ds.GantryDetectorTilt = "0.000000"
    ds.TableHeight = "170.500000"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "500"
    ds.XRayTubeCurrent = "298"
    ds.Exposure = "4"
    ds.FilterType = "BODY FILTER"
    ds.GeneratorPower = "36000"
    ds.FocalSpots = "0.700000"
    ds.ConvolutionKernel = "LUNG"
    ds.PatientPosition = "FFS"
    ds.RevolutionTime = 0.5
    ds.SingleCollimationWidth = 0.625
    ds.TotalCollimationWidth = 40.0
    ds.TableSpeed = 78.75
    ds.TableFeedPerRotation = 39.375
    ds.SpiralPitchFactor = 0.984375
    equipment = Dataset()
    equipment.Manufacturer = "Acme Corp"
    equipment.ContributionDateTime = contribution
    equipment.ContributionDescription = "Merged patient context"
    equipment.PurposeOfReferenceCodeSequence = Sequence([_code("109103", "DCM", "Modifying Equipment")])
    ds.ContributingEquipmentSequence = Sequence([equipment])
    ds.StudyInstanceUID = ZZZ_STUDY_UID
    ds.SeriesInstanceUID = ZZZ_SERIES_UID
    ds.StudyID = "1234"
    ds.SeriesNumber = "8"
    ds.AcquisitionNumber = "1"
    ds.InstanceNumber = str(instance_number)
    ds.ImagePositionPatient = ["-197.899994", "-195.800003", f"{z:.6f}"]
    ds.ImageOrientationPatient = ["1.000000", "0.000000", "0.000000", "0.000000", "1.000000", "0.000000"]
    ds.FrameOfReferenceUID = ZZZ_FRAME_OF_REFERENCE_UID
    ds.PositionReferenceIndicator = "SN"
    ds.SliceLocation = f"{z:.6f}"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 512
    ds.Columns = 512
    ds.PixelSpacing = ["0.732422", "0.732422"]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.PixelPaddingValue = -2000
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.PerformedProcedureStepStartDate = "20061230"
    ds.PerformedProcedureStepStartTime = "092119"
    block = ds.private_block(0x01F1, "ACMEVEND", create=True)
    block.add_new(0x01, "CS", "SPIRAL")
    block.add_new(0x02, "FL", scan_parameter)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(-1000, 1500, size=(512, 512), dtype=np.int16)
    ds.PixelData = pixels.tobytes()
    _file_meta(ds)
    return ds


def zzzb_gsps() -> Dataset:
    """The presentation state of ZZZB.2.2.1, referencing the first slice."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE
    ds.SOPInstanceUID = ZZZ_GSPS_UID
    ds.StudyDate = "20061230"
    ds.StudyTime = "100000"
    ds.AccessionNumber = ZZZ_ACCESSION
    ds.Modality = "PR"
    ds.Manufacturer = ""
    ds.ReferringPhysicianName = ""
    image = Dataset()
    image.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    image.ReferencedSOPInstanceUID = ZZZ_FIRST_SLICE_UID
    series = Dataset()
    series.ReferencedImageSequence = Sequence([image])
    series.SeriesInstanceUID = ZZZ_SERIES_UID
    ds.ReferencedSeriesSequence = Sequence([series])
    ds.PatientName = "277654^"
    ds.PatientID = ZZZ_PATIENT_ID
    ds.PatientBirthDate = "19301018"
    ds.PatientSex = ""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "CTP: DICOM-S142-Baseline: 20090627:021422"
    ds.BodyPartExamined = "CHEST"
    ds.StudyInstanceUID = ZZZ_STUDY_UID
    ds.SeriesInstanceUID = ZZZ_GSPS_SERIES_UID
    ds.StudyID = "1234"
    ds.SeriesNumber = "1"
    ds.InstanceNumber = "1"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    voi = Dataset()
    voi.WindowCenter = "-600"
    voi.WindowWidth = "1200"
    ds.SoftcopyVOILUTSequence = Sequence([voi])
    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [179, 201]
    area.DisplayedAreaBottomRightHandCorner = [396, 418]
    area.PresentationSizeMode = "MAGNIFY"
    area.PresentationPixelSpacing = ["0.732422", "0.732422"]
    area.PresentationPixelMagnificationRatio = 2.36742
    ds.DisplayedAreaSelectionSequence = Sequence([area])
    ds.ContentLabel = "UNNAMED"
    ds.ContentDescription = ""
    ds.PresentationCreationDate = "20100428"
    ds.PresentationCreationTime = "142302"
    ds.ContentCreatorName = ""
    ds.PresentationLUTShape = "IDENTITY"
    _file_meta(ds)
    return ds


def zzzb_datasets() -> list[Dataset]:
    """The two classic CT slices of ZZZB.2.1.1/2 and the presentation state of ZZZB.2.2.1."""
    first = _zzzb_slice(ZZZ_FIRST_SLICE_UID, 43, -81.75, 39.2, "20110710084725.070-0400", seed=1)
    second = _zzzb_slice(ZZZ_SECOND_SLICE_UID, 42, -80.5, 40.1, "20110710084722.235-0400", seed=2)
    return [first, second, zzzb_gsps()]


def storescu(archive, paths: Iterable[Path]) -> None:
    """Store files into `archive` with DCMTK's storescu (TCP_NODELAY set by run_dcmtk)."""
    result = run_dcmtk(
        "storescu", "-aec", archive.ae_title, "127.0.0.1", str(archive.port), *[str(p) for p in paths]
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def zzzb_archive(archive, tmp_path):
    """The ``archive`` fixture holding the Annex ZZZB CT slices and presentation state, sent with storescu."""
    if dcmtk_tool("storescu") is None:
        pytest.skip("DCMTK storescu not installed")
    paths = write_datasets(zzzb_datasets(), tmp_path / "zzzb")
    storescu(archive, paths)
    return archive
