"""Rewrite references to converted instances in any object (PS3.4 C.3.5, ZZZA.5, ZZZB.2.2).

The walk is generic: every Item that carries Referenced SOP Instance UID (0008,1155) is a reference
(GSPS Referenced Series / Image, SR content items and evidence, KOS, RT Structure Set Contour Image,
SEG Source Image / Derivation Image, Referenced/Source Image sequences, the Hierarchical SOP Instance
Reference macro...). Its frame numbers (0008,1160) are mapped one by one; a reference to a whole
multi-frame image that became classic images becomes one Item per classic image. Items that group
references under a Series Instance UID (0020,000E) are regrouped when their references moved to
another series. Conversion Source Attributes Sequence (0020,9172) is never rewritten (C.3.5 note 3),
nor are the Unassigned Converted Attributes, which keep original values on purpose.
"""

from __future__ import annotations

import copy

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from qrscp.convert.common import (
    UPDATED_REFERENCES,
    contributing_equipment,
    derived_timestamp,
    file_meta_for,
)
from qrscp.convert.model import (
    REWRITTEN,
    Conversion,
    FrameSource,
    ReferenceMapping,
    ReferenceTarget,
)
from qrscp.convert.uids import UIDSource
from qrscp.uids import View

_NOT_REWRITTEN = frozenset(Tag(k) for k in (
    "ConversionSourceAttributesSequence",
    "UnassignedSharedConvertedAttributesSequence",
    "UnassignedPerFrameConvertedAttributesSequence",
))
_REFERENCED_SOP_INSTANCE_UID = Tag("ReferencedSOPInstanceUID")
_SERIES_INSTANCE_UID = Tag("SeriesInstanceUID")


def _frames_of(item: Dataset) -> list[int | None]:
    value = item.get("ReferencedFrameNumber")
    if value is None or value == "" or (isinstance(value, (list, MultiValue)) and len(value) == 0):
        return [None]
    values = value if isinstance(value, (list, MultiValue)) else [value]
    frames: list[int | None] = []
    for v in values:
        try:
            frames.append(int(v))
        except (TypeError, ValueError):
            return [None]
    return frames


def _rewrite_reference_item(item: Dataset, mapping: ReferenceMapping) -> list[tuple[Dataset, str | None]] | None:
    """New Items (with their target series) replacing `item`, or None when `item` is not mapped."""
    uid = str(item.get("ReferencedSOPInstanceUID", ""))
    if uid not in mapping:
        return None
    frames = _frames_of(item)
    targets: list[ReferenceTarget] = []
    for frame in frames:
        found = mapping.targets(uid, frame)
        if not found:
            return None  # partially unknown: leave the reference as it is
        targets.extend(found)
    by_instance: dict[str, list[ReferenceTarget]] = {}
    for target in targets:
        by_instance.setdefault(target.sop_instance_uid, []).append(target)
    new_items = []
    for new_uid, group in by_instance.items():
        new_item = copy.deepcopy(item)
        new_item.ReferencedSOPClassUID = group[0].sop_class_uid
        new_item.ReferencedSOPInstanceUID = new_uid
        numbers = sorted({t.frame for t in group if t.frame is not None})
        if numbers:
            new_item.ReferencedFrameNumber = [str(n) for n in numbers] if len(numbers) > 1 else str(numbers[0])
        elif "ReferencedFrameNumber" in new_item:
            del new_item.ReferencedFrameNumber
        new_items.append((new_item, group[0].series_instance_uid))
    return new_items


def _walk(ds: Dataset, mapping: ReferenceMapping) -> tuple[bool, set[str]]:
    """Rewrite references below `ds` in place; return (changed, series UIDs of the references below)."""
    changed = False
    series_below: set[str] = set()
    for elem in list(ds):
        if elem.VR != "SQ" or elem.tag in _NOT_REWRITTEN:
            continue
        new_items = Sequence()
        for item in elem.value:
            replacement = _rewrite_reference_item(item, mapping)
            if replacement is not None:
                changed = True
                for new_item, series in replacement:
                    _walk(new_item, mapping)
                    new_items.append(new_item)
                    if series:
                        series_below.add(series)
                continue
            item_changed, item_series = _walk(item, mapping)
            changed |= item_changed
            if item_changed and _SERIES_INSTANCE_UID in item and item_series:
                new_items.extend(_regroup_series(item, mapping))
            elif item_changed and _is_split_content_item(item):
                new_items.extend(_split_content_item(item))
            else:
                new_items.append(item)
            series_below |= item_series
        elem.value = new_items
    return changed, series_below


