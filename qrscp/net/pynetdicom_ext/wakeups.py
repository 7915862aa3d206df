"""Event-driven reactors: pynetdicom's polling naps become waits that end as soon as there is work.

pynetdicom 3 runs two polling loops per association. The DUL thread naps 1 ms whenever it found
nothing to do (no PDU to send, no byte on the socket); the acceptor's reactor naps 1 ms between looks
at the DIMSE queue. Every request and every C-STORE sub-operation waits for loops that are asleep, and
every association, busy or idle, wakes both threads a thousand times a second. Under concurrent load
those wake-ups are the cost: with 8 associations querying at once, a quarter of a worker's samples
were in the naps, and a third of its CPU time was in the kernel.

Here a nap of a reactor loop waits for what ends it instead:

* the DUL thread waits in ``select`` on its socket and on a wake-up file descriptor, which is
  signalled when a primitive is queued for sending or the DUL is told to stop;
* the association's reactor waits on an event, set when a DIMSE message is complete, an A-RELEASE /
  A-ABORT primitive arrives for the user, or a sender asks the reactor to pause (its checkpoint).

A wait ends after :data:`IDLE_WAIT` seconds at the latest, so the timers the loops look at (ARTIM,
network idle timeout) and their stop flags keep working with that resolution. Only the two polling
naps are replaced, recognised by the code of the loop calling ``sleep``; every other sleep of
pynetdicom is left alone, and an association without a wake-up (an SCU's, or one opened before
:func:`make_event_driven`) naps as pynetdicom does. :func:`install` gives ``pynetdicom.dul`` and
``pynetdicom.association`` a ``time`` module whose ``sleep`` does this.
"""

from __future__ import annotations

import os
import select
import ssl
import sys
import threading
import time
import types
import weakref
from typing import Any, Callable

from pynetdicom import association as pynetdicom_association
from pynetdicom import evt
from pynetdicom import dul as pynetdicom_dul
from pynetdicom.association import Association
from pynetdicom.dul import DULServiceProvider

#: Longest wait, in seconds, of a reactor loop with nothing to do.
IDLE_WAIT = 0.05

_DUL_LOOP = DULServiceProvider.run_reactor.__code__
_ACCEPTOR_LOOP = Association._run_reactor.__code__


