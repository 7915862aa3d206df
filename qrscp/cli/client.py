"""``qrscp find|get|move``: a Query/Retrieve SCU that negotiates the Enhanced Multi-Frame Image Conversion option.

DCMTK's ``findscu`` cannot send SOP Class Extended Negotiation items for the views, so this client offers them
(relational byte and conversion byte per SOP Class, PS3.4 C.5), puts Query/Retrieve View (0008,0053) in the
identifier when ``--view`` is given, prints C-FIND matches as a table and shows a progress bar for C-GET and
C-MOVE sub-operations.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydicom import config as pydicom_config
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import Tag
from pynetdicom import AE, StoragePresentationContexts, build_role, evt

from qrscp.cli.view_negotiation import conversion_accepted, extended_negotiation_items
from qrscp.net import sockets
from qrscp.uids import (
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    PATIENT_ROOT_FIND,
    PATIENT_ROOT_GET,
    PATIENT_ROOT_MOVE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
)

LOGGER = logging.getLogger(__name__)

#: (root, operation) -> Query/Retrieve SOP Class UID.
INFORMATION_MODELS = {
    ("patient", "find"): PATIENT_ROOT_FIND,
    ("study", "find"): STUDY_ROOT_FIND,
    ("patient", "get"): PATIENT_ROOT_GET,
    ("study", "get"): STUDY_ROOT_GET,
    ("composite", "get"): COMPOSITE_INSTANCE_ROOT_GET,
    ("patient", "move"): PATIENT_ROOT_MOVE,
    ("study", "move"): STUDY_ROOT_MOVE,
    ("composite", "move"): COMPOSITE_INSTANCE_ROOT_MOVE,
}

#: Keys returned by ``find`` at each level unless the user names their own (-k KEY).
DEFAULT_RETURN_KEYS = {
    "PATIENT": ["PatientName", "PatientID", "PatientBirthDate", "NumberOfPatientRelatedStudies"],
    "STUDY": [
        "PatientName",
        "PatientID",
        "StudyDate",
        "AccessionNumber",
        "StudyDescription",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
        "StudyInstanceUID",
    ],
    "SERIES": [
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "Modality",
        "SeriesNumber",
        "SeriesDescription",
        "NumberOfSeriesRelatedInstances",
    ],
    "IMAGE": ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "InstanceNumber"],
}


class ClientError(Exception):
    """A user error or a refused association; printed without a traceback."""


def _element_tag(key: str) -> Tag:
    key = key.strip()
    match = re.fullmatch(r"\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?", key)
    if match:
        return Tag(int(match.group(1), 16), int(match.group(2), 16))
    tag = tag_for_keyword(key)
    if tag is None:
        raise ClientError(f"unknown attribute {key!r} (use a keyword such as PatientID or a tag gggg,eeee)")
    return Tag(tag)


def build_identifier(level: str, keys: Iterable[str], *, view: str | None, with_defaults: bool) -> Dataset:
    """Build a request identifier from ``KEY=VALUE`` strings (``KEY`` or ``KEY=`` means return/universal)."""
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level
    if with_defaults:
        for keyword in DEFAULT_RETURN_KEYS.get(level, []):
            setattr(identifier, keyword, None)
    for key in keys:
        name, _, value = key.partition("=")
        tag = _element_tag(name)
        vr = dictionary_VR(tag)
        if vr == "SQ":
            raise ClientError(f"sequence key {name!r} is not supported by this client")
        identifier.add_new(tag, vr, value if value else None)
    if view:
        identifier.QueryRetrieveView = view.upper()
    return identifier


def frame_range_keys(args: argparse.Namespace) -> dict[str, list] | None:
    """The Frame Range Key of ``--frames``, ``--frame-range`` or ``--time-range`` (None: not a FRAME request).

    ``--frames 1,5,9`` -> Simple Frame List; each ``--frame-range START-END[/STEP]`` -> a Calculated Frame
    List triplet (END ``end`` is FFFFFFFFH); ``--time-range START-END`` -> Time Range in seconds.
    """
    given = [name for name in ("frames", "frame_range", "time_range") if getattr(args, name, None)]
    if not given:
        return None
    if len(given) > 1:
        raise ClientError("give one of --frames, --frame-range or --time-range")
    try:
        if args.frames:
            return {"SimpleFrameList": [int(v) for v in args.frames.split(",")]}
        if args.time_range:
            start, end = re.fullmatch(r"\s*([-+0-9.eE]+)\s*-\s*([-+0-9.eE]+)\s*", args.time_range).groups()
            return {"TimeRange": [float(start), float(end)]}
        triplets = []
        for text in args.frame_range:
            start, end, step = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+|end)\s*(?:/\s*(\d+))?\s*", text).groups()
            triplets += [int(start), 0xFFFFFFFF if end == "end" else int(end), int(step or 1)]
        return {"CalculatedFrameList": triplets}
    except (AttributeError, ValueError) as exc:
        raise ClientError(f"cannot read the frame selection: {exc}") from None


@dataclass
class RetrieveProgress:
    """Counters of a C-GET / C-MOVE, updated from its responses."""

    remaining: int | None = None
    completed: int = 0
    failed: int = 0
    warning: int = 0
    status: int | None = None
    error_comment: str = ""
    received: list[Path] = field(default_factory=list)

    def update(self, status: Dataset) -> None:
        self.status = int(status.Status)
        self.remaining = status.get("NumberOfRemainingSuboperations", self.remaining)
        self.completed = int(status.get("NumberOfCompletedSuboperations", self.completed) or 0)
        self.failed = int(status.get("NumberOfFailedSuboperations", self.failed) or 0)
        self.warning = int(status.get("NumberOfWarningSuboperations", self.warning) or 0)
        self.error_comment = str(status.get("ErrorComment", "") or "")


def _write_received(event: Any, output: Path) -> Path:
    """Write a received C-STORE dataset as a Part 10 file, without decoding it."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = event.request.AffectedSOPClassUID
    meta.MediaStorageSOPInstanceUID = event.request.AffectedSOPInstanceUID
    meta.TransferSyntaxUID = event.context.transfer_syntax
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{event.request.AffectedSOPInstanceUID}.dcm"
    from pydicom.filewriter import write_file_meta_info

    with open(path, "wb") as handle:
        handle.write(b"\x00" * 128 + b"DICM")
        write_file_meta_info(handle, meta, enforce_standard=True)
        handle.write(event.request.DataSet.getvalue())
    return path