_SINGLE_REFERENCE_VALUE_TYPES = ("IMAGE", "COMPOSITE", "WAVEFORM")


def _is_split_content_item(item: Dataset) -> bool:
    """An SR content item that may hold one reference only but now holds several (a reference to a whole
    multi-frame image that became several classic images)."""
    return (str(item.get("ValueType", "")) in _SINGLE_REFERENCE_VALUE_TYPES
            and len(item.get("ReferencedSOPSequence") or []) > 1)


def _split_content_item(item: Dataset) -> list[Dataset]:
    """One content item per referenced instance, in reference order."""
    copies = []
    for reference in item.ReferencedSOPSequence:
        single = copy.deepcopy(item)
        single.ReferencedSOPSequence = Sequence([copy.deepcopy(reference)])
        copies.append(single)
    return copies


def _regroup_series(item: Dataset, mapping: ReferenceMapping) -> list[Dataset]:
    """Split a series-level Item whose references now live in several series, one Item per series."""
    series_of: dict[str, str] = {}
    for key in mapping:
        for target in mapping.targets(*key):
            series_of[target.sop_instance_uid] = target.series_instance_uid
    original_series = str(item.SeriesInstanceUID)
    buckets: dict[str, Dataset] = {}
    order: list[str] = []
    for elem in item:
        if elem.VR != "SQ":
            continue
        if not any(_REFERENCED_SOP_INSTANCE_UID in i for i in elem.value):
            continue
        for ref in elem.value:
            series = series_of.get(str(ref.get("ReferencedSOPInstanceUID", "")), original_series)
            if series not in buckets:
                bucket = copy.deepcopy(item)
                bucket.SeriesInstanceUID = series
                for inner in bucket:
                    if inner.VR == "SQ" and any(_REFERENCED_SOP_INSTANCE_UID in i for i in inner.value):
                        inner.value = Sequence()
                buckets[series] = bucket
                order.append(series)
            buckets[series][elem.tag].value.append(copy.deepcopy(ref))
    return [buckets[s] for s in order] or [item]


def rewrite_references(dataset: Dataset, mapping: ReferenceMapping, *, uids: UIDSource,
                       view: View | str) -> Dataset | None:
    """Return a copy of `dataset` whose references follow `mapping`, or None if nothing was referenced.

    The copy is a new instance (C.3.5 "conversion of other instances"): same SOP Class, new SOP Instance
    UID and new series (both derived from the original ones), a Contributing Equipment item "Updated UID
    references during Legacy Enhanced Classic conversion", Conversion Source Attributes naming the
    original, and Query/Retrieve View.

    Parameters
    ----------
    dataset : Dataset
        Any composite instance (GSPS, SR, KOS, RT Structure Set, SEG, an image with references...).
    mapping : ReferenceMapping
        Old reference -> new targets, for every instance converted or rewritten in the patient.
    uids : UIDSource
        Source of the new UIDs.
    view : View or str
        "CLASSIC" or "ENHANCED".
    """
    view_value = getattr(view, "value", view)
    rewritten = copy.deepcopy(dataset)
    changed, _ = _walk(rewritten, mapping)
    if not changed:
        return None
    original_uid = str(dataset.SOPInstanceUID)
    rewritten.SOPInstanceUID = uids.derive(view_value, "rewritten", [original_uid])
    rewritten.SeriesInstanceUID = uids.derive(view_value, "rewritten-series", [str(dataset.get("SeriesInstanceUID", ""))])
    rewritten.QueryRetrieveView = view_value
    rewritten.ContributingEquipmentSequence = contributing_equipment(
        [dataset], UPDATED_REFERENCES, derived_timestamp([dataset]))
    source = Dataset()
    source.ReferencedSOPClassUID = dataset.SOPClassUID
    source.ReferencedSOPInstanceUID = original_uid
    rewritten.ConversionSourceAttributesSequence = [source]
    syntax = "1.2.840.10008.1.2.1"
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        syntax = str(meta.TransferSyntaxUID)
    rewritten.file_meta = file_meta_for(rewritten, syntax)
    return rewritten


def conversion_for_rewritten(original: Dataset, rewritten: Dataset) -> Conversion:
    """The Conversion (kind REWRITTEN) of a rewritten instance, to add to a ReferenceMapping so that
    instances referencing `original` (e.g. a KOS pointing at a GSPS) are rewritten in turn."""
    uid = str(original.SOPInstanceUID)
    return Conversion(
        dataset=rewritten,
        sources=[FrameSource(uid, None, str(original.SOPClassUID))],
        frame_map={(uid, None): (str(rewritten.SOPInstanceUID), None)},
        kind=REWRITTEN,
    )
