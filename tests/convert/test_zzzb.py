"""Annex ZZZB.2 (Supplement 157): two CT slices and a GSPS, converted and compared with the annex tables.

The classic slices and the presentation state are built from the tables of ZZZB.2.1.1, ZZZB.2.1.2 and
ZZZB.2.2.1. Known, deliberate differences from the annex (which is informative and predates the final
LCE CT IOD):

- Acquisition Number stays top level: the current Enhanced CT Image module defines it (Type 3);
- the Unassigned Shared item also keeps the original Series Instance UID, Image Type and (empty) Content
  Time, and each Unassigned Per-Frame item the original Contributing Equipment Sequence, because the
  conversion replaces them (notes 3 and 4 of C.7.6.16.2.FG: "if the original is to be preserved, needs to
  be recorded"); attributes it adds that the slices lacked (Burned In Annotation, Lossy Image Compression,
  the Anatomic Region Sequence of Frame Anatomy, from Body Part Examined CHEST) are recorded there as
  empty elements, so that the round trip gives the slices back without them;
- Content Time is "000000" (the slices have it empty; the Multi-frame Functional Groups module makes it
  Type 1), Frame Anatomy is present (required since Body Part Examined CHEST maps to a code);
- the annex's per-frame items are inconsistent (frame 1 shows Instance Number 42 with the private scan
  parameter and Conversion Source of the *other* slice, and its GSPS then points at frame 1 for the slice
  with Instance Number 43); here every per-frame item is consistent with its Conversion Source, frames are
  ordered by Instance Number as the annex does, and the GSPS frame number is the frame of the slice it
  referenced.
"""

from __future__ import annotations

import numpy as np
from convert_checks import needs_dciodvfy, new_errors
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.convert import (
    ReferenceMapping,
    UIDSource,
    rewrite_references,
    to_enhanced,
    write_part10,
)
from qrscp.convert.absence import absent_tags
from qrscp.uids import CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE

FIRST_UID = "1.3.6.1.4.1.9328.50.1.21169049221871725649891126757390969029"
SECOND_UID = "1.3.6.1.4.1.9328.50.1.118458571690318148036673922876743615666"
STUDY_UID = "1.3.6.1.4.1.9328.50.1.331429121990566779475389049484716775937"
SERIES_UID = "1.3.6.1.4.1.9328.50.1.160525591228102999616019562758104412505"
FRAME_OF_REFERENCE_UID = "1.3.6.1.4.1.9328.50.1.69905286559358212664901756199898527044"
GSPS_UID = "1.2.276.0.7230010.3.1.4.2989371993.3196.1272478982.1246"


