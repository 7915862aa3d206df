"""Raw upper-layer peers and server-health checks for the hostile-input, idle-connection and TLS tests.

(A plain module, not a conftest.py: a second ``conftest`` module would shadow ``tests/conftest.py`` for
``from conftest import ...`` in this directory.)

``RawPeer`` speaks bytes over TCP (no pynetdicom on our side) so that tests can send anything; the
helpers build valid A-ASSOCIATE-RQ / P-DATA-TF PDUs to start from. ``server_health`` snapshots the
server's threads and index so that a test can assert they are back where they were (bounded polling,
no sleeps).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynetdicom.pdu import A_ASSOCIATE_RQ
from pynetdicom.pdu_primitives import (
    A_ASSOCIATE,
    ImplementationClassUIDNotification,
    MaximumLengthNotification,
)
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import Verification
from sqlalchemy import func, select

from qrscp.index.models import Instance

LOCALHOST = "127.0.0.1"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
A_ASSOCIATE_AC = 0x02
A_ASSOCIATE_RJ = 0x03
P_DATA_TF = 0x04
A_ABORT = 0x07
#: Bounded waits of these tests (seconds): a deadline for polling, never a sleep.
SETTLE_TIMEOUT = 20.0


def association_request(called: str = "QRSCP", calling: str = "RAWPEER", abstract_syntax: str = Verification,
                        transfer_syntax: str = "1.2.840.10008.1.2") -> bytes:
    """Encode a valid A-ASSOCIATE-RQ PDU proposing one presentation context (ID 1)."""
    primitive = A_ASSOCIATE()
    primitive.application_context_name = APPLICATION_CONTEXT
    primitive.calling_ae_title = calling
    primitive.called_ae_title = called
    context = build_context(abstract_syntax, [transfer_syntax])
    context.context_id = 1
    primitive.presentation_context_definition_list = [context]
    max_length = MaximumLengthNotification()
    max_length.maximum_length_received = 16384
    implementation = ImplementationClassUIDNotification()
    implementation.implementation_class_uid = "1.2.826.0.1.3680043.9.7433.1.1"
    primitive.user_information = [max_length, implementation]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(primitive)
    return pdu.encode()


def pdu(pdu_type: int, body: bytes, length: int | None = None) -> bytes:
    """A PDU: type, reserved byte, length (the real one unless given), body."""
    return struct.pack(">BBL", pdu_type, 0, len(body) if length is None else length) + body


def pdv(context_id: int, control: int, data: bytes, length: int | None = None) -> bytes:
    """A Presentation Data Value item (length covers context ID, control header and data unless given)."""
    return struct.pack(">LBB", len(data) + 2 if length is None else length, context_id, control) + data


@dataclass
class Reply:
    """What the server did: the PDU types it sent, and whether it closed the connection."""

    pdu_types: list[int]
    closed: bool
    first_pdu: bytes = b""


class RawPeer:
    """A TCP connection to the server speaking raw bytes."""

    def __init__(self, port: int, host: str = LOCALHOST, timeout: float = SETTLE_TIMEOUT) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, data: bytes) -> bool:
        """Send `data`; False when the server already closed the connection."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def read_pdu(self) -> bytes | None:
        """Read one whole PDU, or None when the connection closed (or timed out) first."""
        header = self._read(6)
        if header is None:
            return None
        body = self._read(struct.unpack(">L", header[2:6])[0])
        return None if body is None else header + body

    def _read(self, count: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < count:
            try:
                chunk = self.sock.recv(min(65536, count - len(chunks)))
            except OSError:
                return None
            if not chunk:
                return None
            chunks.extend(chunk)
        return bytes(chunks)

    def associate(self, request: bytes | None = None) -> bytes:
        """Send an A-ASSOCIATE-RQ and return the A-ASSOCIATE-AC (asserting that it is one)."""
        self.send(request or association_request())
        answer = self.read_pdu()
        assert answer is not None and answer[0] == A_ASSOCIATE_AC, answer
        return answer

    def finish(self, half_close: bool = True) -> Reply:
        """Stop sending (half close) and collect the server's PDUs until it closes the connection."""
        if half_close:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        types, first = [], b""
        while True:
            answer = self.read_pdu()
            if answer is None:
                break
            types.append(answer[0])
            first = first or answer
        self.close()
        return Reply(types, True, first)

    def wait_closed(self) -> bool:
        """Read (and drop) until the server closes the connection; False when the socket timeout came first."""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            except OSError:
                return True
            if not chunk:
                return True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def wait_until(condition: Callable[[], bool], timeout: float = SETTLE_TIMEOUT, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` passes; return its last value."""
    deadline = time.monotonic() + timeout
    event = threading.Event()
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return condition()
        event.wait(interval)  # polling interval of a bounded wait, not synchronisation


def acceptor_threads(archive: Any) -> int:
    """Association (acceptor) threads of `archive`'s AE."""
    return sum(1 for assoc in archive.ae.active_associations if assoc.is_acceptor)


def instance_count(archive: Any) -> int:
    with archive.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Instance)) or 0)


@dataclass
class Health:
    """Threads and index rows of an in-process archive at one moment."""

    threads: int
    instances: int


def health(archive: Any) -> Health:
    """A snapshot of `archive` to compare with after hostile input."""
    return Health(threading.active_count(), instance_count(archive))


def settled(archive: Any, before: Health) -> bool:
    """Wait (bounded) until no association thread is left and the thread count is back to `before`."""
    return wait_until(lambda: acceptor_threads(archive) == 0 and threading.active_count() <= before.threads)