def _store_handler(output: Path, progress: RetrieveProgress, lock: threading.Lock):
    def handle_store(event: Any) -> int:
        try:
            path = _write_received(event, output)
        except OSError as exc:
            LOGGER.error("cannot write received instance: %s", exc)
            return 0xA700
        with lock:
            progress.received.append(path)
        return 0x0000

    return handle_store


def _text_of(element: Any) -> str:
    if element is None or element.value is None:
        return ""
    if element.VR == "SQ":
        return f"<{len(element.value)} item(s)>"
    value = element.value
    if element.VM > 1:
        return "\\".join(str(v) for v in value)
    return str(value)


def _print_matches(matches: list[Dataset], console: Any) -> None:
    """A table when it fits the terminal, otherwise one block of ``keyword  value`` lines per match."""
    from rich.table import Table

    if not matches:
        console.print("no matches")
        return
    columns: list[int] = []
    for match in matches:
        for element in match:
            if element.tag not in columns and element.tag != Tag(0x0008, 0x0005):
                columns.append(element.tag)
    names = [keyword_for_tag(tag) or str(Tag(tag)) for tag in columns]
    widths = [max([len(name)] + [len(_text_of(m.get(tag))) for m in matches]) for name, tag in zip(names, columns)]
    if sum(widths) + 3 * len(widths) + 1 <= console.width:
        table = Table()
        for name in names:
            table.add_column(name, no_wrap=True)
        for match in matches:
            table.add_row(*[_text_of(match.get(tag)) for tag in columns])
        console.print(table)
    else:
        label = max(len(name) for name in names)
        for number, match in enumerate(matches, start=1):
            console.print(f"[bold]match {number}[/bold]")
            for name, tag in zip(names, columns):
                console.print(f"  {name.ljust(label)}  {_text_of(match.get(tag))}", markup=False, highlight=False)
    console.print(f"{len(matches)} match(es)")


def _associate(
    ae: AE,
    args: argparse.Namespace,
    sop_class: str,
    view: bool,
    *,
    roles: list | None = None,
    handlers: list | None = None,
) -> Any:
    assoc = ae.associate(
        args.host,
        args.port,
        ae_title=args.aec,
        ext_neg=extended_negotiation_items(sop_class, view=view) + list(roles or []),
        evt_handlers=handlers,
    )
    if not assoc.is_established:
        raise ClientError(f"association with {args.aec}@{args.host}:{args.port} was not established")
    sockets.set_tcp_nodelay(assoc)
    if view and not conversion_accepted(sop_class, dict(assoc.acceptor.sop_class_extended)):
        assoc.release()
        raise ClientError(
            f"{args.aec} did not accept the Enhanced Multi-Frame Image Conversion option for {sop_class}; "
            "it cannot serve the CLASSIC or ENHANCED view"
        )
    return assoc


