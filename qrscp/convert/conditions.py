"""Conditions of the standard re-evaluated where an attribute lands (PS3.3 1C/2C, "shall not be present").

An attribute moved from one IOD to another keeps its value but not its requirement type: Type 3 in a
classic module may be Type 1 in an enhanced one, a 2C condition holds or not in its new place, and some
attributes are forbidden next to others. Each rule here is general (a class of defect, not a file):

- :data:`VALUE_REQUIRED`: top-level attributes of the Legacy Converted Enhanced IODs that are Type 1 or 1C
  in some module, not Type 2 in a Mandatory one, and not Type 1/1C in the classic IOD. A source that sends one empty cannot have it at
  the top level (the module would be incomplete); it stays in the Unassigned items (C.7.6.16.2.FG).
- :data:`OPTIONAL_MODULES`: a User-optional module of the enhanced IOD (Enhanced General Equipment,
  Synchronization, ...) whose Type 1 attributes the sources do not all fill is left out: its attributes
  that no Mandatory module requires go to the Unassigned items.
- :data:`FORBIDDEN_WITH`: attributes that shall not be present when another is (PS3.3 C.7.6.3.1.7:
  Pixel Aspect Ratio not with the Pixel Measures Sequence); they stay in the Unassigned items.
- :func:`apply_classic_conditions`: the 1C/2C attributes of the classic CT/MR/PET IODs that a new
  classic image made from an enhanced one may hold, each kept only where its condition holds.
- :func:`complete_mapping`: a Real World Value Mapping item becomes a functional group only when complete.
- :func:`nested_macro_items`: a functional group macro that dicom3tools finds inside an Unassigned item
  (a vendor sequence holding a Referenced Image Sequence) is given explicitly in each frame, empty
  (Type 2; empty in the Shared item it would require Referenced Image Evidence).
"""

from __future__ import annotations

import struct

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from qrscp import uids as sop
from qrscp.dicom.datasets import element_dict

#: Type 1/1C top-level attributes of the Legacy Converted Enhanced CT/MR/PET IODs that no Mandatory
#: module has as Type 2 and that the classic CT/MR/PET IOD does not require either (generated from
#: highdicom's tables of PS3.3, like ``iod_tables``).
VALUE_REQUIRED: frozenset[str] = frozenset([
    'AcquisitionContrast', 'AcquisitionDateTime', 'AcquisitionDuration', 'AcquisitionTimeSynchronized',
    'ApplicableSafetyStandardAgency', 'BulkMotionCompensationTechnique', 'BulkMotionSignalSource',
    'BurnedInAnnotation', 'CardiacBeatRejectionTechnique', 'CardiacFramingType', 'CardiacRRIntervalSpecified',
    'CardiacSignalSource', 'CardiacSynchronizationTechnique', 'ComplexImageComponent',
    'ConcatenationFrameOffsetNumber', 'ConcatenationUID', 'ContentDate', 'ContentQualification', 'ContentTime',
    'ContrastBolusAgentSequence', 'DeviceSerialNumber', 'DimensionIndexSequence',
    'DimensionOrganizationSequence', 'FrameExtractionSequence', 'InConcatenationNumber', 'InstanceNumber',
    'KSpaceFiltering', 'LossyImageCompression', 'LossyImageCompressionMethod', 'LossyImageCompressionRatio',
    'MagneticFieldStrength', 'ManufacturerModelName', 'NumberOfFrames',
    'PatientEquipmentRelationshipCodeSequence', 'PatientOrientationCodeSequence',
    'PerFrameFunctionalGroupsSequence', 'PixelPresentation', 'PresentationLUTShape',
    'ReferencedImageEvidenceSequence', 'ReferencedPerformedProcedureStepSequence',
    'ReferencedPresentationStateSequence', 'RelatedSeriesSequence', 'ResonantNucleus',
    'RespiratoryMotionCompensationTechnique', 'RespiratorySignalSource', 'RespiratoryTriggerDelayThreshold',
    'RespiratoryTriggerType', 'SOPInstanceUIDOfConcatenationSource', 'SharedFunctionalGroupsSequence',
    'SoftwareVersions', 'SourceImageEvidenceSequence', 'SynchronizationChannel',
    'SynchronizationFrameOfReferenceUID', 'SynchronizationTrigger', 'VolumeBasedCalculationTechnique',
    'VolumetricProperties'
])

