"""Rendered images and thumbnails (PS3.18 10.4.1.1.4, 10.4.1.1.5): one frame as JPEG or PNG.

The frame is decoded (pydicom with the pylibjpeg plugins), the Modality LUT (Rescale Slope/Intercept,
top level or in the Pixel Value Transformation functional group) applied, then the VOI window: the
``window`` query parameter, else the image's own (Window Center/Width at the top level or in the
Frame VOI LUT functional group of the frame), else the frame's minimum to maximum. MONOCHROME1 is
inverted; colour images are sent as they decode.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image
from pydicom import dcmread
from pydicom.multival import MultiValue
from pydicom.pixels import pixel_array

from qrscp.web.errors import WebError
from qrscp.web.media import MediaRange

JPEG, PNG = "image/jpeg", "image/png"
THUMBNAIL_SIZE = 128


def output_type(ranges: list[MediaRange]) -> str:
    """JPEG unless PNG is preferred; 406 when neither is accepted."""
    for r in ranges:
        if r.matches(JPEG):
            return JPEG
        if r.matches(PNG):
            return PNG
    raise WebError(406, "rendered images are offered as image/jpeg or image/png")


def _first(value: Any) -> float | None:
    """The first value of a multi-valued number (Window Center may hold several), as float."""
    if isinstance(value, (list, tuple, MultiValue)):
        value = value[0] if len(value) else None
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _frame_item(ds: Any, sequence: str, index: int) -> Any:
    """The functional group item `sequence` of frame `index` (per-frame first, then shared)."""
    for groups, i in (("PerFrameFunctionalGroupsSequence", index), ("SharedFunctionalGroupsSequence", 0)):
        items = ds.get(groups)
        if items and len(items) > i and sequence in items[i] and items[i][sequence].value:
            return items[i][sequence].value[0]
    return None


def _rescale(ds: Any, index: int) -> tuple[float, float]:
    item = _frame_item(ds, "PixelValueTransformationSequence", index) or ds
    slope = _first(item.get("RescaleSlope")) if "RescaleSlope" in item else None
    intercept = _first(item.get("RescaleIntercept")) if "RescaleIntercept" in item else None
    return (slope if slope is not None else 1.0), (intercept if intercept is not None else 0.0)


def _window(ds: Any, index: int) -> tuple[float, float] | None:
    item = _frame_item(ds, "FrameVOILUTSequence", index) or ds
    center, width = _first(item.get("WindowCenter")), _first(item.get("WindowWidth"))
    if center is None or width is None or width <= 0:
        return None
    return center, width


def parse_window(text: str | None) -> tuple[float, float] | None:
    """``center,width[,function]`` of the ``window`` query parameter."""
    if not text:
        return None
    pieces = text.split(",")
    try:
        center, width = float(pieces[0]), float(pieces[1])
    except (IndexError, ValueError):
        raise WebError(400, f"window={text!r}: expected center,width[,linear]") from None
    if width <= 0:
        raise WebError(400, f"window={text!r}: the width must be positive")
    return center, width


def parse_viewport(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    pieces = text.split(",")
    try:
        width, height = int(pieces[0]), int(pieces[1])
    except (IndexError, ValueError):
        raise WebError(400, f"viewport={text!r}: expected width,height") from None
    if not (0 < width <= 8192 and 0 < height <= 8192):
        raise WebError(400, f"viewport={text!r}: sizes from 1 to 8192")
    return width, height


def to_8bit(ds: Any, pixels: np.ndarray, index: int, window: tuple[float, float] | None) -> np.ndarray:
    """Grey frame -> uint8 through the Modality LUT and the window (linear, PS3.3 C.11.2.1.2)."""
    slope, intercept = _rescale(ds, index)
    values = pixels.astype(np.float64) * slope + intercept
    window = window or _window(ds, index)
    if window is None:
        low, high = float(values.min()), float(values.max())
    else:
        center, width = window
        low, high = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    scaled = np.clip((values - low) / max(high - low, 1e-9), 0.0, 1.0) * 255.0
    out = scaled.round().astype(np.uint8)
    if str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1":
        out = 255 - out
    return out


def render(path: Any, index: int, media_type: str, *, window=None, viewport=None, quality: int = 90) -> bytes:
    """Frame `index` (0-based) of the stored image at `path` as JPEG or PNG bytes."""
    header = dcmread(path, stop_before_pixels=True)
    if "Rows" not in header:
        raise WebError(404, "the instance is not an image")
    pixels = pixel_array(path, index=index)
    if pixels.ndim == 3 and pixels.shape[-1] == 3:
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8) if pixels.dtype != np.uint8 else pixels, "RGB")
    else:
        image = Image.fromarray(to_8bit(header, pixels, index, window), "L")
    if viewport is not None:
        image.thumbnail(viewport)
    buffer = io.BytesIO()
    if media_type == PNG:
        image.save(buffer, format="PNG")
    else:
        image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
