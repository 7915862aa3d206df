"""FRAME level Composite Instance Root C-GET/C-MOVE over the network (PS3.4 Annex Y).

A pynetdicom SCU (and DCMTK storescp as C-MOVE destination) against a real archive: each Frame Range Key,
uncompressed and compressed sources, an LCE of the ENHANCED view, every bad request with its status,
determinism across a restart.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1, RLELossless

from qrscp.config import Peer
from qrscp.status import Status
from qrscp.testing.dcmtk import dciodvfy_path, dcmtk_env, dcmtk_tool
from qrscp.testing.enhanced import make_enhanced_mr
from qrscp.testing.factory import make_series, write_datasets
from qrscp.testing.network import LOCALHOST, DicomClient, echo_status, free_port, start_serve_process
from qrscp.testing.validation import iod_errors
from qrscp.uids import (
    COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    ENHANCED_MR_IMAGE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    PATIENT_ROOT_GET,
    STUDY_ROOT_GET,
)
from tests.views.conftest import view_negotiation

REALDATA = Path("/work/shared/realdata")
US_MULTIFRAME = REALDATA / "dcm4che/ts_jpegls_us_palette/jpeg-ls-Palette.dcm"
ULTRASOUND_MULTIFRAME_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]


def frame_keys(uid: str, view: str | None = None, **frame_range: object) -> Dataset:
    keys = Dataset()
    keys.QueryRetrieveLevel = "FRAME"
    keys.SOPInstanceUID = uid
    for keyword, value in frame_range.items():
        setattr(keys, keyword, value)
    if view is not None:
        keys.QueryRetrieveView = view
    return keys


def _pixels(ds: Dataset) -> np.ndarray:
    array = ds.pixel_array
    return array if int(ds.NumberOfFrames) > 1 else array[np.newaxis]


def _get(client: DicomClient, keys: Dataset, sop_class: str, syntaxes: list[str], *, views: bool = False):
    return client.get(keys, COMPOSITE_INSTANCE_ROOT_GET, storage=[(sop_class, syntaxes)],
                      ext_neg=view_negotiation(COMPOSITE_INSTANCE_ROOT_GET) if views else None)


@pytest.fixture
def enhanced_mr(dicom_client) -> Dataset:
    ds = make_enhanced_mr(frames=10, seed=7)
    assert dicom_client.store([ds])[0].Status == 0
    return ds


@pytest.mark.parametrize(
    ("frame_range", "frames"),
    [({"SimpleFrameList": [2, 5, 9]}, [2, 5, 9]), ({"CalculatedFrameList": [1, 10, 4]}, [1, 5, 9]),
     ({"CalculatedFrameList": [3, 4, 1, 8, 0xFFFFFFFF, 2]}, [3, 4, 8, 10])],
    ids=["simple", "calculated", "calculated-to-end"],
)
def test_c_get_frames_of_an_enhanced_mr(dicom_client, enhanced_mr, frame_range, frames):
    result = _get(dicom_client, frame_keys(enhanced_mr.SOPInstanceUID, **frame_range), ENHANCED_MR_IMAGE_STORAGE,
                  UNCOMPRESSED)
    assert result.code == Status.SUCCESS and int(result.status.NumberOfCompletedSuboperations) == 1
    [received] = result.received
    ds = received.dataset()
    assert ds.SOPClassUID == ENHANCED_MR_IMAGE_STORAGE and ds.SOPInstanceUID != enhanced_mr.SOPInstanceUID
    assert ds.SeriesInstanceUID == enhanced_mr.SeriesInstanceUID and ds.NumberOfFrames == len(frames)
    assert np.array_equal(_pixels(ds), _pixels(enhanced_mr)[[f - 1 for f in frames]])
    assert ds.FrameExtractionSequence[-1].MultiFrameSourceSOPInstanceUID == enhanced_mr.SOPInstanceUID


@pytest.mark.parametrize(
    "syntax", [JPEG2000Lossless, RLELossless, JPEGLosslessSV1], ids=["j2k", "rle", "jpeg-lossless"]
)
def test_c_get_frames_of_compressed_sources_sends_the_stored_fragments(dicom_client, syntax):
    if syntax == JPEGLosslessSV1 and dcmtk_tool("dcmcjpeg") is None:
        pytest.skip("DCMTK dcmcjpeg not installed")
    source = make_enhanced_mr(frames=6, seed=11, transfer_syntax=syntax)
    assert dicom_client.store([source])[0].Status == 0
    result = _get(dicom_client, frame_keys(source.SOPInstanceUID, SimpleFrameList=[1, 4, 6]),
                  ENHANCED_MR_IMAGE_STORAGE, [syntax])
    assert result.code == Status.SUCCESS
    ds = result.received[0].dataset()
    assert ds.file_meta.TransferSyntaxUID == syntax
    stored = list(generate_frames(source.PixelData, number_of_frames=6))
    assert list(generate_frames(ds.PixelData, number_of_frames=3)) == [stored[0], stored[3], stored[5]]
    assert np.array_equal(_pixels(ds), _pixels(source)[[0, 3, 5]])


@pytest.mark.pynetdicom_patches  # transcoding on retrieve is part of the stored-file sender
def test_compressed_frames_are_transcoded_when_only_uncompressed_is_accepted(dicom_client):
    source = make_enhanced_mr(frames=4, seed=12, transfer_syntax=RLELossless)
    assert dicom_client.store([source])[0].Status == 0
    result = _get(dicom_client, frame_keys(source.SOPInstanceUID, SimpleFrameList=[2, 3]),
                  ENHANCED_MR_IMAGE_STORAGE, UNCOMPRESSED)
    assert result.code == Status.SUCCESS
    ds = result.received[0].dataset()
    assert ds.file_meta.TransferSyntaxUID in UNCOMPRESSED
    assert np.array_equal(_pixels(ds), _pixels(source)[[1, 2]])


@pytest.mark.skipif(not US_MULTIFRAME.is_file(), reason="real data corpus not present")
def test_c_get_time_range_of_an_ultrasound_cine(dicom_client):
    source = pydicom.dcmread(US_MULTIFRAME)
    assert dicom_client.store([source])[0].Status == 0
    syntax = str(source.file_meta.TransferSyntaxUID)
    result = _get(dicom_client, frame_keys(source.SOPInstanceUID, TimeRange=[0.076, 0.228]),
                  ULTRASOUND_MULTIFRAME_IMAGE_STORAGE, [syntax])
    assert result.code == Status.SUCCESS
    ds = result.received[0].dataset()
    assert ds.NumberOfFrames == 3 and float(ds.FrameDelay) == 76.0
    assert list(ds.FrameExtractionSequence[-1].TimeRange) == [0.076, 0.228]
    assert np.array_equal(_pixels(ds), _pixels(source)[[1, 2, 3]])


def test_frames_of_a_legacy_converted_image_in_the_enhanced_view(dicom_client):
    series = make_series("CT", slices=12, seed=31)
    assert all(s.Status == 0 for s in dicom_client.store(series))
    whole = dicom_client.get(_study_keys(series[0].StudyInstanceUID, "ENHANCED"), STUDY_ROOT_GET,
                             storage=[(LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, UNCOMPRESSED)],
                             ext_neg=view_negotiation(STUDY_ROOT_GET))
    [lce] = [r.dataset() for r in whole.received]
    assert lce.SOPClassUID == LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE and int(lce.NumberOfFrames) == 12
    keys = frame_keys(lce.SOPInstanceUID, "ENHANCED", CalculatedFrameList=[2, 12, 5])
    result = _get(dicom_client, keys, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, UNCOMPRESSED, views=True)
    assert result.code == Status.SUCCESS
    ds = result.received[0].dataset()
    assert ds.SOPClassUID == LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE and ds.NumberOfFrames == 3
    assert np.array_equal(_pixels(ds), _pixels(lce)[[1, 6, 11]])
    kept = [lce.PerFrameFunctionalGroupsSequence[i] for i in (1, 6, 11)]
    assert [item.ConversionSourceAttributesSequence for item in ds.PerFrameFunctionalGroupsSequence] == [
        item.ConversionSourceAttributesSequence for item in kept]
    # The view rules of the other retrieves apply: a classic slice the ENHANCED view replaced is refused.
    replaced = _get(dicom_client, frame_keys(series[0].SOPInstanceUID, "ENHANCED", SimpleFrameList=[1]),
                    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, UNCOMPRESSED, views=True)
    assert replaced.code == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert "not in the ENHANCED view" in replaced.status.ErrorComment
    # The LCE is only in the ENHANCED view: asked in the default view, nothing matches.
    plain = _get(dicom_client, frame_keys(lce.SOPInstanceUID, CalculatedFrameList=[2, 12, 5]),
                 LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, UNCOMPRESSED)
    assert plain.code == Status.SUCCESS and plain.received == []


def _study_keys(study_uid: str, view: str) -> Dataset:
    keys = Dataset()
    keys.QueryRetrieveLevel = "STUDY"
    keys.StudyInstanceUID = study_uid
    keys.QueryRetrieveView = view
    return keys


BAD_REQUESTS = [
    ({}, Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "exactly one Frame Range Key"),
    ({"SimpleFrameList": [1], "CalculatedFrameList": [1, 2, 1]}, Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
     "exactly one Frame Range Key"),
    ({"SimpleFrameList": [0, 1]}, Status.INVALID_REQUEST, "start at 1"),
    ({"SimpleFrameList": [3, 11]}, Status.INVALID_REQUEST, "beyond Number of Frames 10"),
    ({"SimpleFrameList": [11]}, Status.NO_FRAMES_FOUND, "none of the frames"),
    ({"CalculatedFrameList": [1, 5]}, Status.INVALID_REQUEST, "triplets"),
    ({"CalculatedFrameList": [4, 2, 1]}, Status.INVALID_REQUEST, "malformed"),
    ({"CalculatedFrameList": [20, 30, 1]}, Status.NO_FRAMES_FOUND, "none of the frames"),
    ({"TimeRange": [0.0, 1.0]}, Status.TIME_BASED_REQUEST_FOR_NON_TIME_BASED, "no frame times"),
]


@pytest.fixture
def timeless_mr(dicom_client) -> Dataset:
    ds = make_enhanced_mr(frames=10, seed=8)
    for item in ds.PerFrameFunctionalGroupsSequence:
        del item.FrameContentSequence[0].FrameReferenceDateTime
    assert dicom_client.store([ds])[0].Status == 0
    return ds


@pytest.mark.parametrize(("frame_range", "status", "comment"), BAD_REQUESTS,
                         ids=[c for _, _, c in BAD_REQUESTS])
def test_bad_c_get_requests_fail_with_their_status(dicom_client, timeless_mr, frame_range, status, comment):
    result = _get(dicom_client, frame_keys(timeless_mr.SOPInstanceUID, **frame_range), ENHANCED_MR_IMAGE_STORAGE,
                  UNCOMPRESSED)
    assert result.code == status
    assert comment in result.status.ErrorComment
    assert result.received == []
    # PS3.4 Y.4.2.3.1: a new instance that cannot be created is a failed sub-operation.
    assert int(result.status.NumberOfFailedSuboperations) == 1


@pytest.mark.pynetdicom_patches  # a C-MOVE refusal's status and Error Comment are set by the amendments patch
def test_bad_c_move_request_fails_and_sends_nothing(archive, dicom_client, timeless_mr, storage_scp):
    dest = storage_scp("DEST")
    dicom_client.add_peer(archive, dest)
    keys = frame_keys(timeless_mr.SOPInstanceUID, CalculatedFrameList=[1, 5, 1, 3, 8, 1])
    moved = dicom_client.move(keys, "DEST", COMPOSITE_INSTANCE_ROOT_MOVE)
    assert moved.code == Status.INVALID_REQUEST and "overlap" in moved.status.ErrorComment
    assert dest.received == []


def test_not_multiframe_and_several_instances(dicom_client):
    series = make_series("CT", slices=2, seed=33)
    assert all(s.Status == 0 for s in dicom_client.store(series))
    single = _get(dicom_client, frame_keys(series[0].SOPInstanceUID, SimpleFrameList=[1]), series[0].SOPClassUID,
                  UNCOMPRESSED)
    assert single.code == Status.UNABLE_TO_CREATE_NEW_OBJECT and "not a multi-frame" in single.status.ErrorComment
    keys = frame_keys(series[0].SOPInstanceUID, SimpleFrameList=[1])
    keys.SOPInstanceUID = [series[0].SOPInstanceUID, series[1].SOPInstanceUID]
    several = _get(dicom_client, keys, series[0].SOPClassUID, UNCOMPRESSED)
    assert several.code == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert "exactly one SOP Instance UID" in several.status.ErrorComment


@pytest.mark.parametrize("model", [PATIENT_ROOT_GET, STUDY_ROOT_GET, COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET])
def test_frame_level_outside_the_composite_instance_root_model(dicom_client, enhanced_mr, model):
    keys = frame_keys(enhanced_mr.SOPInstanceUID, SimpleFrameList=[1])
    keys.StudyInstanceUID = enhanced_mr.StudyInstanceUID
    keys.SeriesInstanceUID = enhanced_mr.SeriesInstanceUID
    keys.PatientID = enhanced_mr.PatientID
    result = dicom_client.get(keys, model, storage=[(ENHANCED_MR_IMAGE_STORAGE, UNCOMPRESSED)])
    assert result.code == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert "FRAME" in result.status.ErrorComment and result.received == []


def test_view_key_needs_the_negotiated_option(dicom_client, enhanced_mr):
    keys = frame_keys(enhanced_mr.SOPInstanceUID, "ENHANCED", SimpleFrameList=[1])
    result = _get(dicom_client, keys, ENHANCED_MR_IMAGE_STORAGE, UNCOMPRESSED)
    assert result.code == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS and result.received == []
    accepted = _get(dicom_client, keys, ENHANCED_MR_IMAGE_STORAGE, UNCOMPRESSED, views=True)
    assert accepted.code == Status.SUCCESS and len(accepted.received) == 1


@pytest.mark.slow
def test_same_uid_and_bytes_across_a_restart(tmp_path):
    source = make_enhanced_mr(frames=8, seed=41, transfer_syntax=JPEG2000Lossless)
    keys = frame_keys(source.SOPInstanceUID, SimpleFrameList=[2, 3, 7])
    answers = []
    for _restart in range(2):
        server = start_serve_process(tmp_path)
        try:
            client = DicomClient(LOCALHOST, server.port, server.ae_title)
            if not answers:
                assert client.store([source])[0].Status == 0
            shutil.rmtree(server.data_dir / "frames", ignore_errors=True)  # extracted again, not cached
            result = _get(client, keys, ENHANCED_MR_IMAGE_STORAGE, [JPEG2000Lossless])
            assert result.code == Status.SUCCESS
            answers.append((result.received[0].sop_instance_uid, result.received[0].dataset_bytes))
        finally:
            assert server.terminate() == 0
    assert answers[0] == answers[1]


@pytest.fixture
def dcmtk_storescp(tmp_path):
    """DCMTK storescp on a free port writing into tmp_path/received; ready when it answers C-ECHO."""
    out = tmp_path / "received"
    out.mkdir()
    port = free_port()
    process = subprocess.Popen([dcmtk_tool("storescp"), "-aet", "STORESCP", "-od", str(out), str(port)],
                               env=dcmtk_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        waiter = threading.Event()
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError("storescp exited")
            if echo_status(LOCALHOST, port, "STORESCP", timeout=2) == 0:
                break
            waiter.wait(0.1)
        else:
            raise RuntimeError("storescp did not start")
        yield Peer("STORESCP", LOCALHOST, port), out
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.dcmtk
@pytest.mark.skipif(dcmtk_tool("storescp") is None, reason="DCMTK not installed")
@pytest.mark.parametrize("syntax", [
    ExplicitVRLittleEndian,
    # storescp takes no JPEG 2000 by default: transcoding on retrieve is part of the stored-file sender.
    pytest.param(JPEG2000Lossless, marks=pytest.mark.pynetdicom_patches),
], ids=["native", "j2k"])
def test_c_move_of_frames_to_dcmtk_storescp(archive, dicom_client, dcmtk_storescp, syntax):
    peer, out = dcmtk_storescp
    archive.config.peers[peer.ae_title] = peer
    source = make_enhanced_mr(frames=9, seed=43, transfer_syntax=syntax)
    assert dicom_client.store([source])[0].Status == 0
    keys = frame_keys(source.SOPInstanceUID, CalculatedFrameList=[1, 9, 2])
    moved = dicom_client.move(keys, peer.ae_title, COMPOSITE_INSTANCE_ROOT_MOVE)
    assert moved.code == Status.SUCCESS and int(moved.status.NumberOfCompletedSuboperations) == 1
    [path] = list(out.iterdir())
    received = pydicom.dcmread(path)
    assert received.NumberOfFrames == 5 and received.SOPInstanceUID != source.SOPInstanceUID
    assert np.array_equal(_pixels(received), _pixels(source)[[0, 2, 4, 6, 8]])
    if dciodvfy_path():  # no IOD error that the source does not already have
        [source_path] = write_datasets([source], out.parent / "source")
        assert set(iod_errors(path)) - set(iod_errors(source_path)) == set()