#: keyword -> the functional group sequence in whose presence it shall not be at the top level.
FORBIDDEN_WITH: dict[str, str] = {"PixelAspectRatio": "PixelMeasuresSequence"}


def allowed_at_top(keyword: str, empty: bool, groups: list[Dataset]) -> bool:
    """Whether a source attribute equal in every frame may stay at the top level of the enhanced image.

    Parameters
    ----------
    keyword : str
        The attribute.
    empty : bool
        Whether its (shared) value is empty.
    groups : list of Dataset
        The Shared and Per-Frame Functional Groups items built so far.
    """
    if empty and keyword in VALUE_REQUIRED:
        return False
    context = FORBIDDEN_WITH.get(keyword)
    return context is None or not any(context in item for item in groups)


#: (Type 1 keywords, keywords that may leave the top level) of each User-optional or Conditional module
#: of the Legacy Converted Enhanced CT/MR/PET IODs with Type 1 attributes; the second are the module's
#: attributes that no Mandatory module requires (generated from highdicom's tables of PS3.3).
OPTIONAL_MODULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    # clinical-trial-subject
    (('ClinicalTrialProtocolID', 'ClinicalTrialSponsorName'),
     ('ClinicalTrialProtocolEthicsCommitteeApprovalNumber', 'ClinicalTrialProtocolEthicsCommitteeName',
      'ClinicalTrialProtocolID', 'ClinicalTrialProtocolName', 'ClinicalTrialSiteID', 'ClinicalTrialSiteName',
      'ClinicalTrialSponsorName', 'ClinicalTrialSubjectID', 'ClinicalTrialSubjectReadingID',
      'IssuerOfClinicalTrialProtocolID', 'IssuerOfClinicalTrialSiteID', 'IssuerOfClinicalTrialSubjectID',
      'IssuerOfClinicalTrialSubjectReadingID', 'OtherClinicalTrialProtocolIDsSequence')),
    # device
    (('DeviceSequence',),
     ('DeviceSequence',)),
    # enhanced-contrast-bolus
    (('ContrastBolusAgentSequence',),
     ('ContrastBolusAgentSequence',)),
    # enhanced-general-equipment
    (('DeviceSerialNumber', 'Manufacturer', 'ManufacturerModelName', 'SoftwareVersions'),
     ('DeviceSerialNumber', 'ManufacturerModelName', 'SoftwareVersions')),
    # enhanced-patient-orientation
    (('PatientEquipmentRelationshipCodeSequence', 'PatientOrientationCodeSequence'),
     ('PatientEquipmentRelationshipCodeSequence', 'PatientOrientationCodeSequence')),
    # frame-extraction
    (('FrameExtractionSequence',),
     ('FrameExtractionSequence',)),
    # multi-frame-dimension
    (('DimensionOrganizationSequence',),
     ('DimensionIndexSequence', 'DimensionOrganizationSequence', 'DimensionOrganizationType')),
    # specimen
    (('ContainerIdentifier', 'SpecimenDescriptionSequence'),
     ('AlternateContainerIdentifierSequence', 'ContainerComponentSequence', 'ContainerDescription',
      'ContainerIdentifier', 'ContainerTypeCodeSequence', 'IssuerOfTheContainerIdentifierSequence',
      'SpecimenDescriptionSequence')),
    # synchronization
    (('AcquisitionTimeSynchronized', 'SynchronizationFrameOfReferenceUID', 'SynchronizationTrigger'),
     ('AcquisitionTimeSynchronized', 'NTPSourceAddress', 'SynchronizationChannel',
      'SynchronizationFrameOfReferenceUID', 'SynchronizationTrigger', 'TimeDistributionProtocol', 'TimeSource',
      'TriggerSourceOrType')),
)


def incomplete_modules(top: Dataset) -> list[str]:
    """Keywords to take off the top level: those of optional modules that `top` holds only partly (a
    Type 1 attribute absent or empty), so that such a module is absent rather than incomplete."""
    withheld = []
    for required, movable in OPTIONAL_MODULES:
        present = [k for k in movable if k in top]
        if present and not all(k in top and not top[k].is_empty for k in required):
            withheld.extend(present)
    return sorted(set(withheld))


#: Functional group macro sequence -> whether it is Type 2 (an empty sequence is a complete macro).
_NESTED_TYPE2_MACROS = ("ReferencedImageSequence",)


