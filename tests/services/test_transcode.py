"""Transcoding on retrieve: the syntax chosen for a receiver and the bytes produced in it."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.dataset import Dataset
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    RLELossless,
)

from qrscp.services.transcode import NATIVE_TARGETS, TranscodeError, choose_syntax, encode_file
from qrscp.testing.encoding import available_transfer_syntaxes
from qrscp.testing.factory import make_series, write_datasets

STORED = available_transfer_syntaxes()


def _decode(data: bytes, syntax: str) -> Dataset:
    import zlib

    syntax = UID(syntax)
    if syntax.is_deflated:
        data = zlib.decompress(data, -zlib.MAX_WBITS)
    ds = read_dataset(DicomBytesIO(data), syntax.is_implicit_VR, syntax.is_little_endian)
    ds.file_meta = Dataset()
    ds.file_meta.TransferSyntaxUID = syntax
    return ds


def test_choose_syntax_prefers_the_stored_one_then_uncompressed_little_endian():
    assert choose_syntax(RLELossless, [ExplicitVRLittleEndian, RLELossless]) == RLELossless
    assert choose_syntax(ExplicitVRBigEndian, [ImplicitVRLittleEndian, ExplicitVRBigEndian]) == ExplicitVRBigEndian
    assert choose_syntax(ExplicitVRBigEndian, [ExplicitVRBigEndian, ExplicitVRLittleEndian]) == ExplicitVRBigEndian
    assert choose_syntax(JPEG2000Lossless, [ExplicitVRBigEndian, ImplicitVRLittleEndian]) == ImplicitVRLittleEndian
    assert choose_syntax(DeflatedExplicitVRLittleEndian, [ExplicitVRBigEndian]) == ExplicitVRBigEndian
    # Lossy syntaxes are never produced; lossless ones only with an installed encoder.
    assert choose_syntax(ExplicitVRLittleEndian, [JPEGBaseline8Bit]) is None
    assert choose_syntax(ExplicitVRLittleEndian, []) is None


@pytest.mark.parametrize("target", NATIVE_TARGETS, ids=lambda uid: UID(uid).name)
@pytest.mark.parametrize("stored", STORED, ids=lambda uid: UID(uid).name)
def test_every_stored_syntax_encodes_to_every_uncompressed_syntax(tmp_path, stored, target):
    [original] = make_series("MR", slices=1, seed=21, transfer_syntax=stored, overlay=True)
    [path] = write_datasets([original], tmp_path)
    result = _decode(encode_file(path, target), target)
    assert result.SOPInstanceUID == original.SOPInstanceUID
    assert result.PatientName == original.PatientName
    np.testing.assert_array_equal(result.pixel_array, original.pixel_array)
    assert _overlay_little_endian(result) == _overlay_little_endian(original)


def _overlay_little_endian(ds: Dataset) -> bytes:
    """Overlay Data as little endian bytes (pydicom's overlay_array does not swap big endian words)."""
    value = ds[0x6000, 0x3000].value
    if ds.file_meta.TransferSyntaxUID == ExplicitVRBigEndian:
        value = np.frombuffer(value, ">u2").astype("<u2").tobytes()
    return value


@pytest.mark.skipif(RLELossless not in STORED, reason="RLE encoder not available")
def test_uncompressed_data_is_compressed_losslessly_when_that_is_all_the_receiver_takes(tmp_path):
    [original] = make_series("CT", slices=1, seed=22, transfer_syntax=ExplicitVRBigEndian)
    [path] = write_datasets([original], tmp_path)
    assert choose_syntax(ExplicitVRBigEndian, [RLELossless]) == RLELossless
    result = _decode(encode_file(path, RLELossless), RLELossless)
    np.testing.assert_array_equal(result.pixel_array, original.pixel_array)


def test_an_unreadable_file_raises_a_transcode_error(tmp_path):
    path = tmp_path / "broken.dcm"
    path.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00")
    with pytest.raises(TranscodeError):
        encode_file(path, ExplicitVRLittleEndian)


@pytest.mark.parametrize("stored", STORED, ids=lambda uid: UID(uid).name)
def test_a_dataset_encoded_in_its_own_syntax_is_written_as_it_is(stored):
    from qrscp.services.transcode import encode

    [original] = make_series("MR", slices=1, seed=23, transfer_syntax=stored)
    result = _decode(encode(original.copy(), stored), stored)
    assert result.PixelData == original.PixelData  # still compressed as it was, not decoded
    np.testing.assert_array_equal(result.pixel_array, original.pixel_array)
