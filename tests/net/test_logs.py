"""Log lines: one per association (peer, accepted contexts) and one per DIMSE request."""

from __future__ import annotations

import logging
import re

import pytest

from pydicom.dataset import Dataset

from qrscp.net import pynetdicom_ext
from qrscp.status import Status
from qrscp.testing.factory import make_series
from qrscp.testing.network import LOCALHOST, add_peer
from qrscp.uids import CT_IMAGE_STORAGE


def _messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("qrscp.net")]


def test_association_and_request_lines(archive, dicom_client, caplog):
    caplog.set_level(logging.INFO, logger="qrscp.net")
    series = make_series("CT", slices=2, seed=61)
    dicom_client.store(series)
    keys = Dataset()
    keys.QueryRetrieveLevel = "STUDY"
    keys.StudyInstanceUID = series[0].StudyInstanceUID
    dicom_client.find(keys)
    dicom_client.get(keys)
    lines = _messages(caplog)
    accepted = [line for line in lines if "association accepted" in line]
    assert len(accepted) == 3
    assert all(re.match(r"PYTEST@127\.0\.0\.1:\d+: association accepted, called AE QRSCP, \d+ presentation", line)
               for line in accepted)
    stores = [line for line in lines if ": C-STORE " in line]
    assert len(stores) == 2 and all("status 0x0000" in line and " ms" in line for line in stores)
    assert any(re.search(r"C-FIND STUDY: 1 matches, status 0x0000, [\d.]+ ms", line) for line in lines)
    assert any(re.search(r"C-GET STUDY: 2 sub-operations, 2 completed, 0 failed, 0 warning, status 0x0000, [\d.]+ ms",
                         line) for line in lines)
    assert sum("association released" in line for line in lines) == 3


def test_rejections_are_logged_with_the_reason(archive, caplog):
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    caplog.set_level(logging.INFO, logger="qrscp.net")
    ae = AE(ae_title="INTRUDER")
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", archive.port, ae_title="NOTQRSCP")
    assert assoc.is_rejected
    assert any("INTRUDER@127.0.0.1" in line and "called AE title 'NOTQRSCP'" in line for line in _messages(caplog))


@pytest.fixture
def refusing_scp():
    """A storage SCP that answers A700 "disk full" for the SOP Instance UIDs in its ``refuse`` set."""
    from pynetdicom import AE, AllStoragePresentationContexts, evt

    class Refusing:
        ae_title = "REFUSER"
        refuse: set[str] = set()

    def handle_store(event):
        if str(event.request.AffectedSOPInstanceUID) in Refusing.refuse:
            status = Dataset()
            status.Status = 0xA700
            status.ErrorComment = "disk full"
            return status
        return 0x0000

    ae = AE(ae_title=Refusing.ae_title)
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax)
    server = ae.start_server((LOCALHOST, 0), block=False, evt_handlers=[(evt.EVT_C_STORE, handle_store)])
    Refusing.port = int(server.server_address[1])
    yield Refusing
    ae.shutdown()


@pytest.mark.parametrize("refused, status", [(1, Status.SUB_OPERATIONS_COMPLETE_WITH_FAILURES),
                                              (3, Status.REFUSED_OUT_OF_RESOURCES_SUB_OPERATIONS)], ids=["partly", "all"])
def test_a_failed_c_move_logs_the_status_sent_the_counts_and_the_first_reason(
        archive, dicom_client, refusing_scp, caplog, refused, status):
    caplog.set_level(logging.INFO, logger="qrscp.net")
    series = make_series("CT", slices=3, seed=62)
    assert all(s.Status == 0 for s in dicom_client.store(series))
    refusing_scp.refuse = {ds.SOPInstanceUID for ds in series[:refused]}
    add_peer(archive, refusing_scp)
    keys = Dataset()
    keys.QueryRetrieveLevel = "SERIES"
    keys.StudyInstanceUID = series[0].StudyInstanceUID
    keys.SeriesInstanceUID = series[0].SeriesInstanceUID
    result = dicom_client.move(keys, "REFUSER")
    assert result.code == status
    [line] = [line for line in _messages(caplog) if "C-MOVE SERIES to REFUSER" in line]
    assert f"3 sub-operations, {3 - refused} completed, {refused} failed, 0 warning, status 0x{status:04X}" in line
    if not pynetdicom_ext.active():
        return  # the reason is recorded by the stored-file sender, one of the patches
    assert re.search(r"first failure: [\d.]+: REFUSER@127\.0\.0\.1:\d+ answered 0xA700 \(disk full\)", line), line


def test_a_c_get_logs_why_a_sub_operation_could_not_be_sent(archive, dicom_client, caplog):
    caplog.set_level(logging.INFO, logger="qrscp.net")
    ct = make_series("CT", slices=1, seed=63)
    mr = make_series("MR", slices=1, seed=63, study_uid=ct[0].StudyInstanceUID)
    assert all(s.Status == 0 for s in dicom_client.store(ct + mr))
    keys = Dataset()
    keys.QueryRetrieveLevel = "STUDY"
    keys.StudyInstanceUID = ct[0].StudyInstanceUID
    result = dicom_client.get(keys, storage=[(CT_IMAGE_STORAGE, ["1.2.840.10008.1.2"])])
    assert result.code == Status.SUB_OPERATIONS_COMPLETE_WITH_FAILURES
    [line] = [line for line in _messages(caplog) if "C-GET STUDY" in line]
    assert "2 sub-operations, 1 completed, 1 failed, 0 warning, status 0xB000" in line
    if not pynetdicom_ext.active():
        return  # the reason is recorded by the stored-file sender, one of the patches
    assert f"first failure: {mr[0].SOPInstanceUID}: " in line and "MR Image Storage" in line, line
