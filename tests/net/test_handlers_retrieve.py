"""C-MOVE and C-GET over the network: statuses, cancel, transcoding, instance root, without bulk data.

(The retrieve service's own unit tests are in tests/services/test_retrieve.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless

from qrscp.net import pynetdicom_ext
from qrscp.services.query import FindResults
from qrscp.status import Status
from qrscp.testing.factory import is_available, make_series
from qrscp.uids import (
    COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    CT_IMAGE_STORAGE,
    PATIENT_ROOT_GET,
    PATIENT_ROOT_MOVE,
    STUDY_ROOT_MOVE,
)


def _series_keys(series: list[Dataset], level: str = "SERIES") -> Dataset:
    keys = Dataset()
    keys.QueryRetrieveLevel = level
    keys.StudyInstanceUID = series[0].StudyInstanceUID
    if level in ("SERIES", "IMAGE"):
        keys.SeriesInstanceUID = series[0].SeriesInstanceUID
    return keys


def _instance_keys(uids: list[str]) -> Dataset:
    keys = Dataset()
    keys.QueryRetrieveLevel = "IMAGE"
    keys.SOPInstanceUID = uids
    return keys


@pytest.fixture
def stored_series(archive, dicom_client) -> list[Dataset]:
    series = make_series("CT", slices=5, seed=21)
    assert all(s.Status == 0 for s in dicom_client.store(series))
    return series


@pytest.mark.pynetdicom_patches
def test_c_move_to_a_storage_scp(archive, dicom_client, stored_series, storage_scp):
    dest = storage_scp("DEST")
    dicom_client.add_peer(archive, dest)
    result = dicom_client.move(_series_keys(stored_series), "DEST")
    assert result.code == Status.SUCCESS
    assert result.status.NumberOfCompletedSuboperations == 5
    assert sorted(r.sop_instance_uid for r in dest.received) == sorted(s.SOPInstanceUID for s in stored_series)
    assert {r.move_originator for r in dest.received} == {"PYTEST"}
    assert [p.NumberOfRemainingSuboperations for p in result.pending] == [4, 3, 2, 1, 0]


@pytest.mark.parametrize("level", ["STUDY", "SERIES"])
def test_c_move_patient_and_study_root_levels(archive, dicom_client, stored_series, storage_scp, level):
    dest = storage_scp("DEST")
    dicom_client.add_peer(archive, dest)
    keys = _series_keys(stored_series, level)
    keys.PatientID = stored_series[0].PatientID
    for model in (STUDY_ROOT_MOVE, PATIENT_ROOT_MOVE):
        result = dicom_client.move(keys, "DEST", model)
        assert result.code == Status.SUCCESS, result.status
    assert len(dest.received) == 10


@pytest.mark.pynetdicom_patches
def test_c_move_unknown_destination_is_a801_with_error_comment(dicom_client, stored_series):
    result = dicom_client.move(_series_keys(stored_series), "NOBODY")
    assert result.code == Status.REFUSED_MOVE_DESTINATION_UNKNOWN
    assert "NOBODY" in result.status.ErrorComment


def test_c_get_returns_every_instance(dicom_client, stored_series):
    result = dicom_client.get(_series_keys(stored_series))
    assert result.code == Status.SUCCESS
    assert result.status.NumberOfCompletedSuboperations == 5
    assert sorted(r.sop_instance_uid for r in result.received) == sorted(s.SOPInstanceUID for s in stored_series)


def test_c_get_patient_root(dicom_client, stored_series):
    keys = _series_keys(stored_series, "STUDY")
    keys.PatientID = stored_series[0].PatientID
    assert len(dicom_client.get(keys, PATIENT_ROOT_GET).received) == 5


def test_missing_file_is_a_failed_sub_operation(archive, dicom_client, stored_series):
    lost = stored_series[2].SOPInstanceUID
    [location] = archive.retrieve.locate(_instance_keys([lost]), information_model=COMPOSITE_INSTANCE_ROOT_GET)
    archive.file_store.absolute(location.file_path).unlink()
    result = dicom_client.get(_series_keys(stored_series))
    assert result.code == Status.SUB_OPERATIONS_COMPLETE_WITH_FAILURES
    assert (result.status.NumberOfCompletedSuboperations, result.status.NumberOfFailedSuboperations) == (4, 1)
    if pynetdicom_ext.active():  # plain pynetdicom lists an unreadable sub-operation's UID as ""
        assert lost in list(np.atleast_1d(result.status.FailedSOPInstanceUIDList))
    assert dicom_client.echo() == 0


def _wait_for_cancel(archive, timeout: float = 20.0) -> None:
    """Block until a C-CANCEL has reached the archive (bounded); keeps the sub-operations from racing it."""
    import threading

    waiter = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if any(a.dimse.cancel_req for a in archive.ae.active_associations if a.is_acceptor):
            return
        waiter.wait(0.01)
    raise AssertionError("no C-CANCEL arrived")


def _cancel_after_first(archive, method: str) -> None:
    """Make the archive wait for the client's C-CANCEL before it prepares the second result."""
    original = getattr(archive.retrieve if method == "dataset_for" else archive.query, method)
    calls = {"n": 0}

    if method == "dataset_for":
        def dataset_for(location, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                _wait_for_cancel(archive)
            return original(location, **kwargs)

        archive.retrieve.dataset_for = dataset_for
    else:
        def find(*args, **kwargs):
            results = original(*args, **kwargs)

            def matches():
                for index, match in enumerate(results):
                    if index == 1:
                        _wait_for_cancel(archive)
                    yield match

            return FindResults(matches(), results.unsupported_keys)

        archive.query.find = find


def test_c_cancel_during_c_move(archive, dicom_client, stored_series, storage_scp):
    dest = storage_scp("DEST")
    dicom_client.add_peer(archive, dest)
    _cancel_after_first(archive, "dataset_for")
    result = dicom_client.move(_series_keys(stored_series), "DEST", cancel_after=1)
    assert result.code == Status.CANCEL
    assert result.status.NumberOfCompletedSuboperations == 2
    assert result.status.NumberOfRemainingSuboperations == 3
    assert len(dest.received) == 2


def test_c_cancel_during_c_get(archive, dicom_client, stored_series):
    _cancel_after_first(archive, "dataset_for")
    result = dicom_client.get(_series_keys(stored_series), cancel_after=1)
    assert result.code == Status.CANCEL
    assert len(result.received) == 2


def test_c_cancel_during_c_find(archive, dicom_client, stored_series):
    _cancel_after_first(archive, "find")
    final, matches = dicom_client.find(_series_keys(stored_series, "IMAGE"), cancel_after=1)
    assert final.Status == Status.CANCEL
    assert len(matches) == 1
    assert dicom_client.echo() == 0


@pytest.mark.pynetdicom_patches
@pytest.mark.skipif(not is_available(RLELossless), reason="RLE encoder not available")
@pytest.mark.parametrize("how", ["get", "move"])
def test_transcoding_when_the_stored_syntax_was_not_accepted(archive, dicom_client, storage_scp, how):
    series = make_series("CT", slices=3, seed=5, transfer_syntax=RLELossless)
    assert all(s.Status == 0 for s in dicom_client.store(series))
    if how == "get":
        received = dicom_client.get(
            _series_keys(series), storage=[(CT_IMAGE_STORAGE, [ImplicitVRLittleEndian])]
        ).received
    else:
        dest = storage_scp("DEST", [ExplicitVRLittleEndian])
        dicom_client.add_peer(archive, dest)
        assert dicom_client.move(_series_keys(series), "DEST").code == Status.SUCCESS
        received = dest.received
    assert len(received) == 3
    originals = {ds.SOPInstanceUID: ds for ds in series}
    for instance in received:
        assert instance.transfer_syntax_uid in (ImplicitVRLittleEndian, ExplicitVRLittleEndian)
        ds = instance.dataset()
        np.testing.assert_array_equal(ds.pixel_array, originals[instance.sop_instance_uid].pixel_array)


def test_composite_instance_root_get_and_move(archive, dicom_client, stored_series, storage_scp):
    wanted = [stored_series[0].SOPInstanceUID, stored_series[3].SOPInstanceUID]
    result = dicom_client.get(_instance_keys(wanted), COMPOSITE_INSTANCE_ROOT_GET)
    assert result.code == Status.SUCCESS
    assert sorted(r.sop_instance_uid for r in result.received) == sorted(wanted)
    dest = storage_scp("DEST")
    dicom_client.add_peer(archive, dest)
    assert dicom_client.move(_instance_keys(wanted), "DEST", COMPOSITE_INSTANCE_ROOT_MOVE).code == Status.SUCCESS
    assert sorted(r.sop_instance_uid for r in dest.received) == sorted(wanted)


@pytest.mark.pynetdicom_patches
def test_composite_instance_root_needs_image_level(archive, dicom_client, stored_series, storage_scp):
    keys = _series_keys(stored_series)
    result = dicom_client.get(keys, COMPOSITE_INSTANCE_ROOT_GET)
    assert result.code == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert "IMAGE" in result.status.ErrorComment
    dest = storage_scp("DEST")
    dicom_client.add_peer(archive, dest)
    moved = dicom_client.move(keys, "DEST", COMPOSITE_INSTANCE_ROOT_MOVE)
    assert moved.code == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert "IMAGE" in moved.status.ErrorComment
    assert dest.received == []


def test_retrieve_without_bulk_data(archive, dicom_client):
    series = make_series("CT", slices=2, seed=8, overlay=True)
    assert all(s.Status == 0 for s in dicom_client.store(series))
    result = dicom_client.get(
        _instance_keys([series[0].SOPInstanceUID]), COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET
    )
    assert result.code == Status.SUCCESS
    [instance] = result.received
    ds = instance.dataset()
    assert "PixelData" not in ds
    assert not [tag for tag in ds.keys() if 0x6000 <= tag.group <= 0x60FF and tag.element == 0x3000]
    assert ds.PatientID == series[0].PatientID and ds.Rows == series[0].Rows
    # Private attributes are kept (Level 2 storage; documented in the conformance statement).
    assert any(tag.is_private for tag in ds.keys()) == any(tag.is_private for tag in series[0].keys())


def test_stored_bytes_are_sent_unchanged(archive, dicom_client, stored_series):
    result = dicom_client.get(_series_keys(stored_series))
    for instance in result.received:
        [location] = archive.retrieve.locate(
            _instance_keys([instance.sop_instance_uid]), information_model=COMPOSITE_INSTANCE_ROOT_GET
        )
        stored = archive.file_store.absolute(location.file_path).read_bytes()
        assert stored.endswith(instance.dataset_bytes)
        assert dcmread(archive.file_store.absolute(location.file_path)).SOPInstanceUID == instance.sop_instance_uid


@pytest.mark.pynetdicom_patches
def test_c_move_to_an_unreachable_destination_says_why(archive, dicom_client, stored_series):
    from qrscp.testing.network import free_port

    from qrscp.config import Peer

    archive.config.peers["GONE"] = Peer("GONE", "127.0.0.1", free_port())
    result = dicom_client.move(_series_keys(stored_series), "GONE")
    assert result.code == Status.REFUSED_MOVE_DESTINATION_UNKNOWN
    assert "cannot associate with GONE" in result.status.ErrorComment
    # A later successful move on a new association is not affected.
    assert dicom_client.echo() == 0
