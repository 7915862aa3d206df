"""A fast encoder for the small flat datasets of DIMSE traffic: command sets and C-FIND identifiers.

Those datasets are flat lists of short ASCII strings and integers, which :func:`encode_flat` writes
directly, little endian, implicit or explicit VR. Anything else (sequences, non-ASCII text, binary VRs
other than the integer ones) raises :class:`NotFlat` and goes to pydicom's general writer, so the output
is always what pydicom writes; ``tests/net/pynetdicom_ext/test_fastencode.py`` checks both give the same bytes.
:func:`ascii_compatible` says whether a dataset's Specific Character Set allows the fast path.
"""

from __future__ import annotations

import struct

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from qrscp.dicom.tags import LONG_VRS as _LONG_LENGTH_VRS
from qrscp.dicom.tags import TEXT_VRS as _STRING_VRS

_INT_FORMATS = {"US": "<H", "UL": "<I", "SS": "<h", "SL": "<i"}
#: Character sets in which an ASCII-only value encodes as ASCII (no escape sequences, no other code
#: points for the ASCII range), so the fast path writes the same bytes as pydicom.
_ASCII_COMPATIBLE_CHARSETS = frozenset({
    "", "ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 126", "ISO_IR 127",
    "ISO_IR 138", "ISO_IR 144", "ISO_IR 148", "ISO_IR 166", "ISO_IR 192", "GB18030", "GBK",
})


class NotFlat(Exception):
    """The dataset needs pydicom's general writer."""


def _string_value(elem: DataElement) -> bytes:
    value = elem.value
    if value is None or value == "":
        return b""
    if isinstance(value, (list, tuple, MultiValue)):
        parts = [str(v) if v is not None else "" for v in value]
        text = "\\".join(parts)
    else:
        text = str(value)
    if not text.isascii():
        raise NotFlat
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\x00" if elem.VR == "UI" else b" "
    return data


def _int_value(elem: DataElement) -> bytes:
    value = elem.value
    if value is None or value == "":
        return b""
    fmt = _INT_FORMATS[elem.VR]
    if isinstance(value, (list, tuple, MultiValue)):
        return b"".join(struct.pack(fmt, int(v)) for v in value)
    return struct.pack(fmt, int(value))


def _at_value(elem: DataElement) -> bytes:
    value = elem.value
    if value is None or value == "":
        return b""
    tags = value if isinstance(value, (list, tuple, MultiValue)) else [value]
    out = bytearray()
    for tag in tags:
        tag = int(tag)
        out += struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    return bytes(out)


def _header(tag: int, vr: str, length: int, is_implicit_vr: bool) -> bytes:
    group, element = tag >> 16, tag & 0xFFFF
    if is_implicit_vr:
        return struct.pack("<HHI", group, element, length)
    if vr in _LONG_LENGTH_VRS:
        return struct.pack("<HH2sHI", group, element, vr.encode(), 0, length)
    if length > 0xFFFF:
        raise NotFlat
    return struct.pack("<HH2sH", group, element, vr.encode(), length)


def encode_flat(ds: Dataset, is_implicit_vr: bool) -> bytes:
    """Encode a flat little endian dataset; raise :class:`NotFlat` when it is not one."""
    out = bytearray()
    for tag in sorted(ds.keys()):
        elem = ds.get_item(tag)
        if not isinstance(elem, DataElement):
            raise NotFlat  # a raw element: keep pydicom's handling of its original encoding
        vr = elem.VR
        if vr in _STRING_VRS:
            data = _string_value(elem)
        elif vr in _INT_FORMATS:
            data = _int_value(elem)
        elif vr == "AT":
            data = _at_value(elem)
        else:
            raise NotFlat
        out += _header(tag, vr, len(data), is_implicit_vr)
        out += data
    return bytes(out)


def _kept_number(vr: str, text: str) -> bool:
    """Whether pydicom keeps an IS/DS value as it is (it cannot hold "abc" or IS "1.5": answered empty)."""
    try:
        number = float(text)
        return vr == "DS" or number == int(number)
    except (ValueError, OverflowError):
        return False


def encode_flat_values(values: list[tuple[int, str, object]], is_implicit_vr: bool) -> bytes:
    """Encode (tag, VR, value) triples, sorted by tag, as :func:`encode_flat` encodes the same dataset.

    A value is None (empty), a str, an int or a list of those; text VRs only, ASCII only, and IS/DS
    values that are numbers: anything else raises :class:`NotFlat` (build a Dataset instead).
    """
    out = []
    for tag, vr, value in values:
        if vr not in _STRING_VRS:
            raise NotFlat
        if value is None or value == "":
            text = ""
        elif type(value) is str:
            text = value
        elif isinstance(value, (list, tuple)):
            text = "\\".join("" if v is None else str(v) for v in value)
        elif type(value) is int:
            text = str(value)
        else:
            raise NotFlat
        if text and not text.isascii():
            raise NotFlat
        if vr in ("IS", "DS") and text:
            if not all(_kept_number(vr, number) for number in text.split("\\") if number.strip()):
                raise NotFlat
        data = text.encode("ascii")
        if len(data) % 2:
            data += b"\x00" if vr == "UI" else b" "
        out.append(_header(tag, vr, len(data), is_implicit_vr))
        out.append(data)
    return b"".join(out)


def encode_little_endian(ds: Dataset, is_implicit_vr: bool) -> bytes:
    """`ds` encoded little endian: :func:`encode_flat` when it can, else pydicom's writer."""
    if ascii_compatible(ds):
        try:
            return encode_flat(ds, is_implicit_vr)
        except NotFlat:
            pass
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    fp = DicomBytesIO()
    fp.is_implicit_VR = is_implicit_vr
    fp.is_little_endian = True
    write_dataset(fp, ds)
    return fp.getvalue()


def ascii_compatible(ds: Dataset) -> bool:
    """True when an ASCII-only value of `ds` encodes as ASCII in its Specific Character Set."""
    elem = ds.get_item(0x00080005) if 0x00080005 in ds else None
    if elem is None:
        return True
    value = elem.value if isinstance(elem, DataElement) else None
    if value is None:
        return isinstance(elem, DataElement)
    terms = value if isinstance(value, (list, tuple, MultiValue)) else [value]
    return all(str(term).strip() in _ASCII_COMPATIBLE_CHARSETS for term in terms)
