"""Frame extraction (PS3.4 Y.3.3): a new instance made of some frames of a stored multi-frame image.

:func:`extract_frames` is a pure function of the stored source file, the request's Frame Range Key and the
UID source: it writes a new Part 10 file and returns what it wrote. The new instance has the source's SOP
Class, Patient/Study/Series, a new SOP Instance UID derived from the secret, the source UID, the request
and the normalised Frame List (same request, same source: same UID and same bytes, in any process), and:

- the frames in source order: native frames sliced as stored, encapsulated frames copied as their
  fragments with a new Basic Offset Table (:mod:`qrscp.convert.frame_pixels`), never decoded;
- Number of Frames, the Per-Frame Functional Groups of the kept frames, their Dimension Index Values,
  In-Stack Position Numbers and Temporal Position Indices renumbered densely from 1 (order kept);
- per-frame vectors (Frame Increment Pointer targets, US/XA/NM vectors) reduced to the kept frames, Frame
  Time Vector and Frame Delay recomputed so each kept frame keeps its time; a Frame Time that no longer
  describes evenly spaced frames becomes a Frame Time Vector; Start/Stop Trim, Representative Frame
  Number, Frame Numbers of Interest and the Mask Subtraction items' Mask Frame Numbers and Applicable
  Frame Range renumbered (dropped when their frames are gone);
- the Frame Extraction Sequence with a new item from the request (appended to the source's items),
  a Contributing Equipment item (109105, DCM, "Frame Extracting Equipment");
- no Concatenation attributes, no Pixel Data Provider URL, no Extended Offset Table, and no private
  attributes (Y.3.3 note: private attributes of unknown significance are not copied).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass

import pydicom
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID
from pydicom.valuerep import DSfloat

from qrscp import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from qrscp.dicom.raw_header import keep_items
from qrscp.convert.frame_lists import FrameRequest, frame_list
from qrscp.convert.frame_pixels import FrameSource, open_frames, write_pixel_data
from qrscp.convert.functional_groups import code_item
from qrscp.convert.uids import UIDSource
from qrscp.uids import FRAME_EXTRACTING_EQUIPMENT

#: Name space of extracted instances' UIDs (``UIDSource.derive(view, ...)``): the same in every view.
EXTRACTION_UID_SPACE = "FRAME"
#: Contribution Description of the equipment item.
FRAME_EXTRACTION_DESCRIPTION = "Frames extracted by a FRAME level retrieve"
#: Attributes a new instance never carries (Y.3.3: Concatenation, Pixel Data Provider URL; offset tables
#: of the source's fragments; trailing padding).
REMOVED_KEYWORDS = (
    "ConcatenationUID", "InConcatenationNumber", "InConcatenationTotalNumber", "ConcatenationFrameOffsetNumber",
    "SOPInstanceUIDOfConcatenationSource", "PixelDataProviderURL", "ExtendedOffsetTable",
    "ExtendedOffsetTableLengths", "DataSetTrailingPadding",
)
#: Top-level multi-valued attributes with one value per frame (C.7.6.5, C.8.4.8, C.8.5.6, C.8.7.x).
FRAME_VECTORS = (
    "FrameLabelVector", "FramePrimaryAngleVector", "FrameSecondaryAngleVector", "SliceLocationVector",
    "EnergyWindowVector", "DetectorVector", "PhaseVector", "RotationVector", "RRIntervalVector",
    "TimeSlotVector", "SliceVector", "AngularViewVector", "TimeSliceVector",
)
_FRAME_CONTENT_ORDINALS = ("TemporalPositionIndex",)
PER_FRAME_FUNCTIONAL_GROUPS = 0x52009230


@dataclass(frozen=True)
class ExtractedInstance:
    """What :func:`extract_frames` wrote."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    source_sop_instance_uid: str
    frames: tuple[int, ...]
    path: str


def extracted_uid(uids: UIDSource, source_uid: str, request: FrameRequest, frames: Sequence[int]) -> str:
    """SOP Instance UID of the instance made of `frames` of `source_uid` for `request`."""
    return uids.derive(EXTRACTION_UID_SPACE, "frames", [
        f"source={source_uid}", f"request={request.label()}", "frames=" + ",".join(map(str, frames)),
    ])


