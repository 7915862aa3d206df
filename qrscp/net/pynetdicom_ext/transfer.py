"""C-STORE sub-operations that send stored files as they are.

pynetdicom's C-MOVE/C-GET service classes call ``assoc.send_c_store(dataset)`` for every dataset the
handler yields, and that encodes a decoded dataset. :func:`enable_stored_sending` gives one association
a ``send_c_store`` that recognises :class:`~qrscp.services.retrieve.StoredInstance` and streams the
file's dataset bytes (after the File Meta) straight into P-DATA PDUs when the peer accepted the stored
transfer syntax; otherwise it decodes the file to an uncompressed syntax the peer accepted
(transcoding); when neither works it raises, and pynetdicom counts a failed sub-operation.

This relies on pynetdicom 3 internals (``_get_valid_context``, ``C_STORE._dataset_path``, the reactor
checkpoint), the same ones its own ``STORE_SEND_CHUNKED_DATASET`` path uses.
"""

from __future__ import annotations

import logging
import threading
import time
import types
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import split_dataset

from qrscp.net.pynetdicom_ext.fastdimse import StoreRequest, store_request_messages
from qrscp.net.logs import peer_label
from qrscp.net.pynetdicom_ext.pacing import track_activity
from qrscp.services.retrieve import StoredInstance, decode_for_transcoding

logger = logging.getLogger(__name__)


def handle_connection_open(event: Any, move_originator: str | None = None) -> None:
    """EVT_CONN_OPEN handler: adaptive polling and stored-file sending on every new connection.

    `move_originator` is the AE title of the C-MOVE requester, for the C-MOVE sub-association.
    """
    track_activity(event.assoc)
    enable_stored_sending(event.assoc, move_originator)


def enable_stored_sending(assoc: Association, move_originator: str | None = None) -> None:
    """Give `assoc` a ``send_c_store`` that sends :class:`StoredInstance` files as stored.

    With `move_originator`, C-STORE requests carry it as Move Originator Application Entity Title
    (PS3.7 9.1.1.1: the AE that invoked the C-MOVE; pynetdicom 3 would put our own AE title there).
    """
    if move_originator:
        assoc._qrscp_move_originator = move_originator  # type: ignore[attr-defined]
    if getattr(assoc, "_qrscp_stored_sending", False):
        return
    assoc.send_c_store = types.MethodType(send_c_store, assoc)  # type: ignore[method-assign]
    assoc._qrscp_stored_sending = True  # type: ignore[attr-defined]
    assoc._qrscp_awaiting_response = False  # type: ignore[attr-defined]
    _keep_reactor_off_responses(assoc)


def _keep_reactor_off_responses(assoc: Association) -> None:
    """Stop the association's own reactor thread from taking the C-STORE response we wait for.

    pynetdicom pauses its reactor around ``send_c_store`` with a flag that can be stale when C-STOREs
    follow each other quickly: the reactor then takes the response off the queue, discards it as
    "unexpected" and the sender waits until the DIMSE timeout (seen on a 500-instance C-MOVE). While a
    C-STORE of ours awaits its response, the reactor's non-blocking polls get nothing.
    """
    dimse = assoc.dimse
    original = dimse.get_msg

    def get_msg(block: bool = False) -> Any:
        if not block and assoc._qrscp_awaiting_response and threading.current_thread() is assoc:
            return None, None
        return original(block=block)

    dimse.get_msg = get_msg  # type: ignore[method-assign]


def dataset_offset(path: Any) -> int:
    """Return where the dataset starts in a Part 10 file (after preamble, ``DICM`` and File Meta).

    Reads the File Meta Information Group Length (0002,0000) when it comes first, as in every file the
    store writes; otherwise parses the File Meta with pynetdicom's ``split_dataset``.
    """
    with open(path, "rb") as f:
        head = f.read(144)
    if len(head) == 144 and head[128:132] == b"DICM" and head[132:138] == b"\x02\x00\x00\x00UL":
        return 144 + int.from_bytes(head[140:144], "little")
    return split_dataset(path)[1]


