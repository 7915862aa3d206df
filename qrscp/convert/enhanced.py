"""Classic CT/MR/PET images -> Legacy Converted Enhanced CT/MR/PET (PS3.4 C.3.5, PS3.3 A.N1-A.N3).

Placement of each source attribute (decided by comparing values across the frames, C.7.6.16.2.FG):

1. attributes the IOD places in a functional group (pixel spacing, position, orientation, window,
   rescale, references, anatomy, irradiation event) go to that group: Shared when every frame has the
   same item, Per-Frame otherwise;
2. attributes of both IODs' top-level modules whose value is the same in every frame stay top level,
   where the conditions of the new place allow (:mod:`qrscp.convert.conditions`);
3. every other attribute, private ones with their creators, goes to the Unassigned Shared item when all
   frames agree, else to each frame's Unassigned Per-Frame item (:mod:`qrscp.convert.placement`);
4. attributes whose top-level value the conversion replaces (Instance Number, Series Instance UID,
   Series Date/Time, Image Type, Contributing Equipment, ...: :mod:`qrscp.convert.generated`), or that a
   functional group cannot carry verbatim, keep their original value in the Unassigned items (notes 3
   and 4 of C.7.6.16.2.FG), so that :func:`qrscp.convert.classic.to_classic` recovers the original
   instances exactly; what a source lacked is recorded as absent (:mod:`qrscp.convert.absence`).

Overlay, Curve, Graphic Annotation and Concatenation attributes are removed; overlays move to a GSPS
(:mod:`qrscp.convert.overlays`). Source values are never validated: invalid ones are carried over unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian

from qrscp import uids as sop
from qrscp.convert import attributes as attrs
from qrscp.convert.common import derived_timestamp, file_meta_for
from qrscp.convert.conditions import nested_macro_items
from qrscp.convert.functional_groups import MACRO_INPUT_TAGS, PER_FRAME_ONLY, build_macro, macro_keyword
from qrscp.convert.generated import add_nested_evidence, hierarchical_references, set_generated
from qrscp.convert.grouping import group_for_enhanced
from qrscp.convert.iod_tables import TOP_LEVEL
from qrscp.convert.model import ENHANCED, Conversion, FrameSource
from qrscp.convert.placement import place_attributes
from qrscp.convert.pixels import (
    FramePixels,
    PixelPlan,
    decoded_frame,
    encapsulated_value,
    frame_length,
    native_value,
    plan_for,
    widen_native_frame,
)
from qrscp.convert.uids import UIDSource
from qrscp.dicom.datasets import element_dict, new_dataset, set_element_dict
from qrscp.uids import View

MODALITY_OF = {sop.CT_IMAGE_STORAGE: "CT", sop.MR_IMAGE_STORAGE: "MR", sop.PET_IMAGE_STORAGE: "PT"}



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
    source_uids = [attrs.text(ds, "SOPInstanceUID") for ds in frames]
    original_series = sorted({attrs.text(ds, "SeriesInstanceUID") for ds in frames})
    new_uid = uids.derive(view, "instance", source_uids)
    little = [(getattr(ds, "original_encoding", None) or (None, None))[1] is True for ds in frames]
    frame_keys = [attrs.value_keys(ds, le) for ds, le in zip(frames, little)]

    # 1. functional groups
    shared_item, per_frame_items, frame_type_items, nested_macros = _functional_groups(frames, frame_keys, modality)

    # 2. top-level values the conversion generates.
    top = new_dataset()
    timestamp = derived_timestamp(frames)
    plan = plan_for([(ds, 0) for ds in frames])
    _clear_embedded_overlays(frames, plan)
    set_generated(top, frames, target_class=target_class, new_uid=new_uid,
                  new_series=uids.derive(view, "series", original_series), instance_number=instance_number,
                  view=view, timestamp=timestamp, plan=plan, frame_types=frame_type_items, locations=locations or {})
    _set_bits_stored(top, frames, plan, target_class)
    if "ReferencedImageSequence" in nested_macros:
        add_nested_evidence(top, frames, locations or {})

    # 3. place every source attribute; top level: what both IODs put there (an attribute the classic IOD
    #    lacks would not come back).
    unassigned_shared, unassigned_per_frame = place_attributes(
        frames, frame_keys, top, shared_item, per_frame_items, TOP_LEVEL[target_class] & TOP_LEVEL[sop_class],
        target_class)
    _attach_unassigned(shared_item, per_frame_items, unassigned_shared, unassigned_per_frame)
    top.SharedFunctionalGroupsSequence = [shared_item]
    top.PerFrameFunctionalGroupsSequence = per_frame_items
    top.file_meta = file_meta_for(top, plan.transfer_syntax)
    if materialize_pixels:
        attach_pixel_data(top, plan)
    return Conversion(
        dataset=top,
        sources=[FrameSource(uid, None, sop_class) for uid in source_uids],
        frame_map={(uid, None): (new_uid, i + 1) for i, uid in enumerate(source_uids)},
        kind=ENHANCED,
        pixel_plan=plan,
    )


def _functional_groups(frames: Sequence[Dataset], frame_keys: list[dict],
                       modality: str) -> tuple[Dataset, list[Dataset], list[Dataset], list[str]]:
    """(Shared item, Per-Frame items, each frame's Frame Type item, macros added for nested content).

    A macro is shared when the attributes it is made of are equal in every frame (then built once),
    else built per frame.
    """
    first, n = frames[0], len(frames)
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

    nested_macros = nested_macro_items(frames, [shared_item, *per_frame_items])
    for keyword in nested_macros:
        for item in per_frame_items:  # per frame: in the Shared item it would call for evidence
            item.add(attrs.empty_element(Tag(keyword), "SQ"))
    return shared_item, per_frame_items, frame_type_items, nested_macros


def _attach_unassigned(shared_item: Dataset, per_frame_items: list[Dataset], unassigned_shared: Dataset,
                       unassigned_per_frame: list[Dataset]) -> None:
    if len(unassigned_shared):
        shared_item.UnassignedSharedConvertedAttributesSequence = [unassigned_shared]
    # The Unassigned Per-Frame macro is mandatory in every frame's item and dicom3tools checks its
    # sequence as Type 2 (the supplement's text says 1C): a frame with nothing of its own (a one-image
    # series, a frame equal to all others) gets the sequence empty rather than absent.
    for item, unassigned in zip(per_frame_items, unassigned_per_frame):
        item.UnassignedPerFrameConvertedAttributesSequence = [unassigned]
    for item in (shared_item, *per_frame_items):
        _sort_elements(item)


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
    the Unassigned items like every replaced attribute. Encapsulated frames, whose bit stream has the
    sources' precision, are decoded first (the output is then Explicit VR Little Endian).
    """
    first = frames[0]
    bits_stored = attrs.unsigned(first, "BitsStored", 0)
    allowed = _ALLOWED_BITS_STORED.get(target_class)
    if allowed is None or bits_stored in allowed or not 0 < bits_stored < 16 \
            or attrs.unsigned(first, "BitsAllocated", 0) != 16:
        for keyword in ("BitsStored", "HighBit"):
            tag = attrs.keyword_tag(keyword)
            if tag in element_dict(first):
                attrs.put(top, attrs.reusable_element(first, tag))
        return
    signed = attrs.unsigned(first, "PixelRepresentation", 0) == 1
    if plan.encapsulated:  # a bit stream keeps its precision: decoded (lossless), then widened
        plan.frames[:] = [FramePixels(ExplicitVRLittleEndian, False, lambda ds=ds: decoded_frame(ds, 0)) for ds in frames]
        plan.transfer_syntax = ExplicitVRLittleEndian
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

