"""Error Comment on C-MOVE/C-GET failures that pynetdicom answers by itself.

pynetdicom's C-MOVE service class answers an unknown destination (the handler yields ``(None, None)``)
with a bare A801, and a handler failure before the sub-operation count with a bare Cxxx; neither can
carry an Error Comment. A handler that wants a precise answer records it here with :func:`amend`
before stopping; :func:`handle_dimse_sent` (bound to EVT_DIMSE_SENT, which fires just before a message
is encoded) rewrites the final response's Status and adds (0000,0902) Error Comment.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from pynetdicom.dimse_messages import C_GET_RSP, C_MOVE_RSP

_pending: "weakref.WeakKeyDictionary[Any, dict[int, tuple[int, str, int | None]]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()

#: Error Comment is LO: at most 64 characters.
ERROR_COMMENT_MAX = 64


def error_comment(text: str) -> str:
    """Return `text` cut to the 64 characters that an Error Comment (LO) may hold."""
    text = " ".join(str(text).split())
    return text if len(text) <= ERROR_COMMENT_MAX else text[: ERROR_COMMENT_MAX - 3] + "..."


def amend(assoc: Any, message_id: int, status: int, comment: str, *, only_if: int | None = None) -> None:
    """Make the next final C-MOVE/C-GET response to `message_id` carry `status` and `comment`.

    With `only_if`, the amendment applies only to a response whose status is already `only_if` (for
    example the A801 pynetdicom sends when the move destination cannot be reached).
    """
    with _lock:
        _pending.setdefault(assoc, {})[int(message_id)] = (int(status), error_comment(comment), only_if)


def discard(assoc: Any, message_id: int) -> None:
    """Forget the amendment recorded for `message_id` (the request ended without needing it)."""
    with _lock:
        pending = _pending.get(assoc)
        if pending:
            pending.pop(int(message_id), None)


def handle_dimse_sent(event: Any) -> None:
    """EVT_DIMSE_SENT handler: apply a recorded amendment to the outgoing final response."""
    message = event.message
    if not isinstance(message, (C_MOVE_RSP, C_GET_RSP)):
        return
    command = message.command_set
    if command.get("Status", 0xFF00) in (0xFF00, 0xFF01):
        return
    key = int(command.MessageIDBeingRespondedTo)
    with _lock:
        pending = _pending.get(event.assoc)
        amendment = pending.get(key) if pending else None
        if amendment is None or (amendment[2] is not None and amendment[2] != command.Status):
            return
        del pending[key]
    command.Status, command.ErrorComment = amendment[0], amendment[1]
    message._set_command_group_length()
