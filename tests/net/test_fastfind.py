"""Pending C-FIND responses in one P-DATA-TF PDU: the same bytes as pynetdicom's two PDUs."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pynetdicom.dimse_messages import C_FIND_RSP
from pynetdicom.dimse_primitives import C_FIND

from qrscp.net import fastfind
from qrscp.net.fastencode import encode_flat
from qrscp.status import Status
from qrscp.uids import PATIENT_ROOT_FIND, STUDY_ROOT_FIND


def _response(sop_class: str, message_id: int, status: int, identifier: bytes | None) -> C_FIND:
    rsp = C_FIND()
    rsp.MessageIDBeingRespondedTo = message_id
    rsp.AffectedSOPClassUID = sop_class
    rsp.Status = status
    rsp.Identifier = BytesIO(identifier) if identifier is not None else None
    return rsp


def _identifier() -> bytes:
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.InstanceNumber = 7
    return encode_flat(ds, False)


@pytest.mark.parametrize("sop_class", [STUDY_ROOT_FIND, PATIENT_ROOT_FIND])  # even and odd UID lengths
@pytest.mark.parametrize("status", [Status.PENDING, Status.PENDING_WARNING])
@pytest.mark.parametrize("message_id", [1, 65535])
def test_one_pdu_carries_what_pynetdicom_sends_in_two(sop_class, status, message_id):
    identifier = _identifier()
    primitive = _response(sop_class, message_id, int(status), identifier)
    message = C_FIND_RSP()
    message.primitive_to_message(primitive)
    expected = [pdv for pdata in message.encode_msg(3, 16384) for pdv in pdata.presentation_data_value_list]
    fast = fastfind._fast_pdata(_response(sop_class, message_id, int(status), identifier), 3, 16384)
    assert fast is not None
    assert [tuple(pdv) for pdv in fast.presentation_data_value_list] == [tuple(pdv) for pdv in expected]


@pytest.mark.parametrize(
    "status, identifier, max_pdu",
    [
        (Status.SUCCESS, None, 16384),  # final response: pynetdicom sends it
        (Status.CANCEL, None, 16384),
        (Status.PENDING, b"", 16384),  # nothing encoded
        (Status.PENDING, b"\x00" * 20000, 16384),  # does not fit in one PDU of the peer
    ],
)
def test_everything_else_goes_through_pynetdicom(status, identifier, max_pdu):
    assert fastfind._fast_pdata(_response(STUDY_ROOT_FIND, 1, int(status), identifier), 1, max_pdu) is None


def test_no_limit_when_the_peer_sets_none():
    big = b"\x00" * 200_000
    assert fastfind._fast_pdata(_response(STUDY_ROOT_FIND, 1, 0xFF00, big), 1, 0) is not None


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
