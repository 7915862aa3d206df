"""The fast Explicit VR Little Endian reader gives what pydicom's reader gives, or hands over to it."""

from __future__ import annotations

import random
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    RLELossless,
)

from qrscp.convert import UIDSource, to_enhanced, write_part10
from qrscp.convert.io import DEFER_SIZE, read_source
from qrscp.dicom.reader import parse_explicit_little_endian, read_explicit_little_endian
from qrscp.testing.encoding import is_available
from qrscp.testing.factory import make_series, write_datasets
from qrscp.testing.files import testdata_files as pydicom_test_files

ENCAPSULATED = [JPEGLosslessSV1, JPEG2000Lossless, RLELossless]


def assert_same_dataset(fast: Dataset, reference: Dataset) -> None:
    """Same elements, raw values, offsets, deferral, File Meta, preamble and encoding as pydicom's read."""
    assert list(fast._dict) == list(reference._dict)
    assert fast.file_meta == reference.file_meta
    assert fast.preamble == reference.preamble
    assert fast.original_encoding == reference.original_encoding
    assert fast._character_set == reference._character_set
    assert fast.original_character_set == reference.original_character_set
    assert fast.filename == reference.filename
    # the whole instance state (modification time, encodings, flags), as pydicom's constructors leave it
    assert type(fast) is type(reference) and type(fast.file_meta) is type(reference.file_meta)
    assert _state(fast) == _state(reference)
    assert _state(fast.file_meta) == _state(reference.file_meta)
    for tag, expected in reference._dict.items():
        got = fast._dict[tag]
        if isinstance(expected, RawDataElement) and isinstance(got, RawDataElement):
            # tag, VR, length, value (None when deferred), value offset, implicit, little endian
            assert tuple(got)[:7] == tuple(expected)[:7], tag
        else:  # sequences (pydicom's reader parses them at once), Specific Character Set (decoded on reading)
            assert fast[tag].VR == expected.VR, tag
            assert fast[tag].value == reference[tag].value, tag
            assert fast[tag].is_undefined_length == reference[tag].is_undefined_length, tag


def _state(dataset: Dataset) -> dict[str, object]:
    return {name: value for name, value in vars(dataset).items() if name not in ("_dict", "file_meta")}


def _write_series(directory: Path, modality: str, transfer_syntax: str, **variants: object) -> list[Path]:
    if not is_available(transfer_syntax):
        pytest.skip(f"no encoder for {transfer_syntax}")
    series = make_series(modality, slices=4, rows=32, columns=32, seed=11, transfer_syntax=transfer_syntax,
                         **variants)
    return write_datasets(series, directory)


@pytest.mark.parametrize("modality", ["CT", "MR", "PET"])
@pytest.mark.parametrize("transfer_syntax", [ExplicitVRLittleEndian, *ENCAPSULATED])
@pytest.mark.parametrize("defer", [True, False])
def test_factory_series_read_as_pydicom_reads_them(tmp_path: Path, modality: str, transfer_syntax: str,
                                                    defer: bool) -> None:
    variants = {"private_block_bytes": 70_000, "overlay": True, "invalid_values": True}
    for path in _write_series(tmp_path, modality, transfer_syntax, **variants):
        defer_size = DEFER_SIZE if defer else None
        fast = read_explicit_little_endian(path, defer_size=defer_size)
        assert fast is not None
        reference = pydicom.dcmread(str(path), defer_size=defer_size, force=True)
        assert_same_dataset(fast, reference)
        # Deferred values come back from the file as pydicom reads them.
        assert fast.PixelData == reference.PixelData


@pytest.mark.parametrize("transfer_syntax", [ImplicitVRLittleEndian, ExplicitVRBigEndian,
                                             DeflatedExplicitVRLittleEndian])
def test_other_encodings_are_left_to_pydicom(tmp_path: Path, transfer_syntax: str) -> None:
    paths = _write_series(tmp_path, "CT", transfer_syntax)
    assert read_explicit_little_endian(paths[0], defer_size=DEFER_SIZE) is None
    # ... and read_source still reads them.
    ds = read_source(paths[0])
    assert ds.file_meta.TransferSyntaxUID == transfer_syntax
    assert ds.SOPInstanceUID


def test_pydicom_test_files_read_as_pydicom_reads_them() -> None:
    """Every pydicom test file this reader takes is read exactly as pydicom reads it."""
    taken = 0
    for name in map(str, pydicom_test_files("*.dcm")):
        try:
            reference = pydicom.dcmread(name, defer_size=DEFER_SIZE, force=True)
        except Exception:  # noqa: BLE001 - files pydicom itself cannot read are not the question here
            continue
        fast = read_explicit_little_endian(name, defer_size=DEFER_SIZE)
        if fast is None:
            continue
        assert_same_dataset(fast, reference)
        taken += 1
    assert taken >= 20


