"""What every new instance gets (C.3.5 general requirements): equipment, dates, view, file meta."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from qrscp import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from qrscp.convert.functional_groups import code_item
from qrscp.dicom.datasets import element_dict
from qrscp.dicom.tags import keyword_tag
from qrscp.dicom.values import text
from qrscp.uids import ENHANCED_MULTIFRAME_CONVERSION_EQUIPMENT

LEGACY_FROM_CLASSIC = "Legacy Enhanced Image created from Classic Images"
CLASSIC_FROM_ENHANCED = "Classic Image created from Enhanced Image"
UPDATED_REFERENCES = "Updated UID references during Legacy Enhanced Classic conversion"

#: Manufacturer (0008,0070) of the equipment item that qrscp adds. No software version on purpose: the
#: bytes of a regenerated instance must not depend on the qrscp release that regenerated it.
CONVERTER_MANUFACTURER = "qrscp"


def _datetime_of(ds: Dataset, date_keyword: str, time_keyword: str) -> str:
    date = text(ds, date_keyword)
    if len(date) != 8 or not date.isdigit():
        return ""
    return date + text(ds, time_keyword)


def earliest(sources: Sequence[Dataset], date_keyword: str, time_keyword: str) -> tuple[str, str] | None:
    """Earliest (date, time) of the sources, comparing date+time strings; None when no source has one."""
    found = [(_datetime_of(ds, date_keyword, time_keyword), ds) for ds in sources]
    found = [(value, ds) for value, ds in found if value]
    if not found:
        return None
    _, ds = min(found, key=lambda pair: (pair[0].ljust(21, "0"), pair[0]))
    return text(ds, date_keyword), text(ds, time_keyword)


def derived_timestamp(sources: Sequence[Dataset]) -> tuple[str, str]:
    """Date and time for Instance Creation and Contribution DateTime, derived from the sources.

    The latest Instance Creation (else Content, Series, Study) date/time of the sources: the conversion
    cannot have happened before its newest source was created, and no clock is read (determinism).
    """
    for date_keyword, time_keyword in (
        ("InstanceCreationDate", "InstanceCreationTime"),
        ("ContentDate", "ContentTime"),
        ("SeriesDate", "SeriesTime"),
        ("StudyDate", "StudyTime"),
    ):
        values = [_datetime_of(ds, date_keyword, time_keyword) for ds in sources]
        values = [v for v in values if v]
        if values:
            latest = max(values, key=lambda v: (v.ljust(21, "0"), v))
            date, time = latest[:8], latest[8:]
            time = time.split("+")[0].split("-")[0]
            return date, time or "000000"
    return "19700101", "000000"


def _equipment_key(item: Dataset) -> bytes:
    from qrscp.dicom.values import sequence_fingerprint

    stripped = Dataset()
    for elem in item:
        if elem.keyword != "ContributionDateTime":
            stripped.add(elem)
    return sequence_fingerprint([stripped])


_CONTRIBUTING_EQUIPMENT_SEQUENCE = keyword_tag("ContributingEquipmentSequence")


def contributing_equipment(sources: Sequence[Dataset], description: str, timestamp: tuple[str, str]) -> list[Dataset]:
    """Contributing Equipment Sequence of a new instance (C.3.5): the sources' items when they agree
    (Contribution DateTime excluded), then one new item for this conversion."""
    items: list[Dataset] = []
    tag = _CONTRIBUTING_EQUIPMENT_SEQUENCE
    sequences = [list(ds[tag].value or []) if tag in element_dict(ds) else [] for ds in sources]
    if sequences and all(sequences):
        first = sequences[0]
        keys = [_equipment_key(i) for i in first]
        if all(len(s) == len(first) and [_equipment_key(i) for i in s] == keys for s in sequences[1:]):
            items = [copy.deepcopy(i) for i in first]
    item = Dataset()
    item.Manufacturer = CONVERTER_MANUFACTURER
    item.ManufacturerModelName = "qrscp convert"
    item.ContributionDateTime = timestamp[0] + timestamp[1]
    item.ContributionDescription = description
    item.PurposeOfReferenceCodeSequence = [code_item(*ENHANCED_MULTIFRAME_CONVERSION_EQUIPMENT)]
    items.append(item)
    return items


def file_meta_for(ds: Dataset, transfer_syntax: str = ExplicitVRLittleEndian) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta
