"""Data sets made by copying state are the data sets pydicom's constructors make."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.tag import BaseTag

from qrscp.dicom.datasets import (
    element_dict,
    new_dataset,
    new_explicit_little_file_dataset,
    new_file_meta,
    set_element_dict,
)
from qrscp.testing.factory import make_series, write_datasets


def _patient_name(value: str) -> dict[BaseTag, DataElement]:
    return {BaseTag(0x00100010): DataElement(0x00100010, "PN", value)}


@pytest.mark.parametrize("elements", [None, _patient_name("Doe^Jane")])
def test_new_dataset_is_the_constructors(elements: dict | None) -> None:
    made = new_dataset(elements)
    expected = Dataset(elements) if elements is not None else Dataset()
    assert type(made) is Dataset
    assert vars(made) == vars(expected)
    if elements is not None:
        assert made._dict is elements  # held, as Dataset(dict) holds it


def test_new_datasets_share_no_state() -> None:
    first, second = new_dataset(), new_dataset()
    first.PatientName = "Doe^Jane"
    first.private_block(0x0009, "QRSCP TEST", create=True).add_new(0x01, "LO", "x")
    first._pixel_array_opts["use_pdh"] = True
    assert "PatientName" not in second and not second._private_blocks
    assert second._pixel_array_opts == {"use_pdh": False}
    assert {name for name, value in vars(first).items() if isinstance(value, dict) and value is vars(second)[name]} == set()


def test_new_file_meta_is_what_the_reader_makes(tmp_path: Path) -> None:
    path = write_datasets(make_series("CT", slices=1, rows=8, columns=8, seed=3), tmp_path)[0]
    reference = pydicom.dcmread(path).file_meta
    made = new_file_meta(dict(reference._dict))
    assert type(made) is FileMetaDataset
    assert made == reference
    assert {k: v for k, v in vars(made).items() if k != "_dict"} == \
        {k: v for k, v in vars(reference).items() if k != "_dict"}


def test_new_file_dataset_is_the_constructors(tmp_path: Path) -> None:
    path = write_datasets(make_series("MR", slices=1, rows=8, columns=8, seed=4), tmp_path)[0]
    read = pydicom.dcmread(path)
    expected = FileDataset(str(path), Dataset(dict(read._dict)), read.preamble, read.file_meta,
                           is_implicit_VR=False, is_little_endian=True)
    expected.set_original_encoding(False, True, "iso8859")
    made = new_explicit_little_file_dataset(str(path), dict(read._dict), preamble=read.preamble,
                                            file_meta=read.file_meta, timestamp=os.stat(path).st_mtime,
                                            character_set="iso8859")
    assert type(made) is FileDataset
    assert {k: v for k, v in vars(made).items() if k != "_dict"} == \
        {k: v for k, v in vars(expected).items() if k != "_dict"}
    assert made == expected


def test_element_dict_is_the_datasets_own_and_reads_nothing(tmp_path: Path) -> None:
    path = write_datasets(make_series("CT", slices=1, rows=8, columns=8, seed=6), tmp_path)[0]
    ds = pydicom.dcmread(path)
    elements = element_dict(ds)
    assert list(elements) == list(ds.keys())
    assert 0x00100010 in elements and BaseTag(0x00100010) in elements
    assert type(elements[BaseTag(0x00100010)]).__name__ == "RawDataElement"  # not decoded by the look-ups
    elements[BaseTag(0x00100020)] = DataElement(0x00100020, "LO", "ID-1")
    assert ds.PatientID == "ID-1"
    assert element_dict(ds) is elements


def test_set_element_dict_replaces_every_element() -> None:
    ds = new_dataset(_patient_name("Doe^Jane"))
    replacement = {BaseTag(0x00100020): DataElement(0x00100020, "LO", "ID-2")}
    set_element_dict(ds, replacement)
    assert "PatientName" not in ds and ds.PatientID == "ID-2"
    assert element_dict(ds) is replacement
    assert ds == Dataset(replacement)
