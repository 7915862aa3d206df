"""DIMSE and association event handlers: thin adapters from pynetdicom events to the services.

Handlers are bound with ``evt_handlers=[(evt.EVT_C_FIND, handle_find, [services])]``; everything they
need arrives in an :class:`ArchiveServices`. Each DIMSE request is logged once when it ends: service,
level, peer, matches or sub-operations, status and duration.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import evt

from qrscp.config import Config
from qrscp.net import negotiation, pynetdicom_ext, sockets
from qrscp.net.contexts import requested_storage_contexts
from qrscp.net.logs import peer_label
from qrscp.net.retrieve_log import RetrieveLog, flush, record_failure, register
from qrscp.net.pynetdicom_ext.amendments import amend, discard, error_comment
from qrscp.net.pynetdicom_ext.fastencode import EncodedIdentifier, encoded_identifiers_for
from qrscp.services.query import QueryError, QueryService
from qrscp.services.retrieve import RetrieveError, RetrieveService, StoredInstance
from qrscp.services.storage import StorageService
from qrscp.status import Status
from qrscp.uids import View

logger = logging.getLogger("qrscp.net")

#: Errors that carry a DIMSE status and an Error Comment for the requester.
REQUEST_ERRORS = (QueryError, RetrieveError, negotiation.ViewRequestError)


class InFlightStores:
    """Counts C-STORE requests being processed, so that a stopping server lets them finish."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self) -> InFlightStores:
        with self._idle:
            self._count += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    @property
    def count(self) -> int:
        return self._count

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no store is in flight; return False when `timeout` expired first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout=timeout)


@dataclass
class ArchiveServices:
    """What the handlers use: configuration and the services (storage, query, retrieve)."""

    config: Config
    storage: StorageService
    query: QueryService
    retrieve: RetrieveService
    in_flight: InFlightStores = field(default_factory=InFlightStores)


def _status(status: int, comment: str = "") -> Dataset:
    ds = Dataset()
    ds.Status = int(status)
    if comment:
        ds.ErrorComment = error_comment(comment)
    return ds


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _decoded_identifier(event: Any) -> Dataset:
    """Decode the request identifier completely (pydicom parses lazily; errors surface here)."""
    identifier = event.identifier
    for _elem in identifier.iterall():
        pass
    return identifier


def _level(identifier: Dataset | None) -> str:
    try:
        return str(identifier.get("QueryRetrieveLevel", "") or "-") if identifier is not None else "-"
    except Exception:  # an undecodable identifier
        return "-"


def _model(event: Any) -> str:
    return str(event.request.AffectedSOPClassUID)


def _relational(event: Any) -> bool:
    return negotiation.accepted_options(event.assoc).relational_queries.get(_model(event), False)


def _request_view(event: Any, identifier: Dataset) -> View:
    # The single call site of the Query/Retrieve View request rules (owned by negotiation.py).
    return negotiation.requested_view(event, identifier)


# --- association events -------------------------------------------------------------------------


def handle_accepted(event: Any) -> None:
    """EVT_ACCEPTED: one line per accepted association."""
    assoc = event.assoc
    accepted = len(assoc.accepted_contexts)
    rejected = len(assoc.rejected_contexts)
    logger.info(
        "%s: association accepted, called AE %s, %d presentation contexts accepted, %d rejected",
        peer_label(assoc),
        (assoc.acceptor.ae_title or "").strip(),
        accepted,
        rejected,
    )


def handle_released(event: Any) -> None:
    """EVT_RELEASED: association ended normally."""
    flush(event.assoc)
    logger.info("%s: association released", peer_label(event.assoc))


def handle_aborted(event: Any) -> None:
    """EVT_ABORTED: association aborted by either side."""
    flush(event.assoc)
    logger.info("%s: association aborted", peer_label(event.assoc))


# --- C-ECHO, C-STORE ----------------------------------------------------------------------------


def handle_echo(event: Any) -> int:
    """EVT_C_ECHO: Verification."""
    logger.info("%s: C-ECHO status 0x0000", peer_label(event.assoc))
    return Status.SUCCESS


