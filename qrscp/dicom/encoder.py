"""A small Explicit VR Little Endian encoder for converted data sets.

pydicom's writer spends most of its time on generality (per-element buffers, character set and VR
corrections); an enhanced image of 2,000 frames has ~40,000 elements in its functional groups. This
encoder writes the common cases directly (raw elements as read, text, numbers, bytes, sequences with
undefined length) and hands anything else to pydicom's ``write_data_element``. Output is valid Explicit
VR Little Endian and deterministic.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from pydicom.charset import convert_encodings, encode_string
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import correct_ambiguous_vr_element, write_data_element

from qrscp.dicom.tags import BYTES_VRS as _BYTES
from qrscp.dicom.tags import LONG_VRS as _LONG
from qrscp.dicom.tags import STRUCT_FORMATS as _STRUCT
from qrscp.dicom.tags import TEXT_VRS as _TEXT

_CHARSET_TEXT = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_SPECIFIC_CHARACTER_SET = 0x00080005
_ITEM = b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
_ITEM_END = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
_SEQUENCE_END = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"


_pack_short = struct.Struct("<HH2sH").pack
_pack_long = struct.Struct("<HH2sHI").pack


def _header(tag: int, vr: str, length: int) -> bytes:
    if vr in _LONG:
        return _pack_long(tag >> 16, tag & 0xFFFF, vr.encode(), 0, length)
    return _pack_short(tag >> 16, tag & 0xFFFF, vr.encode(), length)


def _values(value: object) -> list:
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return list(value)  # type: ignore[arg-type]
    return [value]


def _text_bytes(elem: DataElement, encodings: list[str]) -> bytes:
    text = "\\".join("" if v is None else str(v) for v in _values(elem.value))
    if text.isascii():
        data = text.encode("ascii")
    elif elem.VR in _CHARSET_TEXT:
        data = encode_string(text, encodings)
    else:
        data = text.encode("latin-1", "replace")
    if len(data) % 2:
        data += b"\x00" if elem.VR == "UI" else b" "
    return data


def encode_dataset(ds: Dataset, out: list[bytes], encodings: list[str] | None = None) -> None:
    """Append the encoding of every element of `ds` (in tag order) to `out`."""
    if encodings is None:
        encodings = convert_encodings(ds.get("SpecificCharacterSet") or "ISO_IR 6")
    elements = ds._dict
    # Raw elements with a VR come from Explicit VR data sets; only Big Endian ones need decoding.
    big_endian = (getattr(ds, "original_encoding", None) or (None, None))[1] is False
    for tag in sorted(elements):
        elem = elements[tag]
        if tag >> 16 == 0x0002 or (tag & 0xFFFF) == 0:
            continue  # File Meta and group lengths are not part of the data set
        if type(elem) is RawDataElement and not big_endian:
            # The common case of a converted data set (values moved from the sources), inlined.
            vr, length, value = elem[1], elem[2], elem[3]
            if vr and vr != "SQ" and value is not None and length != 0xFFFFFFFF and len(vr) == 2 \
                    and not len(value) % 2:
                if vr in _LONG:
                    out.append(_pack_long(tag >> 16, tag & 0xFFFF, vr.encode(), 0, len(value)))
                else:
                    out.append(_pack_short(tag >> 16, tag & 0xFFFF, vr.encode(), len(value)))
                out.append(value if type(value) is bytes else bytes(value))
                continue
        encode_element(ds, elem, out, encodings)


def encode_element(ds: Dataset, elem: DataElement | RawDataElement, out: list[bytes],
                   encodings: list[str]) -> None:
    tag = int(elem.tag)
    if type(elem) is RawDataElement:
        # Raw elements with a VR come from Explicit VR data sets; only Big Endian ones need decoding.
        big_endian = (getattr(ds, "original_encoding", None) or (None, None))[1] is False
        if elem.VR and len(elem.VR) == 2 and elem.VR != "SQ" and elem.value is not None and not big_endian \
                and len(elem.value) % 2 == 0 and elem.length != 0xFFFFFFFF:
            out.append(_header(tag, elem.VR, len(elem.value)))
            out.append(bytes(elem.value))
            return
        elem = ds[elem.tag]
    vr = elem.VR
    if " or " in vr:
        elem = correct_ambiguous_vr_element(elem, ds, True)
        vr = elem.VR
    value = elem.value
    if vr == "SQ":
        out.append(_header(tag, "SQ", 0xFFFFFFFF))
        for item in value or []:
            out.append(_ITEM)
            item_encodings = encodings
            if _SPECIFIC_CHARACTER_SET in item._dict:
                item_encodings = convert_encodings(item.SpecificCharacterSet)
            encode_dataset(item, out, item_encodings)
            out.append(_ITEM_END)
        out.append(_SEQUENCE_END)
        return
    if elem.tag == 0x7FE00010 or elem.is_undefined_length:
        out.append(_fallback(elem, encodings))
        return
    data: bytes | None
    if value is None or value == "" or (isinstance(value, (list, tuple)) and not value) or (
            type(value).__name__ == "MultiValue" and not len(value)):
        data = b""
    elif vr in _TEXT:
        data = _text_bytes(elem, encodings)
    elif vr in _STRUCT:
        try:
            values = _values(value)
            data = struct.pack(f"<{len(values)}{_STRUCT[vr]}", *values)
        except (struct.error, TypeError):
            data = None
    elif vr in _BYTES and isinstance(value, (bytes, bytearray)):
        data = bytes(value) + (b"\x00" if len(value) % 2 else b"")
    else:
        data = None
    if data is None or (vr not in _LONG and len(data) > 0xFFFF):
        out.append(_fallback(elem, encodings))
        return
    out.append(_header(tag, vr, len(data)))
    out.append(data)


def _fallback(elem: DataElement, encodings: list[str]) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian = True
    buffer.is_implicit_VR = False
    write_data_element(buffer, elem, encodings)
    return buffer.getvalue()


def write_dataset_body(write: Callable[[bytes], object], ds: Dataset) -> None:
    """Write the data set of `ds` (no preamble, no File Meta) in Explicit VR Little Endian."""
    out: list[bytes] = []
    encode_dataset(ds, out)
    write(b"".join(out))
