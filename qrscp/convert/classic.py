"""Enhanced (true or Legacy Converted) CT/MR/PET -> classic CT/MR/PET Image Storage (PS3.4 C.3.5).

One classic image per frame: the top-level attributes that the classic IOD knows, the shared then the
per-frame functional groups flattened back (Pixel Spacing from Pixel Measures, Image Position from Plane
Position, ...), then the Unassigned Shared and the frame's Unassigned Per-Frame items (an empty element in
them means the original lacked the attribute).

Recovery (ZZZA.7): a frame of a Legacy Converted image whose Conversion Source Attributes reference a
classic image gets back that image's SOP Class and Instance UIDs, and with them its original content:
it *is* that instance again, so it carries no new Contributing Equipment item, Query/Retrieve View nor
Conversion Source Attributes. Other frames become new instances with derived UIDs, a new series, a
Contributing Equipment item "Classic Image created from Enhanced Image" and Conversion Source Attributes
naming the enhanced instance and the frame number.

What a classic -> Legacy Converted -> classic round trip cannot give back (everything else comes back
value for value, private elements in their original blocks, pixels equal):

- the File Meta Information and group length elements of the original files, Data Set Trailing
  Padding, and the encoding details of values (defined vs undefined sequence lengths, Implicit VR);
- overlays, unless the presentation states made from them are passed back (``overlay_states``);
  overlays that were embedded in high bits of the pixel data come back as separate Overlay Data, with
  those pixel bits zero (C.3.5 clears them);
- Curve, Graphic Annotation and Concatenation attributes, which C.3.5 removes;
- the transfer syntax of uncompressed slices (Implicit VR, Big Endian and Deflated slices come back as
  Explicit VR Little Endian) and of slices of a group that mixed transfer syntaxes (they were decoded:
  Explicit VR Little Endian with equal pixel values); the fragmentation of an
  encapsulated frame (one fragment comes back) and a single frame's non-empty Basic Offset Table;
- for attributes the conversion replaces or adds, "present with no value" comes back as "absent"
  (the two compare equal under C.7.6.16.2.FG).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.tag import Tag
from pydicom.uid import UID

from qrscp import uids as sop
from qrscp.convert import attributes as attrs
from qrscp.convert.absence import absent_tags, marker_tags
from qrscp.convert.common import (
    CLASSIC_FROM_ENHANCED,
    contributing_equipment,
    file_meta_for,
)
from qrscp.convert.conditions import apply_classic_conditions
from qrscp.dicom.datasets import element_dict, new_dataset
from qrscp.convert.generated import ENHANCED_ONLY_KEYWORDS
from qrscp.convert.flattening import flatten_groups
from qrscp.convert.functional_groups import FRAME_TYPE_SEQUENCE, MACRO_ATTRIBUTES
from qrscp.convert.iod_tables import TOP_LEVEL
from qrscp.convert.model import CLASSIC, RECOVERED, Conversion, FrameSource
from qrscp.convert.overlays import restore_overlays
from qrscp.convert.pixels import source_frames
from qrscp.convert.uids import UIDSource
from qrscp.convert.vocabulary import (
    apply_classic_derivations,
    apply_classic_vocabulary,
    find_enhanced,
    scanning_sequence,
)
from qrscp.uids import View

LEGACY_CONVERTED = (sop.LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, sop.LEGACY_CONVERTED_ENHANCED_MR_IMAGE_STORAGE,
                    sop.LEGACY_CONVERTED_ENHANCED_PET_IMAGE_STORAGE)
_ENHANCED_IMAGE_KEYWORDS = frozenset().union(*(TOP_LEVEL[c] for c in LEGACY_CONVERTED)) | {
    "DimensionOrganizationSequence", "DimensionIndexSequence", "DimensionOrganizationType",
    "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence", "NumberOfFrames",
}
_UNASSIGNED = ("UnassignedSharedConvertedAttributesSequence", "UnassignedPerFrameConvertedAttributesSequence")
_HANDLED_MACROS = frozenset(MACRO_ATTRIBUTES) | {
    "ReferencedImageSequence", "DerivationImageSequence", "FrameContentSequence",
    "ConversionSourceAttributesSequence", *_UNASSIGNED, *FRAME_TYPE_SEQUENCE.values(),
}
#: Attributes of true Enhanced functional groups that have a different classic keyword.
_RENAMED = {"EffectiveEchoTime": "EchoTime"}


def is_convertible_enhanced(ds: Dataset) -> bool:
    """Enhanced / Legacy Converted CT, MR or PET with pixel data (the functional groups may be missing)."""
    return str(ds.get("SOPClassUID", "")) in sop.ENHANCED_TO_CLASSIC and (
        "PixelData" in ds or 0x7FE00010 in element_dict(ds))


def to_classic(
    source: Dataset,
    *,
    uids: UIDSource,
    view: View | str = View.CLASSIC,
    recover_originals: bool = True,
    overlay_states: Sequence[Dataset] = (),
) -> list[Conversion]:
    """Convert an Enhanced or Legacy Converted Enhanced CT/MR/PET image into classic images, one per frame.

    Parameters
    ----------
    source : Dataset
        The multi-frame image; any other instance gives [] (left as it is).
    uids : UIDSource
        Source of new UIDs (not used for recovered originals).
    view : View or str
        Query/Retrieve View written into new instances; also separates the UID name spaces.
    recover_originals : bool
        For Legacy Converted sources, give each frame back the UIDs of the classic image it came from.
    overlay_states : sequence of Dataset
        Presentation states made by :func:`to_enhanced` from the overlays of the sources; their overlays
        are put back into the recovered images.

    Returns
    -------
    list of Conversion
        One per frame, in frame order; kind RECOVERED or CLASSIC, frame_map ``{(source uid, frame):
        (new uid, None)}``.
    """
    if not is_convertible_enhanced(source):
        return []
    view_value = getattr(view, "value", view) or "CLASSIC"
    context = _context(source)
    source_uid = str(source.SOPInstanceUID)
    frames = source_frames(source)
    per_frame = list(source.get("PerFrameFunctionalGroupsSequence") or [])
    per_frame += [new_dataset() for _ in range(len(frames) - len(per_frame))]
    syntax = frames[0].transfer_syntax if frames else "1.2.840.10008.1.2.1"

    new_series = uids.derive(view_value, "series", [str(source.get("SeriesInstanceUID", ""))])
    conversions = [
        _frame_conversion(context, item, number, frames[number - 1] if number - 1 < len(frames) else None,
                          syntax, new_series, uids, view_value, recover_originals)
        for number, item in enumerate(per_frame, start=1)
    ]
    recovered = [c for c in conversions if c.kind == RECOVERED]
    if overlay_states and recovered:
        restore_overlays([c.dataset for c in recovered], [c.sources[0].frame for c in recovered], source_uid,
                         overlay_states)
    return conversions


def _frame_conversion(context: _Context, item: Dataset, number: int, frame, syntax: str, new_series: str,
                      uids: UIDSource, view_value: str, recover_originals: bool) -> Conversion:
    """The classic image of frame `number`: its original recovered (Legacy Converted), or a new one."""
    ds = _frame_dataset(context, item)
    original = _conversion_source(item)
    if context.is_legacy and recover_originals and original is not None \
            and original[0] in sop.CLASSIC_TO_LEGACY_CONVERTED:
        ds.SOPClassUID, ds.SOPInstanceUID = original
        kind = RECOVERED
    else:
        _new_classic_instance(ds, context, item, number, new_series, uids, view_value)
        kind = CLASSIC
    _attach_frame(ds, frame, syntax)
    ds.file_meta = file_meta_for(ds, syntax)
    source_uid = str(context.source.SOPInstanceUID)
    return Conversion(
        dataset=ds,
        sources=[FrameSource(source_uid, number, str(context.source.SOPClassUID))],
        frame_map={(source_uid, number): (str(ds.SOPInstanceUID), None)},
        kind=kind,
    )


@dataclass
class _Context:
    """What every frame of one enhanced source shares."""

    source: Dataset
    shared: Dataset
    classic_class: str
    classic_keywords: frozenset[str]
    is_legacy: bool
    explicit_le: bool
    base: dict
    shared_unassigned: dict
    shared_absent: set[int]


def _context(source: Dataset) -> _Context:
    """The top level, once: raw (undecoded, immutable) elements are shared by all frames' datasets;
    sequences are decoded once here and copied per frame."""
    source_class = str(source.SOPClassUID)
    classic_class = sop.ENHANCED_TO_CLASSIC[source_class]
    classic_keywords = TOP_LEVEL[classic_class]
    is_legacy = source_class in LEGACY_CONVERTED
    shared = (source.get("SharedFunctionalGroupsSequence") or [Dataset()])[0]
    explicit_le = (getattr(source, "original_encoding", None) or (False, True)) == (False, True)
    base: dict = {}
    for tag, raw in element_dict(source).items():
        tag = Tag(tag)
        if tag in attrs.PIXEL_TAGS or attrs.is_group_length(tag):
            continue
        keyword = keyword_for_tag(tag)
        if is_legacy and keyword in ENHANCED_ONLY_KEYWORDS:
            continue
        if keyword in _ENHANCED_IMAGE_KEYWORDS and keyword not in classic_keywords:
            continue
        shareable = explicit_le and raw.VR not in (None, "SQ") and raw.value is not None
        base[tag] = raw if shareable else source[tag]
    shared_unassigned, shared_absent = _unassigned(shared, explicit_le)
    return _Context(source, shared, classic_class, classic_keywords, is_legacy, explicit_le, base,
                    shared_unassigned, shared_absent)


def _frame_dataset(context: _Context, item: Dataset) -> Dataset:
    """A frame's classic attributes: top level, functional groups flattened, then the Unassigned items."""
    ds = new_dataset()
    for tag, elem in context.base.items():
        element_dict(ds)[tag] = _own(elem)
    for elem in flatten_groups([context.shared, item], copy_values=False):
        element_dict(ds)[elem.tag] = _own(elem)
    if not context.is_legacy:
        _flatten_true_enhanced(ds, [context.shared, item], context.classic_keywords)
    # Unassigned values last (the frame's over the shared ones), then what the source lacked.
    frame_unassigned, frame_absent = _unassigned(item, context.explicit_le)
    for tag, elem in {**context.shared_unassigned, **frame_unassigned}.items():
        element_dict(ds)[tag] = _own(elem)
    for tag in (context.shared_absent - frame_unassigned.keys()) | frame_absent:
        element_dict(ds).pop(tag, None)
    return ds


