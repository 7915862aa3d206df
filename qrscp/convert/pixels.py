"""Pixel data of converted instances, moved without decoding whenever possible.

Rules (issue 4, C.3.5):

- native (uncompressed) sources: frames are byte-concatenated; the output is Explicit VR Little Endian;
- encapsulated sources that all share one transfer syntax: each source's fragments become one frame of the
  output, in the same transfer syntax, with a Basic Offset Table (and an Extended Offset Table when the
  encapsulated value exceeds 4 GiB); no decoding;
- a group that mixes transfer syntaxes (or Big Endian) is decoded and written as Explicit VR Little Endian.

Sources read with ``dcmread(..., defer_size=...)`` keep their pixel data in the file: frames are then read
(and written by :func:`qrscp.convert.io.write_part10`) one at a time, so memory stays at one frame.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydicom import uid as uidmod
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments, generate_frames

from qrscp.dicom.datasets import element_dict
from qrscp.dicom.tags import PIXEL_DATA, keyword_tag
from qrscp.dicom.values import number_of_frames, text, unsigned

NATIVE_LITTLE_ENDIAN = (uidmod.ImplicitVRLittleEndian, uidmod.ExplicitVRLittleEndian,
                        uidmod.DeflatedExplicitVRLittleEndian)


def transfer_syntax_of(ds: Dataset) -> str:
    """Transfer syntax of a dataset's pixel data (File Meta, else the encoding it was read with)."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and _TRANSFER_SYNTAX_UID in element_dict(meta):
        return text(meta, "TransferSyntaxUID")
    if getattr(ds, "original_encoding", None) == (True, True) or getattr(ds, "is_implicit_VR", None):
        return uidmod.ImplicitVRLittleEndian
    return uidmod.ExplicitVRLittleEndian


_TRANSFER_SYNTAX_UID = keyword_tag("TransferSyntaxUID")


@functools.lru_cache(maxsize=64)
def _is_compressed(syntax: str) -> bool:
    return uidmod.UID(syntax).is_compressed


def frame_length(ds: Dataset) -> int:
    """Bytes per native frame."""
    bits = unsigned(ds, "BitsAllocated", 16)
    pixels = unsigned(ds, "Rows") * unsigned(ds, "Columns") * (unsigned(ds, "SamplesPerPixel", 1) or 1)
    return (pixels * bits + 7) // 8


@dataclass
class FramePixels:
    """One frame as stored: native bytes or the encapsulated fragments of one frame."""

    transfer_syntax: str
    encapsulated: bool
    read: Callable[[], bytes | list[bytes]]
    #: (file name, offset, length) of a native frame that lies in a file as is: copied by the kernel.
    location: tuple[str, int, int] | None = None


def _raw_value_reader(ds: Dataset) -> Callable[[], bytes]:
    """Reader of the Pixel Data value bytes, from memory or (deferred) from the file."""
    raw = element_dict(ds).get(PIXEL_DATA)
    if isinstance(raw, RawDataElement) and raw.value is None and ds.filename:
        filename, offset, length = ds.filename, raw.value_tell, raw.length

        def read_file() -> bytes:
            with open(filename, "rb") as f:
                f.seek(offset)
                if length != 0xFFFFFFFF:
                    return f.read(length)
                return f.read(os.path.getsize(filename) - offset)

        return read_file
    return lambda: ds.PixelData


def source_frames(ds: Dataset) -> list[FramePixels]:
    """The frames of `ds` (one for a classic image, Number of Frames for a multi-frame one)."""
    syntax = transfer_syntax_of(ds)
    encapsulated = _is_compressed(syntax)
    count = number_of_frames(ds) or 1
    reader = _raw_value_reader(ds)
    if encapsulated:
        if count == 1:
            return [FramePixels(syntax, True, lambda: list(generate_fragments(_strip_delimiter(reader()))))]
        cache: dict[str, list[bytes]] = {}

        def frame_fragments(index: int) -> list[bytes]:
            if "frames" not in cache:
                eot = None
                if "ExtendedOffsetTable" in ds:
                    eot = ds.ExtendedOffsetTable
                cache["frames"] = list(generate_frames(reader(), number_of_frames=count,
                                                       extended_offsets=_eot(ds) if eot else None))
            return [cache["frames"][index]]

        return [FramePixels(syntax, True, (lambda i=i: frame_fragments(i))) for i in range(count)]
    length = frame_length(ds)
    def swapped() -> bytes:  # Big Endian: let pydicom swap the bytes
        return np.ascontiguousarray(ds.pixel_array).astype(_dtype(ds), copy=False).tobytes()

    native_reader = reader if syntax in NATIVE_LITTLE_ENDIAN else swapped
    if count == 1:
        location = None
        raw = element_dict(ds).get(PIXEL_DATA)
        if (native_reader is reader and isinstance(raw, RawDataElement) and raw.value is None and ds.filename
                and raw.length != 0xFFFFFFFF and raw.length >= length):
            location = (str(ds.filename), int(raw.value_tell), length)
        return [FramePixels(uidmod.ExplicitVRLittleEndian, False, lambda: bytes(native_reader()[:length]), location)]
    raw = element_dict(ds).get(PIXEL_DATA)
    if (native_reader is reader and isinstance(raw, RawDataElement) and raw.value is None and ds.filename
            and raw.length != 0xFFFFFFFF and raw.length >= count * length):
        # Deferred multi-frame pixel data: read (or let the kernel copy) one frame at a time.
        filename, offset = str(ds.filename), int(raw.value_tell)

        def read_frame(index: int) -> bytes:
            with open(filename, "rb") as f:
                f.seek(offset + index * length)
                return f.read(length)

        return [FramePixels(uidmod.ExplicitVRLittleEndian, False, (lambda i=i: read_frame(i)),
                            (filename, offset + i * length, length)) for i in range(count)]
    whole: dict[str, bytes] = {}

    def frame_bytes(index: int) -> bytes:
        if "v" not in whole:
            whole["v"] = native_reader()
        return bytes(whole["v"][index * length:(index + 1) * length])

    return [FramePixels(uidmod.ExplicitVRLittleEndian, False, (lambda i=i: frame_bytes(i))) for i in range(count)]


