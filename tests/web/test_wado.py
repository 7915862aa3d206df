"""WADO-RS in every service root: the bytes equal C-GET's, metadata through ``Dataset.from_json`` with
bulk data by URI, frames of native and compressed images, transfer syntaxes, rendered images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames

from qrscp.dicom.part10 import split_part10
from qrscp.web.multipart import boundary_of, parse
from tests.web.conftest import JPEG2000_LOSSLESS, ROOTS, c_get

VIEWS = list(ROOTS)
DICOM_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'
pytestmark = pytest.mark.network


def _parts(response) -> list:
    assert response.status_code == 200, response.text
    boundary, _ = boundary_of(response.headers["content-type"])
    return parse(response.content, boundary)


def _wado_files(web, view: str, path: str, accept: str = DICOM_ACCEPT) -> dict[str, bytes]:
    """SOP Instance UID -> data set bytes of each Part 10 file the retrieve answered."""
    with web.http() as http:
        parts = _parts(http.get(ROOTS[view] + path, headers={"Accept": accept}))
    files = {}
    for part in parts:
        header, dataset_bytes = split_part10(part.content)
        assert part.content_type.startswith("application/dicom; transfer-syntax=")
        assert part.content_type.endswith(header.transfer_syntax_uid)
        files[str(header.file_meta.MediaStorageSOPInstanceUID)] = dataset_bytes
    return files


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", ["ct", "mr", "enhanced"])
def test_study_series_and_instance_retrieve_are_the_bytes_c_get_sends(web, view, name):
    study, series = web.studies[name], web.series[name]
    received = {r.sop_instance_uid: r.dataset_bytes for r in c_get(web, view, "STUDY", StudyInstanceUID=study)}
    assert received
    assert _wado_files(web, view, f"/studies/{study}") == received
    by_series = {}
    for uid in received:
        by_series.setdefault(str(dcmread(io.BytesIO(_wado_files(web, view, f"/studies/{study}")[uid]),
                                         force=True, stop_before_pixels=True).SeriesInstanceUID), []).append(uid)
    for series_uid, uids in by_series.items():
        assert set(_wado_files(web, view, f"/studies/{study}/series/{series_uid}")) == set(uids)
    series_uid, uids = next(iter(by_series.items()))
    files = _wado_files(web, view, f"/studies/{study}/series/{series_uid}/instances/{uids[0]}")
    assert files == {uids[0]: received[uids[0]]}
    if view == "default":
        assert set(received) == set(web.instances[name]) and series in by_series


def test_dicomweb_client_retrieves_datasets(web):
    client = web.client("enhanced")
    (instance,) = client.retrieve_series(web.studies["ct"], client.search_for_series(web.studies["ct"])[0]["0020000E"]["Value"][0])
    assert instance.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2.2"
    assert int(instance.NumberOfFrames) == 4


@pytest.mark.parametrize("view", VIEWS)
def test_metadata_is_dicom_json_with_bulk_data_by_uri(web, view):
    client = web.client(view)
    for name in ("ct", "mr", "enhanced"):
        study = web.studies[name]
        metadata = client.retrieve_study_metadata(study)
        received = {r.sop_instance_uid: r.dataset() for r in c_get(web, view, "STUDY", StudyInstanceUID=study)}
        assert len(metadata) == len(received)
        for item in metadata:
            uri = item["7FE00010"]["BulkDataURI"]
            ds = Dataset.from_json(item, bulk_data_uri_handler=lambda tag, vr, uri: b"")
            original = received[str(ds.SOPInstanceUID)]
            assert ds.SeriesInstanceUID == original.SeriesInstanceUID
            assert ds.get("NumberOfFrames") == original.get("NumberOfFrames")
            assert str(ds.PatientName) == str(original.PatientName)
            assert uri.startswith(web.url(view, f"/studies/{study}/series/"))
        one = Dataset.from_json(metadata[0], bulk_data_uri_handler=lambda tag, vr, uri: b"")
        series_metadata = client.retrieve_series_metadata(study, str(one.SeriesInstanceUID))
        assert metadata[0] in series_metadata
        instance_metadata = client.retrieve_instance_metadata(study, str(one.SeriesInstanceUID), str(one.SOPInstanceUID))
        assert instance_metadata == metadata[0]


def test_pixel_data_bulk_data_of_a_native_image(web):
    client = web.client("default")
    study, series, uid = web.studies["ct"], web.series["ct"], web.instances["ct"][1]
    item = client.retrieve_instance_metadata(study, series, uid)
    (original,) = [r.dataset() for r in c_get(web, "default", "IMAGE", StudyInstanceUID=study, SeriesInstanceUID=series, SOPInstanceUID=uid)]
    assert client.retrieve_bulkdata(item["7FE00010"]["BulkDataURI"]) == [original.PixelData]


def _frames(web, view, study, series, uid, numbers, accept):
    with web.http() as http:
        path = f"{ROOTS[view]}/studies/{study}/series/{series}/instances/{uid}/frames/{','.join(map(str, numbers))}"
        return http.get(path, headers={"Accept": accept})


def test_native_frames_of_single_and_multi_frame_images(web):
    study = web.studies["ct"]
    client = web.client("default")
    (slice_2,) = [r.dataset() for r in c_get(web, "default", "IMAGE", StudyInstanceUID=study, SeriesInstanceUID=web.series["ct"],
                                              SOPInstanceUID=web.instances["ct"][1])]
    frames = client.retrieve_instance_frames(study, web.series["ct"], web.instances["ct"][1], [1])
    assert frames == [slice_2.PixelData]
    (enhanced,) = [r.dataset() for r in c_get(web, "enhanced", "STUDY", StudyInstanceUID=study)]
    size = len(enhanced.PixelData) // int(enhanced.NumberOfFrames)
    response = _frames(web, "enhanced", study, enhanced.SeriesInstanceUID, enhanced.SOPInstanceUID, [4, 2],
                       'multipart/related; type="application/octet-stream"')
    parts = _parts(response)
    assert [p.content for p in parts] == [enhanced.PixelData[3 * size:4 * size], enhanced.PixelData[size:2 * size]]
    assert all(p.content_type == "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1" for p in parts)


def test_compressed_frames_in_their_own_media_type_or_decoded(web):
    study, series, uid = web.studies["mr"], web.series["mr"], web.instances["mr"][0]
    (stored,) = [r for r in c_get(web, "default", "IMAGE", StudyInstanceUID=study, SeriesInstanceUID=series, SOPInstanceUID=uid)]
    if stored.transfer_syntax_uid != JPEG2000_LOSSLESS:
        pytest.skip("no JPEG 2000 encoder: the MR series is native")
    ds = stored.dataset()
    (fragment_frame,) = list(generate_frames(ds.PixelData, number_of_frames=1))
    response = _frames(web, "default", study, series, uid, [1], f'multipart/related; type="image/jp2"; transfer-syntax={JPEG2000_LOSSLESS}')
    (part,) = _parts(response)
    assert part.content == fragment_frame
    assert part.content_type.startswith("image/jp2")
    # application/octet-stream with transfer-syntax=*: as stored, labelled with the stored syntax.
    response = _frames(web, "default", study, series, uid, [1], 'multipart/related; type=application/octet-stream; transfer-syntax=*')
    (as_stored,) = _parts(response)
    assert as_stored.content == fragment_frame
    assert as_stored.content_type == f"application/octet-stream; transfer-syntax={JPEG2000_LOSSLESS}"
    # application/octet-stream without a syntax: Explicit VR Little Endian, decoded.
    response = _frames(web, "default", study, series, uid, [1], 'multipart/related; type="application/octet-stream"')
    (decoded,) = _parts(response)
    assert decoded.content_type == "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"
    ds.file_meta.TransferSyntaxUID = JPEG2000_LOSSLESS
    assert decoded.content == ds.pixel_array.tobytes()
    # An explicit transfer syntax: decoded and written again; the same pixels.
    files = _wado_files(web, "default", f"/studies/{study}/series/{series}/instances/{uid}",
                        'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1')
    with web.http() as http:
        part = _parts(http.get(f"/dicomweb/studies/{study}/series/{series}/instances/{uid}",
                               headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1'}))[0]
    transcoded = dcmread(io.BytesIO(part.content))
    assert transcoded.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert np.array_equal(transcoded.pixel_array, ds.pixel_array)
    assert list(files) == [uid]


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/studies/1.2.3.4", DICOM_ACCEPT, 404),
        ("/studies/{ct}/series/1.2.3.4", DICOM_ACCEPT, 404),
        ("/studies/{ct}", 'multipart/related; type="image/png"', 406),
        ("/studies/{ct}", 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50', 406),
        ("/studies/{ct}/metadata", "application/xml", 406),
        ("/studies/{ct}/series/{ct_series}/instances/{ct_1}/frames/9", "*/*", 404),
        ("/studies/{ct}/series/{ct_series}/instances/{ct_1}/frames/0,x", "*/*", 400),
        ("/studies/{ct}/series/{ct_series}/instances/{ct_1}/frames/1", 'multipart/related; type="image/jp2"', 406),
        ("/studies/{ct}/series/{ct_series}/instances/{ct_1}/rendered", "image/gif", 406),
        ("/studies/{ct}/series/{ct_series}/instances/{ct_1}/rendered?window=40", "image/jpeg", 400),
        ("/studies/{ct}/series/{ct_series}/instances/{ct_1}/bulkdata/zz", "*/*", 400),
        ("/no/such/resource", "*/*", 404),
    ],
)
def test_bad_retrieves_get_a_clear_status(web, path, accept, status):
    path = path.format(ct=web.studies["ct"], ct_series=web.series["ct"], ct_1=web.instances["ct"][0])
    with web.http() as http:
        response = http.get("/dicomweb" + path, headers={"Accept": accept})
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and len(response.text.strip()) > 10


def test_a_converted_uid_is_not_found_in_the_default_view(web):
    (enhanced,) = web.client("enhanced").search_for_instances(web.studies["ct"])
    ds = Dataset.from_json(enhanced)
    with web.http() as http:
        response = http.get(f"/dicomweb/studies/{web.studies['ct']}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}",
                            headers={"Accept": DICOM_ACCEPT})
    assert response.status_code == 404


@pytest.mark.parametrize("view", VIEWS)
def test_rendered_and_thumbnails_at_every_level(web, view):
    study, series, uid = web.studies["ct"], web.series["ct"], web.instances["ct"][0]
    if view == "enhanced":
        ds = Dataset.from_json(web.client(view).search_for_instances(study)[0])
        series, uid = str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)
    base = f"{ROOTS[view]}/studies/{study}"
    with web.http() as http:
        for path in (f"/series/{series}/instances/{uid}/rendered", f"/series/{series}/instances/{uid}/frames/1/rendered",
                     "/thumbnail", f"/series/{series}/thumbnail", f"/series/{series}/instances/{uid}/thumbnail",
                     f"/series/{series}/instances/{uid}/frames/1/thumbnail"):
            response = http.get(base + path, headers={"Accept": "image/jpeg"})
            assert response.status_code == 200, (path, response.text)
            assert response.headers["content-type"] == "image/jpeg"
            image = Image.open(io.BytesIO(response.content))
            assert image.format == "JPEG" and image.size[0] <= 128 or "rendered" in path
        png = http.get(base + f"/series/{series}/instances/{uid}/rendered", params={"viewport": "16,16"}, headers={"Accept": "image/png"})
        assert Image.open(io.BytesIO(png.content)).size == (16, 16)
        narrow = http.get(base + f"/series/{series}/instances/{uid}/rendered", params={"window": "0,1"}, headers={"Accept": "image/png"})
        wide = http.get(base + f"/series/{series}/instances/{uid}/rendered", params={"window": "0,100000"}, headers={"Accept": "image/png"})
    narrow_pixels = np.asarray(Image.open(io.BytesIO(narrow.content)))
    wide_pixels = np.asarray(Image.open(io.BytesIO(wide.content)))
    assert set(np.unique(narrow_pixels)) <= {0, 255}  # a window of width 1 is a threshold
    assert not np.array_equal(narrow_pixels, wide_pixels)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", ["ct", "enhanced"])
def test_frames_and_pixel_bulk_data_in_every_view(web, view, name):
    """Frame n of any instance of the view is the n-th frame of the Pixel Data C-GET sends."""
    study = web.studies[name]
    client = web.client(view)
    item = client.search_for_instances(study)[-1]
    ds = Dataset.from_json(item)
    (sent,) = [r.dataset() for r in c_get(web, view, "IMAGE", StudyInstanceUID=study,
                                          SeriesInstanceUID=str(ds.SeriesInstanceUID), SOPInstanceUID=str(ds.SOPInstanceUID))]
    frames = int(sent.get("NumberOfFrames", 1) or 1)
    size = len(sent.PixelData) // frames
    numbers = [frames, 1] if frames > 1 else [1]
    got = client.retrieve_instance_frames(study, str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), numbers)
    assert got == [sent.PixelData[(n - 1) * size:n * size] for n in numbers]
    metadata = client.retrieve_instance_metadata(study, str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID))
    assert b"".join(client.retrieve_bulkdata(metadata["7FE00010"]["BulkDataURI"])) == sent.PixelData
