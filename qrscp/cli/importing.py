"""``qrscp import PATH...``: index existing DICOM files into the archive's store.

The work is :mod:`qrscp.services.importer`; this module reads the arguments, opens the archive's storage
(:func:`qrscp.app.open_storage`) and shows a progress bar and a summary.

Exit code: 0 when nothing failed (duplicates and skipped non-DICOM files are not failures), 1 when at
least one DICOM file could not be stored, 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from rich.console import Console

from qrscp.app import StorageParts, open_storage
from qrscp.cli.common import config_from_args, console_logging, progress_bar
from qrscp.config import ConfigError
from qrscp.services.importer import candidate_files, import_files, logger


def files_to_import(paths: list[str], storage: StorageParts) -> tuple[list[Path], list[str]]:
    """The files under `paths` (the store and the SQLite index excluded), and the paths that do not exist."""
    engine = storage.engine
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    files = [
        f for f in candidate_files(paths, exclude=[storage.file_store.root])
        if not (database and f.name.startswith(Path(database).name))
    ]
    missing = [p for p in paths if not Path(p).exists()]
    return [f for f in files if f.exists()], missing


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
    console = Console(stderr=True)
    with console_logging(console) as qrscp_logger:
        try:
            config = config_from_args(args)
        except ConfigError as exc:
            logger.error("configuration error: %s", exc)
            return 2
        qrscp_logger.setLevel(logging.DEBUG if config.logging.level.upper() == "DEBUG" else logging.WARNING)
        # The storage service logs each refusal as a C-STORE; the importer reports it with the file name.
        storage_logger = logging.getLogger("qrscp.services.storage")
        storage_logger.setLevel(logging.ERROR)
        try:
            storage = open_storage(config)
            files, missing = files_to_import(args.paths, storage)
            for path in missing:
                logger.error("no such file or directory: %s", path)
            with progress_bar(console) as progress:
                summary = import_files(storage.storage, files, progress)
            summary.failed += len(missing)
            storage.engine.dispose()
        finally:
            storage_logger.setLevel(logging.NOTSET)
    print(summary.line())
    return 1 if summary.failed else 0