def _new_classic_instance(ds: Dataset, context: _Context, item: Dataset, number: int, new_series: str,
                          uids: UIDSource, view: str) -> None:
    """A frame that is not a recovered original: new UIDs, classic terms and requirements."""
    _as_new_instance(ds, context.source, number, context.classic_class, new_series, uids, view)
    _classic_terms(ds, context.source, context.classic_class, [context.shared, item])
    _fill_classic_requirements(ds, context.classic_class, context.is_legacy)
    apply_classic_conditions(ds, context.classic_class)


def _unassigned(group: Dataset, raw_ok: bool) -> tuple[dict, set[int]]:
    """Elements of a group's Unassigned Shared and Per-Frame items in item order, undecoded when the
    source is Explicit VR Little Endian (the bytes can be written as they are), and the tags they record
    as absent from the source (:mod:`qrscp.convert.absence`)."""
    found: dict = {}
    absent: set[int] = set()
    for keyword in _UNASSIGNED:
        if keyword in group:
            for unassigned in group[keyword].value:
                ours = marker_tags(unassigned)
                absent.update(absent_tags(unassigned))
                if raw_ok:
                    found.update((tag, elem) for tag, elem in element_dict(unassigned).items() if tag not in ours)
                else:
                    found.update({tag: unassigned[tag] for tag in element_dict(unassigned) if tag not in ours})
    return found, absent



