"""Regenerate lost files of a view: a generated file missing from the store is written again by replaying
its generation from the originals and the persisted records (same bytes as the first time).

Generated files are checked on the first request for a patient's view in a process, and again whenever
the modification time of a directory holding them changed (a deleted file changes it), so a deleted cache
comes back on the next request, with or without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from qrscp.dicom.part10 import make_file_meta
from qrscp.index import view_records
from qrscp.services.storage import encode_dataset
from qrscp.services.views.generation import VIEW_SOURCE_AE_TITLE, GenerationMaker, earlier_generations
from qrscp.store.filestore import FileStore
from qrscp.uids import View

LOGGER = logging.getLogger(__name__)

class FileRepair:
    """Check the generated files of a patient's view and regenerate the lost ones.

    Parameters
    ----------
    sessions : sqlalchemy.orm.sessionmaker
        Sessions of the index.
    file_store : qrscp.store.filestore.FileStore
        Where generated files live.
    maker : GenerationMaker
        Replays a generation.
    lock : callable
        ``lock(patient_fk, view)``: the builder's lock of a patient's view.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        file_store: FileStore,
        maker: GenerationMaker,
        lock: Callable[[int, View], threading.Lock],
    ) -> None:
        self.sessions = sessions
        self.file_store = file_store
        self.maker = maker
        self._lock = lock
        #: (patient, view) -> last generation whose files were checked in this process.
        self._verified: dict[tuple[int, View], int] = {}
        #: (patient, view) -> {directory of generated files: its mtime when last verified}.
        self._directories: dict[tuple[int, View], dict[Any, int | None]] = {}

    def unverified(self, patients: Iterable[int], view: View) -> set[int]:
        """Those of `patients` whose generated files must be checked (never, or a directory changed since)."""
        patients = list(patients)
        for patient_fk in patients:
            if (patient_fk, view) in self._verified and self._files_touched(patient_fk, view):
                self._verified.pop((patient_fk, view), None)  # a cached file may have been deleted
        return {p for p in patients if (p, view) not in self._verified}

    def verify(self, patient_fk: int, view: View) -> int:
        """Regenerate generated files missing from the store (checked once per process and generation).

        Call it with the patient's view locked. Returns the number of files written.
        """
        with self.sessions() as session:
            last = view_records.last_built_generation(session, patient_fk, view)
            if self._verified.get((patient_fk, view)) == last:
                return 0
            rows = view_records.generated_files(session, patient_fk, view)
        missing: dict[int, dict[str, str]] = defaultdict(dict)
        for generation, uid, path in rows:
            if not self.file_store.absolute(path).exists():
                missing[generation][uid] = path
        restored = 0
        for generation, lost in sorted(missing.items()):
            restored += self._regenerate(patient_fk, view, generation, lost)
        # Remember the directories' modification times: a file deleted later changes its directory's.
        directories = {self.file_store.absolute(path).parent for _, _, path in rows}
        self._directories[(patient_fk, view)] = {d: _mtime_ns(d) for d in directories}
        self._verified[(patient_fk, view)] = last
        return restored

    def _files_touched(self, patient_fk: int, view: View) -> bool:
        """True when a directory holding generated files of the view changed since they were verified."""
        directories = self._directories.get((patient_fk, view))
        if directories is None:
            return True
        return any(_mtime_ns(directory) != mtime for directory, mtime in directories.items())

    def restore(self, sop_instance_uid: str) -> bool:
        """Regenerate the file of one generated instance if it is missing; True when it was rewritten."""
        with self.sessions() as session:
            found = view_records.generated_instance(session, sop_instance_uid)
            if found is None:
                return False
            record, row = found
            patient_fk, view, generation, path = record.patient_fk, View(record.view), record.generation, row.file_path
        if self.file_store.absolute(path).exists():
            return False
        with self._lock(patient_fk, view):
            return self._regenerate(patient_fk, view, generation, {sop_instance_uid: path}) > 0

    def _regenerate(self, patient_fk: int, view: View, generation: int, lost: dict[str, str]) -> int:
        """Replay one generation from its originals and write the lost files (same bytes as the first time)."""
        with self.sessions() as session:
            originals = view_records.generation_originals(session, patient_fk, view, generation)
            mapping, mapped_before, earlier_enhanced = earlier_generations(session, patient_fk, view, generation)
        result = self.maker.make(view, originals, mapping, mapped_before, earlier_enhanced)
        written = 0
        for output in result.outputs:
            path = lost.get(output.sop_instance_uid)
            if path is None:
                continue
            ds = output.dataset
            meta = make_file_meta(
                sop_class_uid=str(ds.SOPClassUID),
                sop_instance_uid=output.sop_instance_uid,
                transfer_syntax_uid=output.transfer_syntax_uid,
                source_ae_title=VIEW_SOURCE_AE_TITLE,
            )
            self.file_store.write_part10(path, file_meta=meta, dataset_bytes=encode_dataset(ds, output.transfer_syntax_uid))
            LOGGER.warning("view %s of patient %d: regenerated lost file of %s", view.value, patient_fk, output.sop_instance_uid)
            written += 1
        if written < len(lost):
            LOGGER.error("view %s of patient %d: %d lost file(s) could not be regenerated",
                         view.value, patient_fk, len(lost) - written)
        return written


def _mtime_ns(path: Any) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
