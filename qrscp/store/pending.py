"""Handles of the two-phase store: a file written pending its index commit, a file pending removal.

Each holds the recovery marker of :mod:`qrscp.store.filestore` and the ``flock`` that tells recovery a
live process owns it, until the caller says how the index commit ended.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from qrscp.store.durable import unlink_quietly

if TYPE_CHECKING:
    from qrscp.store.filestore import FileStore


class _Marked:
    """A stored file and its recovery marker, locked by this process until the index commit is known."""

    def __init__(self, store: FileStore, relative_path: str, marker: Path | None, lock_fd: int) -> None:
        self.store = store
        self.relative_path = relative_path
        self._marker = marker
        self._lock_fd = lock_fd

    def _resolve(self, remove_file: bool) -> None:
        """Remove the file (when `remove_file`) and the marker, then unlock: a recovery that waited for
        the lock finds the outcome."""
        if remove_file:
            unlink_quietly(self.store.absolute(self.relative_path))
        unlink_quietly(self._marker)
        self._marker = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


class PendingFile(_Marked):
    """A file already durable at its final path whose fate depends on the index commit.

    Call :meth:`keep` after the index row is committed, :meth:`discard` when the commit failed.
    """

    def __init__(self, store: FileStore, relative_path: str, size: int, marker: Path, lock_fd: int) -> None:
        super().__init__(store, relative_path, marker, lock_fd)
        self.size = size

    def keep(self) -> None:
        """Make the file permanent: drop its recovery marker."""
        self._resolve(remove_file=False)

    def discard(self) -> None:
        """Remove the file (the index row was not committed)."""
        self._resolve(remove_file=True)


class PendingRemoval(_Marked):
    """A stored file to delete once the index no longer references it (the replaced one)."""

    def __init__(self, store: FileStore, relative_path: str, marker: Path | None, lock_fd: int = -1) -> None:
        super().__init__(store, relative_path, marker, lock_fd)

    def complete(self) -> None:
        """The index no longer references the file: delete it."""
        self._resolve(remove_file=True)

    def cancel(self) -> None:
        """The index still references the file: keep it."""
        self._resolve(remove_file=False)
