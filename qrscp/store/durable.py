"""Durable file-system primitives of the file store: every byte written, directories fsynced and created
durably, files removed without masking the error being handled."""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` to `fd` (os.write may write less)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_directory(directory: Path, fsync: bool = True) -> None:
    """fsync `directory`, making its entries durable (nothing when `fsync` is False)."""
    if not fsync:
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_directories(directory: Path, fsync: bool = True) -> None:
    """Create `directory` and missing parents, each made durable in its parent (a file whose
    directory entry chain is not on disk would vanish with a power loss, acknowledged or not)."""
    if directory.is_dir():
        return
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        try:
            created.mkdir()
        except FileExistsError:  # another thread or process made it
            continue
        fsync_directory(created.parent, fsync)


def unlink_quietly(path: Path | None) -> None:
    """Remove `path` if given; a missing file is fine, another error is logged, never raised."""
    if path is None:
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:  # the caller is already handling a failure; do not mask it
        logger.error("cannot remove %s: %s", path, exc)
