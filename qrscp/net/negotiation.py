"""SOP Class Extended Negotiation for the Query/Retrieve SOP Classes and the Query/Retrieve View request rules.

The service-class-application-information bytes (PS3.4 C.5.1.1, C.5.2.1, C.5.3.1, Y.5.1.1, Z.5.1):

=======================================================  ==========  ==========  =====  ========  ==========
SOP Classes                                               byte 1      byte 2      byte 3 byte 4    byte 5
=======================================================  ==========  ==========  =====  ========  ==========
Patient/Study Root FIND                                   relational  date-time   fuzzy  timezone  conversion
Patient/Study Root MOVE and GET                           relational  conversion
Composite Instance Root MOVE/GET, Without Bulk Data GET   reserved    conversion
=======================================================  ==========  ==========  =====  ========  ==========

"conversion" is the Enhanced Multi-Frame Image Conversion option: the peer may then send Query/Retrieve View
(0008,0053) = CLASSIC or ENHANCED. The reply carries exactly as many bytes as were offered (a one-byte offer
gets a one-byte reply, C.5.1.1), one item per offered Query/Retrieve SOP Class and none for a SOP Class that
was not offered or is not a Query/Retrieve SOP Class. Combined date-time matching (FIND byte 2, C.2.2.2.5.4)
is accepted when offered; fuzzy person name matching and timezone query adjustment are not supported:
their bytes are answered 0. ``[views] enabled = false`` answers the conversion byte 0.

The accepted options are remembered per association (:func:`accepted_options`); :func:`requested_view`
applies the request rules of C.4.1.1.3.1, C.4.2.1.4.1 and Y.4.1.1.3.1 to an identifier.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from qrscp.status import Status
from qrscp.uids import (
    COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    PATIENT_ROOT_FIND,
    PATIENT_ROOT_GET,
    PATIENT_ROOT_MOVE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
    View,
)

LOGGER = logging.getLogger(__name__)

#: SOP Classes whose byte 1 is relational-queries and byte 5 the conversion option (C.5.1.1).
QUERY_SOP_CLASSES = frozenset({PATIENT_ROOT_FIND, STUDY_ROOT_FIND})
#: SOP Classes whose byte 1 is relational-retrieval and byte 2 the conversion option (C.5.2.1, C.5.3.1).
RELATIONAL_RETRIEVE_SOP_CLASSES = frozenset({PATIENT_ROOT_MOVE, STUDY_ROOT_MOVE, PATIENT_ROOT_GET, STUDY_ROOT_GET})
#: SOP Classes whose byte 1 is reserved and byte 2 the conversion option (Y.5.1.1, Z.5.1).
INSTANCE_RETRIEVE_SOP_CLASSES = frozenset(
    {COMPOSITE_INSTANCE_ROOT_MOVE, COMPOSITE_INSTANCE_ROOT_GET, COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET}
)

#: 0-based index of the Enhanced Multi-Frame Image Conversion byte of each Query/Retrieve SOP Class.
CONVERSION_BYTE = {
    **{uid: 4 for uid in QUERY_SOP_CLASSES},
    **{uid: 1 for uid in RELATIONAL_RETRIEVE_SOP_CLASSES | INSTANCE_RETRIEVE_SOP_CLASSES},
}

#: Status of a request whose Query/Retrieve View cannot be honoured: the identifier does not match what was
#: negotiated for the SOP Class (C.4.1.1.4, C.4.2.1.5, C.4.3.1.4: A900 with an Error Comment).
VIEW_FAILURE_STATUS = Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS


@dataclass(frozen=True)
class NegotiatedOptions:
    """Extended negotiation accepted on one association, per Query/Retrieve SOP Class UID."""

    relational_queries: dict[str, bool] = field(default_factory=dict)
    enhanced_conversion: dict[str, bool] = field(default_factory=dict)
    combined_datetime_matching: dict[str, bool] = field(default_factory=dict)

    def relational(self, sop_class_uid: str) -> bool:
        """True when relational queries (FIND) or relational retrieval (MOVE/GET) were accepted."""
        return self.relational_queries.get(str(sop_class_uid), False)

    def combined_datetime(self, sop_class_uid: str) -> bool:
        """True when combined date-time matching (C-FIND byte 2) was accepted for `sop_class_uid`."""
        return self.combined_datetime_matching.get(str(sop_class_uid), False)

    def views(self, sop_class_uid: str) -> bool:
        """True when the Enhanced Multi-Frame Image Conversion option was accepted for `sop_class_uid`."""
        return self.enhanced_conversion.get(str(sop_class_uid), False)


class ViewRequestError(Exception):
    """A request asks for a view it may not have; answer `status` with `comment` as Error Comment (0000,0902)."""

    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = int(status)
        self.comment = comment


_EMPTY = NegotiatedOptions()
_accepted: "weakref.WeakKeyDictionary[Any, NegotiatedOptions]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _flag(app_info: bytes, index: int) -> bool:
    return len(app_info) > index and app_info[index] == 1


def negotiate(
    app_info: dict[str, bytes],
    *,
    views_enabled: bool = True,
    relational_queries: bool = True,
    relational_retrieval: bool = True,
) -> tuple[dict[str, bytes], NegotiatedOptions]:
    """Compute the A-ASSOCIATE-AC reply to the offered SOP Class Extended Negotiation items.

    Parameters
    ----------
    app_info : dict of str to bytes
        ``{SOP Class UID: service-class-application-information}`` as offered by the requestor.
    views_enabled : bool
        Accept the Enhanced Multi-Frame Image Conversion option (``[views] enabled``).
    relational_queries, relational_retrieval : bool
        Accept relational queries (FIND byte 1) and relational retrieval (MOVE/GET byte 1).

    Returns
    -------
    reply : dict of str to bytes
        One item per offered Query/Retrieve SOP Class, each exactly as long as the offer.
    options : NegotiatedOptions
        What was accepted.
    """
    reply: dict[str, bytes] = {}
    relational: dict[str, bool] = {}
    conversion: dict[str, bool] = {}
    combined: dict[str, bool] = {}
    for sop_class, offered in app_info.items():
        uid = str(sop_class)
        offered = bytes(offered or b"")
        if not offered or uid not in CONVERSION_BYTE:
            # Not a Query/Retrieve SOP Class: never answer a sub-item we cannot interpret.
            continue
        answer = bytearray(len(offered))  # every byte 0 (not supported) unless accepted below
        if uid in QUERY_SOP_CLASSES and relational_queries and _flag(offered, 0):
            answer[0] = 1
        if uid in QUERY_SOP_CLASSES and _flag(offered, 1):
            answer[1] = 1  # combined date-time matching
        if uid in RELATIONAL_RETRIEVE_SOP_CLASSES and relational_retrieval and _flag(offered, 0):
            answer[0] = 1
        index = CONVERSION_BYTE[uid]
        if views_enabled and _flag(offered, index):
            answer[index] = 1
        reply[uid] = bytes(answer)
        relational[uid] = answer[0] == 1 and uid not in INSTANCE_RETRIEVE_SOP_CLASSES
        conversion[uid] = _flag(answer, index)
        combined[uid] = uid in QUERY_SOP_CLASSES and _flag(answer, 1)
    return reply, NegotiatedOptions(relational, conversion, combined)


def _peer(assoc: Any) -> str:
    requestor = getattr(assoc, "requestor", None)
    return f"{getattr(requestor, 'ae_title', '?')}@{getattr(requestor, 'address', '?')}"


def handle_sop_extended(event: Any, config: Any = None) -> dict[str, bytes]:
    """Handler of ``evt.EVT_SOP_EXTENDED``: reply to the offered items and remember what was accepted.

    Parameters
    ----------
    event : pynetdicom.events.Event
        ``event.app_info`` is ``{SOP Class UID: bytes}``; ``event.assoc`` the association being negotiated.
    config : qrscp.config.Config, optional
        ``config.views.enabled = False`` answers the conversion byte 0; None means enabled. Bind it with
        ``(evt.EVT_SOP_EXTENDED, handle_sop_extended, [config])``.

    Returns
    -------
    dict of str to bytes
        The reply items; pynetdicom sends each as a SOP Class Extended Negotiation sub-item.
    """
    views_enabled = True if config is None else bool(config.views.enabled)
    offered = {str(uid): bytes(info or b"") for uid, info in (event.app_info or {}).items()}
    reply, options = negotiate(offered, views_enabled=views_enabled)
    with _lock:
        _accepted[event.assoc] = options
    for uid, answer in reply.items():
        LOGGER.info(
            "association %s peer %s: SOP Class Extended Negotiation for %s offered %s answered %s",
            getattr(event.assoc, "name", "?"),
            _peer(event.assoc),
            uid,
            offered[uid].hex(),
            answer.hex(),
        )
    return reply


def accepted_options(assoc: Any) -> NegotiatedOptions:
    """Return the extended negotiation accepted on `assoc` (nothing accepted when none was offered)."""
    with _lock:
        return _accepted.get(assoc, _EMPTY)


def view_of(identifier: Dataset, sop_class_uid: str, options: NegotiatedOptions) -> View:
    """Return the view an identifier asks for, applying the request rules of PS3.4 C.4.1.1.3.1.

    Parameters
    ----------
    identifier : pydicom.dataset.Dataset
        The request identifier of a C-FIND, C-MOVE or C-GET.
    sop_class_uid : str
        The Query/Retrieve SOP Class of the request (its Affected SOP Class UID).
    options : NegotiatedOptions
        What was accepted on the association.

    Returns
    -------
    View
        ``View.DEFAULT`` when Query/Retrieve View (0008,0053) is absent (or empty on an association that
        negotiated the option).

    Raises
    ------
    ViewRequestError
        The key is present although the option was not accepted for this SOP Class ("It shall not be included
        otherwise"), or its value is neither CLASSIC nor ENHANCED.
    """
    if "QueryRetrieveView" not in identifier:
        return View.DEFAULT
    raw = identifier["QueryRetrieveView"].value
    value = "" if raw is None else str(raw).strip()
    if not options.views(sop_class_uid):
        raise ViewRequestError(
            VIEW_FAILURE_STATUS,
            "Query/Retrieve View present but view option not negotiated",
        )
    if value == "":
        return View.DEFAULT
    if value not in (View.CLASSIC.value, View.ENHANCED.value):
        raise ViewRequestError(
            VIEW_FAILURE_STATUS, f"Query/Retrieve View {value[:16]!r} is not CLASSIC or ENHANCED"
        )
    return View(value)


def requested_view(event: Any, identifier: Dataset) -> View:
    """Return the Query/Retrieve View asked by `identifier` on the association of a C-FIND/C-MOVE/C-GET event.

    Parameters
    ----------
    event : pynetdicom.events.Event
        The request event; its ``request.AffectedSOPClassUID`` and ``assoc`` are used.
    identifier : pydicom.dataset.Dataset
        The decoded request identifier.

    Raises
    ------
    ViewRequestError
        See :func:`view_of`.
    """
    return view_of(identifier, str(event.request.AffectedSOPClassUID), accepted_options(event.assoc))
