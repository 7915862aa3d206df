"""The Explicit VR Little Endian encoder writes what pydicom's writer writes, value for value."""

from __future__ import annotations

import io
import warnings

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from qrscp.convert import UIDSource, to_classic, to_enhanced, write_part10
from qrscp.dicom.values import value_key
from qrscp.testing.factory import make_series


def series_for(modality: str, **variant: object) -> list[Dataset]:
    """A small factory series (4 slices of 32x32) with the `make_series` keyword arguments `variant`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_series(modality, slices=4, rows=32, columns=32, seed=7, **variant)


def _same(a: Dataset, b: Dataset, path: str = "") -> list[str]:
    differences = []
    for tag in sorted(set(a.keys()) | set(b.keys())):
        if tag not in a or tag not in b:
            differences.append(f"{path}{tag} present in one only")
        elif a[tag].VR == "SQ":
            if len(a[tag].value) != len(b[tag].value):
                differences.append(f"{path}{tag} item count")
            for index, (x, y) in enumerate(zip(a[tag].value, b[tag].value)):
                differences.extend(_same(x, y, f"{path}{tag}[{index}]."))
        elif a[tag].VR != b[tag].VR or value_key(a, tag) != value_key(b, tag):
            differences.append(f"{path}{tag} {a[tag]!r} != {b[tag]!r}")
    return differences


def _outputs():
    uids = UIDSource("encoder")
    outputs = to_enhanced(list(series_for("CT", overlay=True)) + list(series_for("PET", invalid_values=True, missing_type2=True)), uids=uids)
    outputs += to_classic(pydicom.dcmread(get_testdata_file("eCT_Supplemental.dcm")), uids=uids)
    outputs += to_enhanced(list(series_for("MR", transfer_syntax="1.2.840.10008.1.2.4.90")), uids=uids)
    return outputs


@pytest.mark.parametrize("index", range(4))
def test_fast_encoder_matches_pydicom(index, tmp_path):
    outputs = _outputs()
    picks = [o for o in outputs][index:: 4]
    for conversion in picks:
        path = tmp_path / "fast.dcm"
        write_part10(conversion, path)
        buffer = io.BytesIO()
        pydicom.dcmwrite(buffer, conversion.dataset, enforce_file_format=True)
        buffer.seek(0)
        reference = pydicom.dcmread(buffer)
        fast = pydicom.dcmread(path)
        assert fast.file_meta.TransferSyntaxUID == reference.file_meta.TransferSyntaxUID
        assert _same(reference, fast) == []