def handle_store(event: Any, services: ArchiveServices) -> Dataset:
    """EVT_C_STORE: store the dataset bytes exactly as received (Level 2, bit-preserving)."""
    started = time.perf_counter()
    assoc = event.assoc
    request = event.request
    label = peer_label(assoc)
    with services.in_flight:
        try:
            outcome = services.storage.store(
                event.encoded_dataset(include_meta=False),
                transfer_syntax_uid=str(event.context.transfer_syntax),
                affected_sop_class_uid=str(request.AffectedSOPClassUID),
                affected_sop_instance_uid=str(request.AffectedSOPInstanceUID),
                calling_ae_title=(assoc.requestor.ae_title or "").strip(),
                peer=label,
            )
            response = outcome.to_dataset()
        except Exception as exc:  # the storage service should not raise; never drop the association
            logger.exception("%s: C-STORE %s failed", label, request.AffectedSOPInstanceUID)
            response = _status(Status.PROCESSING_FAILURE, f"processing failure: {exc}")
    logger.info(
        "%s: C-STORE %s status 0x%04X%s, %.1f ms",
        label,
        request.AffectedSOPInstanceUID,
        response.Status,
        f" ({response.ErrorComment})" if "ErrorComment" in response else "",
        _ms(started),
    )
    return response


# --- C-FIND -------------------------------------------------------------------------------------


def handle_find(event: Any, services: ArchiveServices) -> Iterator[tuple[Any, Dataset | None]]:
    """EVT_C_FIND: stream the query service's matches as Pending responses; C-CANCEL stops them."""
    started = time.perf_counter()
    label = peer_label(event.assoc)
    identifier: Dataset | None = None
    matches = 0
    status: int = Status.SUCCESS
    comment = ""
    try:
        identifier = _decoded_identifier(event)
        view = _request_view(event, identifier)
        # Identifiers encoded by the query service straight from the index rows, when pynetdicom
        # takes them so (the patches installed); else Datasets that pynetdicom encodes.
        implicit_vr = encoded_identifiers_for(event.context.transfer_syntax)
        results = services.query.find(
            identifier, information_model=_model(event), relational=_relational(event), view=view,
            combined_datetime=negotiation.accepted_options(event.assoc).combined_datetime(_model(event)),
            implicit_vr=implicit_vr,
        )
        # FF01: "Matches are continuing - Warning that one or more Optional Keys were not supported".
        pending = Status.PENDING_WARNING if results.unsupported_keys else Status.PENDING
        for match in results:
            if event.is_cancelled:
                status = Status.CANCEL
                break
            matches += 1
            yield pending, (match if implicit_vr is None else EncodedIdentifier(match, implicit_vr))
        else:
            # A C-CANCEL that arrives after the last match still ends the request as cancelled.
            if event.is_cancelled:
                status = Status.CANCEL
    except REQUEST_ERRORS as exc:
        status, comment = exc.status, exc.comment
    except Exception as exc:
        logger.exception("%s: C-FIND failed", label)
        status, comment = Status.UNABLE_TO_PROCESS, f"unable to process: {exc}"
    finally:
        logger.info(
            "%s: C-FIND %s: %d matches, status 0x%04X%s, %.1f ms",
            label,
            _level(identifier),
            matches,
            status,
            f" ({comment})" if comment else "",
            _ms(started),
        )
    if status == Status.CANCEL:
        yield Status.CANCEL, None
    elif status != Status.SUCCESS:
        yield _status(status, comment), None


# --- C-MOVE, C-GET ------------------------------------------------------------------------------


def _locate(event: Any, services: ArchiveServices, log: RetrieveLog) -> list[Any]:
    identifier = _decoded_identifier(event)
    log.level = _level(identifier)
    view = _request_view(event, identifier)
    return services.retrieve.locate(
        identifier, information_model=_model(event), relational=_relational(event), view=view, peer=log.label
    )


def _sub_operations(
    event: Any, services: ArchiveServices, locations: list[Any], log: RetrieveLog
) -> Iterator[tuple[Any, Dataset | None]]:
    """Yield one Pending (status, dataset) per instance; a C-CANCEL ends with FE00."""
    model = _model(event)
    for location in locations:
        if event.is_cancelled:
            yield Status.CANCEL, None
            return
        log.sub_operations += 1
        dataset = services.retrieve.dataset_for(location, information_model=model)
        if isinstance(dataset, StoredInstance) and not pynetdicom_ext.active():
            dataset = _decoded(dataset, log)
        yield Status.PENDING, dataset