def _own(elem):
    """What a frame's dataset may hold: raw elements are immutable and shared; decoded ones are copied."""
    if type(elem) is RawDataElement:
        return elem
    return copy.deepcopy(elem) if elem.VR == "SQ" else copy.copy(elem)


def _conversion_source(item: Dataset) -> tuple[str, str] | None:
    for ref in item.get("ConversionSourceAttributesSequence") or []:
        if "ReferencedFrameNumber" in ref:
            return None
        return str(ref.ReferencedSOPClassUID), str(ref.ReferencedSOPInstanceUID)
    return None


def _flatten_true_enhanced(ds: Dataset, groups: list[Dataset], classic_keywords: frozenset[str]) -> None:
    """Attributes of modality-specific functional groups (MR timing, CT acquisition details, ...)."""
    for group in groups:
        for elem in group:
            if elem.keyword in _HANDLED_MACROS or elem.VR != "SQ":
                continue
            for item in elem.value[:1]:
                _copy_known(ds, item, classic_keywords)
        for keyword in FRAME_TYPE_SEQUENCE.values():
            for item in group.get(keyword) or []:
                if "FrameType" in item:
                    ds.ImageType = list(item.FrameType)
        for item in group.get("FrameContentSequence") or []:
            when = str(item.get("FrameAcquisitionDateTime", "") or "")
            if len(when) >= 14:
                ds.AcquisitionDateTime = when
                ds.AcquisitionDate, ds.AcquisitionTime = when[:8], when[8:].split("+")[0].split("-")[0]
            if "FrameAcquisitionNumber" in item:
                ds.AcquisitionNumber = str(item.FrameAcquisitionNumber)


def _copy_known(ds: Dataset, item: Dataset, classic_keywords: frozenset[str], depth: int = 0) -> None:
    for elem in item:
        keyword = _RENAMED.get(elem.keyword, elem.keyword)
        if keyword in classic_keywords:
            if keyword != elem.keyword:
                setattr(ds, keyword, elem.value)
            else:
                ds.add(copy.deepcopy(elem))
        elif elem.VR == "SQ" and depth < 2:
            for inner in elem.value[:1]:
                _copy_known(ds, inner, classic_keywords, depth + 1)


