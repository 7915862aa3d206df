"""Index existing DICOM files into the archive's store (``qrscp import PATH...``).

Every file goes through the same :class:`~qrscp.services.storage.StorageService` as a C-STORE: the data
set bytes after the File Meta Information are stored unchanged (so the stored file's data set is
bit-identical to the original), under a fresh File Meta. Files without a Part 10 header are accepted when
pydicom recognises a bare data set (the transfer syntax is then implicit or explicit VR little endian, or
explicit big endian, as detected). Anything else is skipped with a warning; DICOMDIR files are skipped too.

The File Meta's Media Storage SOP Class/Instance UID of an existing file is not a negotiated command, so
the data set's own SOP Class and Instance UID decide (sloppy writers leave stale File Meta behind).

The command itself (arguments, progress bar, exit code) is :mod:`qrscp.cli.importing`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pydicom

from qrscp.services.storage import StorageService, StoreAction
from qrscp.dicom.part10 import NotPart10, split_part10
from qrscp.dicom.structure import EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN

if TYPE_CHECKING:
    from rich.progress import Progress

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