def nested_macro_items(frames: list[Dataset], groups: list[Dataset]) -> list[str]:
    """Type 2 macro sequences to add empty to each Per-Frame item: present nowhere in the functional groups
    but nested inside another sequence of a source image (which goes to an Unassigned item, where a
    validator looking for the macro would find it incomplete)."""
    wanted = []
    for keyword in _NESTED_TYPE2_MACROS:
        if any(keyword in item for item in groups):
            continue
        if any(_nested(ds, keyword) for ds in frames):
            wanted.append(keyword)
    return wanted


def nested_items(ds: Dataset, keyword: str, depth: int = 0) -> list[Dataset]:
    """The items of every `keyword` sequence nested inside another sequence of `ds`."""
    found: list[Dataset] = []
    if not _nested(ds, keyword):
        return found
    for raw in list(element_dict(ds).values()):
        if raw.VR == "SQ" or (raw.VR is None and _is_sequence(raw.tag)) or raw.VR == "UN":
            try:
                items = ds[raw.tag].value
            except Exception:  # noqa: BLE001 - an undecodable vendor value holds no references
                continue
            for item in items if isinstance(items, list) or type(items).__name__ == "Sequence" else []:
                found.extend(item.get(keyword) or [])
                if depth < 3:
                    found.extend(nested_items(item, keyword, depth + 1))
    return found


def _nested(ds: Dataset, keyword: str, depth: int = 0) -> bool:
    """Whether `keyword` is inside a sequence of `ds` (undecoded little-endian sequences are searched for
    the tag's bytes, a superset: decoding every vendor sequence of every frame would cost more)."""
    tag = Tag(keyword)
    needle = struct.pack("<HH", tag.group, tag.element)
    for raw in element_dict(ds).values():
        if raw.VR != "SQ" and not (raw.VR is None and _is_sequence(raw.tag)):
            continue
        if type(raw) is RawDataElement and raw.value is not None and raw.is_little_endian:
            if needle in bytes(raw.value):
                return True
            continue
        for item in ds[raw.tag].value or []:
            if keyword in item or (depth < 3 and _nested(item, keyword, depth + 1)):
                return True
    return False


def _is_sequence(tag: int) -> bool:
    try:
        return dictionary_VR(tag) == "SQ"
    except KeyError:
        return False


def apply_classic_conditions(ds: Dataset, classic_class: str) -> None:
    """Remove or add the conditional attributes of a new classic image so that each condition holds.

    MR Image (C.8.3.1): Inversion Time is Type 2C, required when Scanning Sequence contains IR and not
    present otherwise.
    """
    if classic_class == sop.MR_IMAGE_STORAGE:
        scanning = ds.get("ScanningSequence") or []
        scanning = [scanning] if isinstance(scanning, str) else list(scanning)
        if "IR" in scanning:
            if "InversionTime" not in ds:
                ds.InversionTime = None
        elif "InversionTime" in ds:
            del ds.InversionTime


#: Attributes every Real World Value Mapping item needs (C.7.6.16.2.11): Type 1, and one of each
#: alternative pair of Type 1C (first/last value mapped as US/SS or FD; a LUT or slope and intercept).
_RWVM_REQUIRED = ("LUTExplanation", "LUTLabel", "MeasurementUnitsCodeSequence")
_RWVM_ALTERNATIVES = ((("RealWorldValueFirstValueMapped", "RealWorldValueLastValueMapped"),
                       ("DoubleFloatRealWorldValueFirstValueMapped", "DoubleFloatRealWorldValueLastValueMapped")),
                      (("RealWorldValueLUTData",), ("RealWorldValueIntercept", "RealWorldValueSlope")))


def complete_mapping(item: Dataset) -> bool:
    """Whether a Real World Value Mapping item is complete (C.7.6.16.2.11): a macro made from an incomplete
    one would be invalid."""
    if not all(_valued(item, keyword) for keyword in _RWVM_REQUIRED):
        return False
    units = item.MeasurementUnitsCodeSequence
    if len(units) != 1 or not all(_valued(units[0], k) for k in ("CodeValue", "CodingSchemeDesignator", "CodeMeaning")):
        return False
    return all(any(all(_valued(item, k) for k in pair) for pair in alternatives) for alternatives in _RWVM_ALTERNATIVES)


def _valued(ds: Dataset, keyword: str) -> bool:
    return Tag(keyword) in element_dict(ds)
