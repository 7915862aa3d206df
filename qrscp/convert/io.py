"""Reading sources and writing conversions as Part 10 files, streaming pixel data frame by frame."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.filebase import DicomFileLike
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import UID, ExplicitVRLittleEndian

from qrscp.convert.model import Conversion
from qrscp.convert.pixels import PixelPlan
from qrscp.dicom.datasets import element_dict
from qrscp.dicom.encoder import write_dataset_body
from qrscp.dicom.reader import read_explicit_little_endian

#: Values larger than this stay in the file until needed (pixel data, large private blobs).
DEFER_SIZE = 64 * 1024


def read_source(path: str | os.PathLike, *, defer: bool = True) -> Dataset:
    """Read a Part 10 file (or a bare data set); large values stay in the file when `defer`.

    Explicit VR Little Endian and encapsulated files go through the fast reader
    (:mod:`qrscp.dicom.reader`), everything else through pydicom; both give the same dataset.
    """
    defer_size = DEFER_SIZE if defer else None
    ds = read_explicit_little_endian(path, defer_size=defer_size)
    if ds is None:
        ds = pydicom.dcmread(str(path), defer_size=defer_size, force=True)
    return ds


def write_part10(conversion: Conversion | Dataset, path: str | os.PathLike) -> int:
    """Write a converted instance as a Part 10 file and return its size in bytes.

    When the dataset lacks Pixel Data (``materialize_pixels=False``), the frames of the conversion's pixel
    plan are streamed from the sources after the header: one frame in memory at a time.
    """
    ds = conversion.dataset if isinstance(conversion, Conversion) else conversion
    plan: PixelPlan | None = getattr(conversion, "pixel_plan", None)
    path = Path(path)
    streamed = "PixelData" not in ds and plan is not None
    offsets: list[int] = []
    if streamed and plan.encapsulated:
        # Two passes over the frames: lengths first (for the offset tables), then the fragments, so that
        # only one frame is in memory at a time; the second read comes from the page cache.
        offsets, lengths, position = [], [], 0
        for frame in plan.frames:
            fragments = frame.read()
            offsets.append(position)
            lengths.append(sum(len(x) + (len(x) % 2) for x in fragments))
            position += sum(8 + len(x) + (len(x) % 2) for x in fragments)
        if position >= 2**32:
            import numpy as np

            meta = ds.file_meta
            ds = Dataset(dict(element_dict(ds)))
            ds.file_meta = meta
            ds.ExtendedOffsetTable = np.asarray(offsets, "<u8").tobytes()
            ds.ExtendedOffsetTableLengths = np.asarray(lengths, "<u8").tobytes()
            offsets = []
    with open(path, "wb") as f:
        syntax = UID(str(ds.file_meta.TransferSyntaxUID))
        if syntax == ExplicitVRLittleEndian or syntax.is_encapsulated:
            _write_explicit_little_endian(f, ds)
        else:  # Implicit VR, Big Endian, Deflated (rewritten instances keep their source's syntax)
            pydicom.dcmwrite(f, ds, enforce_file_format=True)
        if streamed:
            _write_pixel_data(f, plan, ds, offsets)
    return path.stat().st_size


def _write_explicit_little_endian(f, ds: Dataset) -> None:
    f.write(b"\x00" * 128 + b"DICM")
    meta = DicomFileLike(f)
    meta.is_little_endian, meta.is_implicit_VR = True, False
    write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
    write_dataset_body(f.write, ds)


def _write_pixel_data(f, plan: PixelPlan, ds: Dataset, offsets: list[int]) -> None:
    if plan.encapsulated:
        f.write(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
        bot = b"".join(o.to_bytes(4, "little") for o in offsets)  # empty with an Extended Offset Table
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
    f.flush()
    out = f.fileno()
    for frame in plan.frames:
        if frame.location is not None and hasattr(os, "sendfile"):
            # The kernel copies the frame from the source file: no pass through Python.
            name, offset, length = frame.location
            with open(name, "rb") as source:
                copied = 0
                while copied < length:
                    sent = os.sendfile(out, source.fileno(), offset + copied, length - copied)
                    if sent == 0:
                        raise OSError(f"{name}: pixel data shorter than expected")
                    copied += sent
            continue
        value = frame.read()
        _write_all(out, value[:frame_size].ljust(frame_size, b"\x00"))
    if padded != total:
        _write_all(out, b"\x00")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