def _code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _slice(uid, instance_number, z, contribution_datetime, scan_parameter):
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceCreationDate, ds.InstanceCreationTime = "20061230", "094053"
    ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE_STORAGE, uid
    ds.StudyDate, ds.ContentDate, ds.StudyTime, ds.ContentTime = "20061230", "20061230", "100000", ""
    ds.AccessionNumber, ds.Modality, ds.Manufacturer, ds.ReferringPhysicianName = "2263295914110886", "CT", "", ""
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "277654^", "RIDER-2357766186", "19301018", ""
    ds.PatientIdentityRemoved, ds.DeidentificationMethod = "YES", "CTP: DICOM-S142-Baseline: 20090627:021422"
    ds.ContrastBolusAgent, ds.BodyPartExamined, ds.ScanOptions = "", "CHEST", "HELICAL MODE"
    ds.SliceThickness, ds.KVP, ds.DataCollectionDiameter = "1.250000", "120", "500.000000"
    ds.ReconstructionDiameter, ds.DistanceSourceToDetector, ds.DistanceSourceToPatient = "375.000000", "949.075012", "541.000000"
    ds.GantryDetectorTilt, ds.TableHeight, ds.RotationDirection = "0.000000", "170.500000", "CW"
    ds.ExposureTime, ds.XRayTubeCurrent, ds.Exposure = "500", "298", "4"
    ds.FilterType, ds.GeneratorPower, ds.FocalSpots, ds.ConvolutionKernel = "BODY FILTER", "36000", "0.700000", "LUNG"
    ds.PatientPosition = "FFS"
    ds.RevolutionTime, ds.SingleCollimationWidth, ds.TotalCollimationWidth = 0.5, 0.625, 40.0
    ds.TableSpeed, ds.TableFeedPerRotation, ds.SpiralPitchFactor = 78.75, 39.375, 0.984375
    equipment = Dataset()
    equipment.Manufacturer = "Acme Corp"
    equipment.ContributionDateTime = contribution_datetime
    equipment.ContributionDescription = "Merged patient context"
    equipment.PurposeOfReferenceCodeSequence = [_code("109103", "DCM", "Modifying Equipment")]
    ds.ContributingEquipmentSequence = [equipment]
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.StudyID = STUDY_UID, SERIES_UID, "1234"
    ds.SeriesNumber, ds.AcquisitionNumber, ds.InstanceNumber = "8", "1", str(instance_number)
    ds.ImagePositionPatient = ["-197.899994", "-195.800003", z]
    ds.ImageOrientationPatient = ["1.000000", "0.000000", "0.000000", "0.000000", "1.000000", "0.000000"]
    ds.FrameOfReferenceUID, ds.PositionReferenceIndicator, ds.SliceLocation = FRAME_OF_REFERENCE_UID, "SN", z
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.Rows, ds.Columns = 1, "MONOCHROME2", 512, 512
    ds.PixelSpacing = ["0.732422", "0.732422"]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelPaddingValue = -2000
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.PerformedProcedureStepStartDate, ds.PerformedProcedureStepStartTime = "20061230", "092119"
    block = ds.private_block(0x01F1, "ACMEVEND", create=True)
    block.add_new(0x01, "CS", "SPIRAL")
    block.add_new(0x02, "FL", scan_parameter)
    pixels = (np.arange(512 * 512, dtype=np.int16).reshape(512, 512) % 1000) - instance_number
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OW"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def annex_slices():
    return [
        _slice(FIRST_UID, 43, "-81.750000", "20110710084725.070-0400", 39.2),
        _slice(SECOND_UID, 42, "-80.500000", "20110710084722.235-0400", 40.1),
    ]


def annex_gsps():
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.11.1", GSPS_UID
    ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.Modality = "20061230", "100000", "2263295914110886", "PR"
    ds.Manufacturer, ds.ReferringPhysicianName = "", ""
    image = Dataset()
    image.ReferencedSOPClassUID, image.ReferencedSOPInstanceUID = CT_IMAGE_STORAGE, FIRST_UID
    series = Dataset()
    series.ReferencedImageSequence = [image]
    series.SeriesInstanceUID = SERIES_UID
    ds.ReferencedSeriesSequence = [series]
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "277654^", "RIDER-2357766186", "19301018", ""
    ds.BodyPartExamined = "CHEST"
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = "1.2.276.0.7230010.3.1.3.2989371993.3196.1272478982.1245"
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1234", "1", "1"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "US"
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = "-600", "1200"
    ds.SoftcopyVOILUTSequence = [voi]
    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [179, 201]
    area.DisplayedAreaBottomRightHandCorner = [396, 418]
    area.PresentationSizeMode, area.PresentationPixelSpacing = "MAGNIFY", ["0.732422", "0.732422"]
    area.PresentationPixelMagnificationRatio = 2.36742
    ds.DisplayedAreaSelectionSequence = [area]
    ds.ContentLabel, ds.ContentDescription = "UNNAMED", ""
    ds.PresentationCreationDate, ds.PresentationCreationTime, ds.ContentCreatorName = "20100428", "142302", ""
    ds.PresentationLUTShape = "IDENTITY"
    return ds


