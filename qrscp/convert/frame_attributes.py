"""Attributes of a multi-frame image that number or time its frames, made consistent with a subset of them.

Used by frame extraction (PS3.4 Y.3.3, :mod:`qrscp.convert.frames`) on the new instance's top level:

- per-frame vectors (Frame Increment Pointer targets and the known US/XA/NM vectors) keep the kept frames'
  values; RT Dose's Grid Frame Offset Vector too, with Image Position (Patient) moved to the first kept
  plane so that relative and absolute offsets keep their meaning (C.8.8.3.2);
- Frame Delay and Frame Time (Vector) so that each kept frame keeps its time after Content Time;
- Representative Frame Number, Start/Stop Trim, Frame Numbers of Interest and Mask Subtraction items
  renumbered (or removed with their frames).

:func:`frame_times` gives each frame's time for a Time Range request (Y.3.2.1.3).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import pydicom
from pydicom.dataset import Dataset
from pydicom.valuerep import DSfloat

#: Top-level multi-valued attributes with one value per frame (C.7.6.5, C.8.4.8, C.8.5.6, C.8.7.x).
FRAME_VECTORS = (
    "FrameLabelVector", "FramePrimaryAngleVector", "FrameSecondaryAngleVector", "SliceLocationVector",
    "EnergyWindowVector", "DetectorVector", "PhaseVector", "RotationVector", "RRIntervalVector",
    "TimeSlotVector", "SliceVector", "AngularViewVector", "TimeSliceVector",
)
def _subset(values: Sequence, frames: Sequence[int]) -> list:
    return [values[f - 1] for f in frames]


def _multi(ds: Dataset, keyword: str) -> list:
    elem = ds[keyword]
    return list(elem.value) if elem.VM > 1 else [elem.value]


def reduce_frame_vectors(ds: Dataset, frames: Sequence[int], number_of_frames: int) -> None:
    """Per-frame vectors: those named by Frame Increment Pointer and the known ones, one value per frame."""
    keywords = set(FRAME_VECTORS)
    for tag in _multi(ds, "FrameIncrementPointer") if "FrameIncrementPointer" in ds else []:
        keyword = pydicom.datadict.keyword_for_tag(tag)
        if keyword and keyword not in ("FrameTime", "FrameTimeVector", "GridFrameOffsetVector"):
            keywords.add(keyword)
    for keyword in sorted(keywords):
        if keyword in ds and ds[keyword].VM == number_of_frames:
            ds[keyword].value = _subset(_multi(ds, keyword), frames)


def grid_frame_offsets(ds: Dataset, frames: Sequence[int], number_of_frames: int) -> None:
    """RT Dose Grid Frame Offset Vector (C.8.8.3.2) of the kept planes, the origin moved to the first one.

    Image Position (Patient) moves along the normal of the planes to the first kept plane. Relative offsets
    (first value 0) are shifted so that the first is 0 again; absolute offsets (z of each plane) stay,
    and the first equals the new position's z as before.
    """
    if "GridFrameOffsetVector" not in ds or ds["GridFrameOffsetVector"].VM != number_of_frames:
        return
    offsets = [float(v) for v in _multi(ds, "GridFrameOffsetVector")]
    kept = _subset(offsets, frames)
    shift = kept[0] - offsets[0]
    if shift and "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds:
        row = [float(v) for v in ds.ImageOrientationPatient[:3]]
        column = [float(v) for v in ds.ImageOrientationPatient[3:]]
        normal = [row[1] * column[2] - row[2] * column[1], row[2] * column[0] - row[0] * column[2],
                  row[0] * column[1] - row[1] * column[0]]
        ds.ImagePositionPatient = [_ds(float(p) + shift * n) for p, n in zip(ds.ImagePositionPatient, normal)]
    if offsets[0] == 0:
        kept = [value - kept[0] for value in kept]
    ds.GridFrameOffsetVector = [_ds(value) for value in kept]


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


def retime_frames(ds: Dataset, frames: Sequence[int], number_of_frames: int) -> None:
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


def renumber_frame_numbers(ds: Dataset, frames: Sequence[int]) -> None:
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
