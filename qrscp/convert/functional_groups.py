"""Functional Group macros of the Legacy Converted Enhanced CT/MR/PET IODs (tables A.N1-2, A.N2-2, A.N3-2).

:func:`frame_groups` builds, for one classic source image, an item per functional group macro (except the
Unassigned ones, which :mod:`qrscp.convert.enhanced` assembles), and
:func:`qrscp.convert.flattening.flatten_groups` does the reverse: the classic attributes that a set of
functional group items carries. The two are inverses for every attribute a builder copies verbatim;
:data:`CONSUMED_KEYWORDS` lists those attributes.
"""

from __future__ import annotations

import copy

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from qrscp.convert.attributes import add_moved, generated_element, put, reusable_element, text, value_key
from qrscp.convert.attributes import keyword_tag as _tag
from qrscp.dicom.datasets import element_dict, new_dataset
from qrscp.convert.conditions import complete_mapping
from qrscp.convert.iod_tables import ANATOMIC_REGIONS
from qrscp.convert.vocabulary import frame_laterality

PER_FRAME_ONLY = ("FrameContentSequence", "ConversionSourceAttributesSequence",
                  "UnassignedPerFrameConvertedAttributesSequence")
SHARED_ONLY = ("UnassignedSharedConvertedAttributesSequence",)

FRAME_TYPE_SEQUENCE = {"CT": "CTImageFrameTypeSequence", "MR": "MRImageFrameTypeSequence", "PT": "PETFrameTypeSequence"}

#: Macro sequence -> classic keywords it carries (copied verbatim from the source image).
MACRO_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "PixelMeasuresSequence": ("PixelSpacing", "SliceThickness"),
    "PlanePositionSequence": ("ImagePositionPatient",),
    "PlaneOrientationSequence": ("ImageOrientationPatient",),
    "FrameVOILUTSequence": ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation", "VOILUTFunction"),
    "PixelValueTransformationSequence": ("RescaleIntercept", "RescaleSlope", "RescaleType"),
    "FrameAnatomySequence": ("AnatomicRegionSequence",),
    "IrradiationEventIdentificationSequence": ("IrradiationEventUID",),
}
#: Classic keywords whose values live in functional groups of the converted image.
CONSUMED_KEYWORDS: tuple[str, ...] = tuple(
    k for values in MACRO_ATTRIBUTES.values() for k in values
) + ("ReferencedImageSequence", "SourceImageSequence", "DerivationDescription", "DerivationCodeSequence",
     "RealWorldValueMappingSequence")

LOCALIZER_PURPOSE = ("121311", "DCM", "Localizer")
SOURCE_IMAGE_PURPOSE = ("121322", "DCM", "Source image for image processing operation")


def code_item(value: str, scheme: str, meaning: str) -> Dataset:
    item = new_dataset()
    _put_new(item, "CodeValue", "SH", value)
    _put_new(item, "CodingSchemeDesignator", "SH", scheme)
    _put_new(item, "CodeMeaning", "LO", meaning)
    return item


def _item(**keywords: object) -> Dataset:
    item = new_dataset()
    for keyword, value in keywords.items():
        setattr(item, keyword, value)
    return item


def _has(ds: Dataset, keyword: str) -> bool:
    """``keyword in ds`` without pydicom's keyword look-up (builders run for every frame)."""
    return _tag(keyword) in element_dict(ds)


def _put_new(item: Dataset, keyword: str, vr: str, value: object) -> None:
    put(item, generated_element(_tag(keyword), vr, value))


def _copy_into(item: Dataset, source: Dataset, keywords: tuple[str, ...]) -> bool:
    found = False
    elements = element_dict(source)
    for keyword in keywords:
        tag = _tag(keyword)
        if tag in elements:
            add_moved(item, reusable_element(source, tag))
            found = True
    return found


_FRAME_ACQUISITION_NUMBER = _tag("FrameAcquisitionNumber")
_FRAME_ACQUISITION_DATETIME = _tag("FrameAcquisitionDateTime")
_FRAME_REFERENCE_DATETIME = _tag("FrameReferenceDateTime")
_REFERENCED_SOP_CLASS_UID = _tag("ReferencedSOPClassUID")
_REFERENCED_SOP_INSTANCE_UID = _tag("ReferencedSOPInstanceUID")