#: Table ZZZB.2.1.3: attributes in the Unassigned Shared item (Acquisition Number: see module docstring).
ANNEX_UNASSIGNED_SHARED = [
    "ScanOptions", "KVP", "DataCollectionDiameter", "ReconstructionDiameter", "DistanceSourceToDetector",
    "DistanceSourceToPatient", "GantryDetectorTilt", "TableHeight", "RotationDirection", "ExposureTime",
    "XRayTubeCurrent", "Exposure", "FilterType", "GeneratorPower", "FocalSpots", "ConvolutionKernel",
    "RevolutionTime", "SingleCollimationWidth", "TotalCollimationWidth", "TableSpeed", "TableFeedPerRotation",
    "SpiralPitchFactor",
]
#: Attributes the conversion adds that the annex slices lack: recorded absent in the Unassigned item.
ABSENT_MARKERS = {"AnatomicRegionSequence", "BurnedInAnnotation", "LossyImageCompression"}
ANNEX_TOP_LEVEL = {
    "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"], "InstanceCreationDate": "20061230",
    "InstanceCreationTime": "094053", "StudyDate": "20061230", "ContentDate": "20061230", "StudyTime": "100000",
    "AccessionNumber": "2263295914110886", "Modality": "CT", "PixelPresentation": "MONOCHROME",
    "VolumetricProperties": "VOLUME", "VolumeBasedCalculationTechnique": "NONE", "QueryRetrieveView": "ENHANCED",
    "PatientName": "277654^", "PatientID": "RIDER-2357766186", "PatientBirthDate": "19301018",
    "PatientIdentityRemoved": "YES", "BodyPartExamined": "CHEST", "PatientPosition": "FFS",
    "ContentQualification": "PRODUCT", "StudyInstanceUID": STUDY_UID, "StudyID": "1234", "SeriesNumber": 8,
    "InstanceNumber": 1, "FrameOfReferenceUID": FRAME_OF_REFERENCE_UID, "PositionReferenceIndicator": "SN",
    "SamplesPerPixel": 1, "PhotometricInterpretation": "MONOCHROME2", "NumberOfFrames": 2, "Rows": 512,
    "Columns": 512, "BitsAllocated": 16, "BitsStored": 16, "HighBit": 15, "PixelRepresentation": 1,
    "PixelPaddingValue": -2000, "BurnedInAnnotation": "NO", "LossyImageCompression": "00",
    "PerformedProcedureStepStartDate": "20061230", "PerformedProcedureStepStartTime": "092119",
    "PresentationLUTShape": "IDENTITY", "SOPClassUID": LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
}


def _convert():
    return to_enhanced(annex_slices(), uids=UIDSource("zzzb"))[0]


def test_top_level_matches_the_annex():
    enhanced = _convert().dataset
    for keyword, value in ANNEX_TOP_LEVEL.items():
        actual = enhanced[keyword].value
        assert (list(actual) if isinstance(value, list) else actual) == value, keyword
    assert enhanced.AcquisitionContextSequence == []
    assert enhanced.PatientSex == "" and enhanced.Manufacturer == "" and enhanced.ContentTime is not None
    for moved in ("KVP", "SliceLocation", "PixelSpacing", "ImagePositionPatient", "WindowCenter", "RescaleType"):
        assert moved not in enhanced, moved
    equipment = enhanced.ContributingEquipmentSequence
    assert [e.Manufacturer for e in equipment] == ["Acme Corp", "qrscp"]
    assert equipment[1].PurposeOfReferenceCodeSequence[0].CodeValue == "109106"
    assert equipment[1].ContributionDescription == "Legacy Enhanced Image created from Classic Images"


def test_shared_functional_groups_match_the_annex():
    shared = _convert().dataset.SharedFunctionalGroupsSequence[0]
    frame_type = shared.CTImageFrameTypeSequence[0]
    assert list(frame_type.FrameType) == ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    assert (frame_type.PixelPresentation, frame_type.VolumetricProperties,
            frame_type.VolumeBasedCalculationTechnique) == ("MONOCHROME", "VOLUME", "NONE")
    assert list(shared.PlaneOrientationSequence[0].ImageOrientationPatient) == [1, 0, 0, 0, 1, 0]
    assert shared.PixelMeasuresSequence[0].SliceThickness == "1.250000"
    assert list(shared.PixelMeasuresSequence[0].PixelSpacing) == ["0.732422", "0.732422"]
    voi = shared.FrameVOILUTSequence[0]
    assert (voi.WindowCenter, voi.WindowWidth) == ("40", "400")
    transformation = shared.PixelValueTransformationSequence[0]
    assert (transformation.RescaleIntercept, transformation.RescaleSlope, transformation.RescaleType) == (
        "-1024", "1", "HU")
    unassigned = shared.UnassignedSharedConvertedAttributesSequence[0]
    for keyword in ANNEX_UNASSIGNED_SHARED:
        assert keyword in unassigned, keyword
    assert unassigned[0x01F10010].value == "ACMEVEND" and unassigned[0x01F11001].value == "SPIRAL"
    assert 0x01F11002 not in unassigned  # differs per slice
    extra = {e.keyword for e in unassigned if e.tag.group % 2 == 0} - set(ANNEX_UNASSIGNED_SHARED)
    # Originals of replaced values; attributes the sources lacked are listed as absent (module docstring).
    assert extra == {"SeriesInstanceUID", "ImageType", "ContentTime"}
    assert {keyword_for_tag(tag) for tag in absent_tags(unassigned)} == ABSENT_MARKERS