def plan_extraction(
    path: str | os.PathLike, request: FrameRequest, uids: UIDSource
) -> tuple[FrameSource, tuple[int, ...], str]:
    """Open the source, resolve the Frame List and derive the new UID (nothing written).

    Raises
    ------
    qrscp.convert.frame_lists.FrameRequestError
        The instance is not multi-frame, its frames cannot be located, or the request is invalid for it.
    """
    source = open_frames(path)
    header = source.header
    number_of_frames = int(header.NumberOfFrames)
    times = frame_times(header, number_of_frames) if request.key == "TimeRange" else None
    frames = frame_list(request, number_of_frames, times)
    return source, frames, extracted_uid(uids, str(header.SOPInstanceUID), request, frames)


def extract_frames(
    path: str | os.PathLike, request: FrameRequest, uids: UIDSource, out_path: str | os.PathLike
) -> ExtractedInstance:
    """Write the instance made of the requested frames of the stored file `path` to `out_path`."""
    source, frames, new_uid = plan_extraction(path, request, uids)
    return write_extraction(source, frames, request, new_uid, out_path)


def write_extraction(source: FrameSource, frames: tuple[int, ...], request: FrameRequest, new_uid: str,
                     out_path: str | os.PathLike) -> ExtractedInstance:
    """Build the new header from `source` and write header and frames to `out_path`."""
    header = extraction_header(source.header, frames, request, new_uid, source.transfer_syntax_uid)
    syntax = UID(source.transfer_syntax_uid)
    with open(out_path, "wb") as out:
        pydicom.dcmwrite(out, header, enforce_file_format=True)
        write_pixel_data(out, source, frames, implicit_vr=syntax.is_implicit_VR)
    return ExtractedInstance(str(header.SOPClassUID), new_uid, str(syntax),
                             str(header.FrameExtractionSequence[-1].MultiFrameSourceSOPInstanceUID), frames,
                             os.fspath(out_path))


def extraction_header(source: Dataset, frames: tuple[int, ...], request: FrameRequest, new_uid: str,
                      transfer_syntax_uid: str) -> Dataset:
    """Return the new instance's data set without pixel data (`source` is consumed: items are moved)."""
    number_of_frames = int(source.NumberOfFrames)
    source_uid = str(source.SOPInstanceUID)  # the elements below are moved, then changed
    cut = keep_items(source, PER_FRAME_FUNCTIONAL_GROUPS, list(frames))  # parse only the kept items
    ds = Dataset()
    for tag in source.keys():  # raw elements are moved as they are (written back without decoding)
        if tag.is_private or keyword_for_tag(tag) in REMOVED_KEYWORDS:
            continue
        ds[tag] = source.get_item(tag)
    ds.SOPInstanceUID = new_uid
    ds.NumberOfFrames = len(frames)
    _per_frame_groups(ds, frames, cut)
    _frame_vectors(ds, frames, number_of_frames)
    _frame_timing(ds, frames, number_of_frames)
    _frame_numbers(ds, frames)
    _frame_extraction(ds, source_uid, request)
    _contributing_equipment(ds)
    ds.remove_private_tags()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = new_uid
    meta.TransferSyntaxUID = transfer_syntax_uid
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.file_meta = meta
    syntax = UID(transfer_syntax_uid)
    ds.set_original_encoding(syntax.is_implicit_VR, True, source.get("SpecificCharacterSet"))
    return ds


def _per_frame_groups(ds: Dataset, frames: Sequence[int], cut: bool) -> None:
    """Per-Frame Functional Groups of the kept frames (already `cut` down by keep_items, or cut here)."""
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return
    items = list(ds.PerFrameFunctionalGroupsSequence)
    kept = items if cut else [items[f - 1] for f in frames if f <= len(items)]
    contents = [item.FrameContentSequence[0] for item in kept
                if "FrameContentSequence" in item and item.FrameContentSequence]
    _renumber_dimension_indices(contents)
    _renumber(contents, "InStackPositionNumber", group=lambda c: str(c.get("StackID", "")))
    for keyword in _FRAME_CONTENT_ORDINALS:
        _renumber(contents, keyword)
    ds.PerFrameFunctionalGroupsSequence = kept


def _dense(values: Sequence[int]) -> dict[int, int]:
    return {value: rank for rank, value in enumerate(sorted(set(values)), start=1)}


def _renumber(contents: Sequence[Dataset], keyword: str, group=lambda c: "") -> None:
    """Renumber an ordinal (1-based) attribute of the kept frames densely from 1, per group, order kept."""
    present = [c for c in contents if c.get(keyword) is not None]
    by_group: dict[str, list[Dataset]] = {}
    for content in present:
        by_group.setdefault(group(content), []).append(content)
    for members in by_group.values():
        ranks = _dense([int(c[keyword].value) for c in members])
        for content in members:
            content[keyword].value = ranks[int(content[keyword].value)]