def frame_type(source: Dataset) -> list[str]:
    """Frame Type (0008,9007) of a converted frame: Image Type padded to four values (C.8.16.1)."""
    # Image Type itself goes to the Unassigned items whenever it differs, so nothing is lost here.
    values = [v.strip() for v in text(source, "ImageType").split("\\")] if "ImageType" in source else []
    values = (values + ["", "", "", ""])[:4]
    if not values[0]:
        values[0] = "ORIGINAL"
    values[1] = "PRIMARY"  # the only value 2 that enhanced IODs allow (C.8.16.1.2); the original is kept unassigned
    if not values[3] and values[0] == "ORIGINAL":
        values[3] = "NONE"
    return values


def pixel_presentation(source: Dataset) -> str:
    photometric = text(source, "PhotometricInterpretation") or "MONOCHROME2"
    if photometric.startswith("MONOCHROME"):
        return "MONOCHROME"
    return "COLOR" if photometric == "PALETTE COLOR" else "TRUE_COLOR"


def _synthesized_window(source: Dataset) -> tuple[str, str]:
    """A window spanning the stored value range after rescale, for sources without one (Frame VOI LUT is M)."""
    bits = int(source.get("BitsStored", 16) or 16)
    signed = int(source.get("PixelRepresentation", 0) or 0) == 1
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    try:
        slope = float(source.get("RescaleSlope", 1) or 1)
        intercept = float(source.get("RescaleIntercept", 0) or 0)
    except (TypeError, ValueError):
        slope, intercept = 1.0, 0.0
    a, b = sorted((low * slope + intercept, high * slope + intercept))
    return f"{(a + b) / 2:.6g}", f"{max(b - a, 1):.6g}"


def _default_rescale_type(modality: str, source: Dataset) -> str:
    if modality == "CT":
        return "HU"
    if modality == "PT" and text(source, "Units"):
        return text(source, "Units")[:16]
    return "US"


def _pixel_measures(source: Dataset, modality: str) -> list[Dataset] | None:
    # Slice Thickness is Type 1C here (Type 2 in the classic Image Plane module): an empty one stays
    # Unassigned rather than making the macro invalid.
    item = new_dataset()
    _copy_into(item, source, tuple(k for k in MACRO_ATTRIBUTES["PixelMeasuresSequence"]
                                   if value_key(source, _tag(k)) is not None))
    return [item]


def _plane_position(source: Dataset, modality: str) -> list[Dataset] | None:
    # A source without geometry gives an empty macro item rather than invented values.
    item = new_dataset()
    _copy_into(item, source, ("ImagePositionPatient",))
    return [item]


def _plane_orientation(source: Dataset, modality: str) -> list[Dataset] | None:
    item = new_dataset()
    _copy_into(item, source, ("ImageOrientationPatient",))
    return [item]


def _frame_voi_lut(source: Dataset, modality: str) -> list[Dataset] | None:
    has_window = _has(source, "WindowCenter") and _has(source, "WindowWidth")
    if not has_window and modality not in ("CT", "PT"):
        return None
    item = new_dataset()
    _copy_into(item, source, MACRO_ATTRIBUTES["FrameVOILUTSequence"])
    if not has_window:
        center, width = _synthesized_window(source)
        _put_new(item, "WindowCenter", "DS", center)
        _put_new(item, "WindowWidth", "DS", width)
    return [item]


def _pixel_value_transformation(source: Dataset, modality: str) -> list[Dataset] | None:
    has_rescale = _has(source, "RescaleIntercept") and _has(source, "RescaleSlope")
    if not has_rescale and modality not in ("CT", "PT"):
        return None
    item = new_dataset()
    _copy_into(item, source, MACRO_ATTRIBUTES["PixelValueTransformationSequence"])
    if not _has(item, "RescaleIntercept"):
        _put_new(item, "RescaleIntercept", "DS", "0")
    if not _has(item, "RescaleSlope"):
        _put_new(item, "RescaleSlope", "DS", "1")
    if not _has(item, "RescaleType"):
        _put_new(item, "RescaleType", "LO", _default_rescale_type(modality, source))
    return [item]


