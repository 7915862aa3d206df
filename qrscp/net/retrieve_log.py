"""The one log line of each C-MOVE/C-GET, written when its final response is actually sent.

pynetdicom computes the final status (0000, B000, A702, an amended failure...) and the sub-operation
counts after the handler's generator has ended, so the handler cannot know them. A handler creates a
:class:`RetrieveLog` and :func:`register`\\ s it; the C-STORE sender reports the first failed
sub-operation's reason with :func:`record_failure` (same thread: pynetdicom sends the sub-operations
from the requesting association's thread); :func:`handle_dimse_sent` (bound to EVT_DIMSE_SENT after the
amendments) writes the line from the final response's command set.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from pynetdicom.dimse_messages import C_GET_RSP, C_MOVE_RSP

from qrscp.net.logs import peer_label

logger = logging.getLogger("qrscp.net")

_pending: "weakref.WeakKeyDictionary[Any, dict[int, RetrieveLog]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_current = threading.local()
PENDING_STATUSES = (0xFF00, 0xFF01)


class RetrieveLog:
    """What one C-MOVE/C-GET did, for its log line."""

    def __init__(self, service: str, event: Any) -> None:
        self.service = service
        self.label = peer_label(event.assoc)
        self.started = time.perf_counter()
        self.level = "-"
        self.sub_operations = 0
        self.comment = ""
        self.destination = ""
        self.first_failure = ""

    def write(self, status: int | None, completed: Any = "-", failed: Any = "-", warning: Any = "-") -> None:
        """Log the line with the status and counts sent to the peer (None: no final response)."""
        reasons = [text for text in (self.comment, self.first_failure and f"first failure: {self.first_failure}") if text]
        logger.info(
            "%s: %s %s%s: %d sub-operations, %s completed, %s failed, %s warning, status %s%s, %.1f ms",
            self.label,
            self.service,
            self.level,
            f" to {self.destination}" if self.destination else "",
            self.sub_operations,
            completed,
            failed,
            warning,
            "none sent" if status is None else f"0x{status:04X}",
            f" ({'; '.join(reasons)})" if reasons else "",
            (time.perf_counter() - self.started) * 1000,
        )


def register(assoc: Any, message_id: int, log: RetrieveLog) -> None:
    """Write `log` when the final response to `message_id` on `assoc` is sent; collect failures for it."""
    with _lock:
        _pending.setdefault(assoc, {})[int(message_id)] = log
    _current.log = log


def record_failure(reason: str) -> None:
    """Note why a sub-operation of the retrieve running in this thread failed (the first reason is kept)."""
    log = getattr(_current, "log", None)
    if log is not None and not log.first_failure:
        log.first_failure = " ".join(str(reason).split())


def handle_dimse_sent(event: Any) -> None:
    """EVT_DIMSE_SENT handler: write the line of the retrieve whose final response was just sent."""
    message = event.message
    if not isinstance(message, (C_MOVE_RSP, C_GET_RSP)):
        return
    command = message.command_set
    status = command.get("Status", None)
    if status in PENDING_STATUSES:
        return
    with _lock:
        pending = _pending.get(event.assoc)
        log = pending.pop(int(command.MessageIDBeingRespondedTo), None) if pending else None
    if log is None:
        return
    if getattr(_current, "log", None) is log:
        _current.log = None
    log.write(
        None if status is None else int(status),
        command.get("NumberOfCompletedSuboperations", "-"),
        command.get("NumberOfFailedSuboperations", "-"),
        command.get("NumberOfWarningSuboperations", "-"),
    )


def flush(assoc: Any) -> None:
    """Write the lines of retrieves on `assoc` that ended without a final response (aborted)."""
    with _lock:
        pending = _pending.pop(assoc, None) or {}
    for log in pending.values():
        log.comment = log.comment or "association ended before the final response"
        log.write(None)
