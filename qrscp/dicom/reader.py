"""A fast reader of Part 10 files whose data set is Explicit VR Little Endian.

Conversion reads every header of a series (hundreds of files) but needs few of their values decoded:
pydicom's reader, a Python loop of small reads per element, was a third of the conversion time of a
100-slice series. This reader reads the head of the file (:data:`HEAD_BYTES`) in one call and slices its
elements out in one pass, producing the same :class:`~pydicom.dataset.FileDataset` that
``dcmread(path, defer_size=..., force=True)`` gives: the same ``RawDataElement`` values, offsets and
deferral, the same File Meta Information and encoding.

It handles what modalities send for conversion: Explicit VR Little Endian and the encapsulated transfer
syntaxes. Anything else (Implicit VR, Big Endian, Deflate, no preamble, a VR that is not a VR, a length
beyond the end of the file, an undefined length other than a sequence or encapsulated Pixel Data, a
header longer than :data:`HEAD_BYTES`, or values after a large deferred one) returns None, and the
caller falls back to pydicom, whose many tolerances for malformed files this reader does not try to copy.
Sequences stay raw: pydicom parses them on first access, exactly as it does for raw sequences elsewhere.
"""

from __future__ import annotations

import functools
import os
import struct

from pydicom.dataelem import RawDataElement, empty_value_for_VR
from pydicom.dataset import Dataset, FileDataset
from pydicom.tag import BaseTag
from pydicom.uid import UID

from qrscp.dicom.datasets import new_dataset, new_explicit_little_file_dataset, new_file_meta
from qrscp.dicom.tags import ITEM as _ITEM
from qrscp.dicom.tags import ITEM_END as _ITEM_END
from qrscp.dicom.tags import LONG_VR_BYTES as _LONG_VRS
from qrscp.dicom.tags import SEQUENCE_END as _SEQUENCE_END
from qrscp.dicom.tags import SHARED_TAGS, shared_tag
from qrscp.dicom.tags import UNDEFINED_LENGTH as _UNDEFINED

#: The one native transfer syntax read here (the encapsulated ones are Explicit VR Little Endian too).
_EXPLICIT_LITTLE = "1.2.840.10008.1.2.1"

#: Every VR, as its two bytes in the file -> its name.
_VR_NAMES = {
    vr.encode(): vr for vr in ("AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD",
                           "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI",
                           "UL", "UN", "UR", "US", "UT", "UV")}
#: pydicom's raw value of an empty element, by VR.
_EMPTY_VALUES = {vr: empty_value_for_VR(vr, raw=True) for vr in _VR_NAMES.values()}
#: Bytes read from the head of a file: the header and, for a single-frame image, usually all of it.
HEAD_BYTES = 256 * 1024
_PIXEL_DATA = 0x7FE00010
_unpack_from = struct.unpack_from


class _NotHandled(ValueError):
    """The file needs pydicom's reader."""


