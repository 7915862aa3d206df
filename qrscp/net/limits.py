"""Connection limits: what one peer may cost the server before and during an association.

pynetdicom 3 gives every accepted TCP connection an Association thread (and a DUL reactor thread) and
counts all of them toward ``AE.maximum_associations``, so connections that never send an
A-ASSOCIATE-RQ lock legitimate peers out. It also leaves accepted sockets without a timeout (a peer
that stops in the middle of a PDU blocks the reactor in ``recv`` forever, and the association thread
waits for it) and believes the PDU length field of whatever arrives. :class:`ConnectionLimits` fixes
the three, bound to ``EVT_CONN_OPEN`` and ``EVT_REQUESTED``:

* a connection that has not yet sent its A-ASSOCIATE-RQ is *pending*: its ARTIM timer, the wait for
  the request and its socket timeout are ``[server] artim_timeout``; at most
  ``[server] max_pending_connections`` are kept, a new one evicts the oldest pending one (a legitimate
  peer sends its request at once, an idle one is the one to go);
* ``[server] max_associations`` counts associations whose request arrived, not connections
  (:func:`count_associations`, used by the access policy);
* once the request arrived the socket timeout is ``[server] network_timeout``: a stalled peer is closed;
* a PDU whose length field exceeds what we announced (P-DATA-TF: ``[server] max_pdu``; other PDUs:
  :data:`MAX_CONTROL_PDU`) is answered with an A-ABORT (service-provider, invalid PDU parameter value)
  and the connection is closed before its body is read (the reading itself replaces pynetdicom's and
  lives with the other patches: :mod:`qrscp.net.pynetdicom_ext.pdu_guard`).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any


from qrscp.config import Config

logger = logging.getLogger("qrscp.net")

#: Largest association/release/abort PDU accepted (an A-ASSOCIATE-RQ with 128 contexts of 13 transfer
#: syntaxes and every user information item is below 100 KiB).
MAX_CONTROL_PDU = 1024 * 1024
#: Largest P-DATA-TF accepted when ``max_pdu`` is 0 (unlimited): a bound on memory all the same.
MAX_UNLIMITED_PDU = 64 * 1024 * 1024
#: Room over the announced maximum: PS3.8 limits the PDV list, some peers count its 6-byte header.
PDU_SLACK = 16
#: Data set bytes kept in memory beyond ``[storage] max_dataset_bytes`` before an A-ABORT.
DATA_SET_SLACK = 16 * 1024 * 1024
P_DATA_TF = 0x04
KNOWN_PDU_TYPES = frozenset(range(0x01, 0x08))
ABORT_SOURCE_SERVICE_PROVIDER = 0x02
ABORT_INVALID_PDU_PARAMETER_VALUE = 0x06
ABORT_REASON_NOT_SPECIFIED = 0x00
ABORT_UNRECOGNIZED_PDU = 0x01
#: State-machine actions that abort because the peer broke the protocol (PS3.8 9.2): AA-1 before the
#: request, AA-8 during an association, AA-7 while closing. Logged once with the peer.
PROTOCOL_VIOLATION_ACTIONS = frozenset({"AA-1", "AA-7", "AA-8"})
#: Evt15 is our own A-ABORT request; Evt19 (invalid PDU) is logged where it is detected.
ALREADY_LOGGED_EVENTS = frozenset({"Evt15", "Evt19"})
UNEXPECTED_EVENTS = {
    "Evt3": "unexpected A-ASSOCIATE-AC",
    "Evt4": "unexpected A-ASSOCIATE-RJ",
    "Evt6": "unexpected A-ASSOCIATE-RQ",
    "Evt10": "unexpected P-DATA-TF",
    "Evt12": "unexpected A-RELEASE-RQ",
    "Evt13": "unexpected A-RELEASE-RP",
}
#: pynetdicom's ``maximum_associations`` (it counts acceptor threads): high enough never to refuse.
UNBOUNDED_ACCEPTOR_THREADS = 100_000


def peer_of(assoc: Any) -> str:
    """``AE@address:port`` of the requestor (``?`` before the A-ASSOCIATE-RQ names it)."""
    requestor = assoc.requestor
    primitive = getattr(requestor, "primitive", None)
    ae_title = str(getattr(primitive, "calling_ae_title", "") or "").strip() or "?"
    return f"{ae_title}@{requestor.address}:{requestor.port}"


def raw_socket(assoc: Any) -> socket.socket | None:
    """The connected socket of an association (an :class:`ssl.SSLSocket` under TLS), or None."""
    transport = getattr(assoc.dul, "socket", None)
    return getattr(transport, "socket", None)


def has_requested(assoc: Any) -> bool:
    """True once the peer's A-ASSOCIATE-RQ arrived (pynetdicom keeps it as the requestor primitive)."""
    return getattr(assoc.requestor, "primitive", None) is not None