def _renumber_dimension_indices(contents: Sequence[Dataset]) -> None:
    """Dimension Index Values: each dimension's kept index values renumbered densely from 1."""
    vectors = [c for c in contents if c.get("DimensionIndexValues") is not None]
    if not vectors:
        return
    rows = [list(c.DimensionIndexValues) if c["DimensionIndexValues"].VM > 1 else [c.DimensionIndexValues]
            for c in vectors]
    width = max(len(row) for row in rows)
    ranks = [_dense([row[i] for row in rows if len(row) > i]) for i in range(width)]
    for content, row in zip(vectors, rows):
        content.DimensionIndexValues = [ranks[i][value] for i, value in enumerate(row)]


def _subset(values: Sequence, frames: Sequence[int]) -> list:
    return [values[f - 1] for f in frames]


def _multi(ds: Dataset, keyword: str) -> list:
    elem = ds[keyword]
    return list(elem.value) if elem.VM > 1 else [elem.value]


def _frame_vectors(ds: Dataset, frames: Sequence[int], number_of_frames: int) -> None:
    """Per-frame vectors: those named by Frame Increment Pointer and the known ones, one value per frame."""
    keywords = set(FRAME_VECTORS)
    for tag in _multi(ds, "FrameIncrementPointer") if "FrameIncrementPointer" in ds else []:
        keyword = pydicom.datadict.keyword_for_tag(tag)
        if keyword and keyword not in ("FrameTime", "FrameTimeVector"):
            keywords.add(keyword)
    for keyword in sorted(keywords):
        if keyword in ds and ds[keyword].VM == number_of_frames:
            ds[keyword].value = _subset(_multi(ds, keyword), frames)


def frame_times(ds: Dataset, number_of_frames: int) -> list[float] | None:
    """Time of each frame in seconds relative to Content Time (PS3.4 Y.3.2.1.3); None without frame times.

    From Frame Time Vector or Frame Time (after Frame Delay), else from each frame's Frame Reference
    DateTime (Frame Content Sequence) relative to Content Date and Time (or to the first frame).
    """
    offsets = _cine_offsets_ms(ds, number_of_frames)
    if offsets is not None:
        return [value / 1000 for value in offsets]
    items = ds.get("PerFrameFunctionalGroupsSequence") or []
    stamps = []
    for item in items:
        content = item.get("FrameContentSequence")
        stamp = _datetime(content[0].get("FrameReferenceDateTime")) if content else None
        if stamp is None:
            return None
        stamps.append(stamp)
    if not stamps or len(stamps) != number_of_frames:
        return None
    origin = _datetime(f"{ds.get('ContentDate', '')}{ds.get('ContentTime', '')}") or stamps[0]
    if origin.tzinfo is None and stamps[0].tzinfo is not None:
        origin = origin.replace(tzinfo=stamps[0].tzinfo)
    return [(stamp - origin).total_seconds() for stamp in stamps]


def _datetime(value) -> datetime.datetime | None:
    text = str(value or "").strip()
    if len(text) < 8:
        return None
    try:
        return pydicom.valuerep.DT(text)
    except (ValueError, TypeError):
        return None


def _cine_offsets_ms(ds: Dataset, number_of_frames: int) -> list[float] | None:
    """Milliseconds from Content Time to each frame from Frame Delay + Frame Time (Vector), or None."""
    delay = float(ds.get("FrameDelay", 0) or 0)
    if "FrameTimeVector" in ds and ds["FrameTimeVector"].VM == number_of_frames:
        total, offsets = delay, []
        for increment in _multi(ds, "FrameTimeVector"):
            total += float(increment)
            offsets.append(total)
        return offsets
    frame_time = ds.get("FrameTime")
    if frame_time not in (None, "") and float(frame_time) > 0:
        return [delay + i * float(frame_time) for i in range(number_of_frames)]
    return None


def _ds(value: float) -> DSfloat:
    return DSfloat(round(value, 6), auto_format=True)


def _frame_timing(ds: Dataset, frames: Sequence[int], number_of_frames: int) -> None:
    """Frame Time (Vector) and Frame Delay such that every kept frame keeps its time from Content Time."""
    offsets = _cine_offsets_ms(ds, number_of_frames)
    if offsets is None:
        return
    kept = _subset(offsets, frames)
    steps = [b - a for a, b in zip(kept, kept[1:])]
    first_shift = kept[0] - offsets[0]
    if first_shift or "FrameDelay" in ds:
        ds.FrameDelay = _ds(float(ds.get("FrameDelay", 0) or 0) + first_shift)
    evenly = not steps or all(abs(step - steps[0]) < 1e-6 for step in steps)
    if "FrameTimeVector" in ds or not evenly:
        if "FrameTime" in ds and not evenly:
            del ds.FrameTime
            pointers = _multi(ds, "FrameIncrementPointer") if "FrameIncrementPointer" in ds else []
            ds.FrameIncrementPointer = [0x00181065 if tag == 0x00181063 else tag for tag in pointers] or 0x00181065
        ds.FrameTimeVector = [_ds(0)] + [_ds(step) for step in steps]
    elif steps:
        ds.FrameTime = _ds(steps[0])


