"""Values read for the index: the fast reading of raw text equals pydicom's converted value."""

from __future__ import annotations

import io

import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset

from qrscp.index.keys import KEYS
from qrscp.index.values import _ascii_text, element_int, element_text
from qrscp.testing.factory import PatientSpec, make_series

KEYWORDS = sorted({key.keyword for key in KEYS if key.vr != "SQ" and key.column is not None})


def _raw_header(ds: Dataset, implicit: bool) -> Dataset:
    """`ds` as a C-STORE header arrives: every element still raw."""
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = implicit, True
    write_dataset(buffer, ds)
    header = read_dataset(io.BytesIO(buffer.getvalue()), implicit, True)
    assert any(isinstance(header.get_item(tag), RawDataElement) for tag in header.keys())
    return header


def _converted(header: Dataset) -> Dataset:
    converted = Dataset()
    for tag in header.keys():
        try:
            converted.add(header[tag])
        except Exception:  # noqa: BLE001 -- an unconvertible value stays raw, as in the index
            converted.add(header.get_item(tag))
    return converted


def _datasets():
    for modality in ("CT", "MR", "PET"):
        yield modality, make_series(modality, slices=1, rows=8, columns=8, seed=3)[0]
        yield f"{modality}-invalid", make_series(modality, slices=1, rows=8, columns=8, seed=4,
                                                 invalid_values=True)[0]
    latin = make_series("CT", slices=1, rows=8, columns=8, seed=5, patient=PatientSpec(name="Müller^Jürgen", patient_id="PID-LATIN"))[0]
    latin.InstitutionName = "Hôpital Saint-Éloi"
    yield "latin-1", latin
    odd = make_series("MR", slices=1, rows=8, columns=8, seed=6)[0]
    odd.InstanceNumber = "0007 "
    odd.ImageType = ["ORIGINAL", "PRIMARY", "", "AXIAL "]
    odd.AccessionNumber = " A12\\B3 "
    odd.StudyID = ""
    odd.Rows = [8, 8]  # a binary integer with two values, and one empty
    odd.Columns = None
    yield "odd-text", odd
    japanese = make_series("CT", slices=1, rows=8, columns=8, seed=7)[0]
    japanese.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    japanese.StudyDescription = "\x1b$B;3ED\x1b(B"  # 7-bit ISO 2022 bytes: never read as ASCII text
    yield "iso-2022", japanese


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
@pytest.mark.parametrize("name, ds", list(_datasets()), ids=[name for name, _ in _datasets()])
def test_raw_text_equals_converted_text(name, ds, implicit):
    header = _raw_header(ds, implicit)
    converted = _converted(_raw_header(ds, implicit))
    # The fast reading is taken for the UIDs of every header (raw, ASCII, default repertoire).
    assert _ascii_text(header, 0x00080018, "UI") == str(ds.SOPInstanceUID)
    for keyword in KEYWORDS:
        assert element_text(header, keyword) == element_text(converted, keyword), keyword
        assert element_int(header, keyword) == element_int(converted, keyword), keyword