def count_associations(assoc: Any) -> int:
    """Associations accepted or being negotiated by our AE, `assoc` included; idle connections excluded.

    Used for ``max_associations`` instead of pynetdicom's count of every acceptor thread.
    """
    count = 0
    for other in assoc.ae.active_associations:
        if not other.is_acceptor or not has_requested(other):
            continue
        if other is assoc or not (other.is_released or other.is_aborted or other.is_rejected):
            count += 1
    if assoc not in assoc.ae.active_associations:
        count += 1
    return count


def _set_timeout(sock: socket.socket | None, seconds: float) -> None:
    if sock is None:
        return
    try:
        sock.settimeout(seconds if seconds > 0 else None)
    except OSError:  # closed meanwhile: nothing left to bound
        pass


def _close(assoc: Any) -> None:
    """Close the connection of `assoc` from another thread: its reactor sees the transport close."""
    sock = raw_socket(assoc)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def wake_acceptor(assoc: Any) -> None:
    """Let an acceptor still waiting for the A-ASSOCIATE-RQ end now that its connection closed.

    pynetdicom's acceptor waits ``acse_timeout`` on the user queue and treats None as "no request":
    without this every closed pre-association connection would keep its two threads until then.
    """
    if not has_requested(assoc):
        assoc.dul.to_user_queue.put(None)


@dataclass
class PduLimits:
    """Largest PDU length fields accepted: P-DATA-TF and every other PDU type."""

    p_data: int
    control: int = MAX_CONTROL_PDU

    @classmethod
    def from_config(cls, config: Config) -> PduLimits:
        max_pdu = config.server.max_pdu
        return cls(p_data=(max_pdu + PDU_SLACK) if max_pdu > 0 else MAX_UNLIMITED_PDU)

    def limit_for(self, pdu_type: int) -> int:
        return self.p_data if pdu_type == P_DATA_TF else self.control


class ConnectionLimits:
    """Per-connection timers and bounds of one server (see the module docstring).

    Parameters
    ----------
    config : qrscp.config.Config
        ``[server]`` artim_timeout, max_pending_connections, network_timeout, acse_timeout, max_pdu.
    """

    def __init__(self, config: Config) -> None:
        self.artim_timeout = float(config.server.artim_timeout)
        self.acse_timeout = float(config.server.acse_timeout)
        self.network_timeout = float(config.server.network_timeout)
        self.max_pending = int(config.server.max_pending_connections)
        self.pdu_limits = PduLimits.from_config(config)
        # A little above max_dataset_bytes is read whole and answered A700 by the storage service.
        self.max_data_set = int(config.storage.max_dataset_bytes) + DATA_SET_SLACK
        self._pending: dict[Any, float] = {}
        self._lock = threading.Lock()

    def _prune(self) -> None:
        """Forget connections that sent their request or closed (call with the lock held)."""
        for assoc in list(self._pending):
            # A thread not started yet (ident None) is a connection being opened, not a closed one.
            ended = assoc.ident is not None and not assoc.is_alive()
            if has_requested(assoc) or raw_socket(assoc) is None or ended:
                del self._pending[assoc]

    def pending(self) -> list[Any]:
        """Connections that have not sent their A-ASSOCIATE-RQ yet and are still open, oldest first."""
        with self._lock:
            self._prune()
            return sorted(self._pending, key=self._pending.__getitem__)

    def on_connection_open(self, assoc: Any) -> None:
        """Bound a new connection: short ARTIM, socket timeout, pending-connection bound.

        The PDU length check is :func:`qrscp.net.pynetdicom_ext.pdu_guard.handle_connection_open`.
        """
        # The acceptor waits acse_timeout for the request and ARTIM follows it: both short until it comes.
        assoc.acse_timeout = self.artim_timeout
        _set_timeout(raw_socket(assoc), self.artim_timeout)
        with self._lock:
            self._prune()
            waiting = sorted(self._pending, key=self._pending.__getitem__)
            self._pending[assoc] = time.monotonic()
            excess = len(waiting) + 1 - self.max_pending if self.max_pending > 0 else 0
            evicted = waiting[: max(0, excess)]
            for old in evicted:
                del self._pending[old]
        for old in evicted:
            logger.warning(
                "%s: connection closed without A-ASSOCIATE-RQ: %d connections already waiting"
                " (max_pending_connections)",
                peer_of(old),
                len(waiting),
            )
            _close(old)

    def on_requested(self, assoc: Any) -> None:
        """The A-ASSOCIATE-RQ arrived: the association's own timeouts apply from now on."""
        with self._lock:
            self._pending.pop(assoc, None)
        assoc.acse_timeout = self.acse_timeout
        _set_timeout(raw_socket(assoc), self.network_timeout)


def handle_connection_open(event: Any, limits: ConnectionLimits) -> None:
    """EVT_CONN_OPEN handler: apply `limits` to the new connection."""
    limits.on_connection_open(event.assoc)


def handle_requested(event: Any, limits: ConnectionLimits) -> None:
    """EVT_REQUESTED handler (bind it before the access policy's): restore the association timeouts."""
    limits.on_requested(event.assoc)
