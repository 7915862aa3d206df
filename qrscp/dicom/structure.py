"""Structural check of an encoded dataset, without decoding any value.

A C-STORE dataset is stored exactly as received, so before accepting it we make sure that its bytes form
a well-formed data set in the negotiated transfer syntax: every element header complete, every defined
length inside its container, sequences and items closed by their delimiters, encapsulated Pixel Data made
of items, nesting bounded. pydicom is deliberately lenient when reading (it guesses the VR encoding, reads
short values without complaint); an archive that keeps bytes for decades must not be.

The walk reads only headers and skips values, so its cost is proportional to the number of elements, not
to the size of the pixel data.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR
from pydicom.uid import UID

from qrscp.dicom.tags import ITEM as _ITEM
from qrscp.dicom.tags import ITEM_END as _ITEM_DELIMITATION
from qrscp.dicom.tags import LONG_VR_BYTES as _LONG_LENGTH_VRS
from qrscp.dicom.tags import SEQUENCE_END as _SEQUENCE_DELIMITATION
from qrscp.dicom.tags import UNDEFINED_LENGTH as _UNDEFINED_LENGTH

_PIXEL_DATA = 0x7FE00010
#: Deeper nesting than this is treated as hostile input, not as a real IOD. Real SR content trees
#: can go a few dozen levels deep; a thousand levels would exhaust pydicom's recursion.
MAX_SEQUENCE_DEPTH = 128

DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1.99"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"


class MalformedDataset(ValueError):
    """The bytes are not a well-formed data set in the stated transfer syntax."""


@dataclass(frozen=True)
class Encoding:
    """How a transfer syntax encodes the data set (PS3.5 10)."""

    implicit_vr: bool
    little_endian: bool
    deflated: bool
    encapsulated: bool


def encoding_of(transfer_syntax_uid: str) -> Encoding:
    """Return the data set encoding of `transfer_syntax_uid`.

    A transfer syntax pydicom does not know (a private one) is taken as explicit VR little endian with
    encapsulated pixel data, which is what every private compressed syntax in the field uses.

    Parameters
    ----------
    transfer_syntax_uid : str
        The negotiated transfer syntax.

    Returns
    -------
    Encoding
    """
    uid = UID(transfer_syntax_uid)
    try:
        return Encoding(uid.is_implicit_VR, uid.is_little_endian, uid.is_deflated, uid.is_encapsulated)
    except ValueError:
        return Encoding(False, True, False, True)


def inflate(data: bytes, *, max_bytes: int) -> bytes:
    """Inflate a Deflated Explicit VR Little Endian data set (raw deflate, PS3.5 A.5).

    Parameters
    ----------
    data : bytes
        The deflated bytes as received.
    max_bytes : int
        Refuse to produce more than this many bytes (a deflate bomb is hostile input).

    Returns
    -------
    bytes

    Raises
    ------
    MalformedDataset
        When the stream is not valid deflate data or inflates beyond `max_bytes`.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise MalformedDataset(f"deflated data set cannot be inflated: {exc}") from exc
    if len(out) > max_bytes:
        raise MalformedDataset("deflated data set inflates beyond the maximum data set size")
    if not inflater.eof:
        raise MalformedDataset("deflated data set is truncated (no end of stream)")
    return out


def deflate(data: bytes) -> bytes:
    """Deflate a data set for Deflated Explicit VR Little Endian (raw deflate, PS3.5 A.5)."""
    deflater = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
    return deflater.compress(data) + deflater.flush()


def check_structure(data: bytes, encoding: Encoding) -> None:
    """Verify that `data` (already inflated) is a well-formed data set in `encoding`.

    Parameters
    ----------
    data : bytes
        The encoded data set, without File Meta Information.
    encoding : Encoding
        The encoding of the negotiated transfer syntax.

    Raises
    ------
    MalformedDataset
        With a message naming the offset and element where the structure breaks.
    """
    if not data:
        raise MalformedDataset("empty data set")
    _Walker(data, encoding).walk_dataset(0, len(data), depth=0, in_item=False)


def leading_file_meta_length(data: bytes, encoding: Encoding) -> int:
    """Return how many bytes of File Meta elements (group 0002) open the data set (0 when none).

    Group 0002 has no place in a data set (PS3.10 7.1), and a Part 10 reader would take such elements for
    File Meta Information, so a data set that carries them cannot be stored as it is. Call after
    :func:`check_structure`.
    """
    walker = _Walker(data, encoding)
    pos = 0
    while len(data) - pos >= 8:
        group, _element, length = walker.tag_length.unpack_from(data, pos)
        if group != 0x0002:
            break
        header = 8
        if not encoding.implicit_vr:
            _, _, vr, length = walker.tag_vr_short.unpack_from(data, pos)
            if vr in _LONG_LENGTH_VRS:
                (length,) = walker.long_length.unpack_from(data, pos + 8)
                header = 12
        if length == _UNDEFINED_LENGTH:
            break
        pos += header + length
    return pos


