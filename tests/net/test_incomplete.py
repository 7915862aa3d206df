"""Requests lacking a required command value are answered with a failure status, not left unanswered."""

from __future__ import annotations

import time

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelMove
from sqlalchemy import func, select

from qrscp.index.models import Instance
from qrscp.status import Status
from qrscp.testing.factory import make_series

#: The answers come from qrscp.net.pynetdicom_ext.incomplete; plain pynetdicom drops such requests.
pytestmark = pytest.mark.pynetdicom_patches


def _instance_count(archive) -> int:
    with archive.sessions() as session:
        return session.scalar(select(func.count()).select_from(Instance))


def test_store_with_an_empty_affected_sop_instance_uid_is_refused(tmp_path, archive, dicom_client):
    image = make_series("CT", slices=1, rows=8, columns=8, seed=5)[0]
    image.SOPInstanceUID = ""
    image.file_meta.MediaStorageSOPInstanceUID = ""
    image.preamble = b"\x00" * 128
    path = tmp_path / "no-uid.dcm"
    image.save_as(path, enforce_file_format=False)
    before = _instance_count(archive)
    [status] = dicom_client.store_as_is([path])
    assert "Status" in status, "the archive must answer, not leave the request unanswered"
    assert status.Status == Status.CANNOT_UNDERSTAND
    assert "AffectedSOPInstanceUID" in status.ErrorComment
    assert _instance_count(archive) == before
    assert dicom_client.echo() == 0  # still serving


def test_move_without_a_destination_is_refused_as_unknown_destination(archive, dicom_client):
    """pynetdicom's SCU will not send an empty Move Destination: the request primitive is sent directly."""
    from io import BytesIO

    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset
    from pynetdicom.dimse_primitives import C_MOVE

    ae = AE(ae_title="MOVER")
    ae.add_requested_context(PatientRootQueryRetrieveInformationModelMove)
    assoc = dicom_client.associate(ae)
    try:
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "PATIENT"
        identifier.PatientID = "X"
        encoded = DicomBytesIO()
        encoded.is_little_endian, encoded.is_implicit_VR = True, True
        write_dataset(encoded, identifier)
        request = C_MOVE()
        request.MessageID, request.Priority = 7, 2
        request.AffectedSOPClassUID = PatientRootQueryRetrieveInformationModelMove
        request.Identifier = BytesIO(encoded.getvalue())
        context = assoc.accepted_contexts[0]
        # Pause the association's reactor first, as pynetdicom's own send_c_*() do, so that it does not
        # take the response off the queue.
        assoc._reactor_checkpoint.clear()
        while not assoc._is_paused:
            time.sleep(0.0001)
        try:
            assoc.dimse.send_msg(request, context.context_id)
            _context_id, response = assoc.dimse.msg_queue.get(timeout=20)  # queue.Empty: no answer
        finally:
            assoc._reactor_checkpoint.set()
    finally:
        assoc.release()
    assert response is not None and response.MessageIDBeingRespondedTo == 7
    assert response.Status == Status.REFUSED_MOVE_DESTINATION_UNKNOWN
    assert "MoveDestination" in response.ErrorComment
