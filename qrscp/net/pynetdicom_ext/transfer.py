"""C-STORE sub-operations that send stored files as they are.

pynetdicom's C-MOVE/C-GET service classes call ``assoc.send_c_store(dataset)`` for every dataset the
handler yields, and that encodes a decoded dataset. :func:`enable_stored_sending` gives one association
a ``send_c_store`` that recognises :class:`~qrscp.services.retrieve.StoredInstance` and streams the
file's dataset bytes (after the File Meta) straight into P-DATA PDUs when the peer accepted the stored
transfer syntax; otherwise :mod:`qrscp.services.transcode` chooses a syntax the peer accepted and encodes
the instance in it, sent in that exact context. When the peer accepted nothing we can produce it raises
with the reason, and pynetdicom counts a failed sub-operation.

This relies on pynetdicom 3 internals (``_get_valid_context``, ``C_STORE._dataset_path``, the reactor
checkpoint), the same ones its own ``STORE_SEND_CHUNKED_DATASET`` path uses.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import types
from io import BytesIO
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import split_dataset
from pynetdicom.status import STATUS_FAILURE, code_to_category

from qrscp.net.logs import peer_label
from qrscp.net.pynetdicom_ext.direct_send import enable_direct_send, send_all
from qrscp.net.pynetdicom_ext.fastdimse import StoreRequest, combined, store_request_messages
from qrscp.net.pynetdicom_ext.wakeups import make_event_driven
from qrscp.net.retrieve_log import record_failure
from qrscp.services.retrieve import StoredInstance
from qrscp.services.transcode import choose_syntax, encode, encode_file

logger = logging.getLogger(__name__)


def handle_connection_open(event: Any, move_originator: str | None = None) -> None:
    """EVT_CONN_OPEN handler: event-driven reactors, P-DATA written directly, stored-file sending on every new connection.

    `move_originator` is the AE title of the C-MOVE requester, for the C-MOVE sub-association.
    """
    make_event_driven(event.assoc)
    enable_direct_send(event.assoc)
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
        response = _send(assoc, dataset, msg_id, priority, originator_aet, originator_id)
    except Exception as exc:
        record_failure(f"{_instance_label(dataset)}: {exc}")
        raise
    finally:
        assoc._qrscp_awaiting_response = False  # type: ignore[attr-defined]
    status = response.get("Status", None)
    if status is None:
        record_failure(f"{_instance_label(dataset)}: no C-STORE response from {peer_label(assoc)}")
    elif code_to_category(status) == STATUS_FAILURE:
        comment = response.get("ErrorComment", "")
        record_failure(f"{_instance_label(dataset)}: {peer_label(assoc)} answered 0x{status:04X}"
                       + (f" ({comment})" if comment else ""))
    return response


def _instance_label(dataset: Any) -> str:
    """The SOP Instance UID of a C-STORE's data set for a log line; a file path (pynetdicom sends a path
    given to ``send_c_store`` from the file, as ``qrscp store`` does) is named as it is."""
    if isinstance(dataset, Dataset):
        return str(dataset.get("SOPInstanceUID", "?"))
    return str(dataset)


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
    if request.data_set is not None:
        req.DataSet = BytesIO(request.data_set)
    return req


def _sending_contexts(assoc: Association, sop_class: str) -> list[Any]:
    """Accepted contexts for `sop_class` in which we may send C-STORE, in context ID order."""
    return [cx for cx in assoc.accepted_contexts if cx.abstract_syntax == sop_class and cx.as_scu]


def _context_and_data(assoc: Association, dataset: Any) -> tuple[Any, bytes | None]:
    """The context to send `dataset` in and its encoded data set (None: the stored file's bytes as they are).

    Raises
    ------
    ValueError
        The peer accepted no context for the SOP class in a syntax we can produce (the reason says which).
    qrscp.services.transcode.TranscodeError
        The instance cannot be decoded or encoded.
    """
    sop_class = dataset.SOPClassUID
    syntax = dataset.file_meta.TransferSyntaxUID
    contexts = _sending_contexts(assoc, sop_class)
    target = choose_syntax(syntax, [cx.transfer_syntax[0] for cx in contexts])
    if target is None:
        accepted = ", ".join(sorted({cx.transfer_syntax[0].name for cx in contexts})) or "none"
        raise ValueError(
            f"{sop_class.name} in {syntax.name}: the peer accepted no transfer syntax we can produce "
            f"from it (accepted: {accepted})"
        )
    context = next(cx for cx in contexts if cx.transfer_syntax[0] == target)
    stored = isinstance(dataset, StoredInstance)
    if stored and target == syntax:
        return context, None
    started = time.perf_counter()
    if stored:
        data = encode_file(dataset.stored_path, target)
    else:  # a data set in memory: written as it is in its own syntax, else transcoded from a copy
        data = encode(dataset if target == syntax else copy.deepcopy(dataset), target)
    if target != syntax:
        logger.info(
            "%s: %s sent transcoded from %s to %s (%.0f ms)", peer_label(assoc), dataset.SOPInstanceUID,
            syntax.name, context.transfer_syntax[0].name, (time.perf_counter() - started) * 1000,
        )
    return context, data


def _send(
    assoc: Association,
    dataset: Any,
    msg_id: int,
    priority: int,
    originator_aet: str | None,
    originator_id: int | None,
) -> Dataset:
    meta = getattr(dataset, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        return Association.send_c_store(assoc, dataset, msg_id, priority, originator_aet, originator_id)
    context, data = _context_and_data(assoc, dataset)
    if not assoc.is_established:
        raise RuntimeError("the association is no longer established")
    source = (dataset.stored_path, dataset_offset(dataset.stored_path)) if data is None else None
    request = StoreRequest(message_id=msg_id, priority=priority, sop_class_uid=dataset.SOPClassUID,
                           sop_instance_uid=dataset.SOPInstanceUID, originator_aet=originator_aet,
                           originator_id=originator_id, dataset_path=source, data_set=data)
    messages = store_request_messages(request, context.context_id, assoc.dimse.maximum_pdu_size, combined(assoc))

    # As Association.send_c_store: pause the reactor so that it does not take our response.
    assoc._reactor_checkpoint.clear()
    while not assoc._is_paused:
        time.sleep(0.0001)
    try:
        if messages is None:
            assoc.dimse.send_msg(_store_primitive(request), context.context_id)
        else:
            send_all(assoc.dul, messages)
        _cx_id, rsp = assoc.dimse.get_msg(block=True)
    finally:
        assoc._reactor_checkpoint.set()
    if rsp is None:
        assoc._handle_no_response()
        return Dataset()
    return assoc._check_received_status(rsp)
