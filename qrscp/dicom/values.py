"""Values read off a data set without pydicom's value conversion, and comparison keys of attributes.

Values are compared as encoded bytes (Explicit VR Little Endian), so that two DS values "1.0" and "1.00"
differ (the original string must come back unchanged after a round trip) and private elements of unknown
VR are byte-matched (C.7.6.16.2.FG). An absent attribute and an empty one compare equal (C.7.6.16.2.FG).
Raw elements are read from their undecoded bytes; a raw sequence's key is read off its bytes
(:func:`raw_sequence_key`) without building a data set per item.
"""

from __future__ import annotations

import struct

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.tag import BaseTag

from qrscp.dicom.reader import element_header
from qrscp.dicom.tags import BYTES_VRS as _BYTES_VRS
from qrscp.dicom.tags import ITEM as _ITEM
from qrscp.dicom.tags import ITEM_END as _ITEM_END
from qrscp.dicom.tags import LONG_VRS as _LONG_VRS
from qrscp.dicom.tags import PIXEL_TAGS, keyword_tag
from qrscp.dicom.tags import SEQUENCE_END as _SEQUENCE_END
from qrscp.dicom.tags import STRUCT_FORMATS as _STRUCT_FORMATS
from qrscp.dicom.tags import TEXT_VRS as _TEXT_VRS
from qrscp.dicom.tags import UNDEFINED_LENGTH as _UNDEFINED


def encoded_without_tag(elem: DataElement) -> bytes:
    """`elem` encoded in Explicit VR Little Endian without its tag: VR, length and value."""
    if " or " in elem.VR:
        # Ambiguous VR of an in-memory element (e.g. Pixel Padding Value 'US or SS'): for a comparison key
        # either choice gives the same little-endian bytes.
        values = elem.value if isinstance(elem.value, (list, tuple)) else [elem.value]
        negative = any(isinstance(v, int) and v < 0 for v in values)
        vr = "OW" if "OW" in elem.VR and not isinstance(elem.value, int) else ("SS" if negative else "US")
        elem = DataElement(elem.tag, vr, elem.value)
    buffer = DicomBytesIO()
    buffer.is_little_endian = True
    buffer.is_implicit_VR = False
    write_data_element(buffer, elem)
    return buffer.getvalue()[4:]  # without the tag: VR, length and value


def value_key(ds: Dataset, tag: BaseTag, little_endian: bool = True) -> bytes | None:
    """Comparison key of `tag` in `ds`: None when absent or empty, else a byte string.

    Raw little-endian elements are compared on their undecoded bytes (fast, exact); everything else on
    its Explicit VR Little Endian encoding.
    """
    raw = ds._dict.get(tag)
    if raw is None:
        return None
    if type(raw) is RawDataElement:
        if little_endian and raw.value is not None:
            vr = raw.VR or _dictionary_vr(tag)
            if vr != "SQ":
                if raw.length == 0:
                    return None
                return _strip(vr, bytes(raw.value))
        elem = ds[tag]
    else:
        elem = raw
    value = elem.value
    if value is None or (isinstance(value, (str, bytes, list, tuple)) or type(value).__name__ in (
            "MultiValue", "Sequence")) and len(value) == 0:
        return None
    if elem.VR == "SQ":
        return b"SQ" + sequence_fingerprint(elem.value)
    fast = _fast_value_bytes(elem, ds)
    if fast is not None:
        return _strip(elem.VR, fast)
    encoded = encoded_without_tag(elem)
    header = 8 if elem.VR in _LONG_VRS else 4
    return _strip(elem.VR, encoded[header:])


def value_keys(ds: Dataset, little_endian: bool = True) -> dict[int, bytes | None]:
    """:func:`value_key` of every top-level element of `ds`, in one pass (absent tags are missing).

    The keys are plain ``int`` tags: look-ups with ``int`` keys stay in C, whereas a ``BaseTag`` key makes
    every hash match call ``BaseTag.__eq__`` in Python (a third of the conversion time of a large series).
    """
    keys: dict[int, bytes | None] = {}
    explicit = little_endian and (getattr(ds, "original_encoding", None) or (None, None))[0] is False
    text_vrs = _TEXT_VRS
    for tag, raw in ds._dict.items():
        if tag in PIXEL_TAGS:
            continue  # never compared; reading a deferred value would load the pixels
        if type(raw) is RawDataElement and little_endian:
            # The loop of every element of every frame: the value key of `_strip`, inlined.
            vr, length, value = raw[1], raw[2], raw[3]
            if value is not None and vr:
                if vr != "SQ":
                    if not length:
                        keys[int(tag)] = None
                    else:
                        if type(value) is not bytes:
                            value = bytes(value)
                        if vr in text_vrs:
                            value = value.rstrip(b"\x00 ")
                        keys[int(tag)] = value or None
                    continue
                if explicit:
                    # Decoding a sequence builds a Dataset per item; its key can be read off the bytes.
                    key = raw_sequence_key(value)
                    if key is not _NOT_READ:
                        keys[int(tag)] = key
                        continue
        keys[int(tag)] = value_key(ds, tag, little_endian)
    return keys




_unpack_from = struct.unpack_from



