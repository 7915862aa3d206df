"""STOW-RS: through the storage service like C-STORE (C-FIND finds it, the same duplicate policy),
the PS3.18 response, and refusals (view roots, malformed multipart, wrong types, huge bodies)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from requests.exceptions import HTTPError

from qrscp.testing.factory import make_series, write_datasets
from tests.web.conftest import ROOTS, WebArchive, c_find, start_web_archive

pytestmark = pytest.mark.network
DICOM_PARTS = 'multipart/related; type="application/dicom"; boundary=XyZ'


@pytest.fixture
def stow_web(tmp_path) -> Iterator[WebArchive]:
    web = start_web_archive(tmp_path / "archive", lambda config: setattr(config.http, "max_request_bytes", 2_000_000))
    try:
        yield web
    finally:
        web.archive.stop(drain_timeout=10)


def _files(tmp_path, seed: int, slices: int = 3, size: int = 16, **kwargs):
    series = make_series("CT", slices=slices, rows=size, columns=size, seed=seed, **kwargs)
    return [dcmread(p) for p in write_datasets(series, tmp_path / f"s{seed}")]


def _body(contents: list[bytes], boundary: str = "XyZ") -> bytes:
    parts = [f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + c + b"\r\n" for c in contents]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def _part10(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_stored_instances_are_found_by_c_find_and_qido(stow_web, tmp_path):
    datasets = _files(tmp_path, 701)
    response = stow_web.client("default").store_instances(datasets)
    ds = response if isinstance(response, Dataset) else Dataset.from_json(response)
    assert [str(i.ReferencedSOPInstanceUID) for i in ds.ReferencedSOPSequence] == [str(d.SOPInstanceUID) for d in datasets]
    assert "FailedSOPSequence" not in ds
    study = str(datasets[0].StudyInstanceUID)
    assert ds.RetrieveURL == stow_web.url("default", f"/studies/{study}")
    found = c_find(stow_web, "default", "IMAGE", StudyInstanceUID=study, SOPInstanceUID="")
    assert sorted(str(f.SOPInstanceUID) for f in found) == sorted(str(d.SOPInstanceUID) for d in datasets)
    # The stored file is the data set as sent (Level 2 storage): WADO-RS gives the same bytes back.
    item = ds.ReferencedSOPSequence[0]
    (back,) = stow_web.client("default").retrieve_instance(study, str(datasets[0].SeriesInstanceUID), str(item.ReferencedSOPInstanceUID)),
    assert back.PixelData == datasets[0].PixelData
    # And the ENHANCED view converts it like anything received over DICOM.
    (enhanced,) = stow_web.client("enhanced").search_for_instances(study)
    assert Dataset.from_json(enhanced).SOPClassUID == "1.2.840.10008.5.1.4.1.1.2.2"


def test_store_into_a_study_refuses_instances_of_another_study(stow_web, tmp_path):
    mine, other = _files(tmp_path, 702, slices=2), _files(tmp_path, 703, slices=1)
    study = str(mine[0].StudyInstanceUID)
    with stow_web.http() as http:
        response = http.post(f"/dicomweb/studies/{study}", content=_body([_part10(d) for d in mine + other]),
                             headers={"Content-Type": DICOM_PARTS, "Accept": "application/dicom+json"})
    assert response.status_code == 202
    ds = Dataset.from_json(response.json())
    assert len(ds.ReferencedSOPSequence) == 2
    (failed,) = ds.FailedSOPSequence
    assert failed.ReferencedSOPInstanceUID == other[0].SOPInstanceUID
    assert failed.FailureReason == 0xA900


def test_duplicates_follow_the_storage_policy(tmp_path):
    web = start_web_archive(tmp_path / "archive", lambda config: setattr(config.storage, "duplicate_policy", "reject"))
    try:
        datasets = _files(tmp_path, 704, slices=2)
        body = _body([_part10(d) for d in datasets])
        with web.http() as http:
            first = http.post("/dicomweb/studies", content=body, headers={"Content-Type": DICOM_PARTS})
            again = http.post("/dicomweb/studies", content=body, headers={"Content-Type": DICOM_PARTS})
        assert first.status_code == 200
        assert again.status_code == 409
        reasons = [i.FailureReason for i in Dataset.from_json(again.json()).FailedSOPSequence]
        assert reasons == [0x0111, 0x0111]
    finally:
        web.archive.stop(drain_timeout=10)


def test_a_broken_instance_is_refused_and_nothing_of_it_is_stored(stow_web, tmp_path):
    good, bad = _files(tmp_path, 705, slices=2)
    truncated = _part10(bad)[:-700]  # cut inside Pixel Data
    with stow_web.http() as http:
        response = http.post("/dicomweb/studies", content=_body([_part10(good), truncated, b"not dicom at all"]),
                             headers={"Content-Type": DICOM_PARTS})
    assert response.status_code == 202
    ds = Dataset.from_json(response.json())
    assert [str(i.ReferencedSOPInstanceUID) for i in ds.ReferencedSOPSequence] == [str(good.SOPInstanceUID)]
    assert len(ds.FailedSOPSequence) == 2
    assert all(int(i.FailureReason) in (0xC000, 0xA900, 0xA700) for i in ds.FailedSOPSequence)
    found = c_find(stow_web, "default", "IMAGE", StudyInstanceUID=str(good.StudyInstanceUID), SOPInstanceUID="")
    assert [str(f.SOPInstanceUID) for f in found] == [str(good.SOPInstanceUID)]


@pytest.mark.parametrize(
    ("root", "content_type", "body", "status"),
    [
        ("enhanced", DICOM_PARTS, None, 405),
        ("classic", DICOM_PARTS, None, 405),
        ("default", DICOM_PARTS, b"--XyZ\r\nContent-Type: application/dicom\r\n\r\nabc", 400),
        ("default", DICOM_PARTS, b"garbage without any boundary", 400),
        ("default", 'multipart/related; type="application/dicom"', None, 400),
        ("default", "application/dicom", None, 415),
        ("default", 'multipart/related; type="application/dicom+json"; boundary=XyZ', None, 415),
        ("default", DICOM_PARTS, b"--XyZ\r\nContent-Type: application/dicom\r\n\r\n" + b"\0" * 2_100_000 + b"\r\n--XyZ--", 413),
    ],
)
def test_bad_stores_get_a_clear_status(stow_web, tmp_path, root, content_type, body, status):
    if body is None:
        body = _body([_part10(_files(tmp_path, 706, slices=1)[0])])
    with stow_web.http() as http:
        response = http.post(ROOTS[root] + "/studies", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and len(response.text.strip()) > 10
    if status == 405:
        assert response.headers["allow"] == "GET"
    # The server is still up and nothing was stored.
    assert stow_web.client("default").search_for_studies() == []


def test_dicomweb_client_sees_the_view_refusal(stow_web, tmp_path):
    with pytest.raises(HTTPError) as refused:
        stow_web.client("enhanced").store_instances(_files(tmp_path, 707, slices=1))
    assert refused.value.response.status_code == 405


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
                                    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.90"])
def test_store_into_a_study_in_every_transfer_syntax(stow_web, tmp_path, syntax):
    from qrscp.testing.factory import is_available

    if not is_available(syntax):
        pytest.skip(f"no encoder for {syntax}")
    datasets = _files(tmp_path, 708, slices=2, size=64, transfer_syntax=syntax)
    study, series = str(datasets[0].StudyInstanceUID), str(datasets[0].SeriesInstanceUID)
    with stow_web.http() as http:
        response = http.post(f"/dicomweb/studies/{study}", content=_body([_part10(d) for d in datasets]),
                             headers={"Content-Type": DICOM_PARTS})
    assert response.status_code == 200, response.text
    ds = Dataset.from_json(response.json())
    assert [i.RetrieveURL for i in ds.ReferencedSOPSequence] == [
        stow_web.url("default", f"/studies/{study}/series/{series}/instances/{d.SOPInstanceUID}") for d in datasets]
    (stored,) = [r for r in stow_web.client("default").search_for_instances(study, series, fields=["AvailableTransferSyntaxUID"])][:1]
    assert Dataset.from_json(stored).SOPInstanceUID in {str(d.SOPInstanceUID) for d in datasets}
