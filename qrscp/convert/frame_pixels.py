"""Frames of a stored multi-frame file, located by offset and copied without decoding (PS3.4 Y.3.3).

:func:`open_frames` reads the header of a Part 10 file (everything before the pixel data) and walks the
pixel data element by its headers only: for native data the offset of the value, for encapsulated data
the offset and length of every fragment, grouped into frames by the Basic Offset Table, the Extended
Offset Table, one fragment per frame, or the codestream start markers. :func:`write_pixel_data` then
copies the selected frames into a new Pixel Data element: native frames are byte (or, for 1-bit data,
bit) slices, encapsulated frames keep their fragments exactly and get a new Basic Offset Table. Only one
frame is in memory at a time, whatever the size of the source.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from qrscp.convert.frame_lists import FrameRequestError
from qrscp.dicom.raw_header import read_raw_header
from qrscp.status import Status

_ITEM, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE0DD
_PIXEL_TAGS = {0x7FE00010: "PixelData", 0x7FE00008: "FloatPixelData", 0x7FE00009: "DoubleFloatPixelData"}
#: Codestream starts that begin a frame (JPEG/JPEG-LS SOI, JPEG 2000 SOC, JP2 signature box).
_FRAME_STARTS = (b"\xff\xd8", b"\xff\x4f\xff\x51", b"\x00\x00\x00\x0cjP")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FrameSource:
    """A stored multi-frame image: its header and where each frame's bytes are.

    Attributes
    ----------
    header : pydicom.Dataset
        Every element before the pixel data, with the File Meta (``header.file_meta``).
    transfer_syntax_uid : str
        The syntax of the frames written out (Explicit VR Little Endian for a deflated source).
    pixel_keyword : str
        PixelData, FloatPixelData or DoubleFloatPixelData.
    frame_bits : int
        Native data: bits per frame; 0 for encapsulated data.
    value_offset : int
        Native data: offset of the first pixel byte in `content`.
    fragments : tuple of tuple of (offset, length)
        Encapsulated data: the fragments of each frame.
    """

    path: str
    header: Dataset
    transfer_syntax_uid: str
    pixel_keyword: str
    frame_bits: int
    value_offset: int
    fragments: tuple[tuple[tuple[int, int], ...], ...]
    inflated: bytes | None = None

    @property
    def encapsulated(self) -> bool:
        return self.frame_bits == 0

    def open(self) -> BinaryIO:
        """The stored content the offsets refer to (the inflated data set of a deflated file)."""
        return io.BytesIO(self.inflated) if self.inflated is not None else open(self.path, "rb")


def _fail(comment: str) -> FrameRequestError:
    return FrameRequestError(Status.UNABLE_TO_EXTRACT_FRAMES, comment)


def open_frames(path: str | os.PathLike) -> FrameSource:
    """Read the header of the multi-frame file at `path` and locate its frames.

    Raises
    ------
    FrameRequestError
        AA01 when the instance is not a multi-frame image (no Number of Frames or no pixel data); AA02
        when its frames cannot be located (Big Endian, truncated file, fragments that cannot be grouped).
    """
    name = os.fspath(path)
    fast = read_raw_header(name)  # Explicit VR Little Endian / encapsulated: per-frame items left raw
    with open(name, "rb") as f:
        if fast is not None:
            header, position = fast
        else:
            header = dcmread(f, stop_before_pixels=True)
            position = f.tell()
        syntax = UID(str(header.file_meta.get("TransferSyntaxUID", ExplicitVRLittleEndian)))
        if syntax == DeflatedExplicitVRLittleEndian:
            # The offsets of a deflated file are those of its inflated data set, kept in memory (rare).
            content = _inflated(f)
            buffer = io.BytesIO(content)
            header = dcmread(buffer, stop_before_pixels=True)
            return _locate(name, header, buffer, buffer.tell(), ExplicitVRLittleEndian, content)
        return _locate(name, header, f, position, str(syntax), None)


def _inflated(f: BinaryIO) -> bytes:
    f.seek(0)
    full = dcmread(f)
    full.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    full.set_original_encoding(False, True, full.get("SpecificCharacterSet"))
    out = io.BytesIO()
    full.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _locate(name: str, header: Dataset, f: BinaryIO, position: int, syntax: str, inflated: bytes | None) -> FrameSource:
    frames = _number_of_frames(header)
    uid = UID(syntax)
    if not uid.is_little_endian:
        raise _fail("frames of a Big Endian file cannot be extracted")
    f.seek(position)
    head = f.read(12)
    if len(head) < 8:
        raise FrameRequestError(Status.UNABLE_TO_CREATE_NEW_OBJECT, "the instance has no pixel data")
    tag = (int.from_bytes(head[0:2], "little") << 16) | int.from_bytes(head[2:4], "little")
    if tag not in _PIXEL_TAGS:
        raise FrameRequestError(Status.UNABLE_TO_CREATE_NEW_OBJECT, "the instance has no pixel data")
    if uid.is_implicit_VR:
        length, value_offset = int.from_bytes(head[4:8], "little"), position + 8
    elif head[4:6] in (b"OB", b"OW", b"OF", b"OD", b"UN", b"OV", b"OL"):
        length, value_offset = int.from_bytes(head[8:12], "little"), position + 12
    else:
        length, value_offset = int.from_bytes(head[6:8], "little"), position + 8
    keyword = _PIXEL_TAGS[tag]
    if length == 0xFFFFFFFF:
        fragments = _frame_fragments(f, value_offset, frames, header)
        return FrameSource(name, header, syntax, keyword, 0, value_offset, fragments, inflated)
    frame_bits = native_frame_bits(header, keyword)
    if length * 8 < frame_bits * frames:
        raise _fail(f"pixel data holds fewer than {frames} frames")
    return FrameSource(name, header, syntax, keyword, frame_bits, value_offset, (), inflated)


def _number_of_frames(header: Dataset) -> int:
    try:
        frames = int(header.get("NumberOfFrames", 0) or 0)
    except (TypeError, ValueError):
        frames = 0
    if "NumberOfFrames" not in header or frames < 1:
        raise FrameRequestError(Status.UNABLE_TO_CREATE_NEW_OBJECT, "the instance is not a multi-frame image")
    return frames


def native_frame_bits(header: Dataset, keyword: str = "PixelData") -> int:
    """Bits of one native frame: Rows x Columns x samples x Bits Allocated (YBR_FULL_422: 2 samples)."""
    rows, columns = int(header.get("Rows", 0) or 0), int(header.get("Columns", 0) or 0)
    samples = int(header.get("SamplesPerPixel", 1) or 1)
    if str(header.get("PhotometricInterpretation", "")).strip() == "YBR_FULL_422":
        samples = 2
    bits = {"FloatPixelData": 32, "DoubleFloatPixelData": 64}.get(keyword) or int(header.get("BitsAllocated", 0) or 0)
    if not rows or not columns or not bits:
        raise _fail("Rows, Columns or Bits Allocated missing")
    return rows * columns * samples * bits


def _read_items(f: BinaryIO, offset: int) -> list[tuple[int, int]]:
    """(value offset, length) of every item of encapsulated pixel data starting at `offset`."""
    items: list[tuple[int, int]] = []
    f.seek(offset)
    while True:
        head = f.read(8)
        if len(head) < 8:
            raise _fail("encapsulated pixel data is truncated")
        tag = (int.from_bytes(head[0:2], "little") << 16) | int.from_bytes(head[2:4], "little")
        length = int.from_bytes(head[4:8], "little")
        if tag == _SEQUENCE_END:
            return items
        if tag != _ITEM or length == 0xFFFFFFFF:
            raise _fail("encapsulated pixel data is malformed")
        items.append((f.tell(), length))
        f.seek(length, os.SEEK_CUR)


def _frame_fragments(f: BinaryIO, offset: int, frames: int, header: Dataset) -> tuple[tuple[tuple[int, int], ...], ...]:
    items = _read_items(f, offset)
    if not items:
        raise _fail("encapsulated pixel data has no Basic Offset Table")
    (bot_offset, bot_length), fragments = items[0], items[1:]
    if not fragments:
        raise _fail("encapsulated pixel data has no fragments")
    if len(fragments) == frames:
        return tuple((fragment,) for fragment in fragments)
    if frames == 1:
        return (tuple(fragments),)
    starts = _table_offsets(f, bot_offset, bot_length, header)
    first_item = fragments[0][0] - 8
    if len(starts) == frames:
        by_position = {value - 8 - first_item: index for index, (value, _) in enumerate(fragments)}
        if all(start in by_position for start in starts):
            bounds = [by_position[start] for start in starts] + [len(fragments)]
            return tuple(tuple(fragments[bounds[i]:bounds[i + 1]]) for i in range(frames))
    # No usable offset table: a frame starts at each fragment that begins a codestream.
    bounds = []
    for index, (value, length) in enumerate(fragments):
        f.seek(value)
        if f.read(min(length, 8)).startswith(_FRAME_STARTS):
            bounds.append(index)
    if len(bounds) == frames and bounds[0] == 0:
        bounds.append(len(fragments))
        return tuple(tuple(fragments[bounds[i]:bounds[i + 1]]) for i in range(frames))
    raise _fail(f"{len(fragments)} fragments cannot be grouped into {frames} frames")


def _table_offsets(f: BinaryIO, bot_offset: int, bot_length: int, header: Dataset) -> list[int]:
    if bot_length:
        f.seek(bot_offset)
        return list(struct.unpack(f"<{bot_length // 4}I", f.read(bot_length - bot_length % 4)))
    table = header.get("ExtendedOffsetTable")
    if table is not None and table.value:
        raw = bytes(table.value)
        return list(struct.unpack(f"<{len(raw) // 8}Q", raw[: len(raw) - len(raw) % 8]))
    return []


def pixel_data_length(source: FrameSource, frames: Sequence[int]) -> int:
    """Length of the new pixel data value (native) or of its items (encapsulated), before padding."""
    if source.encapsulated:
        return sum(8 + length for frame in frames for _, length in source.fragments[frame - 1])
    return (source.frame_bits * len(frames) + 7) // 8


def write_pixel_data(out: BinaryIO, source: FrameSource, frames: Sequence[int], *, implicit_vr: bool) -> None:
    """Write the pixel data element holding `frames` (1-based, increasing) of `source` to `out`.

    Encapsulated frames keep their fragments byte for byte, after a Basic Offset Table with the
    offset of each frame's first fragment item. Native frames are copied as stored.
    """
    tag = {"PixelData": b"\xe0\x7f\x10\x00", "FloatPixelData": b"\xe0\x7f\x08\x00",
           "DoubleFloatPixelData": b"\xe0\x7f\x09\x00"}[source.pixel_keyword]
    with source.open() as f:
        if source.encapsulated:
            _write_encapsulated(out, f, source, frames, tag, implicit_vr)
        else:
            _write_native(out, f, source, frames, tag, implicit_vr)


def _element_header(tag: bytes, vr: bytes, length: int, implicit_vr: bool) -> bytes:
    if implicit_vr:
        return tag + length.to_bytes(4, "little")
    return tag + vr + b"\x00\x00" + length.to_bytes(4, "little")


def _write_encapsulated(out: BinaryIO, f: BinaryIO, source: FrameSource, frames: Sequence[int], tag: bytes,
                        implicit_vr: bool) -> None:
    offsets, position = [], 0
    for frame in frames:
        offsets.append(position)
        position += sum(8 + length for _, length in source.fragments[frame - 1])
    if position >= 2**32:
        raise _fail("extracted frames exceed the 4 GiB a Basic Offset Table can address")
    out.write(_element_header(tag, b"OB", 0xFFFFFFFF, implicit_vr))
    out.write(b"\xfe\xff\x00\xe0" + (4 * len(offsets)).to_bytes(4, "little"))
    out.write(struct.pack(f"<{len(offsets)}I", *offsets))
    for frame in frames:
        for value, length in source.fragments[frame - 1]:
            out.write(b"\xfe\xff\x00\xe0" + length.to_bytes(4, "little"))
            _copy(out, f, value, length)
    out.write(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")


def _write_native(out: BinaryIO, f: BinaryIO, source: FrameSource, frames: Sequence[int], tag: bytes,
                  implicit_vr: bool) -> None:
    keyword, bits = source.pixel_keyword, source.frame_bits
    vr = {"FloatPixelData": b"OF", "DoubleFloatPixelData": b"OD"}.get(keyword)
    if vr is None:
        vr = b"OW" if int(source.header.get("BitsAllocated", 8) or 8) > 8 else b"OB"
    length = pixel_data_length(source, frames)
    out.write(_element_header(tag, vr, length + length % 2, implicit_vr))
    if bits % 8 == 0:
        for frame in frames:
            _copy(out, f, source.value_offset + (frame - 1) * (bits // 8), bits // 8)
    else:
        out.write(_bit_frames(f, source, frames))
    if length % 2:
        out.write(b"\x00")


def _bit_frames(f: BinaryIO, source: FrameSource, frames: Sequence[int]) -> bytes:
    """1-bit frames (not byte aligned): unpacked per frame, repacked contiguously (little bit order)."""
    import numpy as np

    bits = source.frame_bits
    chunks = []
    for frame in frames:
        start = (frame - 1) * bits
        f.seek(source.value_offset + start // 8)
        raw = np.frombuffer(f.read((start % 8 + bits + 7) // 8), dtype=np.uint8)
        chunks.append(np.unpackbits(raw, bitorder="little")[start % 8:start % 8 + bits])
    return np.packbits(np.concatenate(chunks), bitorder="little").tobytes()


def _copy(out: BinaryIO, f: BinaryIO, offset: int, length: int) -> None:
    f.seek(offset)
    remaining = length
    while remaining:
        chunk = f.read(min(remaining, _CHUNK))
        if not chunk:
            raise _fail("the stored file is shorter than its pixel data")
        out.write(chunk)
        remaining -= len(chunk)
