"""Which classic images become one Legacy Converted Enhanced image, and in which frame order.

Grouping rule: images are converted together when they share Study, Series, SOP Class (hence modality),
Frame of Reference and every Image Pixel attribute that one Image Pixel module must hold for all frames
(Rows, Columns, Samples per Pixel, Photometric Interpretation, Bits Allocated/Stored, High Bit, Pixel
Representation, Planar Configuration). Nothing else splits a series: orientation, spacing, window,
rescale, image type, private values... vary per frame in the functional groups. Transfer syntax does not
split either (mixed syntaxes are decoded, see :mod:`qrscp.convert.pixels`).

Frame order: ascending Instance Number (numeric; missing or invalid last), then position along the
normal of the image plane, then SOP Instance UID, so that any input order gives the same frames.
Duplicate SOP Instance UIDs are converted once.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.dataset import Dataset

from qrscp.dicom.datasets import element_dict
from qrscp.dicom.tags import keyword_tag
from qrscp.dicom.values import number_of_frames, text, value_key
from qrscp.uids import CLASSIC_TO_LEGACY_CONVERTED

GROUP_KEYWORDS = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPClassUID",
    "FrameOfReferenceUID",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "PlanarConfiguration",
)


def is_convertible_classic(ds: Dataset) -> bool:
    """True for CT/MR/PET Image Storage instances with pixel data (the classic images C.3.5 converts)."""
    return classic_refusal(ds) is None


def classic_refusal(ds: Dataset) -> str | None:
    """Why `ds` is not a classic image to convert, in words for a report (None: it is one)."""
    sop_class = text(ds, "SOPClassUID")
    if sop_class not in CLASSIC_TO_LEGACY_CONVERTED:
        return f"{_class_name(sop_class)} is not a classic CT/MR/PET image"
    if _SOP_INSTANCE_UID not in element_dict(ds):
        return f"{_class_name(sop_class)} without SOP Instance UID"
    if _PIXEL_DATA not in element_dict(ds):
        return f"{_class_name(sop_class)} without Pixel Data"
    frames = number_of_frames(ds)
    if frames != 1:
        shown = frames if frames is not None else "unreadable"
        return f"{_class_name(sop_class)} with Number of Frames {shown} (classic images have one)"
    return None


def _class_name(sop_class: str) -> str:
    from pydicom.uid import UID

    return UID(sop_class).name if sop_class else "an instance without SOP Class UID"


_SOP_INSTANCE_UID = keyword_tag("SOPInstanceUID")
_PIXEL_DATA = keyword_tag("PixelData")


_GROUP_TAGS = tuple(keyword_tag(keyword) for keyword in GROUP_KEYWORDS)


def group_key(ds: Dataset) -> tuple[bytes, ...]:
    """The values that must be equal within a group, as comparison keys (no value decoding)."""
    little = (getattr(ds, "original_encoding", None) or (None, None))[1] is True
    return tuple(value_key(ds, tag, little) or b"" for tag in _GROUP_TAGS)


def _number(value: object) -> float:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return float("inf")


def _position_along_normal(ds: Dataset) -> float:
    try:
        o = [float(v) for v in text(ds, "ImageOrientationPatient").split("\\")]
        p = [float(v) for v in text(ds, "ImagePositionPatient").split("\\")]
        normal = (o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3])
        return sum(a * b for a, b in zip(normal, p))
    except (AttributeError, TypeError, ValueError, IndexError):
        return 0.0


def frame_order_key(ds: Dataset) -> tuple[float, float, str]:
    return (_number(text(ds, "InstanceNumber")), _position_along_normal(ds), text(ds, "SOPInstanceUID"))


def group_for_enhanced(datasets: Iterable[Dataset]) -> list[list[Dataset]]:
    """Split convertible classic images into groups, each in frame order; groups in a stable order."""
    groups: dict[tuple[str, ...], dict[str, Dataset]] = {}
    for ds in datasets:
        if not is_convertible_classic(ds):
            continue
        members = groups.setdefault(group_key(ds), {})
        uid = text(ds, "SOPInstanceUID")
        if uid not in members or frame_order_key(ds) < frame_order_key(members[uid]):
            members[uid] = ds
    return [sorted(groups[key].values(), key=frame_order_key) for key in sorted(groups)]