def _eot(ds: Dataset) -> tuple[list[int], list[int]]:
    offsets = list(np.frombuffer(ds.ExtendedOffsetTable, "<u8"))
    lengths = list(np.frombuffer(ds.ExtendedOffsetTableLengths, "<u8"))
    return [int(o) for o in offsets], [int(n) for n in lengths]


def _strip_delimiter(value: bytes) -> bytes:
    """Skip the Basic Offset Table item: generate_fragments starts at the first fragment."""
    if value[:4] == b"\xfe\xff\x00\xe0":
        return value[8 + int.from_bytes(value[4:8], "little"):]
    return value


def _dtype(ds: Dataset) -> np.dtype:
    bits = int(ds.BitsAllocated)
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    size = {8: 1, 16: 2, 32: 4, 64: 8}.get(bits, 2)
    return np.dtype(f"<{'i' if signed else 'u'}{size}")


def decoded_frame(ds: Dataset, index: int) -> bytes:
    """Decode frame `index` of `ds` to native little-endian bytes (used only for mixed syntaxes)."""
    count = int(ds.get("NumberOfFrames", 1) or 1)
    array = ds.pixel_array
    if count > 1:
        array = array[index]
    return np.ascontiguousarray(array).astype(_dtype(ds), copy=False).tobytes()


@dataclass
class PixelPlan:
    """How the frames of a new instance are stored."""

    transfer_syntax: str
    frames: list[FramePixels]

    @property
    def encapsulated(self) -> bool:
        return uidmod.UID(self.transfer_syntax).is_compressed


def plan_for(sources: Sequence[tuple[Dataset, int]]) -> PixelPlan:
    """Choose the output transfer syntax for frames (dataset, frame index) and how to read each frame."""
    frame_lists: dict[int, list[FramePixels]] = {}
    chosen: list[FramePixels] = []
    for ds, index in sources:
        frames = frame_lists.get(id(ds))
        if frames is None:
            frames = frame_lists[id(ds)] = source_frames(ds)
        chosen.append(frames[index])
    syntaxes = {f.transfer_syntax for f in chosen}
    if len(syntaxes) == 1:
        return PixelPlan(chosen[0].transfer_syntax, chosen)
    # Mixed: decode the encapsulated frames; native ones are already little-endian bytes.
    decoded = []
    for (ds, index), frame in zip(sources, chosen):
        if frame.encapsulated:
            decoded.append(FramePixels(uidmod.ExplicitVRLittleEndian, False,
                                       (lambda ds=ds, index=index: decoded_frame(ds, index))))
        else:
            decoded.append(frame)
    return PixelPlan(uidmod.ExplicitVRLittleEndian, decoded)


def encapsulated_value(frames: Sequence[list[bytes]]) -> tuple[bytes, bytes | None, bytes | None]:
    """Encode fragments as an encapsulated Pixel Data value with a Basic Offset Table.

    Returns (value, extended offset table, extended lengths); the Basic Offset Table is left empty and
    the Extended Offset Table is used when an offset does not fit in 32 bits.
    """
    items: list[bytes] = []
    offsets: list[int] = []
    lengths: list[int] = []
    position = 0
    for fragments in frames:
        offsets.append(position)
        frame_length_total = 0
        for fragment in fragments:
            if len(fragment) % 2:
                fragment = fragment + b"\x00"
            item = b"\xfe\xff\x00\xe0" + len(fragment).to_bytes(4, "little") + fragment
            items.append(item)
            position += len(item)
            frame_length_total += len(fragment)
        lengths.append(frame_length_total)
    if position < 2**32:
        bot = b"".join(o.to_bytes(4, "little") for o in offsets)
        return b"\xfe\xff\x00\xe0" + len(bot).to_bytes(4, "little") + bot + b"".join(items), None, None
    eot = np.asarray(offsets, "<u8").tobytes()
    eotl = np.asarray(lengths, "<u8").tobytes()
    return b"\xfe\xff\x00\xe0\x00\x00\x00\x00" + b"".join(items), eot, eotl


def widen_native_frame(frame: bytes, bits_stored: int, signed: bool) -> bytes:
    """A 16-bit native frame rewritten for Bits Stored 16: the bits above `bits_stored` cleared (unsigned)
    or set from the sign bit (signed), so that every pixel keeps its value."""
    even = len(frame) - len(frame) % 2
    words = np.frombuffer(frame[:even], "<u2").astype(np.int32) & ((1 << bits_stored) - 1)
    if signed:
        sign = 1 << (bits_stored - 1)
        words = (words ^ sign) - sign
    return words.astype("<i2" if signed else "<u2").tobytes() + frame[even:]


def native_value(frames: Sequence[bytes], frame_size: int) -> bytes:
    """Native Pixel Data of `frames`, each cut or zero-padded to `frame_size` bytes (a truncated source
    slice must not shift the frames after it), padded to an even length."""
    value = b"".join(frame[:frame_size].ljust(frame_size, b"\x00") for frame in frames)
    if len(value) % 2:
        value += b"\x00"
    return value