class WakeupFd:
    """A file descriptor that becomes readable when :meth:`signal` is called (an eventfd, or a pipe).

    Closed with its connection (:meth:`close`), or when collected. Once closed, :meth:`signal` and
    :meth:`drain` do nothing: the number may already belong to another connection's socket.
    """

    def __init__(self) -> None:
        if hasattr(os, "eventfd"):
            self.fd = self._write_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        else:  # pragma: no cover - not Linux
            self.fd, self._write_fd = os.pipe()
            os.set_blocking(self.fd, False)
            os.set_blocking(self._write_fd, False)
        self._lock = threading.Lock()
        self.closed = False
        self._closer = weakref.finalize(self, _close, self.fd, self._write_fd)

    def signal(self) -> None:
        """Make the descriptor readable."""
        with self._lock:
            if self.closed:
                return
            try:
                os.write(self._write_fd, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass  # a full pipe is readable already

    def drain(self) -> None:
        """Make the descriptor unreadable until the next :meth:`signal`."""
        with self._lock:
            if self.closed:
                return
            try:
                os.read(self.fd, 8 if self.fd == self._write_fd else 4096)
            except OSError:
                pass  # nothing to read

    def close(self, *_event: Any) -> None:
        """Close the descriptor (idempotent; also an EVT_CONN_CLOSE handler)."""
        with self._lock:
            self.closed = True
            self._closer()


def _close(*fds: int) -> None:
    for fd in set(fds):
        try:
            os.close(fd)
        except OSError:
            pass


class WakingTime(types.ModuleType):
    """The ``time`` module, with a ``sleep`` that turns the reactors' polling naps into waits."""

    def __init__(self) -> None:
        super().__init__("time")
        self.__dict__.update({name: getattr(time, name) for name in dir(time) if not name.startswith("__")})
        self.sleep = _sleep


def _sleep(seconds: float) -> None:
    code = sys._getframe(1).f_code
    if code is _DUL_LOOP:
        thread = threading.current_thread()
        if isinstance(thread, DULServiceProvider) and getattr(thread, "_qrscp_wakeup", None) is not None:
            wait_for_dul_work(thread, seconds)
            return
    elif code is _ACCEPTOR_LOOP:
        thread = threading.current_thread()
        if isinstance(thread, Association) and getattr(thread, "_qrscp_wakeup", None) is not None:
            wait_for_reactor_work(thread, seconds)
            return
    time.sleep(seconds)


def wait_for_dul_work(dul: DULServiceProvider, seconds: float) -> None:
    """The DUL's nap: until a byte arrives, a primitive is queued, the DUL is stopped, or IDLE_WAIT."""
    wakeup: WakeupFd = dul._qrscp_wakeup  # type: ignore[attr-defined]
    transport = dul.socket
    sock = getattr(transport, "socket", None) if getattr(transport, "_is_connected", False) else None
    if sock is None or dul._kill_thread or wakeup.closed:
        time.sleep(seconds)  # connecting or closed: pynetdicom's own nap
        return
    wakeup.drain()  # before looking at the queues: a primitive queued from now on signals again
    if dul.to_provider_queue.qsize() or dul.event_queue.qsize():
        return
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return  # decrypted bytes that select cannot see
    outbox = getattr(dul, "_qrscp_outbox", None)
    if outbox is not None:
        outbox.flush_stale()
    try:
        select.select([sock, wakeup.fd], [], [], IDLE_WAIT)
    except (OSError, ValueError):
        time.sleep(seconds)  # the socket was closed meanwhile: the loop finds out


def wait_for_reactor_work(assoc: Association, seconds: float) -> None:
    """The acceptor reactor's nap: until a DIMSE message or a user primitive arrives, or IDLE_WAIT."""
    event: threading.Event = assoc._qrscp_wakeup  # type: ignore[attr-defined]
    event.clear()  # before looking at the queues: anything put from now on sets it again
    if assoc._kill or assoc.dimse.msg_queue.qsize() or assoc.dul.to_user_queue.qsize():
        return
    if not assoc._reactor_checkpoint.is_set():
        return  # a sender waits for the reactor to pause at the top of its loop
    event.wait(IDLE_WAIT)


def _signal_on_put(queue: Any, signal: Callable[[], None]) -> None:
    """Call `signal` after every put on this queue instance (blocked getters keep waiting on it)."""
    put = queue.put

    def put_and_signal(item: Any, block: bool = True, timeout: float | None = None) -> None:
        put(item, block, timeout)
        signal()

    queue.put = put_and_signal


def make_event_driven(assoc: Association) -> None:
    """Give the DUL and the reactor of `assoc` their wake-ups (idempotent; at EVT_CONN_OPEN)."""
    dul = getattr(assoc, "dul", None)
    if dul is None or getattr(dul, "_qrscp_wakeup", None) is not None:
        return
    wakeup = WakeupFd()
    _signal_on_put(dul.to_provider_queue, wakeup.signal)
    kill_dul = dul.kill_dul

    def kill_and_signal() -> None:
        kill_dul()
        wakeup.signal()

    dul.kill_dul = kill_and_signal
    event = threading.Event()
    _signal_on_put(assoc.dimse.msg_queue, event.set)
    _signal_on_put(dul.to_user_queue, event.set)
    # send_c_store, release, abort... clear the reactor checkpoint, then wait until the reactor has
    # come round to it: without a wake-up that took up to IDLE_WAIT per C-STORE of a C-MOVE.
    checkpoint = assoc._reactor_checkpoint
    clear_checkpoint = checkpoint.clear

    def clear_and_signal() -> None:
        clear_checkpoint()
        event.set()

    checkpoint.clear = clear_and_signal
    assoc._qrscp_wakeup = event  # type: ignore[attr-defined]
    assoc.bind(evt.EVT_CONN_CLOSE, wakeup.close)
    dul._qrscp_wakeup = wakeup  # type: ignore[attr-defined]  # last: the DUL waits only once all is set


def install() -> None:
    """Give pynetdicom's DUL and association modules the waking ``time`` (idempotent)."""
    for module in (pynetdicom_dul, pynetdicom_association):
        if not isinstance(module.time, WakingTime):
            module.time = WakingTime()


def uninstall() -> None:
    """Give pynetdicom back the plain ``time`` module."""
    for module in (pynetdicom_dul, pynetdicom_association):
        module.time = time
