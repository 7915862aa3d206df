"""PDU reading of ``qrscp.net.pynetdicom_ext.pdu_guard``: the socket is read in large chunks, with pynetdicom's semantics."""

from __future__ import annotations

import socket
import threading
from types import SimpleNamespace

import pytest

from qrscp.net.pynetdicom_ext.pdu_guard import RECV_CHUNK, receive


@pytest.fixture
def socket_pair():
    ours, peer = socket.socketpair()
    yield ours, peer
    ours.close()
    peer.close()


@pytest.mark.parametrize("length", [1, 6, 16_384, 131_072, RECV_CHUNK + 12_345])
def test_receive_returns_exactly_the_bytes_sent(socket_pair, length: int) -> None:
    ours, peer = socket_pair
    payload = bytes(range(256)) * (length // 256) + bytes(length % 256)
    sender = threading.Thread(target=peer.sendall, args=(payload + b"next PDU",))
    sender.start()
    assert receive(SimpleNamespace(socket=ours), length) == payload
    sender.join()
    assert receive(SimpleNamespace(socket=ours), 8) == b"next PDU"


def test_receive_returns_what_came_when_the_peer_closes(socket_pair) -> None:
    ours, peer = socket_pair
    peer.sendall(b"half a PDU")
    peer.close()
    assert receive(SimpleNamespace(socket=ours), 100) == b"half a PDU"


def test_receive_times_out_as_an_os_error(socket_pair) -> None:
    ours, _peer = socket_pair
    ours.settimeout(0.05)
    with pytest.raises(OSError):
        receive(SimpleNamespace(socket=ours), 10)


def test_receive_on_a_closed_association_socket() -> None:
    with pytest.raises(OSError):
        receive(SimpleNamespace(socket=None), 10)
