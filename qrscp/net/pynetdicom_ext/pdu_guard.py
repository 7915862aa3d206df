"""PDU reading and state-machine guard of each association: bounds checked before pynetdicom acts.

Replaces, per connection, ``DULServiceProvider._read_pdu_data`` (:func:`read_pdu_data`: the PDU length
field is checked against :class:`qrscp.net.limits.PduLimits` before the body is read, the socket read in
large chunks) and wraps ``StateMachine.do_action`` (:func:`guard_state_machine`: an exception inside an
action, or a P-DATA-TF that breaks :func:`p_data_violation`, becomes an A-ABORT logged once with the
peer). Bound to ``EVT_CONN_OPEN`` by :func:`handle_connection_open` after the connection limits.
"""

from __future__ import annotations

import logging
import struct
import types
from io import BytesIO
from typing import Any

from pynetdicom.dimse_messages import DIMSEMessage
from pynetdicom.fsm import TRANSITION_TABLE
from pynetdicom.pdu import A_ABORT_RQ

from qrscp.net.limits import (
    ABORT_INVALID_PDU_PARAMETER_VALUE,
    ABORT_REASON_NOT_SPECIFIED,
    ABORT_SOURCE_SERVICE_PROVIDER,
    ABORT_UNRECOGNIZED_PDU,
    ALREADY_LOGGED_EVENTS,
    KNOWN_PDU_TYPES,
    PROTOCOL_VIOLATION_ACTIONS,
    UNEXPECTED_EVENTS,
    ConnectionLimits,
    PduLimits,
    peer_of,
    wake_acceptor,
)

logger = logging.getLogger("qrscp.net")


def transport_closed(dul: Any) -> None:
    """Evt17 (transport connection closed) for `dul`, waking its acceptor when no request came."""
    dul.event_queue.put("Evt17")
    wake_acceptor(dul.assoc)


def send_abort(transport: Any, reason: int) -> None:
    """Send an A-ABORT (service-provider source, `reason`) and close the connection (Evt17)."""
    abort = A_ABORT_RQ()
    abort.source = ABORT_SOURCE_SERVICE_PROVIDER
    abort.reason_diagnostic = reason
    try:
        transport.send(abort.encode())
    except (OSError, AttributeError):  # already closed by the peer
        pass
    finally:
        transport.close()


def p_data_violation(dul: Any, max_data_set: int) -> str | None:
    """Why the P-DATA-TF about to be processed breaks PS3.7/PS3.8 or our bounds, or None.

    Checked: a data set fragment before its message's command set is complete (PS3.7 6.3.1: a message
    starts with its command), and a data set kept in memory growing beyond `max_data_set` bytes.
    """
    try:
        pdu = dul._recv_pdu.queue[0]
    except IndexError:
        return None
    message = dul.assoc.dimse.message
    command_complete = message is not None and type(message) is not DIMSEMessage
    size = message.data_set.tell() if command_complete and isinstance(message.data_set, BytesIO) else 0
    for item in getattr(pdu, "presentation_data_value_items", ()):
        value = item.presentation_data_value or b"\x00"
        control = value[0]
        if control & 1:
            command_complete = bool(control & 2)
            size = 0
            continue
        if not command_complete:
            return "data set fragment before a complete command set"
        size += len(value) - 1
        if size > max_data_set:
            return f"data set larger than {max_data_set} bytes"
    return None


def guard_state_machine(dul: Any, max_data_set: int) -> None:
    """Make an exception inside a state-machine action (an undecodable DIMSE message in a P-DATA, for
    instance) an A-ABORT, logged once with the peer, instead of the death of the DUL thread with the
    connection left open until the association thread notices; abort P-DATA that breaks
    :func:`p_data_violation`."""
    machine = dul.state_machine
    perform = machine.do_action

    def do_action(event: str) -> None:
        state = machine.current_state
        if event == "Evt10" and state == "Sta6":
            why = p_data_violation(dul, max_data_set)
            if why is not None:
                logger.warning("%s: %s: A-ABORT", peer_of(dul.assoc), why)
                dul._recv_pdu.get_nowait()
                send_abort(dul.socket, ABORT_INVALID_PDU_PARAMETER_VALUE)
                return
        action = TRANSITION_TABLE.get((event, state))
        if action in PROTOCOL_VIOLATION_ACTIONS and event not in ALREADY_LOGGED_EVENTS and state != "Sta13":
            unexpected = UNEXPECTED_EVENTS.get(event, event)
            logger.warning("%s: %s in state %s: A-ABORT", peer_of(dul.assoc), unexpected, state)
        try:
            perform(event)
            if event == "Evt6" and state == "Sta2" and machine.current_state == "Sta13":
                # pynetdicom answered the request itself (A-ASSOCIATE-RJ: protocol version not supported).
                logger.warning("%s: A-ASSOCIATE-RQ refused by the upper layer (protocol version)", peer_of(dul.assoc))
        except Exception as exc:  # noqa: BLE001 - whatever the peer sent, the server stays up
            logger.warning(
                "%s: %s in state %s (%s): A-ABORT", peer_of(dul.assoc), event, machine.current_state, exc
            )
            send_abort(dul.socket, ABORT_REASON_NOT_SPECIFIED)
            wake_acceptor(dul.assoc)

    machine.do_action = do_action


