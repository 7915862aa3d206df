"""An association server on a socket bound and listening already (a supervisor's, a test's).

pynetdicom's ``AE.start_server`` binds its own socket. :func:`start_on_socket` builds the same threaded
server through ``AE.make_server`` on a given listening socket, so that a parent process can bind the port
once and hand it to workers. The server is registered in ``AE._servers`` as ``start_server`` does, so
that ``AE.shutdown`` and the server's own ``shutdown`` work unchanged.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from pynetdicom.transport import ThreadedAssociationServer
from pynetdicom.utils import make_target


class BoundAssociationServer(ThreadedAssociationServer):
    """A threaded association server that serves `listen_socket` instead of binding a new one."""

    def __init__(self, *args: Any, listen_socket: socket.socket, **kwargs: Any) -> None:
        self._listen_socket = listen_socket
        super().__init__(*args, **kwargs)

    def server_bind(self) -> None:
        self.socket.close()  # the one socketserver made: unused
        self.socket = self._listen_socket
        # Non-blocking, not a timeout: when workers share the socket, every one wakes for a connection and
        # those that lose the race must get EAGAIN, not wait in accept() (blocking their shutdown).
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()

    def server_activate(self) -> None:
        self.socket.listen(max(self.request_queue_size, 128))

    def server_close(self) -> None:
        # Close this process's descriptor only: shutdown(SHUT_RDWR), as pynetdicom does, would stop the
        # socket listening for every worker that shares it.
        self.socket.close()


def start_on_socket(ae: Any, listen_socket: socket.socket, **kwargs: Any) -> ThreadedAssociationServer:
    """Start a non-blocking association server of `ae` on `listen_socket` (bound; listening or not).

    `kwargs` are those of ``AE.start_server`` except `address` and `block`.
    """
    server = ae.make_server(
        listen_socket.getsockname(), server_class=BoundAssociationServer, listen_socket=listen_socket, **kwargs
    )
    thread = threading.Thread(target=make_target(server.serve_forever), name="AcceptorServer@socket", daemon=True)
    thread.start()
    ae._servers.append(server)
    return server