@pytest.mark.parametrize("damage", ["truncated", "bad_vr", "huge_length", "no_preamble", "empty"])
def test_damaged_files_are_left_to_pydicom(tmp_path: Path, damage: str) -> None:
    path = _write_series(tmp_path, "CT", ExplicitVRLittleEndian)[0]
    content = path.read_bytes()
    meta_end = 132 + 12 + int.from_bytes(content[140:144], "little")
    if damage == "truncated":
        content = content[:meta_end + 300]
    elif damage == "bad_vr":  # first element of the data set gets a VR that is no VR
        content = content[:meta_end + 4] + b"\x01\x02" + content[meta_end + 6:]
    elif damage == "huge_length":
        content = content[:meta_end + 6] + b"\xff\xfe" + content[meta_end + 8:]
    elif damage == "no_preamble":
        content = content[128:]
    else:
        content = b""
    path.write_bytes(content)
    assert read_explicit_little_endian(path, defer_size=DEFER_SIZE) is None


def test_random_damage_never_raises(tmp_path: Path) -> None:
    """Bit flips and truncations give a dataset or None (then pydicom decides), never an exception."""
    path = _write_series(tmp_path, "MR", JPEGLosslessSV1)[0]
    original = path.read_bytes()
    rng = random.Random(157)
    outcomes = {"read": 0, "handed over": 0}
    for _ in range(200):
        content = bytearray(original[:rng.randrange(140, len(original) + 1)])
        for _ in range(rng.randrange(0, 4)):
            position = rng.randrange(132, len(content))
            content[position] = rng.randrange(256)
        path.write_bytes(bytes(content))
        outcomes["read" if read_explicit_little_endian(path, defer_size=DEFER_SIZE) else "handed over"] += 1
    assert outcomes["read"] and outcomes["handed over"]


@pytest.mark.parametrize("transfer_syntax", [ExplicitVRLittleEndian, JPEG2000Lossless])
def test_conversion_is_byte_identical_with_either_reader(tmp_path: Path, transfer_syntax: str) -> None:
    paths = _write_series(tmp_path / "in", "CT", transfer_syntax, per_slice_window=True, private_block_bytes=2048)
    outputs = []
    for reader in ("fast", "pydicom"):
        if reader == "fast":
            sources = [read_source(path) for path in paths]
            assert all(type(ds._dict[0x00080016]) is RawDataElement for ds in sources)
        else:
            sources = [pydicom.dcmread(str(path), defer_size=DEFER_SIZE, force=True) for path in paths]
        (conversion,) = to_enhanced(sources, uids=UIDSource("reader"), materialize_pixels=False)
        out = tmp_path / f"{reader}.dcm"
        write_part10(conversion, out)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


BULK_DATA = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})


@pytest.mark.parametrize("modality", ["CT", "MR", "PET"])
@pytest.mark.parametrize("transfer_syntax", [ExplicitVRLittleEndian, JPEG2000Lossless])
def test_received_data_set_parsed_as_pydicom_parses_it(tmp_path: Path, modality: str, transfer_syntax: str) -> None:
    """The storage service's header parse of a received data set (no File Meta, stop at bulk data)."""
    import io

    from pydicom.filereader import read_dataset

    for path in _write_series(tmp_path, modality, transfer_syntax, invalid_values=True, overlay=True):
        content = path.read_bytes()
        data_set = content[132 + 12 + int.from_bytes(content[140:144], "little"):]
        fast = parse_explicit_little_endian(data_set, stop_at=BULK_DATA)
        reference = read_dataset(io.BytesIO(data_set), False, True, stop_when=lambda tag, vr, length: tag in BULK_DATA)
        assert fast is not None and "PixelData" not in fast
        assert list(fast._dict) == list(reference._dict)
        assert fast.original_encoding == reference.original_encoding
        for tag in reference._dict:
            assert (fast[tag].VR, fast[tag].value) == (reference[tag].VR, reference[tag].value), tag


def test_implicit_data_set_is_left_to_pydicom() -> None:
    from qrscp.testing.malformed import encode_dataset

    ds = make_series("CT", slices=1, rows=8, columns=8)[0]
    assert parse_explicit_little_endian(encode_dataset(ds, ImplicitVRLittleEndian)) is None
    assert parse_explicit_little_endian(encode_dataset(ds, ExplicitVRLittleEndian)) is not None


def test_header_longer_than_the_head_read_is_left_to_pydicom(tmp_path: Path) -> None:
    from qrscp.dicom.reader import HEAD_BYTES

    # A private value larger than the head of the file: without deferral it cannot be read from the head.
    path = _write_series(tmp_path, "CT", ExplicitVRLittleEndian, private_block_bytes=HEAD_BYTES + 1000)[0]
    assert read_explicit_little_endian(path, defer_size=None) is None
    # With deferral, the large private value is skipped but the elements after it lie beyond the head.
    assert read_explicit_little_endian(path, defer_size=DEFER_SIZE) is None
    assert read_source(path).SOPInstanceUID  # pydicom reads it


def test_large_last_value_is_deferred_without_reading_it(tmp_path: Path) -> None:
    """A 1024x1024 slice (2 MiB of Pixel Data, beyond the head) is read by this reader, pixels deferred."""
    path = write_datasets(make_series("MR", slices=1, rows=1024, columns=1024, seed=2), tmp_path)[0]
    fast = read_explicit_little_endian(path, defer_size=DEFER_SIZE)
    assert fast is not None and fast._dict[0x7FE00010].value is None
    assert_same_dataset(fast, pydicom.dcmread(str(path), defer_size=DEFER_SIZE, force=True))
    assert fast.PixelData == pydicom.dcmread(str(path)).PixelData
