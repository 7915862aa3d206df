"""The supervisor of ``qrscp serve --workers N``: one listening socket, N worker processes.

Start-up: the index schema is brought to head once (workers then find it there), the DICOM port (and the
TLS port) is bound once with SO_REUSEADDR, and N workers are started with ``subprocess`` (a fresh
interpreter each: no state forked from the supervisor, each worker creates its own engine and pool). Each
inherits the listening sockets and the shared association count (:mod:`qrscp.net.shared_limits`).

While running: a worker that dies is logged with its exit status and the associations it held, its slot of
the association count is cleared and it is replaced (at once, or after a growing pause when it keeps dying
within seconds of its start). A worker whose start fails during the supervisor's own start-up makes
``qrscp serve`` exit 1.

SIGTERM / Ctrl-C: the supervisor closes its copy of the listening sockets and sends SIGTERM to every
worker; each stops accepting, lets its C-STOREs in flight finish and exits 0; the supervisor waits for
them and exits 0. When the supervisor itself is killed, every worker gets SIGTERM from the kernel
(``PR_SET_PDEATHSIG``) or sees its channel close, and stops the same way: none is left listening.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from qrscp.config import Config
from qrscp.net.shared_limits import SharedAssociationCount
from qrscp.workers.handoff import READY, Handoff, label_log_lines, send_handoff

logger = logging.getLogger("qrscp.workers")

#: Pending connections the kernel queues for the workers (socketserver's default of 5 drops bursts).
LISTEN_BACKLOG = 128
#: Seconds a worker has to accept associations after it was started.
START_TIMEOUT = 120.0
#: A worker dying sooner than this after its start is restarted after a pause that doubles each time.
QUICK_DEATH_SECONDS = 5.0
MAX_RESTART_PAUSE = 30.0
POLL_SECONDS = 0.2
#: Seconds a stopping worker has beyond the archive's own drain timeout before it is killed.
STOP_GRACE = 15.0


@dataclass
class Worker:
    number: int
    process: subprocess.Popen
    channel: socket.socket
    started: float
    ready: bool = False
    replacement: bool = False


def exit_status(code: int) -> str:
    """``exit code 1`` or ``signal SIGKILL`` for a Popen return code."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def bind_listener(address: str, port: int) -> socket.socket:
    """A listening TCP socket on (`address`, `port`), SO_REUSEADDR, inheritable by the workers."""
    info = socket.getaddrinfo(address or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(info[4])
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)  # see qrscp.net.pynetdicom_ext.listener: the worker that loses the race must not block
    os.set_inheritable(sock.fileno(), True)
    return sock


