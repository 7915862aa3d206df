"""Factory variants with the defects real scanners send (issue 17), one function per class of defect.

Each takes a series from :func:`qrscp.testing.classic.make_series` (or an image from
:mod:`qrscp.testing.enhanced`), changes it in place the way a real scanner's data is, and returns it:

``empty_values``             zero-length elements: Type 2 (Patient's Birth Date, KVP), Type 3 (Content
                             Date/Time), an empty sequence (Film Consumption), an empty private element;
                             Patient's Sex absent (Type 2 missing); Requesting Physician empty in some
                             slices and absent in the others.
``pixel_aspect_ratio``       Pixel Aspect Ratio 1\\1 next to Pixel Spacing (forbidden with Pixel Measures).
``real_world_value_mapping`` a Real World Value Mapping item, complete or lacking its Type 1 attributes.
``partial_modules``          attributes of modules the enhanced IOD has as User-optional, incomplete:
                             Trigger Source or Type alone (Synchronization), Device Serial Number and
                             Software Versions empty (Enhanced General Equipment), Complex Image Component
                             empty (Type 1C there).
``nested_references``        a vendor sequence whose items hold a Referenced Image Sequence.
``dataless_overlay``         an overlay group without Overlay Data.
``enhanced_mr_vocabulary``   an Enhanced MR with In-plane Phase Encoding Direction COLUMN and an Inversion
                             Time in a vendor sequence although Inversion Recovery is NO.
"""

from __future__ import annotations

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from qrscp.testing.classic import PRIVATE_CREATOR, PRIVATE_GROUP


def empty_values(series: list[Dataset]) -> list[Dataset]:
    for index, ds in enumerate(series):
        ds.PatientBirthDate = ""
        ds.ContentDate, ds.ContentTime = "", ""
        ds.FilmConsumptionSequence = Sequence([])
        if "PatientSex" in ds:
            del ds.PatientSex
        if ds.Modality == "CT":
            ds.KVP = None
        block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
        block.add_new(0x40, "LO", "")
        if index % 2:
            ds.RequestingPhysician = ""
    return series


def pixel_aspect_ratio(series: list[Dataset]) -> list[Dataset]:
    for ds in series:
        ds.PixelAspectRatio = [1, 1]
    return series


def real_world_value_mapping(series: list[Dataset], *, complete: bool) -> list[Dataset]:
    for ds in series:
        item = Dataset()
        item.RealWorldValueIntercept = 0.0
        item.RealWorldValueSlope = 0.5
        if complete:
            item.LUTExplanation = "Real World Value Mapping for US"
            item.LUTLabel = "FACTORY"
            item.RealWorldValueFirstValueMapped = 0
            item.RealWorldValueLastValueMapped = 4095
            units = Dataset()
            units.CodeValue, units.CodingSchemeDesignator, units.CodeMeaning = "1", "UCUM", "no units"
            item.MeasurementUnitsCodeSequence = Sequence([units])
        ds.RealWorldValueMappingSequence = Sequence([item])
    return series


def partial_modules(series: list[Dataset]) -> list[Dataset]:
    for ds in series:
        ds.TriggerSourceOrType = "ECG"
        ds.DeviceSerialNumber = ""
        ds.SoftwareVersions = ""
        ds.ComplexImageComponent = ""
    return series


def nested_references(series: list[Dataset]) -> list[Dataset]:
    for index, ds in enumerate(series):
        reference = Dataset()
        reference.ReferencedSOPClassUID = ds.SOPClassUID
        reference.ReferencedSOPInstanceUID = f"{ds.SOPInstanceUID}.{index + 1}"
        related = Dataset()
        related.StudyInstanceUID = ds.StudyInstanceUID
        related.SeriesInstanceUID = f"{ds.SeriesInstanceUID}.9"
        related.PurposeOfReferenceCodeSequence = Sequence([])
        related.ReferencedImageSequence = Sequence([reference])
        ds.RelatedSeriesSequence = Sequence([related])
    return series


def dataless_overlay(series: list[Dataset]) -> list[Dataset]:
    for ds in series:
        ds.add(DataElement(0x60000010, "US", ds.Rows))
        ds.add(DataElement(0x60000011, "US", ds.Columns))
        ds.add(DataElement(0x60000040, "CS", "G"))
        ds.add(DataElement(0x60000050, "SS", [1, 1]))
        ds.add(DataElement(0x60000100, "US", 1))
        ds.add(DataElement(0x60000102, "US", 0))
    return series


def enhanced_mr_vocabulary(ds: Dataset, *, inversion_recovery: bool = False) -> Dataset:
    shared = ds.SharedFunctionalGroupsSequence[0]
    shared.MRFOVGeometrySequence[0].InPlanePhaseEncodingDirection = "COLUMN"
    shared.MRModifierSequence[0].InversionRecovery = "YES" if inversion_recovery else "NO"
    if inversion_recovery:
        shared.MRModifierSequence[0].InversionTimes = [150.0]
    vendor = Dataset()
    vendor.InversionTime = "0"  # a classic attribute in a vendor functional group, as Philips sends it
    block = shared.private_block(0x2005, "FACTORY MR IMAGING 001", create=True)
    block.add_new(0x0E, "SQ", Sequence([vendor]))
    return ds
