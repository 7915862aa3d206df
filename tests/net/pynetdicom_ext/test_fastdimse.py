"""DIMSE messages of the hot paths: the same command set and data set bytes as pynetdicom sends."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pynetdicom import _config as pynetdicom_config
from pynetdicom.dimse_messages import C_FIND_RSP, C_GET_RSP, C_MOVE_RSP, C_STORE_RQ, C_STORE_RSP
from pynetdicom.dimse_primitives import C_FIND, C_GET, C_MOVE, C_STORE

from qrscp.net.pynetdicom_ext import fastdimse
from qrscp.dicom.flat import encode_flat
from qrscp.status import Status
from qrscp.uids import CT_IMAGE_STORAGE, PATIENT_ROOT_FIND, STUDY_ROOT_FIND, STUDY_ROOT_GET, STUDY_ROOT_MOVE

MESSAGE_CLASSES = {C_FIND: C_FIND_RSP, C_GET: C_GET_RSP, C_MOVE: C_MOVE_RSP}


def _pynetdicom_pdvs(message, primitive, context_id: int, max_pdu: int) -> tuple[bytes, bytes]:
    """(command set, data set) bytes as pynetdicom fragments them, reassembled."""
    message.primitive_to_message(primitive)
    command, data = b"", b""
    for pdata in message.encode_msg(context_id, max_pdu):
        for cx, pdv in pdata.presentation_data_value_list:
            assert cx == context_id
            if pdv[0] & 1:
                command += pdv[1:]
            else:
                data += pdv[1:]
    return command, data


def _fast_pdvs(primitive, context_id: int, max_pdu: int, combine: bool = False) -> tuple[bytes, bytes, list[int]]:
    messages = fastdimse.pdata_messages(primitive, context_id, max_pdu, combine)
    assert messages is not None
    command, data, sizes = b"", b"", []
    controls = []
    for index, pdata in enumerate(messages):
        sizes.append(sum(4 + len(pdv) for _cx, pdv in pdata.presentation_data_value_list))
        # Separate packing (the default, as pynetdicom and DCMTK send): one PDV per PDU.
        assert combine and index == 0 or len(pdata.presentation_data_value_list) == 1
        for cx, pdv in pdata.presentation_data_value_list:
            assert cx == context_id
            controls.append(pdv[0])
            if pdv[0] & 1:
                command += pdv[1:]
            else:
                data += pdv[1:]
    # One command PDV, marked last; data fragments all "more" but the last.
    assert controls[0] == 0x03 and controls.count(0x03) == 1
    data_controls = controls[1:]
    assert data_controls == [] or (set(data_controls[:-1]) <= {0x00} and data_controls[-1] == 0x02)
    return command, data, sizes


def _identifier() -> BytesIO:
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.InstanceNumber = 7
    return BytesIO(encode_flat(ds, False))


def _response(cls, sop_class: str, message_id: int, status: int, identifier: BytesIO | None, **counts):
    rsp = cls()
    rsp.MessageIDBeingRespondedTo = message_id
    rsp.AffectedSOPClassUID = sop_class
    rsp.Status = status
    rsp.Identifier = identifier
    for name, value in counts.items():
        setattr(rsp, name, value)
    return rsp


COUNTS = {"NumberOfRemainingSuboperations": 498, "NumberOfCompletedSuboperations": 1,
          "NumberOfFailedSuboperations": 1, "NumberOfWarningSuboperations": 0}


@pytest.mark.parametrize("sop_class", [STUDY_ROOT_FIND, PATIENT_ROOT_FIND])  # even and odd UID lengths
@pytest.mark.parametrize("status", [Status.PENDING, Status.PENDING_WARNING])
@pytest.mark.parametrize("message_id", [1, 65535])
@pytest.mark.parametrize("combine", [False, True])
def test_pending_c_find_response(sop_class, status, message_id, combine):
    make = lambda: _response(C_FIND, sop_class, message_id, int(status), _identifier())  # noqa: E731
    command, data, sizes = _fast_pdvs(make(), 3, 16384, combine)
    assert (command, data) == _pynetdicom_pdvs(C_FIND_RSP(), make(), 3, 16384)
    assert len(sizes) == (1 if combine else 2)  # command and identifier in one PDU only when combined


@pytest.mark.parametrize("cls, sop_class", [(C_GET, STUDY_ROOT_GET), (C_MOVE, STUDY_ROOT_MOVE)])
def test_pending_retrieve_responses(cls, sop_class):
    make = lambda: _response(cls, sop_class, 9, 0xFF00, None, **COUNTS)  # noqa: E731
    command, data, _sizes = _fast_pdvs(make(), 5, 16384)
    assert (command, data) == _pynetdicom_pdvs(MESSAGE_CLASSES[cls](), make(), 5, 16384)
    assert data == b""


@pytest.mark.parametrize("status, comment", [(0x0000, None), (0xB007, None), (0xA700, "cannot write file: disk full")])
def test_c_store_response(status, comment):
    def make():
        rsp = C_STORE()
        rsp.MessageIDBeingRespondedTo = 12
        rsp.AffectedSOPClassUID = CT_IMAGE_STORAGE
        rsp.AffectedSOPInstanceUID = "1.2.3.4.5.6.77"
        rsp.Status = status
        rsp.ErrorComment = comment
        return rsp

    command, data, sizes = _fast_pdvs(make(), 1, 16384)
    assert (command, data) == _pynetdicom_pdvs(C_STORE_RSP(), make(), 1, 16384)
    assert data == b"" and len(sizes) == 1


def _store_request(originator: str | None, data: bytes | None, path=None) -> C_STORE:
    req = C_STORE()
    req.MessageID = 7
    req.Priority = 2
    req.AffectedSOPClassUID = CT_IMAGE_STORAGE
    req.AffectedSOPInstanceUID = "1.2.3.4.5.6.7"
    if originator is not None:
        req.MoveOriginatorApplicationEntityTitle = originator
        req.MoveOriginatorMessageID = 3
    if data is not None:
        req.DataSet = BytesIO(data)
    if path is not None:
        req._dataset_path = path
    return req


@pytest.mark.parametrize("originator", [None, "VIEWER", "WS1"])  # no originator, even and odd lengths
@pytest.mark.parametrize("length", [1000, 16384 - 200, 16384, 3 * 16378 + 17])
@pytest.mark.parametrize("max_pdu", [16384, 0])
@pytest.mark.parametrize("combine", [False, True])
@pytest.mark.parametrize("read_block", [700, 16378, 4 * 1024 * 1024])  # files read in blocks, cut in fragments
def test_c_store_request_from_a_file_and_from_bytes(tmp_path, monkeypatch, originator, length, max_pdu, combine,
                                                     read_block):
    monkeypatch.setattr(fastdimse, "READ_BLOCK", read_block)
    data = bytes(range(256)) * (length // 256) + b"\x07" * (length % 256)
    path = tmp_path / "stored.dcm"
    path.write_bytes(b"HEADER" + data)
    expected = _pynetdicom_pdvs(C_STORE_RQ(), _store_request(originator, data), 1, max_pdu)
    for request in (_store_request(originator, None, (path, 6)), _store_request(originator, data)):
        command, sent, sizes = _fast_pdvs(request, 1, max_pdu, combine)
        assert (command, sent) == expected
        assert max_pdu == 0 or max(sizes) <= max_pdu


@pytest.mark.parametrize(
    "primitive",
    [
        _response(C_FIND, STUDY_ROOT_FIND, 1, 0x0000, None),  # final responses: pynetdicom (and amendments)
        _response(C_GET, STUDY_ROOT_GET, 1, 0xB000, None, **COUNTS),
        _response(C_FIND, STUDY_ROOT_FIND, 1, 0xFF00, BytesIO(b"")),  # nothing encoded
        _response(C_GET, STUDY_ROOT_GET, 1, 0xFF00, None, OffendingElement=[0x00100010]),  # not written here
    ],
    ids=["find-success", "get-warning", "empty-identifier", "offending-element"],
)
def test_everything_else_goes_through_pynetdicom(primitive):
    assert fastdimse.pdata_messages(primitive, 1, 16384) is None


@pytest.mark.parametrize("originator", [None, "VIEWER", "WS1 "])
def test_store_request_without_a_pynetdicom_primitive(tmp_path, originator, monkeypatch):
    monkeypatch.setattr(pynetdicom_config, "LOG_HANDLER_LEVEL", "none")  # the server's setting
    data = bytes(range(256)) * 100
    path = tmp_path / "stored.dcm"
    path.write_bytes(b"HEAD" + data)
    request = fastdimse.StoreRequest(message_id=7, priority=2, sop_class_uid=CT_IMAGE_STORAGE,
                                     sop_instance_uid="1.2.3.4.5.6.7", originator_aet=originator,
                                     originator_id=3 if originator else None, dataset_path=(path, 4))
    assert fastdimse.store_request_messages(request, 1, 16384) is not None
    command, sent, _sizes = _fast_pdvs(request, 1, 16384)
    expected = _pynetdicom_pdvs(C_STORE_RQ(), _store_request(originator and originator.strip(), data), 1, 16384)
    assert (command, sent) == expected


def test_store_request_with_an_invalid_originator_goes_through_pynetdicom(tmp_path, monkeypatch):
    monkeypatch.setattr(pynetdicom_config, "LOG_HANDLER_LEVEL", "none")
    request = fastdimse.StoreRequest(message_id=1, priority=2, sop_class_uid=CT_IMAGE_STORAGE,
                                     sop_instance_uid="1.2.3", originator_aet="A\\B", originator_id=1,
                                     dataset_path=(tmp_path / "x", 0))
    assert fastdimse.store_request_messages(request, 1, 16384) is None


def test_an_unreadable_file_fails_before_anything_is_sent(tmp_path):
    with pytest.raises(OSError):
        fastdimse.pdata_messages(_store_request(None, None, (tmp_path / "missing.dcm", 0)), 1, 16384)


def test_a_find_answers_the_same_over_the_fast_path(dicom_client, archive):
    from qrscp.testing.factory import make_series

    series = make_series("CT", slices=3, rows=16, columns=16, seed=5)
    assert [s.Status for s in dicom_client.store(series)] == [0, 0, 0]
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "IMAGE"
    identifier.StudyInstanceUID = series[0].StudyInstanceUID
    identifier.SeriesInstanceUID = series[0].SeriesInstanceUID
    identifier.SOPInstanceUID = ""
    final, matches = dicom_client.find(identifier)
    assert final.Status == Status.SUCCESS
    assert sorted(m.SOPInstanceUID for m in matches) == sorted(s.SOPInstanceUID for s in series)


@pytest.mark.parametrize("combine", [False, True])
def test_both_packings_answer_a_find_and_a_get(make_archive, combine):
    from qrscp.testing.factory import make_series
    from qrscp.testing.network import client_for

    def configure(config):
        config.server.command_and_data_in_one_pdu = combine

    archive = make_archive(configure)
    client = client_for(archive)
    series = make_series("CT", slices=2, rows=16, columns=16, seed=6)
    assert [s.Status for s in client.store(series)] == [0, 0]
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = series[0].StudyInstanceUID
    identifier.SeriesInstanceUID = series[0].SeriesInstanceUID
    final, matches = client.find(identifier)
    assert final.Status == Status.SUCCESS and len(matches) == 1
    result = client.get(identifier)
    assert result.code == Status.SUCCESS and len(result.received) == 2
