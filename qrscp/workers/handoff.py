"""What the supervisor hands a worker: its configuration, slot and inherited descriptors.

The supervisor and each worker share a Unix socket pair. The supervisor sends one length-prefixed pickle
(:class:`Handoff`) on it; the worker answers one byte once it accepts associations (:data:`READY`). The
supervisor never writes again: when the worker reads end-of-file, the supervisor is gone (killed with
SIGKILL, say) and the worker stops (``PR_SET_PDEATHSIG`` gives the same signal on Linux; the socket pair
covers the rest and a supervisor that died before the worker set it).
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import struct
from dataclasses import dataclass, field

from qrscp.config import Config

READY = b"R"
_LENGTH = struct.Struct("<I")
#: A worker line: ``... [worker 2 pid 4711] qrscp.net: ...``; the supervisor's: ``[supervisor pid 4700]``.
LOG_FORMAT = "%(asctime)s %(levelname)s [{label} pid %(process)d] %(name)s: %(message)s"


@dataclass
class Handoff:
    """One worker's start-up parameters.

    Attributes
    ----------
    config : qrscp.config.Config
        The whole configuration, flags applied.
    worker : int
        The worker's number (1..N), kept by its replacement.
    slots : int
        Number of workers (slots of the shared association count).
    supervisor_pid : int
    sockets : dict
        ``"plain"`` / ``"tls"`` -> inherited listening socket descriptor.
    count_fd : int
        Descriptor of the shared association count.
    """

    config: Config
    worker: int
    slots: int
    supervisor_pid: int
    sockets: dict[str, int] = field(default_factory=dict)
    count_fd: int = -1


def send_handoff(channel: socket.socket, handoff: Handoff) -> None:
    data = pickle.dumps(handoff)
    channel.sendall(_LENGTH.pack(len(data)) + data)


def _receive_exactly(channel: socket.socket, size: int) -> bytes:
    parts = []
    while size:
        chunk = channel.recv(size)
        if not chunk:
            raise EOFError("supervisor closed the channel before the hand-off")
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def receive_handoff(channel: socket.socket) -> Handoff:
    (length,) = _LENGTH.unpack(_receive_exactly(channel, _LENGTH.size))
    return pickle.loads(_receive_exactly(channel, length))


def label_log_lines(label: str) -> None:
    """Name the process in every log line of the root logger's handlers (``worker 2``, ``supervisor``)."""
    formatter = logging.Formatter(LOG_FORMAT.format(label=label))
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


def inherit_socket(fd: int) -> socket.socket:
    """The listening socket behind an inherited descriptor."""
    sock = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)
    return sock
