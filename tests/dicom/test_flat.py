"""The flat encoders write what pydicom writes, or refuse (NotFlat) and leave it to pydicom."""

from __future__ import annotations

import pytest
from pydicom.config import IGNORE
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

from qrscp.dicom.flat import NotFlat, encode_flat_values, encode_little_endian


def _pydicom(values, implicit_vr: bool) -> bytes:
    """What a response data set built from `values` encodes to (an unconvertible value: empty)."""
    ds = Dataset()
    for tag, vr, value in values:
        try:
            ds.add(DataElement(tag, vr, value, validation_mode=IGNORE))
        except (TypeError, ValueError):
            ds.add(DataElement(tag, vr, None))
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = implicit_vr, True
    write_dataset(fp, ds)
    return fp.getvalue()


CASES = [
    [(0x00080052, "CS", "IMAGE"), (0x00080054, "AE", "QRSCP"), (0x00080056, "CS", "ONLINE")],
    [(0x00080018, "UI", "1.2.3"), (0x00080020, "DA", None), (0x00080030, "TM", "")],  # UI padded with NUL
    [(0x00080008, "CS", ["ORIGINAL", "PRIMARY", "AXIAL"]), (0x00080061, "CS", ["CT", "SR"])],
    [(0x00200013, "IS", "12"), (0x00201208, "IS", 500), (0x00180050, "DS", "0.625")],
    [(0x00200013, "IS", "1.0"), (0x00280030, "DS", ["0.5", "0.5"]), (0x00200032, "DS", "-1e3")],
    [(0x00100010, "PN", "Doe^John"), (0x00081030, "LO", "CT CHEST"), (0x00200010, "SH", "S1")],
    [(0x00100010, "PN", ""), (0x00104000, "LT", "odd")],
]
REFUSED = [
    [(0x00200013, "IS", "x")],  # pydicom answers it empty
    [(0x00200013, "IS", "1.5")],
    [(0x00180050, "DS", "abc")],
    [(0x00100010, "PN", "Müller^Jürgen")],  # the character set decides: pydicom
    [(0x00081032, "SQ", None)],
    [(0x00280010, "US", 512)],
]


@pytest.mark.parametrize("implicit_vr", [True, False], ids=["implicit", "explicit"])
@pytest.mark.parametrize("values", CASES)
def test_flat_values_encode_as_pydicom_writes_them(values, implicit_vr):
    values = sorted(values)
    assert encode_flat_values(values, implicit_vr) == _pydicom(values, implicit_vr)


@pytest.mark.parametrize("values", REFUSED)
def test_values_pydicom_would_change_are_refused(values):
    with pytest.raises(NotFlat):
        encode_flat_values(values, False)


@pytest.mark.parametrize("implicit_vr", [True, False], ids=["implicit", "explicit"])
def test_little_endian_encoding_falls_back_to_pydicom(implicit_vr):
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Müller^Jürgen"
    ds.ReferencedSeriesSequence = [Dataset()]
    ds.ReferencedSeriesSequence[0].SeriesInstanceUID = "1.2"
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = implicit_vr, True
    write_dataset(fp, ds)
    assert encode_little_endian(ds, implicit_vr) == fp.getvalue()
