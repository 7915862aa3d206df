"""FRAME level Composite Instance Root retrieve (PS3.4 Annex Y): the instance a C-MOVE/C-GET sub-operation sends.

The request identifier names one SOP Instance UID and one Frame Range Key. :class:`FrameService` finds that
instance in the requested view (the default view, CLASSIC, or ENHANCED where it may be a Legacy Converted
Enhanced image the view builder made), resolves the Frame List against it and makes the new instance with
:func:`qrscp.convert.frames.extract_frames`. The result is a file in the frame cache
(``DATA_DIR/frames``), named by its derived SOP Instance UID and by the identity of the stored source file:
a repeat of the same request is a file send, and since the UID and the bytes depend only on the secret,
the source and the request, any worker process makes (or reuses) the same file. The cache keeps the
:data:`MAX_CACHED_FILES` most recently used files.

No transport here: refusals are :class:`qrscp.convert.frame_lists.FrameRequestError` (status of Table Y.4-1
and an Error Comment) and the retrieve service hands them to the network layer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from qrscp.convert.frame_lists import FrameRequestError, parse_frame_request
from qrscp.convert.frames import plan_extraction, write_extraction
from qrscp.convert.uids import UIDSource
from qrscp.index import matching
from qrscp.status import Status
from qrscp.uids import View

logger = logging.getLogger(__name__)

#: Extracted instances kept in the frame cache (least recently used removed first).
MAX_CACHED_FILES = 256
#: Directory of the frame cache under the data directory.
CACHE_DIRECTORY = "frames"


@dataclass(frozen=True)
class FrameLocation:
    """An extracted instance to send: like ``InstanceLocation`` with an absolute `file_path`."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    file_path: str
    file_size: int
    source_sop_instance_uid: str
    frames: tuple[int, ...]


class FrameService:
    """Makes the instance of a FRAME level retrieve.

    Parameters
    ----------
    uid_secret : str
        ``[views] uid_secret``: the new SOP Instance UIDs derive from it as the views' UIDs do.
    locate_instances : callable
        ``locate_instances(identifier, view)`` -> stored instances of an IMAGE level identifier in `view`
        (``RetrieveService.locate_instances``), each with ``file_path`` relative to the store.
    file_store : qrscp.store.filestore.FileStore
    cache_dir : Path
        Where extracted instances are kept.
    """

    def __init__(self, uid_secret: str, locate_instances: Callable[[Dataset, View], Sequence[Any]],
                 file_store: Any, cache_dir: Path | str) -> None:
        self.uids = UIDSource(uid_secret)
        self.locate_instances = locate_instances
        self.file_store = file_store
        self.cache_dir = Path(cache_dir)

    def locate(self, identifier: Dataset, *, view: View = View.DEFAULT, peer: str = "-") -> list[FrameLocation]:
        """Return the new instance of a FRAME level request (an empty list when the SOP Instance is unknown).

        Raises
        ------
        FrameRequestError
            A900 for an identifier that does not name exactly one SOP Instance UID and one Frame Range Key;
            AA00-AA04 (Table Y.4-1) when the frames cannot be extracted as requested.
        """
        uids = matching.request_values(identifier.get("SOPInstanceUID", None))
        if len(uids) != 1:
            raise FrameRequestError(
                Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "FRAME level needs exactly one SOP Instance UID"
            )
        request = parse_frame_request(identifier)
        keys = Dataset()
        keys.QueryRetrieveLevel = "IMAGE"
        keys.SOPInstanceUID = uids[0]
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "QueryRetrieveView"):
            if identifier.get(keyword, None):
                keys[keyword] = identifier[keyword]
        found = list(self.locate_instances(keys, view))
        if not found:
            logger.info("%s: FRAME level: SOP Instance %s not in the %s view", peer, uids[0], view.value or "default")
            return []
        return [self._extracted(found[0], request, peer)]

    def _extracted(self, location: Any, request: Any, peer: str) -> FrameLocation:
        started = time.perf_counter()
        source_path = Path(self.file_store.absolute(location.file_path))
        source, frames, new_uid = plan_extraction(source_path, request, self.uids)
        target = self.cache_dir / f"{new_uid}.{_file_identity(source_path)}.dcm"
        cached = target.exists()
        if cached:
            os.utime(target)
        else:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".", suffix=".part", dir=self.cache_dir)
            os.close(fd)
            try:
                write_extraction(source, frames, request, new_uid, temporary)
                os.replace(temporary, target)  # atomic: a concurrent worker writes the same bytes
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            self._evict()
        logger.info(
            "%s: FRAME level: %d of the frames of %s (%s) as %s, %s in %.1f ms",
            peer, len(frames), location.sop_instance_uid, request.label()[:80], new_uid,
            "cached" if cached else "extracted", (time.perf_counter() - started) * 1000,
        )
        return FrameLocation(location.sop_class_uid, new_uid, source.transfer_syntax_uid, str(target),
                             target.stat().st_size, location.sop_instance_uid, frames)

    def _evict(self) -> None:
        """Keep the :data:`MAX_CACHED_FILES` most recently used files."""
        try:
            entries = [e for e in os.scandir(self.cache_dir) if e.name.endswith(".dcm")]
        except FileNotFoundError:
            return
        if len(entries) <= MAX_CACHED_FILES:
            return
        entries.sort(key=lambda e: _mtime(e))
        for entry in entries[: len(entries) - MAX_CACHED_FILES]:
            Path(entry.path).unlink(missing_ok=True)


def _mtime(entry: os.DirEntry) -> float:
    try:
        return entry.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _file_identity(path: Path) -> str:
    """Short digest of the stored source file's identity: a replaced source never reuses a cached file."""
    status = path.stat()
    return hashlib.sha256(f"{path}|{status.st_size}|{status.st_mtime_ns}".encode()).hexdigest()[:12]