def read_explicit_little_endian(path: str | os.PathLike, *, defer_size: int | None) -> FileDataset | None:
    """Read the Part 10 file at `path` like ``dcmread(path, defer_size=defer_size, force=True)``.

    Parameters
    ----------
    path : str or os.PathLike
        A Part 10 file (128-byte preamble, ``DICM``, File Meta Information).
    defer_size : int or None
        Values longer than this many bytes are left in the file (``RawDataElement.value`` is None).

    Returns
    -------
    pydicom.dataset.FileDataset or None
        The data set, or None when the file is not one this reader handles (see the module docstring).
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            status = os.fstat(f.fileno())
            size = status.st_size
            # The head of the file only, read (not mapped: a file truncated by another process while
            # mapped would kill this one with SIGBUS). A large last value (Pixel Data) needs no bytes.
            buf = f.read(min(size, HEAD_BYTES))
        if len(buf) < min(size, HEAD_BYTES):  # the file shrank meanwhile: parse what is there
            size = len(buf)
        if size < 144 or buf[128:132] != b"DICM":
            return None
        meta, position = _parse(buf, 132, len(buf), None, meta_only=True, file_size=size)
        syntax_element = meta.get(_TRANSFER_SYNTAX_UID)
        if syntax_element is None or not syntax_element.value:
            return None
        syntax = syntax_element.value.rstrip(b"\x00 ").decode("ascii")
        if not _is_handled_syntax(syntax):
            return None
        elements, _ = _parse(buf, position, len(buf), defer_size, meta_only=False, file_size=size)
        preamble = buf[:128]
    except (_NotHandled, OSError, ValueError, struct.error, UnicodeDecodeError):
        return None
    return new_explicit_little_file_dataset(name, elements, preamble=preamble, file_meta=new_file_meta(meta),
                                            timestamp=status.st_mtime, character_set=_character_set(elements))


@functools.lru_cache(maxsize=64)
def _is_handled_syntax(syntax: str) -> bool:
    return syntax == _EXPLICIT_LITTLE or UID(syntax).is_encapsulated  # ValueError: not a syntax


def _character_set(elements: dict[BaseTag, RawDataElement]) -> str | list[str]:
    """``Dataset(elements)._character_set``, decoded once per distinct raw Specific Character Set (the
    files of a series share it); the element itself stays raw until read."""
    raw = elements.get(_SPECIFIC_CHARACTER_SET)
    if raw is None or raw.value is None:
        return Dataset(elements)._character_set
    encodings = _encodings_of(raw.VR, bytes(raw.value))
    return list(encodings) if isinstance(encodings, tuple) else encodings


@functools.lru_cache(maxsize=64)
def _encodings_of(vr: str, value: bytes) -> str | tuple[str, ...]:
    element = RawDataElement(_SPECIFIC_CHARACTER_SET, vr, len(value), value, 0, False, True)
    encodings = Dataset({_SPECIFIC_CHARACTER_SET: element})._character_set
    return tuple(encodings) if isinstance(encodings, list) else encodings


_SPECIFIC_CHARACTER_SET = shared_tag(0x00080005)
_TRANSFER_SYNTAX_UID = shared_tag(0x00020010)


def parse_explicit_little_endian(data: bytes, *, stop_at: frozenset[int] = frozenset()) -> Dataset | None:
    """Parse an Explicit VR Little Endian data set like pydicom's ``read_dataset`` (nothing deferred).

    Parameters
    ----------
    data : bytes
        The encoded data set (as received in a C-STORE, without File Meta Information).
    stop_at : frozenset of int
        Tags to stop before (e.g. the bulk data that an index does not need).

    Returns
    -------
    pydicom.dataset.Dataset or None
        The data set, or None when pydicom must decide (an invalid VR, e.g. an implicit VR data set, an
        undefined length this reader does not follow, a length beyond the end).
    """
    try:
        elements, _ = _parse(data, 0, len(data), None, meta_only=False, stop_at=stop_at)
    except (_NotHandled, struct.error, UnicodeDecodeError):
        return None
    dataset = new_dataset(elements)
    dataset.set_original_encoding(False, True, _character_set(elements))
    return dataset


def _parse(buf: bytes, position: int, end: int, defer_size: int | None, *, meta_only: bool,
           stop_at: frozenset[int] = frozenset(),
           file_size: int | None = None) -> tuple[dict[BaseTag, RawDataElement], int]:
    """Elements from `position` to `file_size` or the first tag of `stop_at` (with `meta_only`, while
    the group is 0002). `buf` holds the bytes up to `end`; a deferred value may reach beyond it only
    when it is the last of the file."""
    file_size = end if file_size is None else file_size
    elements: dict[BaseTag, RawDataElement] = {}
    # Every element of every file of a series passes here: globals bound locally, the named tuple built
    # without its Python-level constructor.
    unpack_from, vr_names, long_vrs, empty_values = _unpack_from, _VR_NAMES, _LONG_VRS, _EMPTY_VALUES
    new_tuple, raw_element, tag_objects = tuple.__new__, RawDataElement, SHARED_TAGS
    while position < file_size:
        if position + 8 > end:
            raise _NotHandled("truncated element header")
        group, number, vr, length = unpack_from("<HH2sH", buf, position)
        if meta_only and group != 0x0002:
            break
        tag = group << 16 | number
        if tag in stop_at:
            break
        vr_name = vr_names.get(vr)
        if vr_name is None:
            raise _NotHandled(f"not an explicit VR at {position}")
        if vr in long_vrs:
            if position + 12 > end:
                raise _NotHandled("truncated element header")
            (length,) = unpack_from("<I", buf, position + 8)
            value_tell = position + 12
        else:
            value_tell = position + 8
        if length == _UNDEFINED:
            if vr == b"SQ":
                stop = _skip_items(buf, value_tell, end)
                value = buf[value_tell:stop]
            elif tag == _PIXEL_DATA:
                stop = _skip_items(buf, value_tell, end, fragments=True)
                # pydicom's rule: deferred when the items and the delimiter tag reach the defer size; the
                # value excludes the Sequence Delimitation Item.
                deferred = defer_size is not None and stop - 4 - value_tell >= defer_size
                value = None if deferred else buf[value_tell:stop - 8]
            else:
                raise _NotHandled("undefined length outside a sequence or Pixel Data")
        else:
            stop = value_tell + length
            if stop > file_size:
                raise _NotHandled("value beyond the end of the file")
            if length == 0:
                value = empty_values[vr_name]
            elif defer_size is not None and length > defer_size:
                value = None  # beyond `end` too when it is the last value: the loop ends at file_size
            elif stop > end:
                raise _NotHandled("value beyond what was read")
            else:
                value = buf[value_tell:stop]
        key = tag_objects.get(tag) or shared_tag(tag)
        # An undefined-length sequence keeps its delimiter: pydicom's parser of raw sequences stops there.
        elements[key] = new_tuple(raw_element, (key, vr_name, length, value, value_tell, False, True, True, False))
        position = stop
    return elements, position


def _skip_items(buf: bytes, position: int, end: int, *, fragments: bool = False) -> int:
    """End (after the Sequence Delimitation Item) of an undefined-length sequence value, or with
    `fragments` of encapsulated Pixel Data (whose items always have a length)."""
    while True:
        if position + 8 > end:
            raise _NotHandled("unterminated sequence")
        group, number, length = _unpack_from("<HHI", buf, position)
        tag = group << 16 | number
        position += 8
        if tag == _SEQUENCE_END:
            return position
        if tag != _ITEM or (fragments and length == _UNDEFINED):
            raise _NotHandled("not an item in a sequence")
        if length == _UNDEFINED:
            position = _skip_undefined_item(buf, position, end)
        else:
            position += length
            if position > end:
                raise _NotHandled("item beyond the end of the file")


def element_header(buf: bytes, position: int) -> tuple[bytes, int, int]:
    """VR (its two bytes), value length and value position of the Explicit VR Little Endian element
    header at `position` (the tag is the caller's). Raises ``ValueError`` for a VR that is not one."""
    vr = buf[position + 4:position + 6]
    if vr not in _VR_NAMES:
        raise _NotHandled("not an explicit VR")
    if vr in _LONG_VRS:
        (length,) = _unpack_from("<I", buf, position + 8)
        return vr, length, position + 12
    (length,) = _unpack_from("<H", buf, position + 6)
    return vr, length, position + 8


def _skip_undefined_item(buf: bytes, position: int, end: int) -> int:
    """End (after the Item Delimitation Item) of an undefined-length item."""
    while True:
        if position + 8 > end:
            raise _NotHandled("unterminated item")
        group, number = _unpack_from("<HH", buf, position)
        if (group << 16 | number) == _ITEM_END:
            return position + 8
        vr, length, position = element_header(buf, position)
        if length == _UNDEFINED:
            if vr != b"SQ":
                raise _NotHandled("undefined length in an item")
            position = _skip_items(buf, position, end)
        else:
            position += length
            if position > end:
                raise _NotHandled("value beyond the end of the file")
