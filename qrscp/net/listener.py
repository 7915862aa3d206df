"""Association servers on a listening socket bound by someone else (the worker supervisor).

``qrscp serve --workers N`` binds the DICOM port once, in the supervisor; every worker process inherits
the listening socket and runs pynetdicom's accept loop on it. The kernel hands each connection to one
worker. pynetdicom's server binds its own socket, so :class:`InheritedSocketServer` takes the inherited
one instead and, when it stops, only closes this process's descriptor: ``shutdown(SHUT_RDWR)`` on a
shared listening socket would stop every worker listening.

The socket is non-blocking: every worker wakes when a connection arrives, one accepts it, the others
get ``EAGAIN`` and go back to waiting instead of blocking in ``accept``.
"""

from __future__ import annotations

import socket
import threading
from datetime import datetime
from typing import Any

from pynetdicom.transport import ThreadedAssociationServer
from pynetdicom.utils import make_target


class InheritedSocketServer(ThreadedAssociationServer):
    """A threaded association server accepting on :attr:`inherited_socket` (set by :func:`start_server`)."""

    inherited_socket: socket.socket

    def server_bind(self) -> None:
        self.socket.close()  # the one TCPServer made; ours is already bound and listening
        self.socket = self.inherited_socket
        self.server_address = self.socket.getsockname()

    def server_activate(self) -> None:
        pass

    def server_close(self) -> None:
        self.socket.close()  # this process's descriptor only: the other workers keep listening


def start_server(
    ae: Any, address: tuple[str, int], evt_handlers: list[Any], ae_title: str, sock: socket.socket | None = None
) -> Any:
    """Start a non-blocking association server of `ae`, on `sock` when given (else bound to `address`)."""
    if sock is None:
        return ae.start_server(address, block=False, evt_handlers=evt_handlers, ae_title=ae_title)
    sock.setblocking(False)
    server_class = type("InheritedSocketServer", (InheritedSocketServer,), {"inherited_socket": sock})
    server = ae.make_server(
        sock.getsockname(), ae_title=ae_title, evt_handlers=evt_handlers, server_class=server_class
    )
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    thread = threading.Thread(target=make_target(server.serve_forever), name=f"AcceptorServer@{stamp}", daemon=True)
    thread.start()
    ae._servers.append(server)
    return server
