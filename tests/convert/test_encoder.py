"""The Explicit VR Little Endian encoder writes what pydicom's writer writes, value for value."""

from __future__ import annotations

import io

import pydicom
import pytest
from convert_checks import series_for
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from qrscp.convert import UIDSource, to_classic, to_enhanced, write_part10
from qrscp.convert.attributes import value_key


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
    outputs = to_enhanced(list(series_for("CT", "overlay")) + list(series_for("PET", "invalid-and-missing")), uids=uids)
    outputs += to_classic(pydicom.dcmread(get_testdata_file("eCT_Supplemental.dcm")), uids=uids)
    outputs += to_enhanced(list(series_for("MR", "jpeg2000")), uids=uids)
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
