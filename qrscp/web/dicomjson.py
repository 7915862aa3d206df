"""The DICOM JSON Model (PS3.18 F.2): data sets as ``application/dicom+json``.

PN values become ``Alphabetic``/``Ideographic``/``Phonetic`` groups, binary values ``InlineBinary``
(base64) or a ``BulkDataURI`` the caller makes (``/bulkdata/...`` of WADO-RS), IS/DS and the binary
numbers JSON numbers, AT hexadecimal text. Deferred values (pydicom's ``defer_size``) are never read:
a deferred binary value is always given as a ``BulkDataURI``.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Callable
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag

from qrscp.dicom.datasets import element_dict

#: VRs whose value is bytes: InlineBinary or BulkDataURI.
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW", "US or OW"})
_NUMBER_VRS = frozenset({"FL", "FD", "SL", "SS", "UL", "US", "SV", "UV", "US or SS", "US or SS or OW"})
_TEXT_SINGLE = frozenset({"LT", "ST", "UT", "UR"})
PIXEL_DATA = 0x7FE00010
#: A path to a bulk data value: tags and item indexes from the top level, e.g. [0x7FE00010].
BulkPath = list[int]
BulkUri = Callable[[BulkPath], str]


def tag_key(tag: int) -> str:
    """``GGGGEEEE``: the JSON key of a tag."""
    return f"{int(tag):08X}"


def encode(ds: Dataset, bulk_uri: BulkUri | None = None, *, threshold: int = 1024) -> dict[str, Any]:
    """Return `ds` as a DICOM JSON object.

    Parameters
    ----------
    ds : pydicom.Dataset
    bulk_uri : callable, optional
        Called with the path of a binary value longer than `threshold` (or deferred, or Pixel Data);
        its URI goes in ``BulkDataURI``. Without it every binary value is ``InlineBinary``.
    threshold : int, optional
        Binary values up to this many bytes are inline.
    """
    return _encode(ds, bulk_uri, threshold, [], "latin_1")


def _encode(ds: Dataset, bulk_uri: BulkUri | None, threshold: int, path: BulkPath, codec: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if 0x00080005 in ds:
        codec = _codec_of(ds)
    # The elements as held (raw ones stay raw, deferred ones unread), in tag order.
    for tag, raw in sorted(element_dict(ds).items()):
        vr = _vr_of(raw, tag)
        if bulk_uri is not None and vr in BINARY_VRS and _is_bulk(raw, tag, threshold):
            out[tag_key(tag)] = {"vr": _plain_vr(vr, tag), "BulkDataURI": bulk_uri(path + [int(tag)])}
            continue
        # Raw values are read here, except UN, which pydicom resolves to the dictionary's VR when it can.
        if codec is not None and type(raw) is RawDataElement and raw.is_little_endian and raw.VR not in (None, "UN") \
                and raw.value is not None:
            entry = _raw_entry(raw, codec)
            if entry is not None:
                out[tag_key(tag)] = entry
                continue
        try:
            element = ds[tag]
        except Exception:  # noqa: BLE001 - an undecodable value is answered empty, not as an error
            out[tag_key(tag)] = {"vr": _plain_vr(vr, tag)}
            continue
        out[tag_key(tag)] = _element(element, bulk_uri, threshold, path, codec)
    return out


def _vr_of(raw: Any, tag: int) -> str:
    vr = getattr(raw, "VR", None)
    if vr:
        return vr
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _plain_vr(vr: str, tag: int) -> str:
    """One VR for the ambiguous ones pydicom leaves unresolved."""
    if " or " not in vr:
        return vr
    if int(tag) == PIXEL_DATA:
        return "OW"
    return vr.split(" or ")[0]


def _is_bulk(raw: Any, tag: int, threshold: int) -> bool:
    if int(tag) == PIXEL_DATA:
        return True
    if isinstance(raw, RawDataElement):
        if raw.value is None:
            return raw.length not in (0, None)
        return len(raw.value) > threshold
    value = raw.value
    return isinstance(value, (bytes, bytearray)) and len(value) > threshold


def _element(element: DataElement, bulk_uri: BulkUri | None, threshold: int, path: BulkPath,
             codec: str | None) -> dict[str, Any]:
    vr = _plain_vr(element.VR, element.tag)
    entry: dict[str, Any] = {"vr": vr}
    value = element.value
    if value is None or (not isinstance(value, (int, float)) and len(value) == 0 and vr != "SQ"):
        return entry
    if vr == "SQ":
        entry["Value"] = [
            _encode(item, bulk_uri, threshold, path + [int(element.tag), index], codec) for index, item in enumerate(value)
        ]
    elif vr in BINARY_VRS:
        entry["InlineBinary"] = base64.b64encode(bytes(value)).decode("ascii")
    else:
        values = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
        entry["Value"] = [_value(vr, v) for v in values]
    return entry


def _value(vr: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if vr == "PN":
        return _person_name(value)
    if vr in ("IS", "DS", "FL", "FD"):
        # A number that is not one (a scanner's "P1:" in a DS) is answered null: JSON has no place for it.
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number):
            return None
        if vr == "IS" or (vr == "DS" and number.is_integer() and abs(number) < 2**53):
            return int(number)
        return number
    if vr in _NUMBER_VRS:
        return int(value)
    if vr == "AT":
        return tag_key(Tag(value))
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def _person_name(value: Any) -> dict[str, str] | None:
    groups = {}
    for name in ("alphabetic", "ideographic", "phonetic"):
        text = getattr(value, name, None) if not isinstance(value, str) else (value if name == "alphabetic" else None)
        if text:
            groups[name.capitalize()] = str(text)
    if isinstance(value, str) and "=" in value:
        pieces = value.split("=")
        groups = {k: v for k, v in zip(("Alphabetic", "Ideographic", "Phonetic"), pieces) if v}
    return groups or None


# -- raw values: what pydicom would convert, read straight off the bytes --------------------------------

#: Specific Character Set -> the Python codec of its text (others go through pydicom's conversion).
_SIMPLE_CHARSETS = {"": "latin_1", "ISO_IR 6": "latin_1", "ISO_IR 100": "latin_1", "ISO_IR 192": "utf_8"}
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "SH", "TM", "UC", "UI", "PN"})
_STRUCT_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d", "UV": "Q", "SV": "q"}


def _codec_of(ds: Dataset) -> str | None:
    """The codec of the data set's text when its Specific Character Set is one plain set, else None."""
    value = ds.get_item(0x00080005, keep_deferred=True).value
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("latin_1")
    if not isinstance(value, str):  # several values: code extensions, left to pydicom
        return None
    return _SIMPLE_CHARSETS.get(value.strip(" \x00"))


