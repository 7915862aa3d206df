"""P-DATA written to the socket by the thread that makes it, not handed to the DUL thread.

pynetdicom queues every P-DATA primitive for its DUL thread, which wakes up, runs the state machine
(Evt9, action DT-1: Sta6 -> Sta6), encodes the P-DATA-TF PDU and writes it. For a C-FIND that is a
hand-over between two threads, and the GIL, for every pending response; with several associations
at once these hand-overs, not the work, filled the worker's time. Here a P-DATA-TF PDU is encoded and
written by the caller of ``send_pdu`` itself when that changes nothing the state machine would do:

* the association is established (Sta6, where DT-1 only sends and stays in Sta6);
* nothing is queued for the DUL before it, so the order of PDUs is kept;
* the connection is plain TCP: an SSL object must not be read and written by two threads at once.

Otherwise the primitive is queued as pynetdicom does. Writes of the DUL thread and of the callers
share one lock, so PDUs never interleave.

Pending C-FIND and C-GET responses are small and come in runs: :func:`hold` keeps them in the
association's outbox and writes them together, when the outbox reaches :data:`OUTBOX_BYTES`, when
any other PDU is sent (the final response, the next C-STORE-RQ), or when the DUL thread finds them
older than :data:`OUTBOX_SECONDS` (it looks at least every ``wakeups.IDLE_WAIT``). A 500-match C-FIND
is then a handful of writes instead of a thousand, which matters most when many associations share
one process: each write gives up the GIL. A failed write is reported to the DUL as pynetdicom's own
send reports it (Evt17: transport connection closed). ``EVT_PDU_SENT``/``EVT_DATA_SENT`` are not
triggered for these PDUs (qrscp binds neither).
"""

from __future__ import annotations

import ssl
import struct
import threading
import time
from collections.abc import Iterable
from typing import Any

from pynetdicom.association import Association
from pynetdicom.pdu_primitives import P_DATA

_PDU_HEADER = struct.Struct(">BBL")
_ITEM_LENGTH = struct.Struct(">L")
P_DATA_TF = 0x04
ESTABLISHED = "Sta6"
#: Bytes of held responses written at once.
OUTBOX_BYTES = 64 * 1024
#: Seconds after which the DUL thread writes held responses that nothing else has written.
OUTBOX_SECONDS = 0.02
#: Bytes of one message's PDUs written at once by :func:`send_all`.
WRITE_BATCH = 4 * 1024 * 1024


def encode_p_data_tf(primitive: P_DATA) -> bytes:
    """The P-DATA-TF PDU of `primitive` (PS3.8 9.3.5): its PDV items, each [context ID, PDV bytes]."""
    parts = [b""]
    length = 0
    for context_id, pdv in primitive.presentation_data_value_list:
        parts.append(_ITEM_LENGTH.pack(len(pdv) + 1) + bytes((context_id,)))
        parts.append(pdv)
        length += 5 + len(pdv)
    parts[0] = _PDU_HEADER.pack(P_DATA_TF, 0, length)
    return b"".join(parts)


class Outbox:
    """The writes of one association: a lock shared with the DUL thread, and held PDUs."""

    def __init__(self, dul: Any) -> None:
        self.dul = dul
        self.lock = threading.Lock()
        self.held: list[bytes] = []
        self.held_bytes = 0
        self.held_since = 0.0

    def write(self, data: bytes) -> bool:
        """Write the held PDUs, then `data` (call with the lock held); False when the connection failed."""
        if self.held:
            self.held.append(data)
            data = b"".join(self.held)
            self.held.clear()
            self.held_bytes = 0
        sock = self.dul.socket.socket if self.dul.socket is not None else None
        if sock is None:
            return False
        if not data:
            return True
        try:
            sock.sendall(data)
        except OSError:
            self.dul.event_queue.put("Evt17")  # as AssociationSocket.send reports it
            return False
        return True

    def flush_stale(self) -> None:
        """Write held PDUs older than OUTBOX_SECONDS (the DUL thread, when it wakes)."""
        if self.held and time.monotonic() - self.held_since >= OUTBOX_SECONDS:
            with self.lock:
                if self.held and _may_write(self.dul):
                    self.write(b"")


def enable_direct_send(assoc: Association) -> None:
    """Let the threads of `assoc` write their P-DATA themselves (idempotent; at EVT_CONN_OPEN)."""
    dul = getattr(assoc, "dul", None)
    transport = getattr(dul, "socket", None)
    if dul is None or transport is None or getattr(dul, "_qrscp_outbox", None) is not None:
        return
    outbox = Outbox(dul)
    transport_send = transport.send

    def locked_send(bytestream: bytes) -> None:  # the DUL thread's own writes
        with outbox.lock:
            if outbox.held and _may_write(dul):
                outbox.write(b"")
            transport_send(bytestream)

    queue_pdu = dul.send_pdu

    def send_pdu(primitive: Any) -> None:
        if type(primitive) is P_DATA and _may_write(dul):
            with outbox.lock:
                if _may_write(dul):
                    outbox.write(encode_p_data_tf(primitive))
                    return
        queue_pdu(primitive)

    transport.send = locked_send
    dul.send_pdu = send_pdu
    dul._qrscp_outbox = outbox  # type: ignore[attr-defined]


def send_all(dul: Any, primitives: Iterable[P_DATA]) -> None:
    """Send the PDUs of one message (a C-STORE-RQ of a stored file): written directly in batches of
    up to :data:`WRITE_BATCH` bytes when possible (one system call each), else queued one by one."""
    outbox: Outbox | None = getattr(dul, "_qrscp_outbox", None)
    iterator = iter(primitives)
    if outbox is not None and _may_write(dul):
        with outbox.lock:
            if _may_write(dul):
                batch: list[bytes] = []
                size = 0
                for primitive in iterator:
                    batch.append(encode_p_data_tf(primitive))
                    size += len(batch[-1])
                    if size >= WRITE_BATCH:
                        if not outbox.write(b"".join(batch)):
                            return
                        batch, size = [], 0
                if batch:
                    outbox.write(b"".join(batch))
                return
    for primitive in iterator:
        dul.send_pdu(primitive)


def hold(dul: Any, primitive: P_DATA) -> bool:
    """Keep `primitive` (a pending response's PDU) to write with the next ones; False: send it now."""
    outbox: Outbox | None = getattr(dul, "_qrscp_outbox", None)
    if outbox is None or not _may_write(dul):
        return False
    data = encode_p_data_tf(primitive)
    with outbox.lock:
        if not _may_write(dul):
            return False
        if not outbox.held:
            outbox.held_since = time.monotonic()
        outbox.held.append(data)
        outbox.held_bytes += len(data)
        if outbox.held_bytes >= OUTBOX_BYTES:
            outbox.write(b"")
    return True


def _may_write(dul: Any) -> bool:
    transport = dul.socket
    return (
        dul.state_machine.current_state == ESTABLISHED
        and not dul.to_provider_queue.qsize()
        and transport is not None
        and transport._is_connected
        and not isinstance(transport.socket, ssl.SSLSocket)
    )