def _exact_context(assoc: Association, sop_class: str, syntax: str) -> Any:
    """Return an accepted context for (`sop_class`, `syntax`) in which we may send C-STORE, or None."""
    for context in assoc.accepted_contexts:
        if context.abstract_syntax == sop_class and context.transfer_syntax[0] == syntax and context.as_scu:
            return context
    return None


def send_c_store(
    assoc: Association,
    dataset: Any,
    msg_id: int = 1,
    priority: int = 2,
    originator_aet: str | None = None,
    originator_id: int | None = None,
) -> Dataset:
    """Send one C-STORE request; :class:`StoredInstance` datasets go as their file's bytes.

    Same parameters and return value as :meth:`pynetdicom.association.Association.send_c_store`.
    """
    if originator_aet is not None:
        originator_aet = getattr(assoc, "_qrscp_move_originator", originator_aet)
    assoc._qrscp_awaiting_response = True  # type: ignore[attr-defined]
    try:
        return _send(assoc, dataset, msg_id, priority, originator_aet, originator_id)
    finally:
        assoc._qrscp_awaiting_response = False  # type: ignore[attr-defined]


def _store_primitive(request: StoreRequest) -> C_STORE:
    """pynetdicom's C-STORE primitive of `request` (its validating setters, its send path)."""
    req = C_STORE()
    req.MessageID = request.MessageID
    req.Priority = request.Priority
    req.MoveOriginatorApplicationEntityTitle = request.MoveOriginatorApplicationEntityTitle
    req.MoveOriginatorMessageID = request.MoveOriginatorMessageID
    req.AffectedSOPClassUID = request.AffectedSOPClassUID
    req.AffectedSOPInstanceUID = request.AffectedSOPInstanceUID
    req._dataset_path = request._dataset_path
    return req


def _send(
    assoc: Association,
    dataset: Any,
    msg_id: int,
    priority: int,
    originator_aet: str | None,
    originator_id: int | None,
) -> Dataset:
    if not isinstance(dataset, StoredInstance):
        return Association.send_c_store(assoc, dataset, msg_id, priority, originator_aet, originator_id)
    sop_class = dataset.SOPClassUID
    syntax = dataset.file_meta.TransferSyntaxUID
    context = _exact_context(assoc, sop_class, syntax)
    if context is None:
        started = time.perf_counter()
        decoded = decode_for_transcoding(dataset.stored_path)
        logger.info(
            "%s: %s sent transcoded from %s to an uncompressed syntax (decoded in %.0f ms)",
            peer_label(assoc),
            dataset.SOPInstanceUID,
            syntax.name,
            (time.perf_counter() - started) * 1000,
        )
        return Association.send_c_store(assoc, decoded, msg_id, priority, originator_aet, originator_id)

    if not assoc.is_established:
        raise RuntimeError("the association is no longer established")
    offset = dataset_offset(dataset.stored_path)
    request = StoreRequest(message_id=msg_id, priority=priority, sop_class_uid=sop_class,
                           sop_instance_uid=dataset.SOPInstanceUID, originator_aet=originator_aet,
                           originator_id=originator_id, dataset_path=(dataset.stored_path, offset))
    messages = store_request_messages(request, context.context_id, assoc.dimse.maximum_pdu_size)

    # As Association.send_c_store: pause the reactor so that it does not take our response.
    assoc._reactor_checkpoint.clear()
    while not assoc._is_paused:
        time.sleep(0.0001)
    try:
        if messages is None:
            assoc.dimse.send_msg(_store_primitive(request), context.context_id)
        else:
            for pdata in messages:
                assoc.dul.send_pdu(pdata)
        _cx_id, rsp = assoc.dimse.get_msg(block=True)
    finally:
        assoc._reactor_checkpoint.set()
    if rsp is None:
        assoc._handle_no_response()
        return Dataset()
    return assoc._check_received_status(rsp)