class _Walker:
    def __init__(self, data: bytes, encoding: Encoding) -> None:
        self.data = data
        self.implicit = encoding.implicit_vr
        endian = "<" if encoding.little_endian else ">"
        self.tag_length = struct.Struct(endian + "HHL")  # tag + 4-byte length (implicit VR, items)
        self.tag_vr_short = struct.Struct(endian + "HH2sH")
        self.long_length = struct.Struct(endian + "L")
        self.tag_only = struct.Struct(endian + "HH")

    def walk_dataset(self, pos: int, end: int, *, depth: int, in_item: bool) -> int:
        """Walk elements from `pos` to `end`; return the position after the data set (or its delimiter)."""
        data = self.data
        while pos < end:
            if end - pos < 8:
                raise MalformedDataset(f"truncated element header at offset {pos}")
            group, element, length = self.tag_length.unpack_from(data, pos)
            tag = group << 16 | element
            if tag == _ITEM_DELIMITATION:
                if not in_item:
                    raise MalformedDataset(f"item delimiter outside an item at offset {pos}")
                return pos + 8
            if group == 0xFFFE:
                raise MalformedDataset(f"unexpected delimiter ({group:04X},{element:04X}) at offset {pos}")
            if self.implicit:
                vr = None
                header = 8
            else:
                _, _, vr, length = self.tag_vr_short.unpack_from(data, pos)
                if not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
                    raise MalformedDataset(f"invalid VR {vr!r} of ({group:04X},{element:04X}) at offset {pos}")
                header = 8
                if vr in _LONG_LENGTH_VRS:
                    if end - pos < 12:
                        raise MalformedDataset(f"truncated element header at offset {pos}")
                    (length,) = self.long_length.unpack_from(data, pos + 8)
                    header = 12
            value = pos + header
            if length == _UNDEFINED_LENGTH:
                pos = self._undefined_length_value(tag, vr, value, end, depth)
                continue
            if value + length > end:
                raise MalformedDataset(
                    f"value of ({group:04X},{element:04X}) at offset {pos} has length {length}, "
                    f"beyond the end of its container ({end - value} bytes left)"
                )
            if self._is_sequence(tag, vr):
                self._walk_items(value, value + length, depth + 1, defined=True)
            pos = value + length
        if in_item:
            raise MalformedDataset("item of undefined length without item delimiter")
        return pos

    def _is_sequence(self, tag: int, vr: bytes | None) -> bool:
        if vr is not None:
            return vr == b"SQ"
        if tag & 0x10000 and (tag & 0xFFFF) < 0x100:
            return False  # private creator elements are LO
        try:
            return dictionary_VR(tag) == "SQ"
        except KeyError:
            return False  # unknown private element of defined length: skipped as opaque bytes

    def _undefined_length_value(self, tag: int, vr: bytes | None, pos: int, end: int, depth: int) -> int:
        if vr in (b"SQ", b"UN") or (vr is None and self._undefined_is_sequence(tag, pos, end)):
            return self._walk_items(pos, end, depth + 1, defined=False)
        if tag == _PIXEL_DATA or vr in (b"OB", b"OW"):
            return self._walk_fragments(pos, end)
        raise MalformedDataset(f"undefined length on ({tag >> 16:04X},{tag & 0xFFFF:04X}) which is not a sequence")

    def _undefined_is_sequence(self, tag: int, pos: int, end: int) -> bool:
        if tag == _PIXEL_DATA:
            return False
        try:
            return dictionary_VR(tag) == "SQ"
        except KeyError:
            # Private element: a sequence when its value starts with an item (as pydicom decides).
            if end - pos < 4:
                return False
            group, element = self.tag_only.unpack_from(self.data, pos)
            return (group << 16 | element) == _ITEM

    def _walk_items(self, pos: int, end: int, depth: int, *, defined: bool) -> int:
        if depth > MAX_SEQUENCE_DEPTH:
            raise MalformedDataset(f"sequences nested deeper than {MAX_SEQUENCE_DEPTH} at offset {pos}")
        data = self.data
        while pos < end:
            if end - pos < 8:
                raise MalformedDataset(f"truncated item header at offset {pos}")
            group, element, length = self.tag_length.unpack_from(data, pos)
            tag = group << 16 | element
            if tag == _SEQUENCE_DELIMITATION and not defined:
                return pos + 8
            if tag != _ITEM:
                raise MalformedDataset(f"expected an item, found ({group:04X},{element:04X}) at offset {pos}")
            if length == _UNDEFINED_LENGTH:
                pos = self.walk_dataset(pos + 8, end, depth=depth, in_item=True)
                continue
            if pos + 8 + length > end:
                raise MalformedDataset(f"item at offset {pos} has length {length}, beyond the end of its sequence")
            self.walk_dataset(pos + 8, pos + 8 + length, depth=depth, in_item=False)
            pos += 8 + length
        if not defined:
            raise MalformedDataset("sequence of undefined length without sequence delimiter")
        return pos

    def _walk_fragments(self, pos: int, end: int) -> int:
        data = self.data
        while pos < end:
            if end - pos < 8:
                raise MalformedDataset(f"truncated fragment header at offset {pos}")
            group, element, length = self.tag_length.unpack_from(data, pos)
            tag = group << 16 | element
            if tag == _SEQUENCE_DELIMITATION:
                return pos + 8
            if tag != _ITEM or length == _UNDEFINED_LENGTH:
                raise MalformedDataset(f"invalid encapsulated pixel data fragment at offset {pos}")
            if pos + 8 + length > end:
                raise MalformedDataset(f"pixel data fragment at offset {pos} extends beyond the data set")
            pos += 8 + length
        raise MalformedDataset("encapsulated pixel data without sequence delimiter")