#: Largest single ``recv``: what the kernel holds is taken in one call, memory still grows with what came.
RECV_CHUNK = 1 << 20


def receive(transport: Any, length: int) -> bytes:
    """Up to `length` bytes from the association's socket; fewer only when the peer closed it.

    pynetdicom's ``AssociationSocket.recv`` asks the kernel for 4 KiB at a time: 32 system calls and
    bytearray extensions per 128 KiB PDU, a tenth of the ingest time. Here each call takes whatever the
    kernel has, up to :data:`RECV_CHUNK`. Timeouts and errors raise ``OSError`` as they do there.
    """
    sock = transport.socket
    if sock is None:
        raise OSError("the association's socket is closed")
    parts: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = sock.recv(min(remaining, RECV_CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_pdu_data(dul: Any, limits: PduLimits) -> None:
    """Replacement of ``DULServiceProvider._read_pdu_data`` that checks the PDU length field first.

    Well-formed PDUs go to the state machine as with pynetdicom. A PDU of unknown type, one that does not
    decode, or one longer than `limits` gets an A-ABORT (service-provider source) and the connection is
    closed at once (Evt17 follows): the rest of such a stream is not worth parsing. Each problem is logged
    once with the peer; what arrives after our A-ABORT (state Sta13) is dropped without a log line.
    """
    transport = dul.socket
    assoc = dul.assoc
    closing = dul.state_machine.current_state == "Sta13"

    def refuse(reason: int, why: str, *args: Any) -> None:
        if not closing:
            logger.warning("%s: " + why + ": A-ABORT", peer_of(assoc), *args)
        send_abort(transport, reason)
        wake_acceptor(assoc)

    def lost(why: str, *args: Any) -> None:
        if not closing:
            logger.warning("%s: " + why, peer_of(assoc), *args)
        transport_closed(dul)

    try:
        header = transport.recv(6)
    except OSError:  # includes TimeoutError: a peer that stopped sending
        transport_closed(dul)
        return
    if len(header) < 6:
        if header:
            lost("connection closed inside a PDU header (%d bytes)", len(header))
        else:
            transport_closed(dul)
        return
    pdu_type, _, length = struct.unpack(">BBL", header)
    if pdu_type not in KNOWN_PDU_TYPES:
        refuse(ABORT_UNRECOGNIZED_PDU, "unknown PDU type 0x%02X", pdu_type)
        return
    limit = limits.limit_for(pdu_type)
    if length > limit:
        refuse(
            ABORT_INVALID_PDU_PARAMETER_VALUE, "PDU type 0x%02X of %d bytes exceeds the maximum of %d",
            pdu_type, length, limit,
        )
        return
    try:
        body = receive(transport, length)
    except OSError:
        lost("connection lost or stalled inside a PDU of %d bytes", length)
        return
    if len(body) != length:
        lost("connection closed inside a PDU (%d of %d bytes)", len(body), length)
        return
    try:
        pdu, event = dul._decode_pdu(header + body)
    except Exception as exc:  # noqa: BLE001 - any undecodable PDU is the peer's fault: abort, stay up
        refuse(ABORT_INVALID_PDU_PARAMETER_VALUE, "undecodable PDU type 0x%02X (%s)", pdu_type, exc)
        return
    dul.event_queue.put(event)
    dul._recv_pdu.put(pdu)




def install_guard(dul: Any, pdu_limits: PduLimits, max_data_set: int) -> None:
    """Give the DUL of one connection the checked PDU reading and the guarded state machine."""
    dul._read_pdu_data = types.MethodType(lambda dul: read_pdu_data(dul, pdu_limits), dul)
    guard_state_machine(dul, max_data_set)


def handle_connection_open(event: Any, limits: ConnectionLimits) -> None:
    """EVT_CONN_OPEN handler (bound after the connection limits'): guard the new connection's DUL."""
    install_guard(event.assoc.dul, limits.pdu_limits, limits.max_data_set)