def _frame_type(source: Dataset, modality: str) -> list[Dataset] | None:
    item = new_dataset()
    _put_new(item, "FrameType", "CS", frame_type(source))
    _put_new(item, "PixelPresentation", "CS", pixel_presentation(source))
    _put_new(item, "VolumetricProperties", "CS", "VOLUME")
    _put_new(item, "VolumeBasedCalculationTechnique", "CS", "NONE")
    return [item]


def _referenced_image(source: Dataset, modality: str) -> list[Dataset] | None:
    if "ReferencedImageSequence" not in source or not source.ReferencedImageSequence:
        return None
    references = copy.deepcopy(source.ReferencedImageSequence)
    for reference in references:
        if not reference.get("PurposeOfReferenceCodeSequence"):
            reference.PurposeOfReferenceCodeSequence = [code_item(*LOCALIZER_PURPOSE)]
    return list(references)


def _derivation_image(source: Dataset, modality: str) -> list[Dataset] | None:
    if "SourceImageSequence" not in source or not source.SourceImageSequence:
        return None
    item = new_dataset()
    _copy_into(item, source, ("DerivationDescription", "DerivationCodeSequence"))
    references = copy.deepcopy(source.SourceImageSequence)
    for reference in references:
        if not reference.get("PurposeOfReferenceCodeSequence"):
            reference.PurposeOfReferenceCodeSequence = [code_item(*SOURCE_IMAGE_PURPOSE)]
    item.SourceImageSequence = references
    return [item]


def _real_world_value_mapping(source: Dataset, modality: str) -> list[Dataset] | None:
    """The source's mapping items as the functional group, only when every item is complete: a macro
    made from incomplete data would be invalid, so the source's attribute then stays Unassigned."""
    items = source.get("RealWorldValueMappingSequence") or []
    if not items or not all(complete_mapping(item) for item in items):
        return None
    return list(copy.deepcopy(items))


def _contrast_bolus_usage(source: Dataset, modality: str) -> list[Dataset] | None:
    # The Enhanced Contrast/Bolus module of a source makes the usage macro required.
    agents = [a for a in (source.ContrastBolusAgentSequence if "ContrastBolusAgentSequence" in source else [])
              if "ContrastBolusAgentNumber" in a]
    usage = []
    for agent in agents:
        used = new_dataset()
        used.ContrastBolusAgentNumber = agent.ContrastBolusAgentNumber
        used.ContrastBolusAgentAdministered = "YES"
        used.ContrastBolusAgentDetected = None  # Type 2: not known from a classic image
        usage.append(used)
    return usage or None


def _anatomy(source: Dataset, modality: str) -> list[Dataset] | None:
    anatomy = _frame_anatomy(source)
    return None if anatomy is None else [anatomy]


def _irradiation_event(source: Dataset, modality: str) -> list[Dataset] | None:
    if not text(source, "IrradiationEventUID"):
        return None
    item = new_dataset()
    _copy_into(item, source, ("IrradiationEventUID",))
    return [item]


def _frame_content(source: Dataset, modality: str) -> list[Dataset] | None:
    # Built for every frame of a series: elements put directly.
    item = new_dataset()
    number = _frame_acquisition_number(source)
    if number is not None:
        put(item, generated_element(_FRAME_ACQUISITION_NUMBER, "US", number))
    acquired = _acquisition_datetime(source)
    if acquired:
        put(item, generated_element(_FRAME_ACQUISITION_DATETIME, "DT", acquired))
        put(item, generated_element(_FRAME_REFERENCE_DATETIME, "DT", acquired))
    return [item]


def _conversion_source(source: Dataset, modality: str) -> list[Dataset] | None:
    item = new_dataset()
    put(item, generated_element(_REFERENCED_SOP_CLASS_UID, "UI", text(source, "SOPClassUID")))
    put(item, generated_element(_REFERENCED_SOP_INSTANCE_UID, "UI", text(source, "SOPInstanceUID")))
    return [item]


_WINDOW_INPUTS = ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation", "VOILUTFunction", "BitsStored",
                  "PixelRepresentation", "RescaleSlope", "RescaleIntercept")
