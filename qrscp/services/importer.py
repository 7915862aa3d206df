"""``qrscp import PATH...``: index existing DICOM files into the archive's store.

Every file goes through the same :class:`~qrscp.services.storage.StorageService` as a C-STORE: the data
set bytes after the File Meta Information are stored unchanged (so the stored file's data set is
bit-identical to the original), under a fresh File Meta. Files without a Part 10 header are accepted when
pydicom recognises a bare data set (the transfer syntax is then implicit or explicit VR little endian, or
explicit big endian, as detected). Anything else is skipped with a warning; DICOMDIR files are skipped too.

The File Meta's Media Storage SOP Class/Instance UID of an existing file is not a negotiated command, so
the data set's own SOP Class and Instance UID decide (sloppy writers leave stale File Meta behind).

Exit code: 0 when nothing failed (duplicates and skipped non-DICOM files are not failures), 1 when at
least one DICOM file could not be stored, 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from qrscp.config import Config, ConfigError, load_config
from qrscp.services.storage import StorageService, StoreAction
from qrscp.store.filestore import FileStore
from qrscp.dicom.part10 import NotPart10, split_part10
from qrscp.dicom.structure import EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN

logger = logging.getLogger(__name__)

MEDIA_STORAGE_DIRECTORY_STORAGE = "1.2.840.10008.1.3.10"  # DICOMDIR
#: Calling AE title recorded for imported instances without a Source Application Entity Title.
IMPORT_AE_TITLE = "QRSCP-IMPORT"


class NotDicom(ValueError):
    """The file is neither a Part 10 file nor a recognisable bare data set."""


class CorruptDicom(ValueError):
    """The file claims to be Part 10 (``DICM`` at offset 128) but its header cannot be read."""


@dataclass
class ImportSummary:
    """Counts of one import run."""

    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"imported {self.imported}, duplicates {self.duplicates}, "
            f"skipped non-DICOM {self.skipped}, failed {self.failed}"
        )


def config_from_args(args: argparse.Namespace) -> Config:
    """Load the configuration and apply ``--data-dir`` and ``--database-url``."""
    config = load_config(getattr(args, "config", None))
    if getattr(args, "data_dir", None):
        config.storage.data_dir = Path(args.data_dir)
    if getattr(args, "database_url", None):
        config.storage.database_url = args.database_url
    return config


def candidate_files(paths: list[str], *, exclude: list[Path]) -> Iterator[Path]:
    """Yield every regular file under `paths` (recursively, sorted), except those under `exclude`."""
    excluded = [e.resolve() for e in exclude]
    for text in paths:
        path = Path(text)
        if path.is_dir():
            for directory, subdirectories, files in os.walk(path):
                subdirectories.sort()
                here = Path(directory)
                if any(here.resolve().is_relative_to(e) for e in excluded):
                    subdirectories.clear()
                    continue
                for name in sorted(files):
                    yield here / name
        else:
            yield path


def dataset_of_file(content: bytes) -> tuple[bytes, str, str]:
    """Return (data set bytes, transfer syntax UID, source AE title) of a file's content.

    Raises
    ------
    NotDicom
        When the content is not DICOM, or is a DICOMDIR.
    """
    try:
        header, dataset_bytes = split_part10(content)
    except NotPart10 as exc:
        if content[128:132] == b"DICM":
            raise CorruptDicom(f"unreadable Part 10 header: {exc}") from exc
        return _bare_dataset(content) + ("",)
    if header.file_meta.get("MediaStorageSOPClassUID") == MEDIA_STORAGE_DIRECTORY_STORAGE:
        raise NotDicom("a DICOMDIR, not an instance")
    source = str(header.file_meta.get("SourceApplicationEntityTitle", "") or "")
    return dataset_bytes, header.transfer_syntax_uid, source


def _bare_dataset(content: bytes) -> tuple[bytes, str]:
    """A data set without preamble or File Meta (old ACR-NEMA-style files): detect its encoding."""
    import io

    try:
        ds = pydicom.dcmread(io.BytesIO(content), force=True, stop_before_pixels=True)
        has_uids = "SOPInstanceUID" in ds and "SOPClassUID" in ds
        implicit, little = ds.original_encoding
    except Exception as exc:  # pydicom raises many types on non-DICOM bytes
        raise NotDicom(f"not DICOM ({type(exc).__name__})") from exc
    if not has_uids or implicit is None:
        raise NotDicom("no DICOM preamble and no SOP Class/Instance UID")
    if implicit:
        return content, IMPLICIT_VR_LITTLE_ENDIAN
    return content, EXPLICIT_VR_LITTLE_ENDIAN if little else EXPLICIT_VR_BIG_ENDIAN


def import_files(service: StorageService, files: list[Path], progress: Progress | None = None) -> ImportSummary:
    """Store every file of `files` through `service`; return the counts.

    Parameters
    ----------
    service : StorageService
        The archive's storage service.
    files : list of Path
        Candidate files (non-DICOM ones are skipped with a warning).
    progress : rich.progress.Progress, optional
        Advanced by one per file.

    Returns
    -------
    ImportSummary
    """
    summary = ImportSummary()
    task = progress.add_task("importing", total=len(files)) if progress is not None else None
    for path in files:
        try:
            content = path.read_bytes()
            dataset_bytes, transfer_syntax, source = dataset_of_file(content)
        except NotDicom as exc:
            logger.warning("skipped %s: %s", path, exc)
            summary.skipped += 1
        except CorruptDicom as exc:
            logger.error("failed %s: %s", path, exc)
            summary.failed += 1
        except OSError as exc:
            logger.error("cannot read %s: %s", path, exc.strerror or exc)
            summary.failed += 1
        else:
            outcome = service.store(
                dataset_bytes,
                transfer_syntax_uid=transfer_syntax,
                affected_sop_class_uid=None,
                affected_sop_instance_uid=None,
                calling_ae_title=source or IMPORT_AE_TITLE,
                peer=str(path),
            )
            if outcome.action in (StoreAction.STORED, StoreAction.REPLACED):
                summary.imported += 1
            elif outcome.action in (StoreAction.DUPLICATE_KEPT, StoreAction.DUPLICATE_REJECTED):
                summary.duplicates += 1
            else:
                logger.error("failed %s: status 0x%04X, %s", path, outcome.status, outcome.error_comment)
                summary.failed += 1
        if progress is not None and task is not None:
            progress.advance(task)
    return summary


def run_import(args: argparse.Namespace) -> int:
    """Run ``qrscp import PATH...``; return the exit code.

    Parameters
    ----------
    args : argparse.Namespace
        ``paths``, ``config``, ``data_dir``, ``database_url`` (see ``qrscp import --help``).

    Returns
    -------
    int
        0 when nothing failed, 1 when a file could not be stored, 2 on a configuration error.
    """
    from qrscp.index.database import create_engine_for, init_schema, session_factory

    console = Console(stderr=True)
    if console.is_terminal:
        # Log lines printed through the console stay above the live progress bar.
        handler: logging.Handler = RichHandler(console=console, show_time=False, show_path=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    qrscp_logger = logging.getLogger("qrscp")
    qrscp_logger.addHandler(handler)
    previous_level = qrscp_logger.level
    try:
        try:
            config = config_from_args(args)
        except ConfigError as exc:
            logger.error("configuration error: %s", exc)
            return 2
        qrscp_logger.setLevel(logging.DEBUG if config.logging.level.upper() == "DEBUG" else logging.WARNING)
        # The storage service logs each refusal as a C-STORE; the importer reports it with the file name.
        logging.getLogger("qrscp.services.storage").setLevel(logging.ERROR)
        engine = create_engine_for(config.storage.resolved_database_url, durable=config.storage.fsync)
        init_schema(engine)
        file_store = FileStore(config.storage.store_dir, fsync=config.storage.fsync)
        service = StorageService(config, session_factory(engine), file_store)
        exclude = [config.storage.store_dir]
        database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        files = [
            f for f in candidate_files(args.paths, exclude=exclude)
            if not (database and f.name.startswith(Path(database).name))
        ]
        missing = [p for p in args.paths if not Path(p).exists()]
        for path in missing:
            logger.error("no such file or directory: %s", path)
        files = [f for f in files if f.exists()]
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as progress:
            summary = import_files(service, files, progress)
        summary.failed += len(missing)
        engine.dispose()
        print(summary.line())
        return 1 if summary.failed else 0
    finally:
        qrscp_logger.removeHandler(handler)
        qrscp_logger.setLevel(previous_level)
        logging.getLogger("qrscp.services.storage").setLevel(logging.NOTSET)
