"""Transcoding on retrieve over the network: every stored transfer syntax reaches every receiver.

Each stored syntax is retrieved (C-MOVE to a pynetdicom storage SCP, C-GET into the client) by a receiver
that accepts only Implicit VR Little Endian, only Explicit VR Little Endian, or only the stored syntax.
(The encoding itself is unit-tested in tests/services/test_transcode.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from qrscp.config import Config
from qrscp.status import Status
from qrscp.testing.encoding import available_transfer_syntaxes
from qrscp.testing.factory import make_series
from qrscp.testing.network import LOCALHOST, client_for
from qrscp.uids import MR_IMAGE_STORAGE, STUDY_ROOT_GET

# Transcoding on retrieve is done by the stored-file sender, one of qrscp's pynetdicom patches.
pytestmark = [pytest.mark.network, pytest.mark.pynetdicom_patches]

STORED = available_transfer_syntaxes()
RECEIVERS = {"implicit-only": ImplicitVRLittleEndian, "explicit-only": ExplicitVRLittleEndian, "own-only": None}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Dataset]]]:
    """A running archive holding one MR instance per available transfer syntax (as it was stored)."""
    from qrscp.app import Archive

    config = Config()
    config.server.bind_address = LOCALHOST
    config.server.port = 0
    config.storage.data_dir = tmp_path_factory.mktemp("transcoding")
    config.storage.fsync = False
    archive = Archive(config)
    archive.start()
    try:
        originals = {}
        for index, syntax in enumerate(STORED):
            [ds] = make_series("MR", slices=1, seed=300 + index, transfer_syntax=syntax)
            [status] = client_for(archive).store([ds])
            assert status.Status == 0
            originals[syntax] = ds
        yield archive, originals
    finally:
        archive.stop(drain_timeout=10)


def _keys(ds: Dataset) -> Dataset:
    keys = Dataset()
    keys.QueryRetrieveLevel = "IMAGE"
    keys.StudyInstanceUID = ds.StudyInstanceUID
    keys.SeriesInstanceUID = ds.SeriesInstanceUID
    keys.SOPInstanceUID = ds.SOPInstanceUID
    return keys


@pytest.mark.parametrize("how", ["move", "get"])
@pytest.mark.parametrize("receiver", RECEIVERS)
@pytest.mark.parametrize("syntax", STORED, ids=lambda uid: UID(uid).name)
def test_every_stored_syntax_reaches_a_receiver_that_accepts_one_syntax(stored, storage_scp, syntax, receiver, how):
    archive, originals = stored
    original = originals[syntax]
    accepted = RECEIVERS[receiver] or syntax
    client = client_for(archive)
    if how == "move":
        dest = storage_scp(f"DEST{abs(hash((syntax, receiver))) % 10**6}", [accepted])
        client.add_peer(archive, dest)
        result = client.move(_keys(original), dest.ae_title)
        received = dest.received
    else:
        result = client.get(_keys(original), storage=[(MR_IMAGE_STORAGE, [accepted])])
        received = result.received
    assert result.code == Status.SUCCESS, result.status
    [instance] = received
    assert instance.transfer_syntax_uid == accepted
    assert instance.sop_instance_uid == original.SOPInstanceUID
    ds = instance.dataset()
    assert ds.PatientID == original.PatientID
    [location] = archive.retrieve.locate(_keys(original), information_model=STUDY_ROOT_GET)
    path = archive.file_store.absolute(location.file_path)
    if accepted == syntax:
        assert path.read_bytes().endswith(instance.dataset_bytes), "sent as stored"
    # Lossy stored data decodes to the same values wherever it is decoded.
    np.testing.assert_array_equal(ds.pixel_array, dcmread(path).pixel_array)


@pytest.mark.parametrize("syntax", STORED, ids=lambda uid: UID(uid).name)
def test_transcoded_objects_are_as_valid_as_the_stored_ones(stored, tmp_path, syntax):
    """dciodvfy finds no error in a transcoded instance that it did not find in the stored one."""
    from qrscp.testing.dcmtk import dciodvfy_errors, dciodvfy_path

    if dciodvfy_path() is None:
        pytest.skip("dciodvfy not installed (dicom3tools)")
    archive, originals = stored
    result = client_for(archive).get(_keys(originals[syntax]), storage=[(MR_IMAGE_STORAGE, [ExplicitVRLittleEndian])])
    [instance] = result.received
    [location] = archive.retrieve.locate(_keys(originals[syntax]), information_model=STUDY_ROOT_GET)
    kept = archive.file_store.absolute(location.file_path)
    ds = instance.dataset()
    ds.file_meta = dcmread(kept, stop_before_pixels=True).file_meta
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sent = tmp_path / "sent.dcm"
    ds.save_as(sent, enforce_file_format=True)
    new_errors = set(dciodvfy_errors(sent)) - set(dciodvfy_errors(kept))
    assert not new_errors


@pytest.mark.parametrize("syntax", [uid for uid in STORED if uid != ExplicitVRLittleEndian], ids=lambda uid: UID(uid).name)
def test_retrieve_without_bulk_data_reaches_a_little_endian_receiver(stored, syntax):
    from qrscp.uids import COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET

    archive, originals = stored
    keys = Dataset()
    keys.QueryRetrieveLevel = "IMAGE"
    keys.SOPInstanceUID = originals[syntax].SOPInstanceUID
    result = client_for(archive).get(keys, COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
                                     storage=[(MR_IMAGE_STORAGE, [ExplicitVRLittleEndian])])
    assert result.code == Status.SUCCESS, result.status
    [instance] = result.received
    assert instance.transfer_syntax_uid == ExplicitVRLittleEndian
    ds = instance.dataset()
    assert "PixelData" not in ds and ds.Rows == originals[syntax].Rows