def _as_new_instance(ds: Dataset, source: Dataset, number: int, classic_class: str, new_series: str,
                     uids: UIDSource, view: str) -> None:
    source_uid = str(source.SOPInstanceUID)
    ds.SOPClassUID = classic_class
    ds.SOPInstanceUID = uids.derive(view, "instance", [f"{source_uid}:{number}"])
    ds.SeriesInstanceUID = new_series
    if "InstanceNumber" not in ds or str(ds.InstanceNumber) == str(source.get("InstanceNumber", "")):
        ds.InstanceNumber = str(number)
    if "ImageType" not in ds or not ds.ImageType:
        ds.ImageType = list(source.get("ImageType") or ["DERIVED", "PRIMARY"])[:4]
    for keyword in ("ContentDate", "ContentTime", "InstanceCreationDate", "InstanceCreationTime"):
        if keyword not in ds and keyword in source:
            ds.add(copy.deepcopy(source[keyword]))
    ds.QueryRetrieveView = view
    timestamp = (str(source.get("InstanceCreationDate", "") or source.get("ContentDate", "") or "19700101"),
                 str(source.get("InstanceCreationTime", "") or source.get("ContentTime", "") or "000000"))
    ds.ContributingEquipmentSequence = contributing_equipment([source], CLASSIC_FROM_ENHANCED, timestamp)
    ref = Dataset()
    ref.ReferencedSOPClassUID = source.SOPClassUID
    ref.ReferencedSOPInstanceUID = source_uid
    ref.ReferencedFrameNumber = str(number)
    ds.ConversionSourceAttributesSequence = [ref]


def _classic_terms(ds: Dataset, source: Dataset, classic_class: str, groups: list[Dataset]) -> None:
    """Values in the classic vocabulary (:mod:`qrscp.convert.vocabulary`); Imaged Nucleus, Scan Options,
    Corrected Image and an MR Scanning Sequence the frame lacks are derived from their enhanced counterparts
    (Scanning Sequence from Echo Pulse Sequence, Inversion Recovery and Echo Planar Pulse Sequence)."""
    apply_classic_vocabulary(ds, groups)
    apply_classic_derivations(ds, source, classic_class, groups)
    if classic_class == sop.MR_IMAGE_STORAGE and not ds.get("ScanningSequence") and source.get("EchoPulseSequence"):
        ds.ScanningSequence = scanning_sequence(str(source.EchoPulseSequence),
                                                find_enhanced(groups, "InversionRecovery"),
                                                str(source.get("EchoPlanarPulseSequence", "") or ""))


_PALETTE_KEYWORDS = tuple(f"{c}PaletteColorLookupTable{p}" for c in ("Red", "Green", "Blue", "Alpha")
                         for p in ("Descriptor", "Data")) + ("SegmentedRedPaletteColorLookupTableData",
                                                            "SegmentedGreenPaletteColorLookupTableData",
                                                            "SegmentedBluePaletteColorLookupTableData")


def _fill_classic_requirements(ds: Dataset, classic_class: str, is_legacy: bool) -> None:
    """Values a classic IOD requires that an Enhanced image keeps elsewhere or not at all.

    Type 2 attributes are added empty; MR Scanning Sequence is derived from Echo Pulse Sequence and
    Sequence Variant defaults to NONE; a Supplemental Palette Color LUT (not part of classic CT/MR/PET)
    is dropped from grayscale images.
    """
    from pydicom.datadict import dictionary_VR

    from qrscp.convert.iod_tables import TYPE2_MANDATORY

    if not is_legacy and not str(ds.get("PhotometricInterpretation", "")).startswith("PALETTE"):
        for keyword in _PALETTE_KEYWORDS:
            if keyword in ds:
                delattr(ds, keyword)
    if classic_class == sop.MR_IMAGE_STORAGE:
        if not ds.get("ScanningSequence"):
            ds.ScanningSequence = scanning_sequence(str(ds.get("EchoPulseSequence", "") or ""))
        if not ds.get("SequenceVariant"):
            ds.SequenceVariant = "NONE"
        if "RepetitionTime" not in ds:
            ds.RepetitionTime = None
    for keyword in TYPE2_MANDATORY[classic_class]:
        if keyword not in ds:
            ds.add(attrs.empty_element(Tag(keyword), dictionary_VR(keyword)))


def _attach_frame(ds: Dataset, frame, syntax: str) -> None:
    if frame is None:
        return
    value = frame.read()
    if UID(syntax).is_compressed:
        ds.PixelData = encapsulate([b"".join(value)] if isinstance(value, list) else [value])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
    else:
        if len(value) % 2:
            value += b"\x00"
        ds.PixelData = value
        ds["PixelData"].VR = "OW" if int(ds.get("BitsAllocated", 16) or 16) > 8 else "OB"
