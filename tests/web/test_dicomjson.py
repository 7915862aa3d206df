"""The DICOM JSON encoder (PS3.18 F.2) read back by pydicom's ``Dataset.from_json``: every value of
real and factory data sets comes back equal, binary values inline or by URI."""

from __future__ import annotations

from pathlib import Path


import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from qrscp.dicom.reader import read_explicit_little_endian
from qrscp.testing import factory
from qrscp.testing.factory import make_enhanced_mr, make_series, write_datasets
from qrscp.web import dicomjson

CASES = {
    "CT": lambda: make_series("CT", slices=1, rows=16, columns=16, seed=31)[0],
    "MR": lambda: make_series("MR", slices=1, rows=16, columns=16, seed=32)[0],
    "PET": lambda: make_series("PET", slices=1, rows=16, columns=16, seed=33)[0],
    "enhanced MR": lambda: make_enhanced_mr(frames=3, rows=16, columns=16, seed=34),
}
PYDICOM_FILES = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "SC_rgb.dcm", "emri_small.dcm", "JPEG2000.dcm", "liver.dcm"]


def _file(tmp_path, ds: Dataset):
    (path,) = write_datasets([ds], tmp_path)
    return path


def _round_trip(path, bulk: bool):
    ds = dcmread(path, defer_size=1024)
    uris: dict[str, list[int]] = {}

    def bulk_uri(bulk_path):
        uri = "/".join(map(str, bulk_path))
        uris[uri] = bulk_path
        return uri

    encoded = dicomjson.encode(ds, bulk_uri if bulk else None)
    full = dcmread(path)

    def resolve(tag, vr, uri):
        current = full
        steps = uris[uri]
        for i in range(0, len(steps) - 1, 2):
            current = current[steps[i]].value[steps[i + 1]]
        return current[steps[-1]].value

    return Dataset.from_json(encoded, bulk_data_uri_handler=resolve), full, encoded


def _assert_equal(back: Dataset, original: Dataset) -> None:
    assert set(back.keys()) == set(original.keys())
    for element in original:
        other = back[element.tag]
        if element.VR == "SQ":
            assert len(other.value) == len(element.value)
            for a, b in zip(other.value, element.value):
                _assert_equal(a, b)
        elif element.VR == "PN":
            assert [str(v) for v in (other.value if other.VM > 1 else [other.value])] == \
                   [str(v) for v in (element.value if element.VM > 1 else [element.value])], element.tag
        else:
            assert other.value == element.value or (not other.value and not element.value), (element, other)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("bulk", [False, True])
def test_factory_data_sets_round_trip(tmp_path, name, bulk):
    back, original, encoded = _round_trip(_file(tmp_path, CASES[name]()), bulk)
    _assert_equal(back, original)
    assert ("BulkDataURI" in encoded["7FE00010"]) is bulk


@pytest.mark.parametrize("name", PYDICOM_FILES)
def test_pydicom_test_files_round_trip(name):
    path = factory.testdata_file(name)
    back, original, _ = _round_trip(path, True)
    _assert_equal(back, original)


def test_person_name_groups_and_empty_values():
    ds = Dataset()
    ds.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.OtherPatientNames = ["A^B", "", "C^D"]
    ds.PatientID = ""
    ds.add_new(0x00091010, "LO", "x")  # private, no creator: still encoded
    out = dicomjson.encode(ds)
    assert out["00100010"]["Value"] == [{"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎", "Phonetic": "やまだ^たろう"}]
    assert out["00101001"]["Value"][1] is None
    assert out["00100020"] == {"vr": "LO"}
    back = Dataset.from_json(out)
    assert str(back.PatientName) == str(ds.PatientName)


def test_raw_values_are_read_like_pydicom(tmp_path):
    """The raw fast path (values straight off the bytes) against pydicom's own conversion."""
    ds = make_series("CT", slices=1, rows=16, columns=16, seed=35)[0]
    ds.add_new(0x00189345, "FD", 1.5)  # CTDIvol
    ds.add_new(0x00209165, "AT", [0x00200032, 0x00280030])  # Dimension Index Pointer-like AT values
    ds.add_new(0x00280034, "IS", ["1", "2"])
    path = _file(tmp_path, ds)
    raw = dicomjson.encode(dcmread(path, defer_size=1024))
    converted = dcmread(path)
    for element in converted:  # convert every value first: the encoder then takes pydicom's path
        _ = element.value
    assert raw == dicomjson.encode(converted)


REALDATA = Path("/work/shared/realdata")


def _real_files() -> list[Path]:
    if not REALDATA.is_dir():
        return []
    return sorted(p for p in REALDATA.rglob("*") if p.is_file() and p.suffix not in (".md", ".tsv"))


@pytest.mark.slow
@pytest.mark.skipif(not _real_files(), reason="no real scanner data here")
def test_real_scanner_files_encode_and_read_back():
    """Every file of the real-data corpus: the JSON loads in pydicom and its top-level values are the
    file's (a number that is not one, like GE's "P1:" in a DS, is null)."""
    checked = 0
    for path in _real_files():
        try:
            full = dcmread(path)
        except Exception:  # noqa: BLE001 - not DICOM (the corpus' notes)
            continue
        ds = read_explicit_little_endian(path, defer_size=1024) or dcmread(path, defer_size=1024)
        encoded = dicomjson.encode(ds, lambda p: "bulk")
        back = Dataset.from_json(encoded, bulk_data_uri_handler=lambda tag, vr, uri: b"")
        assert set(back.keys()) == set(full.keys()), path
        for element in full:
            if element.VR in ("SQ", "UN") or "BulkDataURI" in encoded[dicomjson.tag_key(element.tag)]:
                continue
            got = back[element.tag].value
            if element.VR in ("DS", "IS") and (got is None or None in getattr(got, "__iter__", lambda: [])()):
                continue  # an invalid number, answered null
            if element.VR == "PN":
                assert str(got) == str(element.value), (path, element.tag)
            else:
                assert got == element.value or (not got and not element.value), (path, element)
        checked += 1
    assert checked > 200
