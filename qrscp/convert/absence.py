"""Presence of source attributes in the Unassigned Converted Attributes items: absent, empty or valued.

A classic element may be absent, present with no value (Type 2 "unknown"), or present with a value, and
the round trip classic -> Legacy Converted Enhanced -> classic must give back each of the three. The
Unassigned items carry the original elements as they were, an empty one included. An attribute that the
conversion adds to the enhanced image (generated, or Type 2 of the enhanced IOD) although a source lacked
it is recorded as absent in a private element of the Unassigned item (PS3.5 7.8: a private block whose
creator is :data:`ABSENT_CREATOR`), an AT value listing the tags to remove on the way back.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from qrscp.dicom.datasets import element_dict, set_element_dict

#: Private Creator of the block that lists the attributes a source image lacked.
ABSENT_CREATOR = "QRSCP ABSENT ATTRIBUTES"
_GROUP = 0x0009
#: Comparison key of an element present with no value (value_key gives None for absent and empty).
EMPTY = b"\x00<empty>"


def presence_key(ds: Dataset, tag: int, key: bytes | None) -> bytes | None:
    """`key` (a value key), or :data:`EMPTY` when `tag` is present in `ds` with no value."""
    if key is None and tag in element_dict(ds):
        return EMPTY
    return key


def _creator_text(elem: DataElement | RawDataElement) -> str:
    value = elem.value
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip(" \x00")


def _block(item: Dataset) -> int | None:
    """The element number of our Private Creator in `item` (0x10..0xFF), or None."""
    for slot in range(0x10, 0x100):
        elem = element_dict(item).get(BaseTag(_GROUP << 16 | slot))
        if elem is not None and _creator_text(elem) == ABSENT_CREATOR:
            return slot
    return None


def mark_absent(item: Dataset, tags: Iterable[int]) -> None:
    """Record in the Unassigned `item` that the source lacked `tags` (added to any earlier record)."""
    wanted = sorted(set(map(int, tags)) | set(absent_tags(item)))
    if not wanted:
        return
    slot = _block(item)
    if slot is None:
        slot = next(s for s in range(0x10, 0x100) if BaseTag(_GROUP << 16 | s) not in element_dict(item))
        element_dict(item)[BaseTag(_GROUP << 16 | slot)] = DataElement(BaseTag(_GROUP << 16 | slot), "LO", ABSENT_CREATOR)
    tag = BaseTag(_GROUP << 16 | slot << 8 | 0x01)
    element_dict(item)[tag] = DataElement(tag, "AT", [Tag(t) for t in wanted])
    set_element_dict(item, {t: element_dict(item)[t] for t in sorted(element_dict(item), key=int)})


def absent_tags(item: Dataset) -> list[int]:
    """Tags that `item` records as absent from the source."""
    slot = _block(item)
    if slot is None:
        return []
    elem = element_dict(item).get(BaseTag(_GROUP << 16 | slot << 8 | 0x01))
    if elem is None:
        return []
    if type(elem) is RawDataElement and elem.VR in (None, "UN", "AT") and elem.value is not None:
        data = bytes(elem.value)  # little endian (group, element) pairs, however the VR was read
        return [int.from_bytes(data[i:i + 2], "little") << 16 | int.from_bytes(data[i + 2:i + 4], "little")
                for i in range(0, len(data) - 3, 4)]
    value = item[elem.tag].value
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    return [int(v) for v in values]


def marker_tags(item: Dataset) -> set[int]:
    """The tags of our private block in `item` (creator and list), not attributes of the source."""
    slot = _block(item)
    if slot is None:
        return set()
    return {_GROUP << 16 | slot, _GROUP << 16 | slot << 8 | 0x01}
