"""Reading attribute values out of a dataset without ever failing on an invalid one.

Real data is messy: a value that pydicom cannot convert (an IS of "abc", a DA of "2020-01-01") is kept
as the raw text received rather than refused. Text is decoded with the dataset's Specific Character
Set, so the index holds Unicode.
"""

from __future__ import annotations

import functools
import json
import logging
import struct

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from qrscp.dicom.datasets import element_dict

log = logging.getLogger(__name__)

#: Separator of multiple values in an index column, as on the wire.
VALUE_SEPARATOR = "\\"


def _raw_text(raw: RawDataElement) -> str:
    value = raw.value
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("latin-1", errors="replace")
    return str(value).strip(" \x00")


def value_text(value: object) -> str:
    """The text form of an already converted element value (multiple values joined by backslash)."""
    if value is None:
        return ""
    if isinstance(value, (MultiValue, list, tuple)):
        return VALUE_SEPARATOR.join(value_text(item) for item in value)
    if isinstance(value, bytes):
        return value.decode("latin-1", errors="replace").strip(" \x00")
    return str(value).strip(" \x00") if isinstance(value, str) else str(value)


#: VRs of the default character repertoire: their bytes are text whatever the Specific Character Set.
_DEFAULT_REPERTOIRE_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "IS", "TM", "UI"})
#: Text VRs whose ASCII bytes (without ISO 2022 escapes) read the same in every character set.
_ASCII_TEXT_VRS = _DEFAULT_REPERTOIRE_VRS | {"LO", "SH"}
#: Binary integer VRs read from their bytes: struct code and size.
_BINARY_INTEGERS = {"US": ("H", 2), "SS": ("h", 2), "UL": ("I", 4), "SL": ("i", 4)}
#: ESC, which starts an ISO 2022 code extension (its text is 7-bit but not ASCII text).
_ESCAPE = b"\x1b"


@functools.lru_cache(maxsize=None)
def _tag_and_vr(keyword: str) -> tuple[int | None, str]:
    tag = tag_for_keyword(keyword)
    return tag, (dictionary_VR(tag) if tag is not None else "")


def _ascii_text(dataset: Dataset, tag: int, vr: str) -> str | None:
    """The text of a still-raw element of a plain text VR, read from its bytes; None: convert it.

    A C-STORE header is read raw; converting each indexed element with pydicom (validation included)
    was the largest cost of indexing an instance. For these VRs and ASCII bytes the text is exactly
    what :func:`value_text` gives for pydicom's value (``tests/index/test_values.py``).
    """
    return _text_from_raw(dataset.get_item(tag), vr)


def _text_from_raw(raw: object, vr: str) -> str | None:
    """The text of an element as stored in a dataset, read from its raw bytes; None: convert it.

    Plain ASCII text (see :func:`_ascii_text`) and little-endian binary integers (Rows, Columns, Bits
    Allocated...) give exactly what :func:`value_text` gives for pydicom's converted value.
    """
    if type(raw) is not RawDataElement or not isinstance(raw.value, bytes):
        return None
    if (raw.VR or vr) != vr:
        return None
    if vr in _BINARY_INTEGERS:
        value, (code, size) = raw.value, _BINARY_INTEGERS[vr]
        if not raw.is_little_endian or len(value) % size:
            return None
        return VALUE_SEPARATOR.join(str(v) for v in struct.unpack(f"<{len(value) // size}{code}", value))
    if vr not in _ASCII_TEXT_VRS:
        return None
    value = raw.value
    if not value.isascii() or (vr not in _DEFAULT_REPERTOIRE_VRS and _ESCAPE in value):
        return None
    return VALUE_SEPARATOR.join(part.strip(" \x00") for part in value.decode("ascii").split(VALUE_SEPARATOR))


def element_text(dataset: Dataset, keyword: str) -> str:
    """The value of `keyword` in `dataset` as text; empty when absent; raw text when invalid.

    Parameters
    ----------
    dataset : pydicom.Dataset
    keyword : str
        A DICOM keyword of a non-sequence attribute.

    Returns
    -------
    str
    """
    tag, vr = _tag_and_vr(keyword)
    if tag is None:
        return ""
    stored = element_dict(dataset).get(tag)  # one look-up: this runs for every indexed key of every C-STORE
    if stored is None:
        return ""
    text = _text_from_raw(stored, vr)
    if text is not None:
        return text
    try:
        element = dataset[tag]
    except Exception as exc:  # noqa: BLE001 -- pydicom could not convert the raw value: keep what was received
        log.debug("keeping raw value of %s: %s", keyword, exc)
        raw = dataset.get_item(tag)
        return _raw_text(raw) if isinstance(raw, RawDataElement) else ""
    if element.VR == "SQ":
        return ""
    try:
        return value_text(element.value)
    except Exception:  # noqa: BLE001  # pragma: no cover - defensive, str() of an exotic value
        return ""


def element_int(dataset: Dataset, keyword: str) -> int | None:
    """The value of an integer attribute (IS, US...) or None when absent or not a number."""
    return parse_int(element_text(dataset, keyword).split(VALUE_SEPARATOR)[0])


def parse_int(text: str) -> int | None:
    """`text` as an integer, or None; tolerant of spaces and of "5.0"."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None


def sequence_json(dataset: Dataset, keyword: str) -> str:
    """The items of sequence `keyword` in the DICOM JSON model, or "" when absent or unreadable."""
    tag = tag_for_keyword(keyword)
    if tag is None or tag not in dataset:
        return ""
    try:
        sequence = dataset[tag].value
        if not sequence:
            return ""
        return json.dumps([item.to_json_dict(bulk_data_threshold=4096, bulk_data_element_handler=_drop) for item in sequence])
    except Exception as exc:  # noqa: BLE001
        log.warning("cannot index %s: %s", keyword, exc)
        return ""


def _drop(element) -> str:
    return ""


def sequence_from_json(text: str) -> Sequence:
    """The Sequence kept by :func:`sequence_json` (empty when `text` is empty or unreadable)."""
    if not text:
        return Sequence()
    try:
        return Sequence(Dataset.from_json(item) for item in json.loads(text))
    except Exception as exc:  # noqa: BLE001
        log.warning("unreadable indexed sequence: %s", exc)
        return Sequence()


def fold_case(text: str) -> str:
    """Person names folded for case-insensitive matching, identically on every database."""
    return text.lower()
