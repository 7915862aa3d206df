"""Socket options of every DICOM connection, ours as acceptor and as requestor."""

from __future__ import annotations

import logging
import socket
from typing import Any

from qrscp.net.logs import peer_label

logger = logging.getLogger("qrscp.net")


def set_tcp_nodelay(assoc: Any) -> None:
    """Set TCP_NODELAY on the socket of `assoc`: no DIMSE message waits for a delayed ACK."""
    transport = getattr(assoc.dul, "socket", None)
    sock = getattr(transport, "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:  # e.g. a socket already closed by the peer
        logger.debug("%s: cannot set TCP_NODELAY: %s", peer_label(assoc), exc)


def handle_connection_open(event: Any) -> None:
    """EVT_CONN_OPEN handler: TCP_NODELAY on the new connection."""
    set_tcp_nodelay(event.assoc)
