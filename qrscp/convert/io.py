"""Reading sources and writing conversions as Part 10 files, streaming pixel data frame by frame."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from qrscp.convert.model import Conversion
from qrscp.convert.pixels import PixelPlan

#: Values larger than this stay in the file until needed (pixel data, large private blobs).
DEFER_SIZE = 64 * 1024


def read_source(path: str | os.PathLike, *, defer: bool = True) -> Dataset:
    """Read a Part 10 file (or a bare data set); large values stay in the file when `defer`."""
    return pydicom.dcmread(str(path), defer_size=DEFER_SIZE if defer else None, force=True)


def write_part10(conversion: Conversion | Dataset, path: str | os.PathLike) -> int:
    """Write a converted instance as a Part 10 file and return its size in bytes.

    When the dataset lacks Pixel Data (``materialize_pixels=False``), the frames of the conversion's pixel
    plan are streamed from the sources after the header: one frame in memory at a time.
    """
    ds = conversion.dataset if isinstance(conversion, Conversion) else conversion
    plan: PixelPlan | None = getattr(conversion, "pixel_plan", None)
    path = Path(path)
    with open(path, "wb") as f:
        pydicom.dcmwrite(f, ds, enforce_file_format=True)
        if "PixelData" not in ds and plan is not None:
            _write_pixel_data(f, plan, ds)
    return path.stat().st_size


def _write_pixel_data(f, plan: PixelPlan, ds: Dataset) -> None:  # noqa: ANN001
    if plan.encapsulated:
        # Two passes over the frames: lengths first (for the Basic Offset Table), then the fragments, so
        # that only one frame is in memory at a time; the second read comes from the page cache.
        f.write(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
        offsets, position = [], 0
        for frame in plan.frames:
            offsets.append(position)
            position += sum(8 + len(x) + (len(x) % 2) for x in frame.read())
        if position < 2**32:
            bot = b"".join(o.to_bytes(4, "little") for o in offsets)
        else:
            bot = b""
        f.write(b"\xfe\xff\x00\xe0" + len(bot).to_bytes(4, "little") + bot)
        for frame in plan.frames:
            for fragment in frame.read():
                if len(fragment) % 2:
                    fragment += b"\x00"
                f.write(b"\xfe\xff\x00\xe0" + len(fragment).to_bytes(4, "little"))
                f.write(fragment)
        f.write(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")
        return
    vr = b"OW" if int(ds.get("BitsAllocated", 16) or 16) > 8 else b"OB"
    # Frame sizes are fixed for native data: Rows x Columns x Samples x Bits Allocated.
    from qrscp.convert.pixels import frame_length

    frame_size = frame_length(ds)
    total = frame_size * len(plan.frames)
    padded = total + (total % 2)
    f.write(b"\xe0\x7f\x10\x00" + vr + b"\x00\x00" + padded.to_bytes(4, "little"))
    for frame in plan.frames:
        value = frame.read()
        f.write(value[:frame_size].ljust(frame_size, b"\x00"))
    if padded != total:
        f.write(b"\x00")