def test_per_frame_functional_groups_match_the_annex():
    enhanced = _convert().dataset
    frames = enhanced.PerFrameFunctionalGroupsSequence
    expected = [(SECOND_UID, 42, "-80.500000", 40.1), (FIRST_UID, 43, "-81.750000", 39.2)]
    for item, (uid, number, z, parameter) in zip(frames, expected):
        assert item.FrameContentSequence[0].FrameAcquisitionNumber == 1
        assert item.PlanePositionSequence[0].ImagePositionPatient[2] == z
        unassigned = item.UnassignedPerFrameConvertedAttributesSequence[0]
        assert (unassigned.InstanceNumber, unassigned.SliceLocation) == (number, z)
        assert unassigned[0x01F10010].value == "ACMEVEND"
        assert abs(unassigned[0x01F11002].value - parameter) < 1e-5
        source = item.ConversionSourceAttributesSequence[0]
        assert (source.ReferencedSOPClassUID, source.ReferencedSOPInstanceUID) == (CT_IMAGE_STORAGE, uid)
        assert "PixelMeasuresSequence" not in item and "CTImageFrameTypeSequence" not in item


def test_presentation_state_follows_the_first_slice_into_its_frame():
    conversion = _convert()
    enhanced = conversion.dataset
    gsps = annex_gsps()
    rewritten = rewrite_references(gsps, ReferenceMapping.from_conversions([conversion]),
                                   uids=UIDSource("zzzb"), view="ENHANCED")
    assert rewritten is not None
    series = rewritten.ReferencedSeriesSequence[0]
    image = series.ReferencedImageSequence[0]
    assert series.SeriesInstanceUID == enhanced.SeriesInstanceUID
    assert (image.ReferencedSOPClassUID, image.ReferencedSOPInstanceUID) == (
        LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, enhanced.SOPInstanceUID)
    frame = int(image.ReferencedFrameNumber)
    assert enhanced.PerFrameFunctionalGroupsSequence[frame - 1].ConversionSourceAttributesSequence[0] \
        .ReferencedSOPInstanceUID == FIRST_UID
    assert rewritten.SOPClassUID == gsps.SOPClassUID
    assert rewritten.SOPInstanceUID != GSPS_UID and rewritten.SeriesInstanceUID != gsps.SeriesInstanceUID
    assert rewritten.QueryRetrieveView == "ENHANCED"
    assert rewritten.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID == GSPS_UID
    assert rewritten.ContributingEquipmentSequence[-1].ContributionDescription == (
        "Updated UID references during Legacy Enhanced Classic conversion")
    for keyword in ("SoftcopyVOILUTSequence", "DisplayedAreaSelectionSequence", "ContentLabel", "PatientID"):
        assert rewritten[keyword] == gsps[keyword]


@needs_dciodvfy
def test_annex_conversion_is_valid(tmp_path):
    sources = []
    for index, ds in enumerate(annex_slices()):
        path = tmp_path / f"slice{index}.dcm"
        ds.save_as(path, enforce_file_format=True)
        sources.append(path)
    write_part10(_convert(), tmp_path / "enhanced.dcm")
    assert new_errors(tmp_path / "enhanced.dcm", sources) == set()
