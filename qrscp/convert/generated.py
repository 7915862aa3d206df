"""Top-level values a Legacy Converted Enhanced image gets from the conversion (step 2 of
:func:`qrscp.convert.enhanced.convert_group`): identity, dates, image type and flags, lossy compression,
evidence of the images the sources reference.

The original values of the attributes listed in :data:`GENERATED_KEYWORDS` go to the Unassigned items
when they differ (:mod:`qrscp.convert.placement`), so that conversion back recovers them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from pydicom.dataset import Dataset
from pydicom.tag import Tag

from qrscp import uids as sop
from qrscp.convert import attributes as attrs
from qrscp.convert.common import LEGACY_FROM_CLASSIC, contributing_equipment, earliest
from qrscp.convert.conditions import nested_items
from qrscp.convert.functional_groups import CONSUMED_KEYWORDS
from qrscp.convert.pixels import PixelPlan, frame_length
from qrscp.convert.vocabulary import resonant_nucleus
from qrscp.dicom.datasets import element_dict

#: Top-level attributes whose value the conversion sets (the original goes to the Unassigned items
#: when it differs). SOP Class/Instance UIDs are recorded in the Conversion Source Attributes instead.
GENERATED_KEYWORDS = (
    "SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "InstanceNumber", "SeriesDate", "SeriesTime",
    "ContentDate", "ContentTime", "InstanceCreationDate", "InstanceCreationTime", "ImageType",
    "ContributingEquipmentSequence", "QueryRetrieveView", "NumberOfFrames", "PixelPresentation",
    "VolumetricProperties", "VolumeBasedCalculationTechnique", "ContentQualification", "PresentationLUTShape",
    "BurnedInAnnotation", "LossyImageCompression", "LossyImageCompressionMethod", "LossyImageCompressionRatio",
    "BitsStored", "HighBit", "AcquisitionContextSequence", "ResonantNucleus",
    "ReferencedImageEvidenceSequence", "SourceImageEvidenceSequence", "ReferencedPresentationStateSequence",
    "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence", "ConversionSourceAttributesSequence",
)
GENERATED_TAGS = frozenset(int(Tag(k)) for k in GENERATED_KEYWORDS)
#: Generated attributes that a recovered classic image never takes from the enhanced top level.
ENHANCED_ONLY_KEYWORDS = tuple(k for k in GENERATED_KEYWORDS if k not in (
    "SeriesDate", "SeriesTime", "ContentDate", "ContentTime", "InstanceCreationDate", "InstanceCreationTime",
    "BurnedInAnnotation", "LossyImageCompression", "LossyImageCompressionMethod", "LossyImageCompressionRatio",
    "BitsStored", "HighBit"))
CONSUMED_TAGS = frozenset(int(Tag(k)) for k in CONSUMED_KEYWORDS)
NOT_COPIED = frozenset(int(Tag(k)) for k in ("SOPInstanceUID", "SOPClassUID"))


def set_generated(top: Dataset, frames: Sequence[Dataset], *, target_class: str, new_uid: str, new_series: str,
                  instance_number: int, view: str, timestamp: tuple[str, str], plan: PixelPlan,
                  frame_types: list[Dataset], locations: dict[str, tuple[str, str]]) -> None:
    """Set the generated top-level values of the enhanced image `top` made from `frames`."""
    _set_identity(top, frames, target_class, new_uid, new_series, instance_number, view, timestamp)
    _set_image_type(top, frames, frame_types)
    _set_lossy(top, frames, plan)
    first = frames[0]
    top.AcquisitionContextSequence = (copy.deepcopy(first.AcquisitionContextSequence)
                                      if _shared_value(frames, "AcquisitionContextSequence") else [])
    top.NumberOfFrames = str(len(frames))
    _set_resonant_nucleus(top, frames, target_class)
    top.ContributingEquipmentSequence = contributing_equipment(frames, LEGACY_FROM_CLASSIC, timestamp)

    for evidence, key in (("ReferencedImageEvidenceSequence", "ReferencedImageSequence"),
                          ("SourceImageEvidenceSequence", "SourceImageSequence")):
        tag = attrs.keyword_tag(key)
        references = [ref for ds in frames if tag in element_dict(ds) for ref in (ds[tag].value or [])]
        if references:
            setattr(top, evidence, hierarchical_references(references, first, locations))


def _set_identity(top: Dataset, frames: Sequence[Dataset], target_class: str, new_uid: str, new_series: str,
                  instance_number: int, view: str, timestamp: tuple[str, str]) -> None:
    """UIDs, numbers and dates: the earliest of the sources (C.7.6.16.2.FG note 3)."""
    top.SOPClassUID = target_class
    top.SOPInstanceUID = new_uid
    top.SeriesInstanceUID = new_series
    top.InstanceNumber = str(instance_number)
    top.QueryRetrieveView = view
    top.InstanceCreationDate, top.InstanceCreationTime = timestamp
    series = earliest(frames, "SeriesDate", "SeriesTime")
    if series is not None:
        top.SeriesDate = series[0]
        if series[1]:
            top.SeriesTime = series[1]
    content = (earliest(frames, "ContentDate", "ContentTime") or earliest(frames, "AcquisitionDate", "AcquisitionTime")
               or earliest(frames, "SeriesDate", "SeriesTime") or earliest(frames, "StudyDate", "StudyTime"))
    if content is not None:
        top.ContentDate = content[0]
        top.ContentTime = content[1] or "000000"
    else:
        top.ContentDate, top.ContentTime = timestamp


def _set_resonant_nucleus(top: Dataset, frames: Sequence[Dataset], target_class: str) -> None:
    """Resonant Nucleus (Type 1C, "may be present" in Legacy Converted Enhanced MR) from the classic Imaged
    Nucleus the frames share, when it is one of its Defined Terms; Imaged Nucleus itself stays in the
    Unassigned items, and conversion back drops Resonant Nucleus (it is generated)."""
    if target_class != sop.LEGACY_CONVERTED_ENHANCED_MR_IMAGE_STORAGE:
        return
    term = resonant_nucleus(_shared_value(frames, "ImagedNucleus") or "")
    if term is not None:
        top.ResonantNucleus = term


def _set_image_type(top: Dataset, frames: Sequence[Dataset], frame_types: list[Dataset]) -> None:
    """Image Type and the image flags, combined from the frames' Frame Type items."""
    first = frames[0]
    distinct_types = list({id(ft): ft for ft in frame_types}.values())  # one item for all when shared
    image_type = [_combined([str(ft.FrameType[i]) for ft in distinct_types]) for i in range(4)]
    if image_type[3] == "MIXED" and image_type[0] != "MIXED":
        image_type[3] = "MIXED"
    top.ImageType = image_type
    top.PixelPresentation = _combined([str(ft.PixelPresentation) for ft in distinct_types])
    top.VolumetricProperties = "VOLUME"
    top.VolumeBasedCalculationTechnique = "NONE"
    top.ContentQualification = _shared_value(frames, "ContentQualification") or "PRODUCT"
    photometric = str(first.get("PhotometricInterpretation", ""))
    if photometric == "MONOCHROME2":
        top.PresentationLUTShape = "IDENTITY"
    elif photometric == "MONOCHROME1":
        top.PresentationLUTShape = "INVERSE"
    burned = [attrs.text(ds, "BurnedInAnnotation") for ds in frames]
    top.BurnedInAnnotation = _shared_value(frames, "BurnedInAnnotation") or ("YES" if "YES" in burned else "NO")


