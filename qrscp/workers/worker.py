"""One worker process of ``qrscp serve --workers N`` (started by the supervisor, never by hand).

``python -m qrscp.workers.worker CHANNEL_FD``: reads its :class:`~qrscp.workers.handoff.Handoff` from the
channel, runs a :class:`~qrscp.app.Archive` on the inherited listening sockets with its own engine
and pool (created here, after the process started), and stops like ``qrscp serve`` does (no new
associations, C-STOREs in flight finish, exit 0) on SIGTERM, SIGINT, or when the supervisor is gone.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from qrscp.config import ConfigError
from qrscp.net.logs import configure_logging
from qrscp.net.shared_limits import SharedAssociationCount
from qrscp.workers.handoff import READY, inherit_socket, label_log_lines, receive_handoff

logger = logging.getLogger("qrscp.workers")

PR_SET_PDEATHSIG = 1
#: How often a worker rewrites its association count (it is also written at every request and close).
PUBLISH_SECONDS = 1.0


def die_with_parent(supervisor_pid: int) -> None:
    """Ask Linux to send SIGTERM when the supervisor dies; exit now if it already did."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the channel's end-of-file does it
        pass
    if os.getppid() != supervisor_pid:
        sys.exit(0)


def watch_supervisor(channel: socket.socket, stop: threading.Event) -> None:
    """Set `stop` when the supervisor's end of the channel closes (it died or stopped)."""

    def _watch() -> None:
        try:
            while channel.recv(64):
                pass
        except OSError:
            pass
        if not stop.is_set():
            logger.warning("supervisor gone: stopping")
        stop.set()

    threading.Thread(target=_watch, name="supervisor-watch", daemon=True).start()


def _start_archive(handoff: Any) -> Any:
    from qrscp.app import Archive

    shared = SharedAssociationCount(handoff.count_fd, handoff.slots, slot=handoff.worker - 1)
    sockets = {name: inherit_socket(fd) for name, fd in handoff.sockets.items()}
    archive = Archive(handoff.config, shared_count=shared)
    archive.start(listen_socket=sockets.get("plain"), tls_socket=sockets.get("tls"))
    return archive


def run_worker(channel_fd: int) -> int:
    """Run one worker until told to stop; return its exit code."""
    channel = socket.socket(fileno=channel_fd)
    handoff = receive_handoff(channel)
    die_with_parent(handoff.supervisor_pid)
    configure_logging(handoff.config.logging)
    label_log_lines(f"worker {handoff.worker}")
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        if not stop.is_set():
            logger.info("signal %s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        archive = _start_archive(handoff)
    except (OSError, ConfigError) as exc:
        logger.error("cannot start: %s", exc)
        return 1
    from qrscp.startup import freeze_imported_objects

    freeze_imported_objects()
    channel.sendall(READY)
    watch_supervisor(channel, stop)
    while not stop.wait(PUBLISH_SECONDS):
        archive.shared_count.publish(archive.ae)
    archive.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run_worker(int(sys.argv[1])))
