"""Storage service: bit-preserving Level 2 storage of C-STORE data sets into the file store and index.

What a C-STORE gets (the network layer turns a :class:`StoreOutcome` into the response):

============================================================  ======  =========================================
Condition                                                     Status  Notes
============================================================  ======  =========================================
stored (or duplicate under ``keep-first``)                    0000    file and index row committed
data set carrying File Meta elements (group 0002)             B006    those elements removed, rest as received
data set larger than ``[storage] max_dataset_bytes``          A700    nothing parsed or written
write error: disk full, I/O error, permission                 A700    index unchanged, no file left
index unavailable (database locked beyond retries, down)      A700    file removed again
data set not well formed in the negotiated transfer syntax    C000    truncated, lengths beyond end, ...
Study/Series/SOP Instance UID or SOP Class UID missing or     A900    Offending Element names the attribute
malformed
SOP Instance/Class UID differ from the command's Affected     A900    Offending Element names the attribute
duplicate SOP Instance UID under ``reject``                   0111    the stored instance is kept
unexpected failure (a bug)                                    0110    logged with a traceback
============================================================  ======  =========================================

UIDs are checked as PS3.5 9.1 says, with one leniency: components with a leading zero (``1.2.03``) are
accepted, because real scanners send them and refusing an acquisition over it helps no one; such UIDs are
logged. Empty components, characters other than digits and dots, more than 64 characters, or several
values are refused.

Order of work (two-phase, see :mod:`qrscp.store.filestore`): check the bytes, parse the header, write the
file durably at its final path with a recovery marker, commit the index row, drop the marker. A failure
or a crash at any point leaves neither a file without a row nor a row without a file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from qrscp.config import Config
from qrscp.dicom.part10 import make_file_meta
from qrscp.dicom.structure import EXPLICIT_VR_LITTLE_ENDIAN, deflate, encoding_of
from qrscp.index.models import Instance
from qrscp.services.storage_checks import (
    MAX_ERROR_COMMENT,
    Refusal,
    StoreAction,
    StoreOutcome,
    check_command,
    checked_uids,
    duplicate_outcome,
    file_meta_discarded,
    parse_received,
    refuse,
    uid_problem,
)
from qrscp.status import Status
from qrscp.store.filestore import FileStore, PendingRemoval
from qrscp.uids import View

logger = logging.getLogger(__name__)

_INDEX_ATTEMPTS = 4
_LOCK_STRIPES = 64

#: The stored file of a SOP Instance UID, if indexed.
_STORED_PATH = select(Instance.file_path).where(Instance.sop_instance_uid == bindparam("uid"))


def _sop_uid_of_path(relative_path: str) -> str:
    name = relative_path.rsplit("/", 1)[-1]
    name = name.removesuffix(".dcm")
    stem, _, last = name.rpartition(".")
    return stem if last.startswith("r") and stem else name


class StorageService:
    """Stores received and generated instances: file store plus index, atomically.

    Parameters
    ----------
    config : Config
        ``[storage]`` gives the duplicate policy, fsync and the maximum data set size.
    sessions : sqlalchemy.orm.sessionmaker
        Sessions on the index.
    file_store : FileStore
        Where the files go.
    """

    def __init__(self, config: Config, sessions: sessionmaker[Session], file_store: FileStore) -> None:
        self.config = config
        self.sessions = sessions
        self.file_store = file_store
        # Stores of one SOP Instance UID are serialised within the process (duplicate policy is a
        # read-then-write); the index's unique constraint settles races between processes.
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    # -- public API -------------------------------------------------------------------------------
    def store(
        self,
        dataset_bytes: bytes,
        *,
        transfer_syntax_uid: str,
        affected_sop_class_uid: str | None,
        affected_sop_instance_uid: str | None,
        calling_ae_title: str,
        peer: str = "",
    ) -> StoreOutcome:
        """Store a C-STORE data set exactly as received.

        Parameters
        ----------
        dataset_bytes : bytes
            The data set as received (``event.encoded_dataset(include_meta=False)``), still deflated
            for the Deflated transfer syntax.
        transfer_syntax_uid : str
            The transfer syntax of the presentation context.
        affected_sop_class_uid, affected_sop_instance_uid : str or None
            From the C-STORE request; the data set must carry the same. None skips the comparison
            (import of files without File Meta).
        calling_ae_title : str
            The peer's AE title (logged and kept as Source Application Entity Title).
        peer : str, optional
            The peer's address, for the logs.

        Returns
        -------
        StoreOutcome
            Never raises for bad input or I/O errors.
        """
        context = f"C-STORE from {calling_ae_title.strip() or '?'} ({peer or 'local'})"
        try:
            received = parse_received(dataset_bytes, transfer_syntax_uid, self.config.storage.max_dataset_bytes)
            uids = checked_uids(received.header)
            check_command(uids, affected_sop_class_uid, affected_sop_instance_uid)
            outcome = self._store_checked(
                received.header,
                uids,
                received.dataset_bytes,
                transfer_syntax_uid=transfer_syntax_uid,
                source_ae_title=calling_ae_title,
                views=None,
                duplicate_policy=self.config.storage.duplicate_policy,
                context=context,
            )
            if received.file_meta_discarded and outcome.status == Status.SUCCESS:
                outcome = file_meta_discarded(outcome, context)
            return outcome
        except Refusal as refusal:
            outcome = refusal.outcome
            uid = outcome.sop_instance_uid or (affected_sop_instance_uid or "?")
            logger.warning("%s of %s: status 0x%04X, %s", context, uid, outcome.status, outcome.error_comment)
            return outcome
        except Exception as exc:  # a bug must not take the association down
            logger.exception("%s of %s: unexpected failure", context, affected_sop_instance_uid)
            return StoreOutcome(Status.PROCESSING_FAILURE, f"processing failure: {type(exc).__name__}"[:64],
                                action=StoreAction.FAILED)

    def store_dataset(
        self,
        ds: Dataset,
        *,
        views: frozenset[View],
        transfer_syntax_uid: str | None = None,
        source_ae_title: str = "QRSCP",
        duplicate_policy: str | None = None,
    ) -> StoreOutcome:
        """Encode and store a generated (converted or rewritten) instance.

        Parameters
        ----------
        ds : pydicom.dataset.Dataset
            The instance; encapsulated Pixel Data must already match `transfer_syntax_uid`.
        views : frozenset of View
            The views the instance belongs to.
        transfer_syntax_uid : str, optional
            Default: ``ds.file_meta.TransferSyntaxUID`` when present, else Explicit VR Little Endian.
        source_ae_title : str, optional
            Source Application Entity Title of the File Meta.
        duplicate_policy : str, optional
            ``keep-first``, ``replace`` or ``reject``; default: the configured policy.

        Returns
        -------
        StoreOutcome
        """
        context = f"store of generated instance ({source_ae_title})"
        if transfer_syntax_uid is None:
            meta = getattr(ds, "file_meta", None)
            transfer_syntax_uid = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
            transfer_syntax_uid = transfer_syntax_uid or EXPLICIT_VR_LITTLE_ENDIAN
        try:
            received = parse_received(
                encode_dataset(ds, transfer_syntax_uid), transfer_syntax_uid, self.config.storage.max_dataset_bytes
            )
            uids = checked_uids(received.header)
            return self._store_checked(
                received.header,
                uids,
                received.dataset_bytes,
                transfer_syntax_uid=transfer_syntax_uid,
                source_ae_title=source_ae_title,
                views=views,
                duplicate_policy=duplicate_policy or self.config.storage.duplicate_policy,
                context=context,
            )
        except Refusal as refusal:
            outcome = refusal.outcome
            logger.warning("%s: status 0x%04X, %s", context, outcome.status, outcome.error_comment)
            return outcome
        except Exception as exc:
            logger.exception("%s: unexpected failure", context)
            return StoreOutcome(Status.PROCESSING_FAILURE, f"processing failure: {type(exc).__name__}"[:64],
                                action=StoreAction.FAILED)

    def recover(self) -> int:
        """Resolve writes left in flight by a crash (call once at server start); return files removed."""
        removed = self.file_store.remove_temporaries(self.is_indexed)
        if removed:
            logger.warning("recovery: removed %d file(s) left by an interrupted run", removed)
        return removed

    def is_indexed(self, relative_path: str) -> bool:
        """Return True when an index row references the stored file `relative_path`."""
        with self.sessions() as session:
            path = session.scalar(
                select(Instance.file_path).where(Instance.sop_instance_uid == _sop_uid_of_path(relative_path))
            )
            return path == relative_path

    # -- the two-phase store -----------------------------------------------------------------------
    def _lock_for(self, sop_instance_uid: str) -> threading.Lock:
        digest = hashlib.blake2b(sop_instance_uid.encode(), digest_size=2).digest()
        return self._locks[int.from_bytes(digest, "big") % _LOCK_STRIPES]

    def _store_checked(
        self,
        header: Dataset,
        uids: dict[str, str],
        dataset_bytes: bytes,
        *,
        transfer_syntax_uid: str,
        source_ae_title: str,
        views: frozenset[View] | None,
        duplicate_policy: str,
        context: str,
    ) -> StoreOutcome:
        uid = uids["SOPInstanceUID"]
        with self._lock_for(uid):
            existing_path = self._existing_path(uid)
            if existing_path is not None and duplicate_policy != "replace":
                return duplicate_outcome(uid, existing_path, duplicate_policy, context)
            file_meta = make_file_meta(
                sop_class_uid=uids["SOPClassUID"],
                sop_instance_uid=uid,
                transfer_syntax_uid=transfer_syntax_uid,
                source_ae_title=source_ae_title,
            )
            relative_path = self.file_store.relative_path_for(
                uids["StudyInstanceUID"], uids["SeriesInstanceUID"], uid
            )
            try:
                pending = self.file_store.write_pending(
                    relative_path, file_meta=file_meta, dataset_bytes=dataset_bytes
                )
            except OSError as exc:
                raise refuse(
                    Status.REFUSED_OUT_OF_RESOURCES, f"cannot write file: {exc.strerror or exc}", uid=uid
                ) from exc
            row = _Row(header, uid, pending.relative_path, pending.size, transfer_syntax_uid,
                       source_ae_title.strip()[:16], views)
            removals: list[PendingRemoval] = []
            try:
                result = self._commit_row(row, existing_path, duplicate_policy, removals)
            except BaseException:
                pending.discard()
                for removal in removals:
                    removal.cancel()
                raise
            if isinstance(result, StoreOutcome):  # another process stored the instance first
                pending.discard()
                return result
            pending.keep()
            for removal in removals:
                removal.complete()
        action = StoreAction.REPLACED if result else StoreAction.STORED
        logger.debug("%s of %s: %s as %s", context, uid, action.value, pending.relative_path)
        return StoreOutcome(Status.SUCCESS, action=action, sop_instance_uid=uid, file_path=pending.relative_path)

    def _existing_path(self, uid: str) -> str | None:
        try:
            # A constant Core statement on a plain connection: no ORM session on the hot path of every C-STORE.
            with self.sessions.kw["bind"].connect() as connection:
                return connection.execute(_STORED_PATH, {"uid": uid}).scalar()
        except OperationalError as exc:
            raise refuse(Status.REFUSED_OUT_OF_RESOURCES, f"index unavailable: {exc.orig}"[:64], uid=uid) from exc

    def _commit_row(
        self, row: _Row, existing_path: str | None, duplicate_policy: str, removals: list[PendingRemoval]
    ) -> bool | StoreOutcome:
        """Insert (or replace) the index row; return whether it replaced one, or the duplicate outcome.

        `existing_path` is what the check under the per-UID lock found; it is trusted for the first
        attempt (saving a query), and looked up again after a conflict with another process.
        """
        from qrscp.index import registry

        marked: set[str] = set()
        last_error: Exception | None = None
        duplicate_error = getattr(registry, "DuplicateInstanceError", IntegrityError)
        for attempt in range(_INDEX_ATTEMPTS):
            try:
                with self.sessions() as session:
                    if attempt:
                        existing = registry.get_instance(session, row.sop_instance_uid)
                        existing_path = None if existing is None else existing.file_path
                    if existing_path is not None and duplicate_policy != "replace":
                        return duplicate_outcome(row.sop_instance_uid, existing_path, duplicate_policy,
                                               "concurrent store")
                    if existing_path is not None and existing_path not in marked:
                        marked.add(existing_path)
                        removals.append(self.file_store.mark_for_removal(existing_path))
                    kwargs = {} if row.views is None else {"views": row.views}
                    registry.register_instance(
                        session,
                        row.header,
                        file_path=row.file_path,
                        file_size=row.file_size,
                        transfer_syntax_uid=row.transfer_syntax_uid,
                        source_ae_title=row.source_ae_title,
                        replace=existing_path is not None,
                        # Checked under the per-UID lock just before (a concurrent process still hits
                        # the unique constraint and is retried here).
                        known_absent=existing_path is None and attempt == 0,
                        **kwargs,
                    )
                    session.commit()
                    return existing_path is not None
            except (IntegrityError, OperationalError, duplicate_error) as exc:
                # Another process inserted the same instance, patient, study or series, or SQLite stayed
                # busy beyond its timeout: the transaction rolled back; the next attempt sees the other
                # commit.
                last_error = exc
                # A busy/locked index is worth a warning (counted by scripts/bench_concurrency.py); a lost
                # race for a new patient/study/series row is routine.
                level = logging.WARNING if isinstance(exc, OperationalError) else logging.INFO
                logger.log(level, "index commit of %s retried after %s: %s", row.sop_instance_uid,
                           type(exc).__name__, str(getattr(exc, "orig", exc))[:80])
            except OSError as exc:
                raise refuse(Status.REFUSED_OUT_OF_RESOURCES, f"cannot write file: {exc.strerror or exc}",
                            uid=row.sop_instance_uid) from exc
        comment = f"index unavailable: {getattr(last_error, 'orig', last_error)}"
        raise refuse(Status.REFUSED_OUT_OF_RESOURCES, comment[:MAX_ERROR_COMMENT], uid=row.sop_instance_uid)


@dataclass(frozen=True)
class _Row:
    """What the index row of a stored file is made of."""

    header: Dataset
    sop_instance_uid: str
    file_path: str
    file_size: int
    transfer_syntax_uid: str
    source_ae_title: str
    views: frozenset[View] | None


def encode_dataset(ds: Dataset, transfer_syntax_uid: str) -> bytes:
    """Encode `ds` (without File Meta) in `transfer_syntax_uid`; deflate when the syntax says so."""
    encoding = encoding_of(transfer_syntax_uid)
    fp = DicomBytesIO()
    fp.is_implicit_VR = encoding.implicit_vr
    fp.is_little_endian = encoding.little_endian
    write_dataset(fp, ds)
    data = fp.getvalue()
    return deflate(data) if encoding.deflated else data



__all__ = ["StorageService", "StoreAction", "StoreOutcome", "encode_dataset", "uid_problem"]
