"""``qrscp store PATH... HOST PORT``: send DICOM files as they are, on one association.

Every Part 10 file under the paths (folders recursively) goes in its own transfer syntax with its data
set bytes unchanged: pynetdicom reads them from the file after the File Meta
(``STORE_SEND_CHUNKED_DATASET``), nothing is decoded or re-encoded (DCMTK's ``storescu`` re-encodes:
undefined-length sequences become defined-length). The association proposes one presentation context per
(SOP Class, Transfer Syntax) pair found, each with that single transfer syntax. An association carries at
most 128 contexts (PS3.8 9.3.2.2: context IDs are odd numbers 1-255): with more pairs, the files are sent
on further associations of up to 128 contexts each, one after the other.

Files without ``DICM`` at offset 128 (not DICOM, or a bare data set without File Meta) and DICOMDIRs are
skipped with a warning. A file whose context the peer rejected, whose File Meta is unreadable or lacks the
SOP Class/Instance or Transfer Syntax UID, or whose C-STORE was answered with a failure status, fails.
Prints a progress bar (on a terminal) and a summary: sent (with warnings), failed (with each status),
skipped. Exit code: 0 when nothing failed, 1 when a file failed or a path does not exist, 2 when the
association could not be established.
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset
from pynetdicom import AE, _config as pynetdicom_config, evt
from pynetdicom.dsutils import split_dataset
from rich.console import Console

from qrscp.cli.common import console_logging, progress_bar
from qrscp.net import pynetdicom_ext
from qrscp.net.sockets import handle_connection_open as set_nodelay_on_open
from qrscp.services.importer import MEDIA_STORAGE_DIRECTORY_STORAGE, candidate_files

logger = logging.getLogger("qrscp.cli.store")

#: Presentation contexts one association may propose (PS3.8 9.3.2.2).
MAX_CONTEXTS = 128
#: Warning statuses of the Storage Service (PS3.4 B.2.3): the instance was stored.
WARNING_STATUSES = frozenset({0x0001, 0xB000, 0xB006, 0xB007})
REQUIRED_META = ("MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID", "TransferSyntaxUID")


@dataclass(frozen=True)
class Outgoing:
    """One file to send: its path and its presentation context (SOP Class UID, Transfer Syntax UID)."""

    path: Path
    sop_class: str
    transfer_syntax: str

    @property
    def pair(self) -> tuple[str, str]:
        return self.sop_class, self.transfer_syntax


@dataclass
class StoreSummary:
    """What one ``qrscp store`` did."""

    sent: int = 0
    warnings: int = 0
    skipped: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def fail(self, path: Path, why: str) -> None:
        logger.error("failed %s: %s", path, why)
        self.failed.append((path, why))

    def lines(self) -> list[str]:
        statuses = Counter(why for _path, why in self.failed)
        out = [f"sent {self.sent} (with warning {self.warnings}), failed {len(self.failed)}, skipped {self.skipped}"]
        out += [f"  failed {count}: {why}" for why, count in statuses.most_common()]
        return out


class NotSendable(ValueError):
    """The file is DICOM but cannot be sent as it is (unreadable or incomplete File Meta)."""


def outgoing_file(path: Path) -> Outgoing | None:
    """The presentation context of a Part 10 file; None when it is not one (skip it).

    Raises
    ------
    NotSendable
        ``DICM`` is there but the File Meta cannot be read or lacks a UID the C-STORE needs.
    OSError
        The file cannot be read.
    """
    with open(path, "rb") as f:
        head = f.read(132)
    if len(head) < 132 or head[128:132] != b"DICM":
        return None
    try:
        meta, _offset = split_dataset(path)
    except Exception as exc:  # pydicom raises many types on a damaged header
        raise NotSendable(f"unreadable File Meta ({type(exc).__name__})") from exc
    missing = [keyword for keyword in REQUIRED_META if not meta.get(keyword)]
    if missing:
        raise NotSendable(f"File Meta without {', '.join(missing)}")
    if meta.MediaStorageSOPClassUID == MEDIA_STORAGE_DIRECTORY_STORAGE:
        return None
    return Outgoing(path, str(meta.MediaStorageSOPClassUID), str(meta.TransferSyntaxUID))


def scan(paths: list[str], summary: StoreSummary) -> list[Outgoing]:
    """The sendable files under `paths`, in order; skipped and failed ones are counted in `summary`."""
    files: list[Outgoing] = []
    for text in paths:
        if not Path(text).exists():
            summary.fail(Path(text), "no such file or directory")
    for path in candidate_files([p for p in paths if Path(p).exists()], exclude=[]):
        try:
            outgoing = outgoing_file(path)
        except (NotSendable, OSError) as exc:
            summary.fail(path, str(exc))
            continue
        if outgoing is None:
            logger.warning("skipped %s: not a DICOM Part 10 file (or a DICOMDIR)", path)
            summary.skipped += 1
        else:
            files.append(outgoing)
    return files


def batches(files: list[Outgoing]) -> Iterator[tuple[list[tuple[str, str]], list[Outgoing]]]:
    """(contexts, files) of each association: at most :data:`MAX_CONTEXTS` pairs, in first-seen order."""
    pairs = list(dict.fromkeys(f.pair for f in files))
    for start in range(0, len(pairs), MAX_CONTEXTS):
        contexts = pairs[start:start + MAX_CONTEXTS]
        wanted = set(contexts)
        yield contexts, [f for f in files if f.pair in wanted]


def _status_text(status: Dataset) -> str:
    if "Status" not in status:
        return "no response (timeout or aborted association)"
    comment = f" {status.ErrorComment}" if "ErrorComment" in status else ""
    return f"status 0x{int(status.Status):04X}{comment}"


def send_batch(ae: AE, args: argparse.Namespace, contexts: list[tuple[str, str]], files: list[Outgoing],
               summary: StoreSummary, advance) -> bool:
    """Send `files` on one association proposing `contexts`; False when it could not be established."""
    ae.requested_contexts = []
    for sop_class, syntax in contexts:
        ae.add_requested_context(sop_class, syntax)
    assoc = ae.associate(args.host, args.port, ae_title=args.aec,
                         evt_handlers=[(evt.EVT_CONN_OPEN, set_nodelay_on_open)])
    if not assoc.is_established:
        for outgoing in files:
            summary.fail(outgoing.path, "association not established")
            advance()
        return False
    pynetdicom_ext.guard_requestor(assoc)
    accepted = {(str(cx.abstract_syntax), str(cx.transfer_syntax[0])) for cx in assoc.accepted_contexts}
    try:
        for outgoing in files:
            _send_one(assoc, outgoing, accepted, summary)
            advance()
    finally:
        if assoc.is_established:
            assoc.release()
    return True


def _send_one(assoc, outgoing: Outgoing, accepted: set[tuple[str, str]], summary: StoreSummary) -> None:
    if outgoing.pair not in accepted:
        summary.fail(outgoing.path, f"context {outgoing.sop_class} / {outgoing.transfer_syntax} not accepted")
        return
    try:
        status = assoc.send_c_store(outgoing.path)
    except (RuntimeError, ValueError, AttributeError, OSError) as exc:
        summary.fail(outgoing.path, f"not sent ({exc})")
        return
    code = int(status.Status) if "Status" in status else None
    if code == 0x0000 or code in WARNING_STATUSES:
        summary.sent += 1
        summary.warnings += code != 0x0000
    else:
        summary.fail(outgoing.path, _status_text(status))


def run_store(args: argparse.Namespace) -> int:
    """Run ``qrscp store PATH... HOST PORT``; return the exit code (see the module docstring)."""
    console = Console(stderr=True)
    summary = StoreSummary()
    established = True
    with console_logging(console):
        files = scan(args.paths, summary)
        # pynetdicom then sends a file's data set bytes from the file, unchanged (no decoding).
        pynetdicom_config.STORE_SEND_CHUNKED_DATASET = True
        ae = AE(ae_title=args.aet)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = args.timeout
        with progress_bar(console) as progress:
            task = progress.add_task("C-STORE", total=len(files))
            for contexts, batch in batches(files):
                established &= send_batch(ae, args, contexts, batch, summary, lambda: progress.advance(task))
    for line in summary.lines():
        print(line)
    if not established:
        return 2
    return 1 if summary.failed else 0
