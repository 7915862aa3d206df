"""Answers to requests whose command set lacks a value the service needs.

pynetdicom drops a C-STORE, C-FIND, C-GET or C-MOVE request that lacks a required command value (an
empty Affected SOP Instance UID, a C-FIND without an Identifier, a C-MOVE without Move Destination): it
logs "Received unexpected ... service message" and sends nothing, so the peer waits until its own
timeout and then aborts. qrscp answers such a request with a failure status and an Error Comment that
names what is missing, and logs it with the peer. Nothing is stored.
"""

from __future__ import annotations

import logging
from typing import Any

from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_FIND, C_GET, C_MOVE, C_STORE

from qrscp.net.logs import peer_label
from qrscp.status import Status

logger = logging.getLogger("qrscp.net")

_original_serve_request = Association._serve_request
_ANSWERED = (C_STORE, C_FIND, C_GET, C_MOVE)


def missing_values(request: Any) -> list[str]:
    """The command values (and Identifier) that `request` lacks, by pynetdicom's parameter names."""
    return [keyword for keyword in request.REQUEST_KEYWORDS if getattr(request, keyword) is None]


def answer_incomplete(assoc: Association, request: Any, context_id: int) -> bool:
    """Send the failure response to an incomplete request; False when it cannot be answered (no Message
    ID to respond to, or not a request of the services qrscp provides)."""
    if not isinstance(request, _ANSWERED) or request.MessageID is None:
        return False
    missing = missing_values(request)
    status = Status.REFUSED_MOVE_DESTINATION_UNKNOWN if missing == ["MoveDestination"] else Status.CANNOT_UNDERSTAND
    response = type(request)()
    response.MessageIDBeingRespondedTo = request.MessageID
    response.AffectedSOPClassUID = request.AffectedSOPClassUID
    if isinstance(request, C_STORE):
        response.AffectedSOPInstanceUID = request.AffectedSOPInstanceUID
    response.Status = int(status)
    response.ErrorComment = f"{request.msg_type} request without {', '.join(missing)}"[:64]
    logger.warning("%s: %s: answered 0x%04X", peer_label(assoc), response.ErrorComment, status)
    assoc.dimse.send_msg(response, context_id)
    return True


def _serve_request(self: Association, msg: Any, context_id: int) -> None:
    """:meth:`Association._serve_request` that answers incomplete requests instead of dropping them."""
    if not self._sent_release and not msg.is_valid_request and answer_incomplete(self, msg, context_id):
        return
    _original_serve_request(self, msg, context_id)


def install() -> None:
    """Answer incomplete requests on every association of this process (idempotent)."""
    Association._serve_request = _serve_request  # type: ignore[method-assign]


def uninstall() -> None:
    """Give pynetdicom back its own ``_serve_request``."""
    Association._serve_request = _original_serve_request  # type: ignore[method-assign]
