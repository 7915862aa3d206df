"""Idle connections, stalled peers and limits (issue 6, point 3).

Orthanc 1.10 and dcmqrscp stop answering a legitimate C-ECHO while 30 idle TCP connections are held
open; pynetdicom 3 as such too (every accepted socket's thread counts toward ``maximum_associations``,
and a peer that stops inside a PDU blocks its reactor for ever). Here idle connections are bounded
apart from associations and closed by the ARTIM timer; stalled ones by the socket timeout.
"""

from __future__ import annotations

import logging
from io import BytesIO

import pytest
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage, Verification
from rawpeer import (
    A_ABORT,
    P_DATA_TF,
    RawPeer,
    acceptor_threads,
    association_request,
    health,
    instance_count,
    pdu,
    pdv,
    settled,
    wait_until,
)

from qrscp.net.access import (
    REASON_LOCAL_LIMIT_EXCEEDED,
    REJECTED_TRANSIENT,
    SOURCE_SERVICE_PROVIDER_PRESENTATION,
)
from qrscp.status import Status
from qrscp.testing.network import client_for

pytestmark = pytest.mark.timeout(120)

IDLE_CONNECTIONS = 30


def _open_idle(port: int, count: int) -> list[RawPeer]:
    return [RawPeer(port) for _ in range(count)]


@pytest.fixture
def archive_config(archive_config):
    archive_config.server.max_associations = 2
    archive_config.server.artim_timeout = 30.0  # the idle connections stay for the whole test
    archive_config.server.max_pending_connections = 64
    return archive_config


def test_c_echo_answered_while_30_idle_connections_are_held(archive, capsys):
    idle = _open_idle(archive.port, IDLE_CONNECTIONS)
    try:
        assert wait_until(lambda: len(archive.limits.pending()) == IDLE_CONNECTIONS)
        # More idle connections than max_associations, and still two associations at once are accepted.
        client = client_for(archive)
        ae = AE(ae_title="PYTEST")
        ae.add_requested_context(Verification)
        first = ae.associate("127.0.0.1", archive.port, ae_title=archive.ae_title)
        try:
            assert first.is_established
            assert client.echo() == Status.SUCCESS
        finally:
            first.release()
        # Nobody was closed to make room: all 30 are still waiting.
        assert len(archive.limits.pending()) == IDLE_CONNECTIONS
    finally:
        for peer in idle:
            peer.close()
    with capsys.disabled():
        print(f"\nidle connections held while C-ECHO answered: {IDLE_CONNECTIONS}")


def test_max_associations_rejects_transient_local_limit_exceeded(archive):
    ae = AE(ae_title="PYTEST")
    ae.add_requested_context(Verification)
    held = [ae.associate("127.0.0.1", archive.port, ae_title=archive.ae_title) for _ in range(2)]
    try:
        assert all(a.is_established for a in held)
        third = ae.associate("127.0.0.1", archive.port, ae_title=archive.ae_title)
        assert third.is_rejected
        rejection = third.acceptor.primitive
        assert (rejection.result, rejection.result_source, rejection.diagnostic) == (
            REJECTED_TRANSIENT,
            SOURCE_SERVICE_PROVIDER_PRESENTATION,
            REASON_LOCAL_LIMIT_EXCEEDED,
        )
    finally:
        for assoc in held:
            assoc.release()
    assert client_for(archive).echo() == Status.SUCCESS


@pytest.fixture
def short_timers(archive_config):
    archive_config.server.artim_timeout = 1.0
    archive_config.server.acse_timeout = 2.0
    archive_config.server.network_timeout = 2.0
    return archive_config


def test_connections_without_request_are_closed_by_artim(short_timers, archive):
    before = health(archive)
    idle = _open_idle(archive.port, 5)
    assert all(peer.wait_closed() for peer in idle)
    for peer in idle:
        peer.close()
    assert settled(archive, before)


def test_peer_stalled_inside_the_request_is_closed(short_timers, archive):
    before = health(archive)
    peer = RawPeer(archive.port)
    peer.send(association_request()[:40])
    assert peer.wait_closed()
    peer.close()
    assert settled(archive, before)
    assert client_for(archive).echo() == Status.SUCCESS


