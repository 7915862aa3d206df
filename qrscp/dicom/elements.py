"""Elements made, copied and moved between data sets without pydicom's per-element work.

A conversion moves most elements of its sources unchanged: raw elements of an Explicit VR Little Endian
source keep their bytes and are written back as they were read; elements it makes itself are made raw when
their bytes are known (ASCII text, US), so that nothing is validated or converted twice.
"""

from __future__ import annotations

from pydicom import config
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from qrscp.dicom.tags import TEXT_VRS


def put(item: Dataset, elem: DataElement | RawDataElement) -> None:
    """``item.add(elem)`` for an element that is neither a sequence nor Pixel Data, minus pydicom's work.

    pydicom's ``Dataset.__setitem__`` decodes a raw private element on arrival to label it with its
    Private Creator; reading it (``item[tag]``) decodes and labels it just the same, so a conversion that
    only moves elements leaves them raw.
    """
    item._dict[elem.tag] = elem


def add_moved(item: Dataset, elem: DataElement | RawDataElement) -> None:
    """Add an element moved from a source: a sequence through pydicom (``Dataset.add``), any other as it
    is (:func:`put`)."""
    if elem.VR == "SQ":
        item.add(elem)
    else:
        put(item, elem)


def generated_element(tag: BaseTag, vr: str, value: object) -> DataElement | RawDataElement:
    """A new element with a value the conversion made or took from a source, not validated: a source's
    invalid value is carried over unchanged.

    ASCII text and US values are made raw, as if read from an Explicit VR Little Endian stream: they are
    written as they are and decoded when read. Several are made for every frame of a series, and
    pydicom's conversion and validation of a value cost ten times more than the element.
    """
    data: bytes | None = None
    if vr in TEXT_VRS:
        text = value if type(value) is str else (
            "\\".join(value) if type(value) is list and all(type(v) is str for v in value) else None)
        if text is not None and text.isascii():
            data = text.encode("ascii")
            if len(data) % 2:
                data += b"\x00" if vr == "UI" else b" "
    elif vr == "US" and type(value) is int and 0 <= value <= 0xFFFF:
        data = value.to_bytes(2, "little")
    if data is None:
        return DataElement(tag, vr, value, validation_mode=config.IGNORE)
    return tuple.__new__(RawDataElement, (tag, vr, len(data), data, 0, False, True, True, False))


def copy_element(ds: Dataset, tag: BaseTag) -> DataElement:
    """Return a deep copy of element `tag` of `ds` (decoded, with its VR)."""
    import copy

    return copy.deepcopy(ds[tag])


def empty_element(tag: BaseTag, vr: str) -> DataElement:
    """An element with no value (Type 2 'present but empty'; also the marker for 'absent in the source')."""
    return DataElement(tag, vr, [] if vr == "SQ" else None)


def reusable_element(ds: Dataset, tag: int) -> DataElement | RawDataElement:
    """An element of `ds` that another data set may hold: the raw element itself when its bytes can be
    written unchanged (Explicit VR Little Endian source, not a sequence), else a copy of the decoded one.

    Keeping raw elements avoids decoding every value of every slice and writes the original bytes back.
    """
    import copy

    raw = ds._dict.get(tag)
    if type(raw) is RawDataElement and raw.VR and raw.VR != "SQ" and raw.value is not None \
            and _explicit_little_endian(ds):
        return raw
    elem = ds[tag]
    return copy.deepcopy(elem) if elem.VR == "SQ" else copy.copy(elem)


def _explicit_little_endian(ds: Dataset) -> bool:
    encoding = getattr(ds, "original_encoding", None) or (None, None)
    return encoding == (False, True)