def _raw_entry(raw: RawDataElement, codec: str) -> dict[str, Any] | None:
    """The JSON of a raw element, or None when pydicom should convert it (sequences, odd values)."""
    vr, value = raw.VR, raw.value
    if not isinstance(value, (bytes, bytearray)):
        return None
    if not value:
        return {"vr": vr}
    try:
        if vr in _TEXT_VRS or vr in _TEXT_SINGLE or vr in ("IS", "DS"):
            text = value.decode("ascii" if vr in ("UI", "CS", "DA", "TM", "DT", "AS", "IS", "DS", "AE") else codec)
            if vr in _TEXT_SINGLE:
                text = text.rstrip(" \x00")
                return {"vr": vr, "Value": [text]} if text else {"vr": vr}
            pieces = [p.strip(" \x00") for p in text.split("\\")]
            if pieces == [""]:
                return {"vr": vr}
            if vr == "PN":
                values = [_pn_groups(p) for p in pieces]
            elif vr == "IS":
                values = [int(p) if p else None for p in pieces]
            elif vr == "DS":
                values = [_ds_number(p) for p in pieces]
            else:
                values = [p or None for p in pieces]
            return {"vr": vr, "Value": values}
        fmt = _STRUCT_FORMATS.get(vr)
        if fmt is not None:
            count = len(value) // struct.calcsize(fmt)
            numbers = list(struct.unpack_from(f"<{count}{fmt}", value))
            if vr in ("FL", "FD") and not all(math.isfinite(n) for n in numbers):
                return None
            return {"vr": vr, "Value": numbers}
        if vr == "AT":
            pairs = struct.unpack_from(f"<{len(value) // 2}H", value)
            return {"vr": vr, "Value": [f"{pairs[i]:04X}{pairs[i + 1]:04X}" for i in range(0, len(pairs) - 1, 2)]}
        if vr in BINARY_VRS:
            return {"vr": vr, "InlineBinary": base64.b64encode(value).decode("ascii")}
    except (UnicodeDecodeError, ValueError, struct.error):
        return None
    return None


def _pn_groups(text: str) -> dict[str, str] | None:
    if not text:
        return None
    groups = {name: group for name, group in zip(("Alphabetic", "Ideographic", "Phonetic"), text.split("=")) if group}
    return groups or None


def _ds_number(text: str) -> int | float | None:
    if not text:
        return None
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