def test_peer_stalled_inside_a_p_data_pdu_is_closed(short_timers, archive):
    """Without a socket timeout pynetdicom's reactor would wait in recv() for the missing bytes for ever."""
    before = health(archive)
    peer = RawPeer(archive.port)
    peer.associate(association_request())
    peer.send(bytes([P_DATA_TF, 0]) + (1000).to_bytes(4, "big") + b"\x00" * 10)
    assert peer.wait_closed()
    peer.close()
    assert settled(archive, before)
    assert client_for(archive).echo() == Status.SUCCESS


def test_idle_established_association_is_aborted_by_the_network_timer(short_timers, archive):
    before = health(archive)
    peer = RawPeer(archive.port)
    peer.associate(association_request())
    answer = peer.read_pdu()  # nothing sent: the server gives up after network_timeout
    assert answer is None or answer[0] in (A_ABORT, 0x05)
    peer.close()
    assert settled(archive, before)


@pytest.fixture
def few_pending(archive_config):
    archive_config.server.max_pending_connections = 5
    return archive_config


@pytest.mark.pynetdicom_patches
def test_pending_connections_beyond_the_bound_close_the_oldest(few_pending, archive):
    oldest = _open_idle(archive.port, 5)
    try:
        assert wait_until(lambda: len(archive.limits.pending()) == 5)
        newest = _open_idle(archive.port, 5)
        # The five oldest are closed to make room; the five newest keep waiting.
        assert all(peer.wait_closed() for peer in oldest)
        ports = {peer.sock.getsockname()[1] for peer in newest}
        assert wait_until(lambda: {a.requestor.port for a in archive.limits.pending()} == ports)
        assert client_for(archive).echo() == Status.SUCCESS
    finally:
        for peer in oldest + newest:
            peer.close()
    assert wait_until(lambda: acceptor_threads(archive) == 0)


@pytest.fixture
def small_datasets(archive_config):
    archive_config.storage.max_dataset_bytes = 4096
    return archive_config


def test_dataset_above_max_dataset_bytes_gets_a700(small_datasets, archive, dicom_dir):
    statuses = client_for(archive).store(sorted(dicom_dir.iterdir())[:1])
    assert int(statuses[0].Status) == Status.REFUSED_OUT_OF_RESOURCES
    assert "ErrorComment" in statuses[0]
    assert instance_count(archive) == 0


def _c_store_command(sop_class: str, sop_instance: str) -> bytes:
    """The P-DATA-TF PDU(s) of a C-STORE-RQ command set, encoded by pynetdicom."""
    from pynetdicom.dimse_messages import C_STORE_RQ
    from pynetdicom.dimse_primitives import C_STORE

    primitive = C_STORE()
    primitive.MessageID = 1
    primitive.AffectedSOPClassUID = sop_class
    primitive.AffectedSOPInstanceUID = sop_instance
    primitive.Priority = 2
    primitive.DataSet = BytesIO(b"")
    message = C_STORE_RQ()
    message.primitive_to_message(primitive)
    message.data_set = None  # the command only: the data set follows by hand
    encoded = b""
    for p_data in message.encode_msg(1, 0):
        for context_id, value in p_data.presentation_data_value_list:
            encoded += pdu(P_DATA_TF, pdv(context_id, value[0], value[1:]))
    return encoded


@pytest.mark.pynetdicom_patches
def test_data_set_far_beyond_max_dataset_bytes_is_aborted_while_arriving(small_datasets, archive, caplog):
    """The storage service answers A700 once a data set is complete; one that keeps coming is cut off."""
    from qrscp.net.limits import DATA_SET_SLACK

    caplog.set_level(logging.WARNING, logger="qrscp.net")
    before = health(archive)
    peer = RawPeer(archive.port)
    peer.associate(association_request(abstract_syntax=CTImageStorage, transfer_syntax=ExplicitVRLittleEndian))
    assert peer.send(_c_store_command(CTImageStorage, "1.2.826.0.1.3680043.9.7433.99.1"))
    chunk = pdu(P_DATA_TF, pdv(1, 0x00, b"\x00" * (128 * 1024)))
    sent = 0
    while sent <= archive.config.storage.max_dataset_bytes + DATA_SET_SLACK and peer.send(chunk):
        sent += 128 * 1024
    reply = peer.finish(half_close=False)
    assert set(reply.pdu_types) <= {A_ABORT}
    assert settled(archive, before)
    assert [r for r in caplog.records if "data set larger than" in r.getMessage()]
    assert instance_count(archive) == 0
    assert client_for(archive).echo() == Status.SUCCESS
