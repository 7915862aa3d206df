"""Classic CT/MR/PET images -> Legacy Converted Enhanced CT/MR/PET (PS3.4 C.3.5, PS3.3 A.N1-A.N3).

Placement of each source attribute (decided by comparing values across the frames, C.7.6.16.2.FG):

1. attributes the IOD places in a functional group (pixel spacing, position, orientation, window,
   rescale, references, anatomy, irradiation event) go to that group: Shared when every frame has the
   same item, Per-Frame otherwise;
2. attributes of the IOD's top-level modules whose value is the same in every frame stay top level;
3. every other attribute, private ones with their creators, goes to the Unassigned Shared item when all
   frames agree, else to each frame's Unassigned Per-Frame item;
4. attributes whose top-level value the conversion replaces (Instance Number, Series Instance UID,
   Series Date/Time, Image Type, Contributing Equipment, ...), or that a functional group cannot carry
   verbatim, keep their original value in the Unassigned items (notes 3 and 4 of C.7.6.16.2.FG), so that
   :func:`qrscp.convert.classic.to_classic` recovers the original instances exactly. An empty element in
   an Unassigned item records that the source lacked the attribute.

Overlay, Curve, Graphic Annotation and Concatenation attributes are removed; overlays move to a GSPS
(:mod:`qrscp.convert.overlays`). Source values are never validated: invalid ones are carried over unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from qrscp import uids as sop
from qrscp.convert import attributes as attrs
from qrscp.convert.common import (
    LEGACY_FROM_CLASSIC,
    contributing_equipment,
    derived_timestamp,
    earliest,
    file_meta_for,
)
from qrscp.dicom.datasets import element_dict, new_dataset, set_element_dict
from qrscp.dicom.tags import shared_tag
from qrscp.convert.functional_groups import (
    CONSUMED_KEYWORDS,
    MACRO_INPUT_TAGS,
    PER_FRAME_ONLY,
    build_macro,
    flattened_keys,
    macro_keyword,
)
from qrscp.convert.grouping import group_for_enhanced
from qrscp.convert.iod_tables import TOP_LEVEL, TYPE2_MANDATORY
from qrscp.convert.model import ENHANCED, Conversion, FrameSource
from qrscp.convert.pixels import (
    FramePixels,
    PixelPlan,
    encapsulated_value,
    frame_length,
    native_value,
    plan_for,
    widen_native_frame,
)
from qrscp.convert.uids import UIDSource
from qrscp.uids import View

MODALITY_OF = {sop.CT_IMAGE_STORAGE: "CT", sop.MR_IMAGE_STORAGE: "MR", sop.PET_IMAGE_STORAGE: "PT"}

#: Top-level attributes whose value the conversion sets (the original goes to the Unassigned items
#: when it differs). SOP Class/Instance UIDs are recorded in the Conversion Source Attributes instead.
GENERATED_KEYWORDS = (
    "SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "InstanceNumber", "SeriesDate", "SeriesTime",
    "ContentDate", "ContentTime", "InstanceCreationDate", "InstanceCreationTime", "ImageType",
    "ContributingEquipmentSequence", "QueryRetrieveView", "NumberOfFrames", "PixelPresentation",
    "VolumetricProperties", "VolumeBasedCalculationTechnique", "ContentQualification", "PresentationLUTShape",
    "BurnedInAnnotation", "LossyImageCompression", "LossyImageCompressionMethod", "LossyImageCompressionRatio",
    "BitsStored", "HighBit", "AcquisitionContextSequence",
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
_NOT_COPIED = frozenset(int(Tag(k)) for k in ("SOPInstanceUID", "SOPClassUID"))


def to_enhanced(
    sources: Sequence[Dataset],
    *,
    uids: UIDSource,
    view: View | str = View.ENHANCED,
    materialize_pixels: bool = True,
    on_error: Callable[[Sequence[Dataset], Exception], None] | None = None,
) -> list[Conversion]:
    """Convert classic CT/MR/PET images to Legacy Converted Enhanced images.

    Parameters
    ----------
    sources : sequence of Dataset
        Any instances; only classic CT/MR/PET Image Storage instances are converted (grouped by
        :func:`qrscp.convert.grouping.group_for_enhanced`), everything else is left alone. Datasets read
        with ``defer_size`` keep pixel data in their files until written.
    uids : UIDSource
        Source of the new UIDs.
    view : View or str
        Value of Query/Retrieve View (0008,0053) in the outputs; also separates the UID name spaces.
    materialize_pixels : bool
        True: each output dataset holds its Pixel Data. False: Pixel Data is left out of the dataset and
        :func:`qrscp.convert.io.write_part10` streams the frames from the sources (low memory).
    on_error : callable, optional
        Called with a group's frames and the exception when that group cannot be converted; the other
        groups are converted all the same. Without it the exception propagates.

    Returns
    -------
    list of Conversion
        One ENHANCED conversion per group, each followed by its OVERLAY_GSPS conversions if the sources
        had overlays; deterministic in content and order whatever the input order.
    """
    from qrscp.convert.overlays import overlay_presentation_states

    view_value = getattr(view, "value", view) or "ENHANCED"
    groups = group_for_enhanced(sources)
    locations = {attrs.text(ds, "SOPInstanceUID"): (attrs.text(ds, "StudyInstanceUID"),
                                                    attrs.text(ds, "SeriesInstanceUID"))
                 for ds in sources if "SOPInstanceUID" in ds}
    numbers: dict[str, int] = {}
    conversions: list[Conversion] = []
    for frames in groups:
        series_key = attrs.text(frames[0], "SeriesInstanceUID")
        numbers[series_key] = numbers.get(series_key, 0) + 1
        try:
            conversion = convert_group(frames, uids=uids, view=view_value, instance_number=numbers[series_key],
                                       locations=locations, materialize_pixels=materialize_pixels)
            gsps = overlay_presentation_states(frames, conversion, uids=uids, view=view_value)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(frames, exc)
            continue
        if gsps:
            _reference_presentation_states(conversion.dataset, gsps)
        conversions.append(conversion)
        conversions.extend(gsps)
    return conversions


def convert_group(
    frames: Sequence[Dataset],
    *,
    uids: UIDSource,
    view: str,
    instance_number: int = 1,
    locations: dict[str, tuple[str, str]] | None = None,
    materialize_pixels: bool = True,
) -> Conversion:
    """Convert one group of classic images, already in frame order, into one enhanced image."""
    first = frames[0]
    sop_class = str(first.SOPClassUID)
    modality = MODALITY_OF[sop_class]
    target_class = sop.CLASSIC_TO_LEGACY_CONVERTED[sop_class]
    top_level_keywords = TOP_LEVEL[target_class]
    n = len(frames)
    source_uids = [attrs.text(ds, "SOPInstanceUID") for ds in frames]
    original_series = sorted({attrs.text(ds, "SeriesInstanceUID") for ds in frames})
    new_uid = uids.derive(view, "instance", source_uids)
    new_series = uids.derive(view, "series", original_series)
    little = [(getattr(ds, "original_encoding", None) or (None, None))[1] is True for ds in frames]
    frame_keys = [attrs.value_keys(ds, le) for ds, le in zip(frames, little)]

    # 1. functional groups: shared when the attributes a macro is made of are equal in every frame
    #    (then built once), else built per frame.
    shared_item, per_frame_items = new_dataset(), [new_dataset() for _ in frames]
    frame_type_items: list[Dataset] = []
    for name, input_tags in MACRO_INPUT_TAGS.items():
        keyword = macro_keyword(name, modality)
        if keyword not in PER_FRAME_ONLY:
            keys = {tuple(fk.get(t) for t in input_tags) for fk in frame_keys}
            if len(keys) == 1:
                elem = build_macro(name, first, modality)
                if elem is not None:
                    shared_item.add(elem)
                    if name == "FrameTypeSequence":
                        frame_type_items = [elem.value[0]] * n
                continue
        for ds, item in zip(frames, per_frame_items):
            elem = build_macro(name, ds, modality)
            if elem is not None:
                attrs.put(item, elem)  # a new item: no Pixel Representation for pydicom to hand down
                if name == "FrameTypeSequence":
                    frame_type_items.append(elem.value[0])

    # 2. top-level values the conversion generates.
    top = new_dataset()
    timestamp = derived_timestamp(frames)
    plan = plan_for([(ds, 0) for ds in frames])
    _clear_embedded_overlays(frames, plan)
    _set_generated(top, frames, modality, target_class, new_uid, new_series, instance_number, view,
                   timestamp, plan, frame_type_items, locations or {})
    _set_bits_stored(top, frames, plan, target_class)

    # 3. place every source attribute.
    all_tags: set[int] = set()
    for ds in frames:
        all_tags.update(map(int, element_dict(ds)))  # plain ints: see attrs.value_keys
    # Attributes the conversion adds although no source has them need an "absent" marker too.
    all_tags.update(map(int, CONSUMED_TAGS | (GENERATED_TAGS - _NOT_COPIED)))
    unassigned_shared = new_dataset()
    unassigned_per_frame = [new_dataset() for _ in frames]
    shared_recovered = flattened_keys([shared_item])
    per_frame_recovered = [flattened_keys([item]) for item in per_frame_items]

    for int_tag in sorted(all_tags):
        tag = shared_tag(int_tag)
        if tag in _NOT_COPIED or attrs.is_removed_for_enhanced(tag):
            continue
        keys = [fk.get(int_tag) for fk in frame_keys]
        if tag in GENERATED_TAGS or tag in CONSUMED_TAGS:
            if tag in GENERATED_TAGS:
                keyword = keyword_for_tag(tag)
                kept = None if keyword in ENHANCED_ONLY_KEYWORDS else attrs.value_key(top, tag)
                recovered = [kept] * n
            else:
                shared_key = shared_recovered.get(int_tag)
                recovered = [flat[int_tag] if int_tag in flat else shared_key for flat in per_frame_recovered]
            if keys == recovered:
                continue
            _place_unassigned(tag, frames, keys, unassigned_shared, unassigned_per_frame, markers=True)
            continue
        keyword = keyword_for_tag(tag)
        shared = len(set(keys)) == 1
        if shared and keyword in top_level_keywords and tag.group % 2 == 0:
            if tag not in element_dict(top):
                attrs.add_moved(top, _first_element(frames, tag))
            continue
        _place_unassigned(tag, frames, keys, unassigned_shared, unassigned_per_frame, markers=False)

    _add_private_creators(frames, unassigned_shared, unassigned_per_frame)
    if len(unassigned_shared):
        shared_item.UnassignedSharedConvertedAttributesSequence = [unassigned_shared]
    # The Unassigned Per-Frame macro is mandatory in every frame's item and dicom3tools checks its
    # sequence as Type 2 (the supplement's text says 1C): a frame with nothing of its own (a one-image
    # series, a frame equal to all others) gets the sequence empty rather than absent.
    for item, unassigned in zip(per_frame_items, unassigned_per_frame):
        item.UnassignedPerFrameConvertedAttributesSequence = [unassigned]

    for keyword in TYPE2_MANDATORY[target_class]:
        if keyword not in top:
            top.add(attrs.empty_element(Tag(keyword), dictionary_VR(keyword)))

    for item in (shared_item, *per_frame_items):
        _sort_elements(item)
    top.SharedFunctionalGroupsSequence = [shared_item]
    top.PerFrameFunctionalGroupsSequence = per_frame_items
    top.file_meta = file_meta_for(top, plan.transfer_syntax)
    if materialize_pixels:
        attach_pixel_data(top, plan)
    conversion = Conversion(
        dataset=top,
        sources=[FrameSource(uid, None, sop_class) for uid in source_uids],
        frame_map={(uid, None): (new_uid, i + 1) for i, uid in enumerate(source_uids)},
        kind=ENHANCED,
        pixel_plan=plan,
    )
    return conversion


def _sort_elements(item: Dataset) -> None:
    """Keep the elements of `item` in tag order (``Dataset.keys()`` gives them in insertion order)."""
    elements = element_dict(item)
    # int keys: BaseTag's comparisons are Python methods
    set_element_dict(item, {tag: elements[tag] for tag in sorted(elements, key=int)})


#: Bits Stored that the enhanced image modules allow (PS3.3 C.8.15.2: CT 12 or 16; C.8.22.3: PET 16).
_ALLOWED_BITS_STORED = {sop.LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE: (12, 16),
                        sop.LEGACY_CONVERTED_ENHANCED_PET_IMAGE_STORAGE: (16,)}


def _set_bits_stored(top: Dataset, frames: Sequence[Dataset], plan: PixelPlan, target_class: str) -> None:
    """Bits Stored and High Bit of the group (one Image Pixel module: equal in every frame), or 16 and 15
    when the target IOD does not allow the sources' value (e.g. a CT's 14).

    C.3.5 allows a larger Bits Stored with the unused high bits masked: native frames are rewritten so
    that every pixel keeps its value (masked, or sign-extended when signed); the original values go to
    the Unassigned items like every replaced attribute. Encapsulated frames keep their bit stream, whose
    precision is the sources' Bits Stored, and so keep the sources' value.
    """
    first = frames[0]
    bits_stored = attrs.unsigned(first, "BitsStored", 0)
    allowed = _ALLOWED_BITS_STORED.get(target_class)
    if allowed is None or bits_stored in allowed or not 0 < bits_stored < 16 or plan.encapsulated \
            or attrs.unsigned(first, "BitsAllocated", 0) != 16:
        for keyword in ("BitsStored", "HighBit"):
            tag = attrs.keyword_tag(keyword)
            if tag in element_dict(first):
                attrs.put(top, attrs.reusable_element(first, tag))
        return
    signed = attrs.unsigned(first, "PixelRepresentation", 0) == 1
    for index, frame in enumerate(plan.frames):
        plan.frames[index] = FramePixels(
            frame.transfer_syntax, False,
            lambda frame=frame: widen_native_frame(bytes(frame.read()), bits_stored, signed))
    top.BitsStored, top.HighBit = 16, 15


def _clear_embedded_overlays(frames: Sequence[Dataset], plan: PixelPlan) -> None:
    """Overlays in unused high bits move to the presentation state: clear those bits (C.3.5)."""
    from qrscp.convert.overlays import embedded_overlay_bits, zero_embedded_bits
    from qrscp.convert.pixels import FramePixels

    if plan.encapsulated:
        return
    for index, ds in enumerate(frames):
        positions = list(embedded_overlay_bits(ds).values())
        if positions:
            frame = plan.frames[index]
            plan.frames[index] = FramePixels(
                frame.transfer_syntax, False,
                lambda frame=frame, ds=ds, positions=positions: zero_embedded_bits(ds, bytes(frame.read()), positions))


def _first_element(frames: Sequence[Dataset], tag: BaseTag) -> DataElement:
    for ds in frames:
        if tag in element_dict(ds):
            return attrs.reusable_element(ds, tag)
    raise KeyError(tag)


def _place_unassigned(tag: BaseTag, frames: Sequence[Dataset], keys: list[bytes | None], shared: Dataset,
                      per_frame: list[Dataset], *, markers: bool) -> None:
    """Put the original element in the Unassigned Shared item when all frames agree, else per frame.

    With `markers`, a frame lacking the attribute gets an empty element (the attribute was replaced or
    added by the conversion, so its absence must be recorded to be restored).
    """
    if len(set(keys)) == 1:
        if keys[0] is None:
            vr = _vr_of(frames, tag)
            shared.add(attrs.empty_element(tag, vr))
        else:
            attrs.add_moved(shared, _first_element(frames, tag))
        return
    vr = _vr_of(frames, tag)
    for ds, item in zip(frames, per_frame):
        if tag in element_dict(ds):
            attrs.add_moved(item, attrs.reusable_element(ds, tag))
        elif markers:
            attrs.add_moved(item, attrs.empty_element(tag, vr))


def _vr_of(frames: Sequence[Dataset], tag: BaseTag) -> str:
    for ds in frames:
        if tag in ds:
            return ds[tag].VR
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _add_private_creators(frames: Sequence[Dataset], shared: Dataset, per_frame: list[Dataset]) -> None:
    """Each Unassigned item carries the Private Creator of every private element in it (C.7.6.16.2.FG)."""
    for ds, item in [(frames[0], shared), *zip(frames, per_frame)]:
        elements = element_dict(item)
        creators = {tag & 0xFFFF0000 | (tag & 0xFF00) >> 8 for tag in elements
                    if tag >> 16 & 1 and tag & 0xFFFF >= 0x1000}
        for creator in sorted(creators):
            creator_tag = shared_tag(creator)
            if creator_tag not in elements and creator_tag in element_dict(ds):
                attrs.put(item, attrs.reusable_element(ds, creator_tag))


def _combined(values: list[str]) -> str:
    distinct = sorted(set(values))
    return distinct[0] if len(distinct) == 1 else "MIXED"


def _set_generated(top: Dataset, frames: Sequence[Dataset], modality: str, target_class: str, new_uid: str,
                   new_series: str, instance_number: int, view: str, timestamp: tuple[str, str],
                   plan: PixelPlan, frame_types: list[Dataset],
                   locations: dict[str, tuple[str, str]]) -> None:
    first = frames[0]
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
    lossy = [attrs.text(ds, "LossyImageCompression") for ds in frames]
    lossy_syntax = plan.transfer_syntax in _LOSSY_METHODS
    top.LossyImageCompression = _shared_value(frames, "LossyImageCompression") or (
        "01" if "01" in lossy or lossy_syntax else "00")
    if top.LossyImageCompression == "01":
        # Type 1C in the enhanced image modules (Type 3 in the classic General Image module): the
        # sources' own value, else the method of the lossy transfer syntax their frames are in.
        method = _shared_value(frames, "LossyImageCompressionMethod") or _lossy_method(plan)
        if method:
            top.LossyImageCompressionMethod = method
        ratio = _shared_value(frames, "LossyImageCompressionRatio") or (
            _compression_ratio(plan, frame_length(first)) if isinstance(method, str) else None)  # one step
        if ratio:
            top.LossyImageCompressionRatio = ratio
    top.AcquisitionContextSequence = (copy.deepcopy(first.AcquisitionContextSequence)
                                      if _shared_value(frames, "AcquisitionContextSequence") else [])
    top.NumberOfFrames = str(len(frames))
    top.ContributingEquipmentSequence = contributing_equipment(frames, LEGACY_FROM_CLASSIC, timestamp)

    for evidence, key in (("ReferencedImageEvidenceSequence", "ReferencedImageSequence"),
                          ("SourceImageEvidenceSequence", "SourceImageSequence")):
        tag = attrs.keyword_tag(key)
        references = [ref for ds in frames if tag in element_dict(ds) for ref in (ds[tag].value or [])]
        if references:
            setattr(top, evidence, hierarchical_references(references, first, locations))


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


def _reference_presentation_states(ds: Dataset, gsps: list[Conversion]) -> None:
    references = [_instance_reference(c.dataset) for c in gsps]
    ds.ReferencedPresentationStateSequence = hierarchical_references(
        references, ds, {c.sop_instance_uid: (str(c.dataset.StudyInstanceUID), c.series_instance_uid) for c in gsps})


def _instance_reference(ds: Dataset) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    return ref


def attach_pixel_data(ds: Dataset, plan: PixelPlan) -> None:
    """Put the frames of `plan` into ds.PixelData (encapsulated or native)."""
    if plan.encapsulated:
        value, eot, eot_lengths = encapsulated_value([f.read() for f in plan.frames])
        ds.PixelData = value
        ds["PixelData"].VR = "OB"
        if eot is not None:
            ds.ExtendedOffsetTable = eot
            ds.ExtendedOffsetTableLengths = eot_lengths
    else:
        ds.PixelData = native_value([f.read() for f in plan.frames], frame_length(ds))
        ds["PixelData"].VR = "OW" if int(ds.get("BitsAllocated", 16) or 16) > 8 else "OB"
    ds["PixelData"].is_undefined_length = plan.encapsulated