def _frame_numbers(ds: Dataset, frames: Sequence[int]) -> None:
    """Top-level attributes holding frame numbers of this instance, renumbered to the new frames."""
    new = {old: index for index, old in enumerate(frames, start=1)}
    if "RepresentativeFrameNumber" in ds:
        value = new.get(int(ds.RepresentativeFrameNumber or 0))
        if value is None:
            del ds.RepresentativeFrameNumber
        else:
            ds.RepresentativeFrameNumber = value
    if "StartTrim" in ds or "StopTrim" in ds:
        start = int(ds.get("StartTrim", 1) or 1)
        stop = int(ds.get("StopTrim", frames[-1]) or frames[-1])
        inside = [new[f] for f in frames if start <= f <= stop]
        for keyword in ("StartTrim", "StopTrim"):
            if keyword in ds:
                del ds[keyword]
        if inside:
            ds.StartTrim, ds.StopTrim = inside[0], inside[-1]
    if "FrameNumbersOfInterest" in ds:
        numbers = _multi(ds, "FrameNumbersOfInterest")
        parallel = [k for k in ("FrameOfInterestDescription", "FrameOfInterestType")
                    if k in ds and ds[k].VM == len(numbers)]
        keep = [i for i, number in enumerate(numbers) if int(number) in new]
        for keyword in parallel:
            values = _multi(ds, keyword)
            ds[keyword].value = [values[i] for i in keep]
        ds.FrameNumbersOfInterest = [new[int(numbers[i])] for i in keep]
        if not keep:
            for keyword in ("FrameNumbersOfInterest", *parallel):
                del ds[keyword]
    _mask_subtraction(ds, new)


def _mask_subtraction(ds: Dataset, new: dict[int, int]) -> None:
    """Mask Subtraction Sequence (C.7.6.10): an item whose mask frames are all kept is renumbered (its
    Applicable Frame Range cut to the kept frames), any other item is removed; with no item left, the
    sequence and Recommended Viewing Mode (required with it) go too."""
    if "MaskSubtractionSequence" not in ds:
        return
    kept_items = []
    for item in ds.MaskSubtractionSequence:
        masks = [int(f) for f in _multi(item, "MaskFrameNumbers")] if item.get("MaskFrameNumbers") else []
        if any(f not in new for f in masks):
            continue
        if masks:
            item.MaskFrameNumbers = [new[f] for f in masks]
        if item.get("ApplicableFrameRange"):
            bounds = [int(f) for f in _multi(item, "ApplicableFrameRange")]
            ranges = []
            for start, stop in zip(bounds[0::2], bounds[1::2]):
                inside = [index for old, index in new.items() if start <= old <= stop]
                if inside:
                    ranges += [min(inside), max(inside)]
            if not ranges:
                continue
            item.ApplicableFrameRange = ranges
        kept_items.append(item)
    if kept_items:
        ds.MaskSubtractionSequence = kept_items
    else:
        del ds.MaskSubtractionSequence
        if "RecommendedViewingMode" in ds:
            del ds.RecommendedViewingMode


def _frame_extraction(ds: Dataset, source_uid: str, request: FrameRequest) -> None:
    item = Dataset()
    item.MultiFrameSourceSOPInstanceUID = source_uid
    vr = "FD" if request.key == "TimeRange" else "UL"
    item[request.key] = pydicom.DataElement(pydicom.datadict.tag_for_keyword(request.key), vr, list(request.values))
    items = list(ds.get("FrameExtractionSequence") or [])
    ds.FrameExtractionSequence = [*items, item]


def _contributing_equipment(ds: Dataset) -> None:
    item = Dataset()
    item.Manufacturer = "qrscp"
    item.ManufacturerModelName = "qrscp frame extraction"
    item.ContributionDescription = FRAME_EXTRACTION_DESCRIPTION
    item.PurposeOfReferenceCodeSequence = [code_item(*FRAME_EXTRACTING_EQUIPMENT)]
    items = list(ds.get("ContributingEquipmentSequence") or [])
    ds.ContributingEquipmentSequence = [*items, item]