def _set_lossy(top: Dataset, frames: Sequence[Dataset], plan: PixelPlan) -> None:
    """Lossy Image Compression, and its Method and Ratio (Type 1C in the enhanced image modules, Type 3
    in the classic General Image module): the sources' own values, else from the lossy transfer syntax
    their frames are in."""
    lossy = [attrs.text(ds, "LossyImageCompression") for ds in frames]
    lossy_syntax = plan.transfer_syntax in _LOSSY_METHODS
    top.LossyImageCompression = _shared_value(frames, "LossyImageCompression") or (
        "01" if "01" in lossy or lossy_syntax else "00")
    if top.LossyImageCompression == "01":
        method = _shared_value(frames, "LossyImageCompressionMethod") or _lossy_method(plan)
        if method:
            top.LossyImageCompressionMethod = method
        ratio = _shared_value(frames, "LossyImageCompressionRatio") or (
            _compression_ratio(plan, frame_length(frames[0])) if isinstance(method, str) else None)  # one step
        if ratio:
            top.LossyImageCompressionRatio = ratio


def _combined(values: list[str]) -> str:
    distinct = sorted(set(values))
    return distinct[0] if len(distinct) == 1 else "MIXED"


def _shared_value(frames: Sequence[Dataset], keyword: str) -> object:
    tag = attrs.keyword_tag(keyword)
    keys = {attrs.value_key(ds, tag) for ds in frames}
    if len(keys) == 1 and None not in keys:
        return frames[0][tag].value
    return None


