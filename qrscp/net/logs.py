"""Logging set-up for the server and how associations are named in log lines.

Every network-related message names the association's peer (``AE@address:port``). pynetdicom's own
per-message logging (pretty-printed identifiers, PDU dumps) is switched off unless DEBUG is asked for:
formatting it costs more than answering a C-FIND.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from pynetdicom import _config as pynetdicom_config

if TYPE_CHECKING:
    from pynetdicom.association import Association

    from qrscp.config import LoggingConfig

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def quiet_pynetdicom(debug: bool = False) -> None:
    """Turn off pynetdicom's per-message logging (the fast path); keep it when `debug` is True."""
    pynetdicom_config.LOG_HANDLER_LEVEL = "standard" if debug else "none"
    pynetdicom_config.LOG_REQUEST_IDENTIFIERS = debug
    pynetdicom_config.LOG_RESPONSE_IDENTIFIERS = debug
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if debug else logging.WARNING)


def configure_logging(config: LoggingConfig, level: str | None = None) -> None:
    """Configure the root logger from the ``[logging]`` section (`level` overrides it).

    Parameters
    ----------
    config : qrscp.config.LoggingConfig
        Level and optional log file.
    level : str, optional
        ``--log-level`` of ``qrscp serve``.
    """
    name = (level or config.level or "INFO").upper()
    numeric = logging.getLevelName(name)
    if not isinstance(numeric, int):
        numeric = logging.INFO
    handler: logging.Handler
    if config.file:
        handler = logging.FileHandler(config.file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    quiet_pynetdicom(debug=numeric <= logging.DEBUG)


def peer_label(assoc: Association) -> str:
    """Return ``AE@address:port`` of the remote side of `assoc` (the requestor when we accept)."""
    remote = assoc.requestor if assoc.is_acceptor else assoc.acceptor
    ae_title = (remote.ae_title or "").strip() or "?"
    return f"{ae_title}@{remote.address}:{remote.port}"
