"""Elements made and moved without pydicom's per-element work read and write as pydicom's own do."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from qrscp.dicom.datasets import element_dict, new_dataset
from qrscp.dicom.elements import add_moved, copy_element, empty_element, generated_element, put, reusable_element
from qrscp.testing.factory import make_series, write_datasets


def _written(elements: list[DataElement | RawDataElement]) -> bytes:
    """`elements` in a data set written by pydicom's writer as Explicit VR Little Endian."""
    ds = new_dataset({BaseTag(elem.tag): elem for elem in elements})
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_dataset(buffer, ds)
    return buffer.getvalue()


GENERATED = [
    (0x00080018, "UI", "1.2.3"),  # odd length: NUL padding
    (0x00080070, "LO", "ACME"),
    (0x00080060, "CS", "CT"),
    (0x00280030, "DS", ["0.5", "0.25"]),
    (0x00200013, "IS", "7"),
    (0x00280010, "US", 512),
    (0x00280010, "US", 0),
    (0x00100010, "PN", "Müller^Jörg"),  # not ASCII: a pydicom element
    (0x00280106, "US", [1, 2]),  # several values: a pydicom element
    (0x00181050, "DS", 0.5),  # not text: a pydicom element
]


@pytest.mark.parametrize(("tag", "vr", "value"), GENERATED, ids=lambda v: repr(v))
def test_generated_element_writes_and_reads_as_pydicoms(tag: int, vr: str, value: object) -> None:
    made = generated_element(BaseTag(tag), vr, value)
    reference = DataElement(tag, vr, value, validation_mode=pydicom.config.IGNORE)
    assert _written([made]) == _written([reference])
    holder = new_dataset({BaseTag(tag): made})
    assert holder[tag].value == reference.value and holder[tag].VR == vr


def test_generated_ascii_text_and_us_are_raw() -> None:
    assert type(generated_element(BaseTag(0x00080060), "CS", "MR")) is RawDataElement
    assert type(generated_element(BaseTag(0x00280010), "US", 64)) is RawDataElement
    assert type(generated_element(BaseTag(0x00100010), "PN", "Müller")) is DataElement
    assert type(generated_element(BaseTag(0x00280106), "US", 70000)) is DataElement  # not validated


def _read(tmp_path: Path, transfer_syntax: str) -> Dataset:
    series = make_series("CT", slices=1, rows=8, columns=8, seed=9, contrast=True, transfer_syntax=transfer_syntax)
    return pydicom.dcmread(write_datasets(series, tmp_path)[0])


def test_reusable_element_of_explicit_little_endian_is_the_raw_element(tmp_path: Path) -> None:
    ds = _read(tmp_path, ExplicitVRLittleEndian)
    raw = element_dict(ds)[BaseTag(0x00080060)]
    assert type(raw) is RawDataElement
    assert reusable_element(ds, BaseTag(0x00080060)) is raw


def test_reusable_element_of_implicit_vr_is_a_decoded_copy(tmp_path: Path) -> None:
    ds = _read(tmp_path, ImplicitVRLittleEndian)
    elem = reusable_element(ds, BaseTag(0x00080060))
    assert type(elem) is DataElement and elem == ds[0x00080060] and elem is not ds[0x00080060]


def test_reusable_sequence_is_a_deep_copy(tmp_path: Path) -> None:
    ds = _read(tmp_path, ExplicitVRLittleEndian)
    tag = BaseTag(0x00180012)  # Contrast/Bolus Agent Sequence
    elem = reusable_element(ds, tag)
    assert elem.VR == "SQ" and elem == ds[tag]
    assert elem.value[0] is not ds[tag].value[0]
    assert copy_element(ds, tag) == ds[tag] and copy_element(ds, tag).value[0] is not ds[tag].value[0]


def test_put_keeps_a_moved_element_raw_and_add_moved_adds_sequences_through_pydicom(tmp_path: Path) -> None:
    source = _read(tmp_path, ExplicitVRLittleEndian)
    item = new_dataset()
    put(item, reusable_element(source, BaseTag(0x00080070)))
    assert type(element_dict(item)[BaseTag(0x00080070)]) is RawDataElement
    assert item.Manufacturer == source.Manufacturer
    add_moved(item, reusable_element(source, BaseTag(0x00180012)))
    assert type(element_dict(item)[BaseTag(0x00180012)]) is DataElement
    assert item.ContrastBolusAgentSequence == source.ContrastBolusAgentSequence


@pytest.mark.parametrize(("vr", "value"), [("LO", None), ("SQ", [])])
def test_empty_element_writes_as_pydicoms_empty(vr: str, value: object) -> None:
    tag = 0x00081032 if vr == "SQ" else 0x00080070
    made = empty_element(BaseTag(tag), vr)
    assert made.value == value and made.is_empty
    assert _written([made]) == _written([DataElement(tag, vr, value)])
