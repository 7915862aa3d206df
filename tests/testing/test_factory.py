"""Tests of the test data factory: IOD validity (dciodvfy), determinism, variants, transfer syntaxes."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from qrscp.testing import factory
from qrscp.testing.dcmtk import dciodvfy_errors, dciodvfy_path

MODALITIES = ["CT", "MR", "PET"]

needs_dciodvfy = pytest.mark.skipif(dciodvfy_path() is None, reason="dicom3tools dciodvfy not installed")


@needs_dciodvfy
@pytest.mark.parametrize("modality", MODALITIES)
def test_series_files_pass_dciodvfy(modality, tmp_path):
    paths = factory.write_datasets(factory.make_series(modality, slices=3, overlay=True), tmp_path)
    assert len(paths) == 3
    for path in paths:
        assert dciodvfy_errors(path) == []


@pytest.mark.parametrize("modality", MODALITIES)
def test_series_is_deterministic_for_a_seed(modality, tmp_path):
    first = factory.write_datasets(factory.make_series(modality, slices=2, seed=7), tmp_path / "a")
    second = factory.write_datasets(factory.make_series(modality, slices=2, seed=7), tmp_path / "b")
    other = factory.make_series(modality, slices=2, seed=8)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert other[0].SOPInstanceUID != pydicom.dcmread(first[0]).SOPInstanceUID


@pytest.mark.parametrize("modality", MODALITIES)
def test_series_geometry_and_pixels_vary_per_slice(modality):
    series = factory.make_series(modality, slices=4)
    positions = {tuple(ds.ImagePositionPatient) for ds in series}
    assert len(positions) == 4
    assert [ds.InstanceNumber for ds in series] == [1, 2, 3, 4]
    assert len({ds.AcquisitionTime for ds in series}) == 4
    assert len({ds.SeriesInstanceUID for ds in series}) == 1
    assert not np.array_equal(series[0].pixel_array, series[1].pixel_array)
    assert series[0].file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert series[0].file_meta.MediaStorageSOPInstanceUID == series[0].SOPInstanceUID


@pytest.mark.parametrize("modality", MODALITIES)
@pytest.mark.parametrize("transfer_syntax", list(factory.TRANSFER_SYNTAXES))
def test_transfer_syntax_round_trips_pixels(modality, transfer_syntax, tmp_path):
    info = factory.TRANSFER_SYNTAXES[transfer_syntax]
    bits = {"8": 8}.get(str(info.max_bits_stored), 16)
    source = factory.make_series(modality, slices=1, bits_allocated=bits)[0]
    try:
        encoded = factory.encode(source, transfer_syntax)
    except factory.TransferSyntaxUnavailable as exc:
        pytest.skip(str(exc))
    (path,) = factory.write_datasets([encoded], tmp_path)
    back = pydicom.dcmread(path)
    assert back.file_meta.TransferSyntaxUID == transfer_syntax
    assert back.SOPInstanceUID == source.SOPInstanceUID
    decoded = back.pixel_array.astype(np.int32)
    original = source.pixel_array.astype(np.int32)
    if info.lossless:
        assert np.array_equal(decoded, original)
    else:
        assert decoded.shape == original.shape
        assert np.abs(decoded - original).mean() < 0.05 * (original.max() - original.min())
    if transfer_syntax != DeflatedExplicitVRLittleEndian and dciodvfy_path() and bits == 16:
        # dicom3tools cannot read deflated files; 8-bit CT/MR/PET is outside the IODs by design.
        assert dciodvfy_errors(path) == []
