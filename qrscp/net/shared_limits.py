"""``[server] max_associations`` across worker processes: one counter shared by every worker.

With ``qrscp serve --workers N`` each worker is a process with its own pynetdicom AE, so the association
count of :func:`qrscp.net.limits.count_associations` only sees that worker. :class:`SharedAssociationCount`
is a small shared-memory table (a ``memfd`` the supervisor creates and every worker inherits) with one slot
per worker: the number of associations that worker holds. An A-ASSOCIATE-RQ is admitted under a lock that
spans every process (a POSIX record lock, released by the kernel when a holder dies, so a worker killed
with SIGKILL never leaves it locked); the worker's own count is recomputed from its AE each time, so a slot
never drifts. A worker that dies keeps its slot's last value until the supervisor clears it (and logs it:
the associations it had).

Idle connections (no A-ASSOCIATE-RQ yet) are not counted, here as in one process.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import struct
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

from qrscp.net.limits import has_requested

_SLOT = struct.Struct("<q")


def local_associations(ae: Any, excluding: Any = None) -> int:
    """Associations of this process's AE whose request arrived and that have not ended (`excluding` aside)."""
    count = 0
    for assoc in ae.active_associations:
        if assoc is excluding or not assoc.is_acceptor or not has_requested(assoc):
            continue
        if not (assoc.is_released or assoc.is_aborted or assoc.is_rejected):
            count += 1
    return count


class SharedAssociationCount:
    """Per-worker association counts in shared memory, read and written under a cross-process lock.

    Parameters
    ----------
    fd : int
        File descriptor of the shared table (``slots`` signed 64-bit counts).
    slots : int
        Number of worker slots.
    slot : int, optional
        This process's slot (workers); None in the supervisor, which only reads and clears slots.
    """

    def __init__(self, fd: int, slots: int, slot: int | None = None) -> None:
        self.fd = fd
        self.slots = slots
        self.slot = slot
        self._map = mmap.mmap(fd, slots * _SLOT.size)
        self._thread_lock = threading.Lock()  # POSIX record locks do not exclude threads of one process

    @classmethod
    def create(cls, slots: int) -> SharedAssociationCount:
        """Create a zeroed table for `slots` workers (inheritable fd; the supervisor's side)."""
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("qrscp-associations", 0)
        else:  # pragma: no cover - not Linux
            handle, path = tempfile.mkstemp(prefix="qrscp-associations-")
            os.unlink(path)
            fd = handle
        os.ftruncate(fd, slots * _SLOT.size)
        os.set_inheritable(fd, True)
        return cls(fd, slots)

    @contextlib.contextmanager
    def locked(self) -> Iterator[SharedAssociationCount]:
        """Hold the table for a read-modify-write (threads of this process and other processes wait)."""
        with self._thread_lock:
            fcntl.lockf(self.fd, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.lockf(self.fd, fcntl.LOCK_UN)

    def get(self, slot: int) -> int:
        return _SLOT.unpack_from(self._map, slot * _SLOT.size)[0]

    def set(self, slot: int, value: int) -> None:
        _SLOT.pack_into(self._map, slot * _SLOT.size, value)

    def others(self) -> int:
        """Associations held by the other workers (call with :meth:`locked` held)."""
        return sum(self.get(i) for i in range(self.slots) if i != self.slot)

    def total(self) -> int:
        with self.locked():
            return sum(self.get(i) for i in range(self.slots))

    def publish(self, ae: Any, excluding: Any = None) -> None:
        """Write this worker's current count (after an association ended, and periodically)."""
        if self.slot is None:
            return
        with self.locked():
            self.set(self.slot, local_associations(ae, excluding))

    def clear(self, slot: int) -> int:
        """Zero a dead worker's slot; return what it held (the associations it had)."""
        with self.locked():
            held = self.get(slot)
            self.set(slot, 0)
            return held

    def close(self) -> None:
        self._map.close()
        with contextlib.suppress(OSError):
            os.close(self.fd)


def handle_conn_close(event: Any, shared: SharedAssociationCount) -> None:
    """EVT_CONN_CLOSE handler: the closing association no longer counts toward the global limit."""
    shared.publish(event.assoc.ae, excluding=event.assoc)