def _fast_value_bytes(elem: DataElement, ds: Dataset) -> bytes | None:
    """Little-endian value bytes of an in-memory element without pydicom's writer (None: not handled)."""
    vr, value = elem.VR, elem.value
    values = list(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    try:
        if vr in _TEXT_VRS:
            text = "\\".join("" if v is None else str(v) for v in values)
            if text.isascii():
                return text.encode("ascii")
            from pydicom.charset import encode_string

            return encode_string(text, ds._character_set)
        if vr in _STRUCT_FORMATS:
            return struct.pack(f"<{len(values)}{_STRUCT_FORMATS[vr]}", *values)
        if vr in _BYTES_VRS and isinstance(value, (bytes, bytearray)):
            return bytes(value)
    except (struct.error, TypeError, ValueError):
        return None
    return None


def _strip(vr: str, value: bytes) -> bytes | None:
    """Drop the trailing padding of text values so that padded and unpadded encodings compare equal."""
    if vr in _TEXT_VRS:
        value = value.rstrip(b"\x00 ")
    return value or None


def _dictionary_vr(tag: BaseTag) -> str:
    from pydicom.datadict import dictionary_VR

    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def sequence_fingerprint(items) -> bytes:
    """Comparison key of sequence Items: the keys of their elements, in order (fixed or undefined length
    encodings compare equal, C.7.6.16.2.FG). Much cheaper than encoding the sequence."""
    parts = [b"%d[" % len(items)]
    for item in items:
        _append_item(parts, [(int(tag), value_key(item, tag)) for tag in sorted(item._dict)])
    return b"".join(parts)


def _append_item(parts: list[bytes], keys: list[tuple[int, bytes | None]]) -> None:
    """The fingerprint of one item, from the (tag, key) of its elements in tag order."""
    for tag, key in keys:
        parts.append(tag.to_bytes(4, "little"))
        parts.append(b"-" if key is None else len(key).to_bytes(4, "little") + key)
    parts.append(b"]")


_NOT_READ = b"not read"


def raw_sequence_key(value: bytes) -> bytes | None:
    """:func:`value_key` of a sequence from its Explicit VR Little Endian value bytes, without decoding it.

    Equal to ``value_key`` of the decoded sequence (None when it has no items, else ``b"SQ"`` and its
    :func:`sequence_fingerprint`), whether its sequences and items have defined or undefined lengths.
    Returns ``_NOT_READ`` for anything unusual (an unknown VR, an undefined length outside a sequence, a
    length beyond the value), for which the caller decodes the sequence instead.
    """
    try:
        items, _ = _raw_items(value, 0, len(value))
    except (ValueError, IndexError, struct.error):
        return _NOT_READ
    if items is None:
        return _NOT_READ
    return b"SQ" + items if items != b"0[" else None


def _raw_items(buf: bytes, position: int, end: int) -> tuple[bytes | None, int]:
    """Fingerprint of the items from `position` to `end` (or to a Sequence Delimitation Item), and the
    position after them; None when the encoding is not one read here."""
    parts: list[bytes] = []
    count = 0
    while position < end:
        group, number, length = _unpack_from("<HHI", buf, position)
        tag = group << 16 | number
        position += 8
        if tag == _SEQUENCE_END:
            break
        if tag != _ITEM:
            return None, position
        count += 1
        item_end = end if length == _UNDEFINED else position + length
        if item_end > end:
            return None, position
        elements: list[tuple[int, bytes | None]] = []
        while position < item_end:
            group, number = _unpack_from("<HH", buf, position)
            tag = group << 16 | number
            if tag == _ITEM_END:
                position += 8
                break
            vr, size, position = element_header(buf, position)
            if vr == b"SQ":
                stop = item_end if size == _UNDEFINED else position + size
                if stop > item_end:
                    return None, position
                nested, after = _raw_items(buf, position, stop)
                if nested is None:
                    return None, position
                position = after if size == _UNDEFINED else stop
                elements.append((tag, None if nested == b"0[" else b"SQ" + nested))
                continue
            if size == _UNDEFINED or position + size > item_end:
                return None, position
            value = buf[position:position + size]
            position += size
            elements.append((tag, _strip(vr.decode(), value) if size else None))
        else:
            if length == _UNDEFINED:
                return None, position  # no Item Delimitation Item before the end
        elements.sort(key=lambda element: element[0])
        _append_item(parts, elements)
    return b"%d[" % count + b"".join(parts), position


def text(ds: Dataset, keyword: str) -> str:
    """String value of a text attribute without pydicom's value conversion ('' when absent).

    Multiple values stay joined by backslashes; padding is removed. Raw values are decoded as Latin-1,
    which is exact for the ASCII values this is used for (UIDs, code strings, numbers, dates).
    """
    tag = keyword_tag(keyword)
    raw = ds._dict.get(tag)
    if raw is None:
        return ""
    if type(raw) is RawDataElement and raw.value is not None:
        return bytes(raw.value).decode("latin-1").strip(" \x00")
    value = ds[tag].value
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip(" \x00")


def number_of_frames(ds: Dataset) -> int | None:
    """Number of Frames (1 when absent or empty), read without pydicom's value conversion; None when the
    value is not a number."""
    value = text(ds, "NumberOfFrames")
    if not value:
        return 1
    try:
        return int(value)
    except ValueError:
        pass
    try:  # what pydicom's IS accepts beyond plain integers (e.g. "1.0")
        return int(ds.NumberOfFrames)
    except (TypeError, ValueError, OverflowError):
        return None


def unsigned(ds: Dataset, keyword: str, default: int = 0) -> int:
    """Value of a US attribute (Rows, Bits Allocated...) without pydicom's value conversion."""
    tag = keyword_tag(keyword)
    raw = ds._dict.get(tag)
    if raw is None:
        return default
    if type(raw) is RawDataElement and raw.VR == "US" and raw.value is not None and len(raw.value) >= 2 \
            and (getattr(ds, "original_encoding", None) or (None, None))[1] is not False:
        return int.from_bytes(bytes(raw.value[:2]), "little")
    value = ds[tag].value
    try:
        return int(value[0] if isinstance(value, (list, tuple)) else value)
    except (TypeError, ValueError, IndexError):
        return default