def run_find(args: argparse.Namespace, console: Any) -> int:
    sop_class = INFORMATION_MODELS.get((args.root, "find"))
    if sop_class is None:
        raise ClientError("C-FIND needs --root patient or study")
    identifier = build_identifier(args.level, args.key, view=args.view, with_defaults=True)
    ae = AE(ae_title=args.aet)
    ae.add_requested_context(sop_class)
    assoc = _associate(ae, args, sop_class, bool(args.view))
    matches: list[Dataset] = []
    final_status = None
    comment = ""
    try:
        for status, match in assoc.send_c_find(identifier, sop_class):
            if not status:
                raise ClientError("no response from the archive (timeout or aborted association)")
            final_status = int(status.Status)
            if final_status in (0xFF00, 0xFF01) and match is not None:
                matches.append(match)
            comment = str(status.get("ErrorComment", "") or "")
    finally:
        assoc.release()
    _print_matches(matches, console)
    if final_status != 0x0000:
        console.print(f"[red]C-FIND failed: status 0x{final_status or 0:04X} {comment}[/red]")
        return 1
    return 0


def _retrieve_ae(args: argparse.Namespace, operation: str, sop_class: str, handlers: list[Any]) -> tuple[AE, list[Any], Any]:
    """Our AE for a C-GET or C-MOVE, the SCP/SCU role items, and the storage server of ``--store-port``."""
    ae = AE(ae_title=args.aet)
    ae.add_requested_context(sop_class)
    if operation == "get":
        # C-GET sub-operations come back on this association: offer storage with the SCP role (PS3.4 C.5.3).
        for context in StoragePresentationContexts[:127]:
            ae.add_requested_context(context.abstract_syntax)
        return ae, [build_role(c.abstract_syntax, scp_role=True) for c in StoragePresentationContexts[:127]], None
    if not args.store_port:
        return ae, [], None
    store_ae = AE(ae_title=args.dest)
    store_ae.supported_contexts = StoragePresentationContexts
    store_server = store_ae.start_server(
        ("127.0.0.1" if args.host in ("127.0.0.1", "localhost") else "0.0.0.0", args.store_port),
        block=False,
        evt_handlers=handlers + [(evt.EVT_CONN_OPEN, sockets.handle_connection_open)],
    )
    return ae, [], store_server


def _follow_responses(responses: Iterable[tuple[Any, Any]], progress: RetrieveProgress, bar: Any, task: Any) -> None:
    """Update `progress` and the bar from each C-GET/C-MOVE response."""
    for status, _identifier in responses:
        if not status:
            raise ClientError("no response from the archive (timeout or aborted association)")
        progress.update(status)
        done = progress.completed + progress.failed + progress.warning
        total = done + int(progress.remaining or 0) if progress.remaining is not None else None
        bar.update(task, completed=done, total=total if total else done or None, failed=progress.failed)


def _run_retrieve(args: argparse.Namespace, console: Any, operation: str) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    frame_keys = frame_range_keys(args)
    if frame_keys is not None:  # FRAME level exists only in the Composite Instance Root model (PS3.4 Y.3.1)
        args.level, args.root = "FRAME", "composite"
    sop_class = INFORMATION_MODELS[(args.root, operation)]
    identifier = build_identifier(args.level, args.key, view=args.view, with_defaults=False)
    for keyword, values in (frame_keys or {}).items():
        setattr(identifier, keyword, values)
    output = Path(args.output)
    progress = RetrieveProgress()
    handlers = [(evt.EVT_C_STORE, _store_handler(output, progress, threading.Lock()))]
    ae, roles, store_server = _retrieve_ae(args, operation, sop_class, handlers)
    try:
        assoc = _associate(
            ae, args, sop_class, bool(args.view), roles=roles, handlers=handlers if operation == "get" else None
        )
        columns = (TextColumn(f"C-{operation.upper()}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("failed {task.fields[failed]}"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(operation, total=None, failed=0)
            try:
                if operation == "get":
                    responses = assoc.send_c_get(identifier, sop_class)
                else:
                    responses = assoc.send_c_move(identifier, args.dest, sop_class)
                _follow_responses(responses, progress, bar, task)
            finally:
                assoc.release()
    finally:
        if store_server is not None:
            store_server.shutdown()
    console.print(
        f"completed {progress.completed}, failed {progress.failed}, warning {progress.warning}; "
        f"{len(progress.received)} file(s) written to {output}"
    )
    if progress.status not in (0x0000,):
        console.print(f"[red]C-{operation.upper()} ended with status 0x{progress.status or 0:04X} "
                      f"{progress.error_comment}[/red]")
        return 1
    return 0


def run_client(args: argparse.Namespace) -> int:
    """Entry point of ``qrscp find``, ``qrscp get`` and ``qrscp move``; returns the exit code."""
    from rich.console import Console

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE
    console = Console()
    try:
        if args.command == "find":
            return run_find(args, console)
        return _run_retrieve(args, console, args.command)
    except ClientError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    except (ConnectionError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2


if __name__ == "__main__":  # pragma: no cover
    from qrscp.cli import main

    sys.exit(main())
