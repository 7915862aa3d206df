"""``qrscp serve``: run the archive until SIGTERM or Ctrl-C.

SIGTERM or Ctrl-C stops accepting associations, lets C-STOREs in flight finish (their file and index row
are committed or neither), then aborts what is left and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from qrscp.app import Archive
from qrscp.cli.common import config_from_args
from qrscp.config import ConfigError
from qrscp.net.logs import configure_logging
from qrscp.startup import freeze_imported_objects

logger = logging.getLogger("qrscp.net")


def run_serve(args: argparse.Namespace) -> int:
    """Run ``qrscp serve`` until SIGTERM/SIGINT; return the exit code (0 after a clean stop)."""
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        logging.basicConfig()
        logger.error("configuration error: %s", exc)
        return 2
    configure_logging(config.logging)
    if config.server.worker_count > 1:
        from qrscp.workers.supervisor import run_supervisor

        return run_supervisor(config)
    try:
        archive = Archive(config)
        archive.start()
    except (OSError, ConfigError) as exc:  # ConfigError: unreadable [tls] certificates
        logger.error("cannot start: %s", exc)
        return 1
    # What imports and start-up made lives as long as the server: the collector need not rescan it
    # (a view built during a C-GET of 500 slices: 2.5 -> 1.85 s).
    freeze_imported_objects()
    stop_requested = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        logger.info("signal %s received: stopping", signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    while not stop_requested.wait(1.0):
        pass
    archive.stop()
    return 0
