"""Comparison keys of attributes: a sequence's key read off its bytes equals the key of the decoded one."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence

from qrscp.dicom import values as attrs
from qrscp.dicom.reader import parse_explicit_little_endian, read_explicit_little_endian
from qrscp.testing.factory import make_gsps, make_kos, make_rtstruct, make_series, make_sr
from qrscp.testing.files import testdata_files as pydicom_test_files


def make_references(images: list[Dataset]) -> list[Dataset]:
    """A presentation state, SR, KOS and RT Structure Set of `images` (sequences nested several deep)."""
    return [make(images) for make in (make_gsps, make_sr, make_kos, make_rtstruct)]

def _raw_sequences(ds: Dataset) -> Iterator[tuple[Dataset, int, bytes]]:
    """Every raw sequence of `ds` and of its items, with the item holding it."""
    for tag in list(ds._dict):
        raw = ds._dict[tag]
        if type(raw) is RawDataElement and raw.VR == "SQ" and raw.value is not None:
            yield ds, tag, bytes(raw.value)
            for item in ds[tag].value:
                yield from _raw_sequences(item)

def _read(path: str) -> Dataset | None:
    """`path` read with every sequence raw (pydicom's reader parses undefined-length ones at once)."""
    return read_explicit_little_endian(path, defer_size=1024)

def _explicit_little_endian_files() -> list[str]:
    return [path for path in map(str, pydicom_test_files("*.dcm"))
            if (ds := _read(path)) is not None and any(_raw_sequences(ds))]

def _encoded(ds: Dataset) -> Dataset:
    """`ds` written as Explicit VR Little Endian and read back (its sequences raw)."""
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_dataset(buffer, ds)
    read = parse_explicit_little_endian(buffer.getvalue())
    assert read is not None
    return read

@pytest.mark.parametrize("path", _explicit_little_endian_files(), ids=lambda p: p.rsplit("/", 1)[-1])
def test_raw_sequence_key_equals_decoded_key_on_pydicom_files(path: str) -> None:
    ds = _read(path)
    checked = 0
    for holder, tag, value in _raw_sequences(ds):
        fast = attrs.raw_sequence_key(value)
        assert fast is not attrs._NOT_READ, tag
        assert fast == attrs.value_key(holder, tag), tag
        checked += 1
    assert checked

@pytest.mark.parametrize("modality", ["CT", "MR", "PET"])
def test_raw_sequence_key_equals_decoded_key_on_factory_objects(modality: str) -> None:
    series = make_series(modality, slices=2, rows=16, columns=16, seed=3, contrast=True)
    objects = [*series, *make_references(series)]
    checked = 0
    for original in objects:
        for holder, tag, value in _raw_sequences(_encoded(original)):
            assert attrs.raw_sequence_key(value) == attrs.value_key(holder, tag), tag
            checked += 1
    assert checked > 10

def _item(**values: object) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item

def test_defined_and_undefined_lengths_give_one_key() -> None:
    inner = Sequence([_item(CodeValue="T-D3000", CodingSchemeDesignator="SRT", CodeMeaning="Chest")])
    keys = set()
    for undefined in (False, True):
        ds = Dataset()
        ds.AnatomicRegionSequence = [_item(CodeValue="1", AnatomicRegionModifierSequence=inner)]
        ds.AnatomicRegionSequence.is_undefined_length = undefined
        ds.AnatomicRegionSequence[0].is_undefined_length_sequence_item = undefined
        ds["AnatomicRegionSequence"].is_undefined_length = undefined
        read = _encoded(ds)
        raw = read._dict[0x00082218]
        keys.add(attrs.raw_sequence_key(bytes(raw.value)))
    assert len(keys) == 1
    assert keys.pop().startswith(b"SQ1[")

def test_empty_sequence_has_no_key() -> None:
    assert attrs.raw_sequence_key(b"") is None
    assert attrs.raw_sequence_key(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00") is None

def test_padding_of_text_values_does_not_change_the_key() -> None:
    def sequence(value: bytes) -> bytes:
        element = struct.pack("<HH2sH", 0x0008, 0x0100, b"SH", len(value)) + value
        return struct.pack("<HHI", 0xFFFE, 0xE000, len(element)) + element

    assert attrs.raw_sequence_key(sequence(b"ABCD")) == attrs.raw_sequence_key(sequence(b"ABCD  "))
    assert attrs.raw_sequence_key(sequence(b"ABCD")) != attrs.raw_sequence_key(sequence(b"ABCE"))

def test_unusual_encodings_are_left_to_pydicom() -> None:
    valid = _encoded(make_references(make_series("CT", slices=2, rows=16, columns=16, seed=5))[0])
    values = [value for _, _, value in _raw_sequences(valid)]
    assert values
    rng = random.Random(157)
    outcomes = set()
    for _ in range(300):
        value = bytearray(rng.choice(values))
        for _ in range(rng.randint(1, 4)):
            value[rng.randrange(len(value))] = rng.randrange(256)
        cut = bytes(value[:rng.randint(0, len(value))]) if rng.random() < 0.3 else bytes(value)
        key = attrs.raw_sequence_key(cut)  # never raises
        outcomes.add("not read" if key is attrs._NOT_READ else "key")
    assert outcomes == {"not read", "key"}
    assert attrs.raw_sequence_key(b"\x08\x00\x18\x00UI\x02\x001\x00") is attrs._NOT_READ  # not an item


TEXT_KEYWORDS = ["SOPInstanceUID", "Modality", "ImageType", "PixelSpacing", "InstanceNumber", "StudyDate", "Manufacturer"]


@pytest.mark.parametrize("transfer_syntax", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"])
@pytest.mark.parametrize("modality", ["CT", "MR", "PET"])
def test_text_unsigned_and_frames_read_what_pydicom_decodes(tmp_path, modality: str, transfer_syntax: str) -> None:
    import pydicom
    from pydicom.multival import MultiValue

    from qrscp.testing.files import write_datasets

    series = make_series(modality, slices=1, rows=12, columns=10, seed=4, transfer_syntax=transfer_syntax)
    path = write_datasets(series, tmp_path)[0]
    fast, reference = pydicom.dcmread(path), pydicom.dcmread(path)
    for keyword in TEXT_KEYWORDS:
        value = reference[keyword].value
        expected = "\\".join(map(str, value)) if isinstance(value, MultiValue) else str(value)
        assert attrs.text(fast, keyword) == expected, keyword
    assert attrs.text(fast, "AcquisitionDeviceProcessingCode") == ""  # absent
    assert attrs.unsigned(fast, "Rows") == reference.Rows == 12
    assert attrs.unsigned(fast, "Columns") == reference.Columns == 10
    assert attrs.unsigned(fast, "BitsAllocated") == reference.BitsAllocated
    assert "PlanarConfiguration" not in reference and attrs.unsigned(fast, "PlanarConfiguration", default=-1) == -1
    assert attrs.number_of_frames(fast) == 1


@pytest.mark.parametrize(("value", "frames"), [("12", 12), ("3 ", 3), ("1.0", 1), ("many", None), ("", 1)])
def test_number_of_frames_as_pydicom_reads_it(value: str, frames: int | None) -> None:
    ds = Dataset()
    ds.add_new(0x00280008, "IS", None)
    ds[0x00280008] = RawDataElement(ds[0x00280008].tag, "IS", len(value), value.encode(), 0, False, True)
    assert attrs.number_of_frames(ds) == frames