#: Macro -> (the source attributes its item is made of, builder). Frames whose inputs are equal get equal
#: items, so a macro is shared when its inputs are equal in all frames; the builder then runs once.
MACROS: dict[str, tuple[tuple[str, ...], object]] = {
    "PixelMeasuresSequence": (MACRO_ATTRIBUTES["PixelMeasuresSequence"], _pixel_measures),
    "PlanePositionSequence": (("ImagePositionPatient",), _plane_position),
    "PlaneOrientationSequence": (("ImageOrientationPatient",), _plane_orientation),
    "FrameVOILUTSequence": (_WINDOW_INPUTS, _frame_voi_lut),
    "PixelValueTransformationSequence": (("RescaleIntercept", "RescaleSlope", "RescaleType", "Units"),
                                         _pixel_value_transformation),
    "FrameTypeSequence": (("ImageType", "PhotometricInterpretation"), _frame_type),
    "ReferencedImageSequence": (("ReferencedImageSequence",), _referenced_image),
    "DerivationImageSequence": (("SourceImageSequence", "DerivationDescription", "DerivationCodeSequence"),
                                _derivation_image),
    "ContrastBolusUsageSequence": (("ContrastBolusAgentSequence",), _contrast_bolus_usage),
    "RealWorldValueMappingSequence": (("RealWorldValueMappingSequence",), _real_world_value_mapping),
    "FrameAnatomySequence": (("AnatomicRegionSequence", "BodyPartExamined", "ImageLaterality", "Laterality"),
                             _anatomy),
    "IrradiationEventIdentificationSequence": (("IrradiationEventUID",), _irradiation_event),
    "FrameContentSequence": ((), _frame_content),
    "ConversionSourceAttributesSequence": ((), _conversion_source),
}
#: Plain ``int`` tags, to match the keys of :func:`qrscp.convert.attributes.value_keys`.
MACRO_INPUT_TAGS = {name: tuple(int(Tag(k)) for k in inputs) for name, (inputs, _) in MACROS.items()}


def macro_keyword(name: str, modality: str) -> str:
    """The sequence keyword of macro `name` (the Frame Type macro is modality specific)."""
    return FRAME_TYPE_SEQUENCE[modality] if name == "FrameTypeSequence" else name


def build_macro(name: str, source: Dataset, modality: str) -> DataElement | None:
    """The functional group sequence element of macro `name` for one classic image, or None."""
    items = MACROS[name][1](source, modality)  # type: ignore[operator]
    if items is None:
        return None
    return DataElement(_tag(macro_keyword(name, modality)), "SQ", Sequence(items))


def frame_groups(source: Dataset, modality: str) -> dict[str, DataElement]:
    """Functional group macros of one classic image, as sequence elements keyed by macro keyword."""
    groups: dict[str, DataElement] = {}
    for name in MACROS:
        elem = build_macro(name, source, modality)
        if elem is not None:
            groups[elem.keyword] = elem
    return groups


def _frame_anatomy(source: Dataset) -> Dataset | None:
    item = new_dataset()
    if "AnatomicRegionSequence" in source and source.AnatomicRegionSequence:
        _copy_into(item, source, ("AnatomicRegionSequence",))
    else:
        body_part = text(source, "BodyPartExamined").upper()
        code = ANATOMIC_REGIONS.get(body_part)
        if code is None:
            return None
        scheme, value, meaning = code
        item.AnatomicRegionSequence = [code_item(value, scheme, meaning)]
    laterality = (text(source, "ImageLaterality") or text(source, "Laterality")).upper()
    _put_new(item, "FrameLaterality", "CS", frame_laterality(laterality))
    return item


def _frame_acquisition_number(source: Dataset) -> int | None:
    try:
        value = int(text(source, "AcquisitionNumber"))
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= 0xFFFF else None


def _acquisition_datetime(source: Dataset) -> str:
    if text(source, "AcquisitionDateTime"):
        return text(source, "AcquisitionDateTime")
    date, time = text(source, "AcquisitionDate"), text(source, "AcquisitionTime")
    if len(date) == 8 and date.isdigit() and time[:6].replace(".", "").isdigit():
        return date + time
    return ""