class Supervisor:
    """Keeps ``config.server.worker_count`` workers accepting on one port (see the module docstring)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.count = config.server.worker_count
        self.sockets: dict[str, socket.socket] = {}
        self.shared = SharedAssociationCount.create(self.count)
        self.workers: dict[int, Worker] = {}
        self.stopping = threading.Event()
        self._pauses: dict[int, float] = {}
        self._restart_at: dict[int, float] = {}

    def bind(self) -> None:
        server, tls = self.config.server, self.config.tls
        if tls.enabled:
            self.sockets["tls"] = bind_listener(server.bind_address, tls.port)
        if not (tls.enabled and tls.only):
            self.sockets["plain"] = bind_listener(server.bind_address, server.port)

    def port(self, name: str = "plain") -> int:
        return int(self.sockets[name].getsockname()[1])

    def spawn(self, number: int) -> Worker:
        """Start worker `number` (1..N) on the inherited sockets."""
        ours, theirs = socket.socketpair()
        fds = {name: sock.fileno() for name, sock in self.sockets.items()}
        handoff = Handoff(self.config, number, self.count, os.getpid(), fds, self.shared.fd)
        process = subprocess.Popen(
            [sys.executable, "-m", "qrscp.workers.worker", str(theirs.fileno())],
            pass_fds=[theirs.fileno(), self.shared.fd, *fds.values()],
        )
        theirs.close()
        send_handoff(ours, handoff)
        ours.setblocking(False)
        worker = Worker(number, process, ours, time.monotonic())
        self.workers[number] = worker
        logger.info("worker %d started (pid %d)", number, process.pid)
        return worker

    def _check_ready(self, worker: Worker) -> None:
        if worker.ready:
            return
        try:
            worker.ready = worker.channel.recv(1) == READY
        except BlockingIOError:
            return
        except OSError:
            return
        if worker.ready:
            logger.info("worker %d (pid %d) accepting associations", worker.number, worker.process.pid)

    def start(self) -> None:
        """Start every worker and wait until each accepts; raise RuntimeError when one cannot start.

        A worker that dies before it ever accepted associations is a start-up failure (a bad
        certificate, an unreachable database): ``qrscp serve`` exits 1. One that dies after it accepted
        is replaced as usual.
        """
        for number in range(1, self.count + 1):
            self.spawn(number)
        deadline = time.monotonic() + START_TIMEOUT
        while not (len(self.workers) == self.count and all(w.ready for w in self.workers.values())):
            for worker in list(self.workers.values()):
                self._check_ready(worker)
                code = worker.process.poll()
                if code is not None and not worker.ready and not worker.replacement:
                    raise RuntimeError(f"worker {worker.number} could not start ({exit_status(code)})")
            self.supervise_once()
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not accepting after {START_TIMEOUT:.0f} s")
            if self.stopping.wait(POLL_SECONDS):
                return

    def _replace(self, worker: Worker, code: int) -> None:
        held = self.shared.clear(worker.number - 1)
        lived = time.monotonic() - worker.started
        logger.error(
            "worker %d (pid %d) died (%s) after %.1f s holding %d association(s): replacing it",
            worker.number, worker.process.pid, exit_status(code), lived, held,
        )
        worker.channel.close()
        del self.workers[worker.number]
        pause = 0.0
        if lived < QUICK_DEATH_SECONDS:
            pause = min(MAX_RESTART_PAUSE, max(1.0, 2 * self._pauses.get(worker.number, 0.5)))
        self._pauses[worker.number] = pause
        self._restart_at[worker.number] = time.monotonic() + pause

    def supervise_once(self) -> None:
        """Check every worker once: note readiness, replace the dead, start those due."""
        for worker in list(self.workers.values()):
            self._check_ready(worker)
            code = worker.process.poll()
            if code is not None:
                self._replace(worker, code)
        now = time.monotonic()
        for number, due in list(self._restart_at.items()):
            if due <= now:
                del self._restart_at[number]
                self.spawn(number).replacement = True

    def run(self) -> None:
        """Supervise until :attr:`stopping` is set."""
        while not self.stopping.wait(POLL_SECONDS):
            self.supervise_once()

    def stop(self, drain_timeout: float) -> None:
        """Stop listening, SIGTERM every worker, wait for them to drain and exit."""
        for sock in self.sockets.values():
            sock.close()
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + drain_timeout + STOP_GRACE
        for worker in self.workers.values():
            try:
                code = worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("worker %d (pid %d) did not stop: killed", worker.number, worker.process.pid)
                worker.process.kill()
                code = worker.process.wait()
            level = logging.INFO if code == 0 else logging.WARNING
            logger.log(level, "worker %d (pid %d) stopped (%s)", worker.number, worker.process.pid, exit_status(code))
            worker.channel.close()
        self.shared.close()


def prepare_index(config: Config) -> None:
    """Bring the index schema to head once, before the workers open it."""
    from qrscp.index.database import create_engine_for, init_schema

    engine = create_engine_for(config.storage.resolved_database_url, durable=config.storage.fsync)
    try:
        init_schema(engine)
    finally:
        engine.dispose()


def run_supervisor(config: Config) -> int:
    """``qrscp serve`` with more than one worker; return the exit code (0 after a clean stop)."""
    from qrscp.net.server import DRAIN_TIMEOUT

    label_log_lines("supervisor")
    supervisor = Supervisor(config)

    def _on_signal(signum: int, _frame: Any) -> None:
        if not supervisor.stopping.is_set():
            logger.info("signal %s received: stopping %d worker(s)", signal.Signals(signum).name, len(supervisor.workers))
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        config.storage.data_dir.mkdir(parents=True, exist_ok=True)
        prepare_index(config)
        supervisor.bind()
    except Exception as exc:  # noqa: BLE001 - any start-up failure is reported the same way
        logger.error("cannot start: %s", exc)
        return 1
    try:
        supervisor.start()
    except RuntimeError as exc:
        logger.error("cannot start: %s", exc)
        supervisor.stop(0.0)
        return 1
    ports = ", ".join(f"{name} port {supervisor.port(name)}" for name in supervisor.sockets)
    logger.info("qrscp %s: %d workers accepting on %s", config.server.ae_title, supervisor.count, ports)
    supervisor.run()
    supervisor.stop(DRAIN_TIMEOUT)
    logger.info("qrscp %s stopped", config.server.ae_title)
    return 0
