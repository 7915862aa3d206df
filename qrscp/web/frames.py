"""WADO-RS frames (PS3.18 10.4.1.1.3) and Pixel Data bulk data: frame bytes read off the stored file.

Native frames are read at their offset in the file (nothing else is decoded) and sent as
``application/octet-stream``; compressed frames are sent as their fragments, in the media type of
their transfer syntax (``image/jpeg``, ``image/jp2``, ``image/jls``, ``image/x-dicom-rle``...),
without re-encoding. A request that accepts only ``application/octet-stream`` for a compressed image
gets the frames decoded (pydicom with the pylibjpeg plugins).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.encaps import get_frame
from pydicom.pixels import pixel_array
from pydicom.uid import UID

from qrscp.web.errors import WebError
from qrscp.web.media import FRAME_MEDIA_TYPES, OCTET_STREAM, MediaRange
from qrscp.web.multipart import MultipartWriter

PIXEL_DATA = 0x7FE00010
EXPLICIT_LITTLE = "1.2.840.10008.1.2.1"
EXTENDED_OFFSET_TABLE = 0x7FE00001
EXTENDED_OFFSET_TABLE_LENGTHS = 0x7FE00002


@dataclass
class PixelSource:
    """Where a stored image's frames are."""

    path: Path
    transfer_syntax_uid: str
    frames: int
    frame_size: int  # native frames; 0 when encapsulated
    value_tell: int
    encapsulated: bytes | None
    extended_offsets: tuple[bytes, bytes] | None = None

    @property
    def media_type(self) -> str:
        """The media type of one frame as stored."""
        return FRAME_MEDIA_TYPES.get(self.transfer_syntax_uid, OCTET_STREAM) if self.encapsulated is not None else OCTET_STREAM


def pixel_source(path: Path) -> PixelSource:
    """Read the header of the stored image at `path` (native Pixel Data stays on disk); 404 without pixels."""
    ds = dcmread(path, defer_size=256)
    if PIXEL_DATA not in ds:
        raise WebError(404, "the instance has no Pixel Data")
    raw = ds.get_item(PIXEL_DATA, keep_deferred=True)
    syntax = UID(str(ds.file_meta.TransferSyntaxUID))
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if syntax.is_encapsulated:
        value = ds.PixelData
        offsets = None
        if EXTENDED_OFFSET_TABLE in ds and EXTENDED_OFFSET_TABLE_LENGTHS in ds:
            offsets = (ds[EXTENDED_OFFSET_TABLE].value, ds[EXTENDED_OFFSET_TABLE_LENGTHS].value)
        return PixelSource(path, syntax, frames, 0, 0, value, offsets)
    if syntax.is_deflated or not syntax.is_little_endian:
        # Frames cannot be read at an offset: decode the whole value.
        return PixelSource(path, syntax, frames, 0, 0, None)
    bits = int(ds.BitsAllocated)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    size = int(ds.Rows) * int(ds.Columns) * samples * bits // 8
    if bits == 1 and frames > 1:
        return PixelSource(path, syntax, frames, 0, 0, None)
    if bits == 1:
        size = (int(ds.Rows) * int(ds.Columns) * samples + 7) // 8
    return PixelSource(path, syntax, frames, size, getattr(raw, "value_tell", 0) or 0, None)


def parse_frame_list(text: str, frames: int | None = None) -> list[int]:
    """``1,3,5`` -> [1, 3, 5]; 400 for anything but positive integers, 404 beyond the last frame."""
    try:
        numbers = [int(piece) for piece in text.split(",") if piece.strip()]
    except ValueError:
        raise WebError(400, f"frame list {text!r} is not comma-separated numbers") from None
    if not numbers or any(n < 1 for n in numbers):
        raise WebError(400, f"frame list {text!r}: frame numbers start at 1")
    if frames is not None and max(numbers) > frames:
        raise WebError(404, f"frame {max(numbers)} does not exist: the instance has {frames} frame(s)")
    return numbers


def frame_as_stored(source: PixelSource, number: int) -> bytes:
    """Frame `number` (1-based) as stored: native bytes or the compressed frame's fragments."""
    if source.encapsulated is not None:
        return get_frame(
            source.encapsulated, number - 1, number_of_frames=source.frames, extended_offsets=source.extended_offsets
        )
    if source.frame_size:
        with open(source.path, "rb") as f:
            f.seek(source.value_tell + (number - 1) * source.frame_size)
            return f.read(source.frame_size)
    return frame_decoded(source, number)


def frame_decoded(source: PixelSource, number: int) -> bytes:
    """Frame `number` decoded to native little endian bytes."""
    return pixel_array(source.path, index=number - 1, as_rgb=False).tobytes()


def frame_plan(source: PixelSource, ranges: list[MediaRange]) -> tuple[str, bool]:
    """(Content-Type of each part, decode?) for the acceptable `ranges`, best first; 406 when none fits.

    Native frames are ``application/octet-stream`` (little endian, labelled Explicit VR Little Endian).
    Compressed frames go as stored, in their media type or as ``application/octet-stream`` when the
    request names the stored syntax or ``*`` (each part says its transfer syntax); a request for
    ``application/octet-stream`` without a syntax (or Explicit VR Little Endian) gets them decoded.
    """
    stored = source.transfer_syntax_uid
    stored_type = source.media_type
    for r in ranges:
        wanted = r.params.get("transfer-syntax")  # None: the media type's default
        if source.encapsulated is None:
            if r.matches(OCTET_STREAM) and wanted in (None, "*", EXPLICIT_LITTLE, stored):
                return f"{OCTET_STREAM}; transfer-syntax={EXPLICIT_LITTLE}", False
            continue
        if r.media_type == "*/*" or (r.matches(stored_type) and wanted in (None, "*", stored)):
            return f"{stored_type}; transfer-syntax={stored}", False
        if r.media_type == OCTET_STREAM and wanted in ("*", stored):
            return f"{OCTET_STREAM}; transfer-syntax={stored}", False
        if r.media_type == OCTET_STREAM and wanted in (None, EXPLICIT_LITTLE):
            return f"{OCTET_STREAM}; transfer-syntax={EXPLICIT_LITTLE}", True
    offered = OCTET_STREAM if source.encapsulated is None else f"{stored_type} or {OCTET_STREAM} (transfer syntax {stored}, or decoded)"
    raise WebError(406, f"the frames are offered as multipart/related; type=\"{offered}\"")


def frame_stream(source: PixelSource, numbers: list[int], part_type: str, decode: bool, writer: MultipartWriter) -> Iterator[bytes]:
    """The multipart answer of the frames `numbers`, each part of `part_type`."""
    for number in numbers:
        content = frame_decoded(source, number) if decode else frame_as_stored(source, number)
        yield writer.head(part_type)
        yield content
    yield writer.end()