#: Lossy Image Compression Method (Defined Terms of PS3.3 C.7.6.1.1.5.1) by the lossy transfer syntax.
_LOSSY_METHODS = {
    "1.2.840.10008.1.2.4.50": "ISO_10918_1", "1.2.840.10008.1.2.4.51": "ISO_10918_1",
    "1.2.840.10008.1.2.4.81": "ISO_14495_1", "1.2.840.10008.1.2.4.91": "ISO_15444_1",
    "1.2.840.10008.1.2.4.203": "ISO_15444_15",
    "1.2.840.10008.1.2.4.100": "ISO_13818_2", "1.2.840.10008.1.2.4.101": "ISO_13818_2",
    **{f"1.2.840.10008.1.2.4.{n}": "ISO_14496_10" for n in range(102, 107)},
}


def _lossy_method(plan: PixelPlan) -> str | None:
    """The one lossy method of the frames' transfer syntaxes (None: none, or several)."""
    methods = {_LOSSY_METHODS.get(frame.transfer_syntax) for frame in plan.frames}
    methods.discard(None)
    return methods.pop() if len(methods) == 1 else None


def _compression_ratio(plan: PixelPlan, frame_size: int) -> str | None:
    """Uncompressed / compressed size of the frames (C.7.6.1.1.5.2: approximate), when all are lossy."""
    if not plan.encapsulated or not frame_size or any(f.transfer_syntax not in _LOSSY_METHODS for f in plan.frames):
        return None
    compressed = sum(len(fragment) for frame in plan.frames for fragment in frame.read())
    return f"{frame_size * len(plan.frames) / compressed:.2f}" if compressed else None




def hierarchical_references(references: Sequence[Dataset], context: Dataset,
                            locations: dict[str, tuple[str, str]]) -> list[Dataset]:
    """Hierarchical SOP Instance Reference items (study > series > instance) for image references.

    The series of a referenced instance is known when it is among the converted sources (or the other
    datasets given); otherwise the referencing image's own study and series are assumed.
    """
    tree: dict[str, dict[str, dict[str, str]]] = {}
    for ref in references:
        uid = str(ref.get("ReferencedSOPInstanceUID", ""))
        if not uid:
            continue
        study, series = locations.get(uid, (str(context.get("StudyInstanceUID", "")),
                                             str(context.get("SeriesInstanceUID", ""))))
        tree.setdefault(study, {}).setdefault(series, {})[uid] = str(ref.get("ReferencedSOPClassUID", ""))
    items = []
    for study in sorted(tree):
        study_item = Dataset()
        study_item.StudyInstanceUID = study
        series_items = []
        for series in sorted(tree[study]):
            series_item = Dataset()
            series_item.SeriesInstanceUID = series
            instance_items = []
            for uid, sop_class in sorted(tree[study][series].items()):
                instance = Dataset()
                instance.ReferencedSOPClassUID = sop_class
                instance.ReferencedSOPInstanceUID = uid
                instance_items.append(instance)
            series_item.ReferencedSOPSequence = instance_items
            series_items.append(series_item)
        study_item.ReferencedSeriesSequence = series_items
        items.append(study_item)
    return items


def add_nested_evidence(top: Dataset, frames: Sequence[Dataset], locations: dict[str, tuple[str, str]]) -> None:
    """Referenced Image Evidence also for the images that vendor sequences of the sources reference (they
    are references of this instance, kept in its Unassigned items)."""
    tag = attrs.keyword_tag("ReferencedImageSequence")
    references = [ref for ds in frames if tag in element_dict(ds) for ref in (ds[tag].value or [])]
    references += [ref for ds in frames for ref in nested_items(ds, "ReferencedImageSequence")]
    if references:
        top.ReferencedImageEvidenceSequence = hierarchical_references(references, frames[0], locations)