def _decoded(instance: StoredInstance, log: RetrieveLog) -> Dataset | str:
    """The stored file decoded, for plain pynetdicom (it sends decoded datasets only); an unreadable file
    gives a string, which pynetdicom counts as a failed sub-operation."""
    try:
        return dcmread(instance.stored_path)
    except Exception as exc:  # a missing or damaged file fails its sub-operation, not the request
        logger.warning("%s: %s: cannot read %s (%s)", log.label, log.service, instance.stored_path, exc)
        record_failure(f"{instance.SOPInstanceUID}: cannot read the stored file: {exc}")
        return str(instance.stored_path)


def handle_move(event: Any, services: ArchiveServices) -> Iterator[Any]:
    """EVT_C_MOVE: destination from the configured peers, then one C-STORE per located instance."""
    log = RetrieveLog("C-MOVE", event)
    register(event.assoc, event.request.MessageID, log)
    destination = (event.move_destination or "").strip()
    log.destination = destination
    try:
        log.level = _level(_decoded_identifier(event))
        peer = services.config.peer(destination)
        if peer is None:
            raise RetrieveError(Status.REFUSED_MOVE_DESTINATION_UNKNOWN, f"move destination {destination!r} unknown")
        locations = _locate(event, services, log)
    except Exception as exc:
        if isinstance(exc, REQUEST_ERRORS):
            status, log.comment = exc.status, exc.comment
        else:
            logger.exception("%s: C-MOVE failed", log.label)
            status, log.comment = Status.UNABLE_TO_PROCESS, f"unable to process: {exc}"
        # pynetdicom answers (None, None) with a bare A801; the amendment sets our status and comment.
        amend(event.assoc, event.request.MessageID, status, log.comment)
        yield None, None
        return
    contexts = requested_storage_contexts(RetrieveService.instance_pairs(locations))
    # pynetdicom answers a destination it cannot associate with by a bare A801: say why.
    amend(
        event.assoc,
        event.request.MessageID,
        Status.REFUSED_MOVE_DESTINATION_UNKNOWN,
        f"cannot associate with {destination} at {peer.host}:{peer.port}",
        only_if=Status.REFUSED_MOVE_DESTINATION_UNKNOWN,
    )
    yield peer.host, peer.port, {
        "contexts": contexts,
        "max_pdu": services.config.server.max_pdu,
        "evt_handlers": sub_association_handlers((event.assoc.requestor.ae_title or "").strip()),
    }
    yield len(locations)
    discard(event.assoc, event.request.MessageID)
    yield from _sub_operations(event, services, locations, log)


def handle_get(event: Any, services: ArchiveServices) -> Iterator[Any]:
    """EVT_C_GET: one C-STORE sub-operation per located instance on the same association."""
    log = RetrieveLog("C-GET", event)
    register(event.assoc, event.request.MessageID, log)
    pynetdicom_ext.enable_stored_sending(event.assoc)
    try:
        locations = _locate(event, services, log)
    except Exception as exc:
        if isinstance(exc, REQUEST_ERRORS):
            status, log.comment = exc.status, exc.comment
        else:
            logger.exception("%s: C-GET failed", log.label)
            status, log.comment = Status.UNABLE_TO_PROCESS, f"unable to process: {exc}"
        # pynetdicom sends a failure status only after a sub-operation count; its final response then
        # reports that one sub-operation as failed, with our status and Error Comment.
        yield 1
        yield _status(status, log.comment), None
        return
    yield len(locations)
    yield from _sub_operations(event, services, locations, log)


def sub_association_handlers(move_originator: str) -> list[Any]:
    """Handlers bound to each C-MOVE sub-association: TCP_NODELAY, stored-file sending, originator."""
    return [(evt.EVT_CONN_OPEN, sockets.handle_connection_open)] + pynetdicom_ext.sub_association_handlers(
        move_originator
    )
