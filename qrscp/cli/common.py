"""What the ``qrscp`` commands share: configuration from a TOML file and flags, logging and progress bars."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from qrscp.config import Config, load_config, parse_peer


def config_from_args(args: argparse.Namespace) -> Config:
    """Load the configuration file (``--config``) and apply the flags given over it.

    Every command passes its own namespace; flags it does not have are left alone (``--port``,
    ``--bind``, ``--ae-title``, ``--peer``, ``--log-level`` of ``serve``; ``--data-dir`` and
    ``--database-url`` of ``serve`` and ``import``).

    Raises
    ------
    qrscp.config.ConfigError
        An unreadable file, an unknown key or a bad value (a ``--peer`` that is not ``AET=HOST:PORT``).
    """
    config = load_config(getattr(args, "config", None))
    if getattr(args, "port", None) is not None:
        config.server.port = args.port
    if getattr(args, "bind_address", None):
        config.server.bind_address = args.bind_address
    if getattr(args, "ae_title", None):
        config.server.ae_title = args.ae_title
    if getattr(args, "data_dir", None):
        config.storage.data_dir = Path(args.data_dir)
    if getattr(args, "database_url", None):
        config.storage.database_url = args.database_url
    for text in getattr(args, "peer", None) or []:
        peer = parse_peer(text)
        config.peers[peer.ae_title] = peer
    if getattr(args, "workers", None) is not None:
        config.server.workers = args.workers
    if getattr(args, "log_level", None):
        config.logging.level = args.log_level
    if getattr(args, "http_port", None) is not None:
        config.http.port = args.http_port
    return config


@contextmanager
def console_logging(console: Console, level: int = logging.WARNING) -> Iterator[logging.Logger]:
    """Send qrscp's log records at `level` and above to `console` (stderr) while the block runs.

    On a terminal they go through rich, above the live progress bar; otherwise one plain line each.
    The ``qrscp`` logger's handlers and level are restored afterwards.
    """
    if console.is_terminal:
        handler: logging.Handler = RichHandler(console=console, show_time=False, show_path=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    qrscp_logger = logging.getLogger("qrscp")
    qrscp_logger.addHandler(handler)
    previous_level = qrscp_logger.level
    qrscp_logger.setLevel(level)
    try:
        yield qrscp_logger
    finally:
        qrscp_logger.removeHandler(handler)
        qrscp_logger.setLevel(previous_level)


def progress_bar(console: Console, *columns: Any) -> Progress:
    """A rich progress bar on `console` (shown on a terminal only): description, bar, done/total, `columns`."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *columns,
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )
