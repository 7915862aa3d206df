"""The file store: Part 10 files under one root directory, written atomically.

Layout
------
``<root>/<h[0:2]>/<h>/<s>/<SOP Instance UID>.dcm`` where ``h`` is the first 20 hex digits of the SHA-256
of the Study Instance UID and ``s`` the same for the Series Instance UID. Hashing keeps every path short
(three 64-character UIDs would make 200-character paths) and spreads studies over 256 top directories.
A file written while another file already holds the canonical name (a replaced instance) gets the name
``<SOP Instance UID>.r<8 hex>.dcm``. Paths kept in the index are relative to the root, so the store can
move without touching the index.

Atomicity and crash recovery
----------------------------
A new file is written under ``<root>/.tmp/`` (same file system), fsynced, then hard-linked to its final
name (``link`` never replaces an existing file) and the final directory is fsynced. The ``.tmp`` entry
stays until the caller has committed the index row, and then is unlinked (:meth:`PendingFile.keep`). The
name of the ``.tmp`` entry encodes the final relative path, so after a crash :meth:`FileStore.remove_temporaries`
finds every write in flight: an entry with one link is an incomplete write (deleted); an entry that is
still the same inode as its final path is a file whose index commit may or may not have happened: the
final file is deleted unless the index references it. The same marker protects the old file of a replaced
instance (:meth:`FileStore.mark_for_removal`). So a crash at any point leaves neither a file without an
index row nor an index row without a file.

Several processes may share one store (two servers on one PostgreSQL index, ``qrscp import`` next to
``qrscp serve``). The process that owns a ``.tmp`` entry holds an exclusive ``flock`` on it until the entry
is resolved; the kernel drops the lock when the process dies. Recovery skips every locked entry (a live
writer's) and every entry created after its own start, so a server starting next to a busy one never
touches the other's writes in flight.

The handles of a write or removal pending the index commit are in :mod:`qrscp.store.pending`, the durable
file-system primitives (fsync of directories, durable mkdir) in :mod:`qrscp.store.durable`.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import itertools
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import FileMetaDataset

from qrscp.dicom.part10 import encode_header
from qrscp.store.durable import fsync_directory, make_directories, unlink_quietly, write_all
from qrscp.store.pending import PendingFile, PendingRemoval

logger = logging.getLogger(__name__)

#: Directory (under the root) of files in flight. Its name cannot collide with a hash directory.
TEMPORARY_DIRECTORY = ".tmp"
_MARKER_SEPARATOR = "~"
_PATH_SEPARATOR_IN_MARKER = "+"


def _hash(uid: str) -> str:
    return hashlib.sha256(uid.encode("ascii", "replace")).hexdigest()[:20]


class FileStore:
    """Part 10 files under `root`, written atomically and durably.

    Parameters
    ----------
    root : pathlib.Path
        The store directory (created when missing).
    fsync : bool, optional
        fsync files and directories before a write returns (default True).
    """

    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self.temporary_dir = self.root / TEMPORARY_DIRECTORY
        self.temporary_dir.mkdir(parents=True, exist_ok=True)
        self._nonce = secrets.token_hex(4)
        self._counter = itertools.count()
        #: Temporaries whose inode changed before this (st_ctime_ns) belong to a previous run. Taken from
        #: the file system's own clock, which is coarser than time.time().
        self.created_ns = self._file_system_now()

    # -- paths -------------------------------------------------------------------------------------
    def relative_path_for(self, study_uid: str, series_uid: str, sop_instance_uid: str) -> str:
        """Return the canonical path, relative to the root, of an instance's file."""
        study = _hash(study_uid)
        return f"{study[:2]}/{study}/{_hash(series_uid)}/{sop_instance_uid}.dcm"

    def absolute(self, relative_path: str) -> Path:
        """Return the absolute path of a stored file."""
        return self.root / relative_path

    def open(self, relative_path: str) -> BinaryIO:
        """Open a stored file for reading (binary)."""
        return open(self.absolute(relative_path), "rb")

    def read_bytes(self, relative_path: str) -> bytes:
        """Return the whole content of a stored file."""
        return self.absolute(relative_path).read_bytes()

    def remove(self, relative_path: str) -> None:
        """Remove a stored file (missing files are ignored)."""
        unlink_quietly(self.absolute(relative_path))

    # -- writing -----------------------------------------------------------------------------------
    def write_part10(self, relative_path: str, *, file_meta: FileMetaDataset, dataset_bytes: bytes) -> int:
        """Write a Part 10 file atomically, replacing any file at `relative_path`; return its size.

        The file appears complete or not at all: written to a temporary file, fsynced, renamed, and the
        directory fsynced. Use :meth:`write_pending` when an index row must be committed with the file.
        """
        final = self.absolute(relative_path)
        make_directories(final.parent, self.fsync)
        tmp, fd, size = self._write_temporary(relative_path, file_meta, dataset_bytes)
        try:
            os.replace(tmp, final)
        except BaseException:
            unlink_quietly(tmp)
            raise
        finally:
            os.close(fd)
        fsync_directory(final.parent, self.fsync)
        return size

    def write_pending(
        self, relative_path: str, *, file_meta: FileMetaDataset, dataset_bytes: bytes
    ) -> PendingFile:
        """Write a Part 10 file to its final path, durable, pending the index commit.

        When `relative_path` already exists, the file gets a fresh variant of the name
        (``<stem>.r<hex>.dcm``); the returned :attr:`PendingFile.relative_path` is the one to index.

        Raises
        ------
        OSError
            Any write error (disk full, I/O error, permission); nothing is left behind.
        """
        for attempt in range(2):
            tmp, fd, size = self._write_temporary(relative_path, file_meta, dataset_bytes)
            try:
                return self._link_pending(relative_path, tmp, fd, size)
            except FileNotFoundError:
                # Another process starting on this store (a worker, a node) took our temporary for one
                # left by a crash in the instant between its creation and its lock, and removed it.
                if attempt or tmp.exists():
                    raise
                logger.warning("temporary of %s removed under us by a starting process: written again",
                               relative_path)
        raise AssertionError("unreachable")

    def _link_pending(self, relative_path: str, tmp: Path, fd: int, size: int) -> PendingFile:
        """Link the locked temporary `tmp` to the final path of `relative_path` (or a variant)."""
        tmp_for = relative_path
        linked: Path | None = None
        try:
            chosen = relative_path
            if self.absolute(chosen).exists():
                chosen = self._variant(relative_path)
            for _attempt in range(8):
                final = self.absolute(chosen)
                make_directories(final.parent, self.fsync)
                if chosen != tmp_for:
                    # The temporary is also the recovery marker: its name must encode the path it is
                    # linked to before the link exists, so that no crash leaves an unmarked final file.
                    marker = self._marker_path(chosen)
                    os.replace(tmp, marker)
                    tmp, tmp_for = marker, chosen
                try:
                    os.link(tmp, final)
                except FileExistsError:
                    chosen = self._variant(relative_path)
                    continue
                linked = final
                fsync_directory(final.parent, self.fsync)
                fsync_directory(self.temporary_dir, self.fsync)
                return PendingFile(self, chosen, size, tmp, fd)
            raise FileExistsError(errno.EEXIST, "no free file name", str(self.absolute(relative_path)))
        except BaseException:
            unlink_quietly(linked)
            unlink_quietly(tmp)
            os.close(fd)
            raise

    def mark_for_removal(self, relative_path: str) -> PendingRemoval:
        """Mark a stored file for removal once the index row that references it is gone.

        Until :meth:`PendingRemoval.complete` or :meth:`PendingRemoval.cancel`, a crash leaves a marker that
        :meth:`remove_temporaries` resolves against the index.
        """
        marker = self._marker_path(relative_path)
        try:
            fd = os.open(self.absolute(relative_path), os.O_RDONLY)
        except FileNotFoundError:
            return PendingRemoval(self, relative_path, None)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # before the marker exists, so no recovery sees it unlocked
            os.link(self.absolute(relative_path), marker)
            fsync_directory(self.temporary_dir, self.fsync)
        except BaseException:
            unlink_quietly(marker)
            os.close(fd)
            raise
        return PendingRemoval(self, relative_path, marker, fd)

    # -- recovery ----------------------------------------------------------------------------------
    def remove_temporaries(
        self, is_indexed: Callable[[str], bool] | None = None, *, older_than: float | None = None
    ) -> int:
        """Clean up what a previous run left in flight; return the number of files removed.

        Parameters
        ----------
        is_indexed : callable, optional
            ``is_indexed(relative_path)`` tells whether the index references a file. Without it, only
            incomplete writes are removed and files pending an index commit are left alone.
        older_than : float, optional
            Only entries whose inode changed before this time (seconds since the epoch) are touched, so
            that a second process sharing the store keeps its writes in flight. Default: the time this
            FileStore was created, on the file system's clock.

        Returns
        -------
        int
        """
        limit_ns = self.created_ns if older_than is None else older_than * 1e9
        removed = 0
        try:
            entries = list(os.scandir(self.temporary_dir))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if st.st_ctime_ns >= limit_ns:
                continue
            fd = self._lock_if_abandoned(entry.path)
            if fd is None:
                continue  # a live process owns it
            try:
                removed += self._resolve_temporary(entry, is_indexed)
            finally:
                os.close(fd)
        return removed

    @staticmethod
    def _lock_if_abandoned(path: str) -> int | None:
        """Open and lock a temporary; None when it is gone or a live process holds its lock."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def _resolve_temporary(self, entry: os.DirEntry, is_indexed: Callable[[str], bool] | None) -> int:
        removed = 0
        try:
            st = os.stat(entry.path)
        except FileNotFoundError:
            return 0  # its owner resolved it while we waited for the lock
        relative_path = self._relative_path_of_marker(entry.name)
        if relative_path is not None and st.st_nlink > 1:
            final = self.absolute(relative_path)
            try:
                same = os.path.samefile(final, entry.path)
            except OSError:
                same = False
            if same:
                if is_indexed is None:
                    return 0
                if not is_indexed(relative_path):
                    logger.warning("recovery: removing %s, written but never indexed", relative_path)
                    unlink_quietly(final)
                    removed += 1
        logger.info("recovery: removing temporary %s", entry.name)
        unlink_quietly(Path(entry.path))
        removed += 1
        return removed

    # -- internals ---------------------------------------------------------------------------------
    def _file_system_now(self) -> int:
        probe = self.temporary_dir / f".clock-{os.getpid()}-{secrets.token_hex(4)}"
        probe.touch()
        try:
            return probe.stat().st_ctime_ns
        finally:
            probe.unlink()

    def _write_temporary(
        self, relative_path: str, file_meta: FileMetaDataset, dataset_bytes: bytes
    ) -> tuple[Path, int, int]:
        """Write the file under .tmp; return (path, open descriptor holding its lock, size)."""
        header = encode_header(file_meta)
        tmp = self._marker_path(relative_path)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileNotFoundError:  # someone removed the directory of temporaries: recreate it
            self.temporary_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            write_all(fd, header)
            write_all(fd, dataset_bytes)
            if self.fsync:
                os.fsync(fd)
        except BaseException:
            unlink_quietly(tmp)
            os.close(fd)
            raise
        return tmp, fd, len(header) + len(dataset_bytes)

    def _marker_path(self, relative_path: str) -> Path:
        encoded = relative_path.replace("/", _PATH_SEPARATOR_IN_MARKER)
        # Unique per process (one random nonce, then a counter: no urandom call per store) and across
        # processes sharing the store (the nonce); creation uses O_EXCL anyway.
        token = f"{self._nonce}{next(self._counter):x}"
        return self.temporary_dir / f"{encoded}{_MARKER_SEPARATOR}{token}"

    @staticmethod
    def _relative_path_of_marker(name: str) -> str | None:
        encoded, separator, _token = name.rpartition(_MARKER_SEPARATOR)
        if not separator or not encoded:
            return None
        return encoded.replace(_PATH_SEPARATOR_IN_MARKER, "/")

    @staticmethod
    def _variant(relative_path: str) -> str:
        stem = relative_path[: -len(".dcm")] if relative_path.endswith(".dcm") else relative_path
        return f"{stem}.r{secrets.token_hex(4)}.dcm"


__all__ = ["TEMPORARY_DIRECTORY", "FileStore", "PendingFile", "PendingRemoval"]
