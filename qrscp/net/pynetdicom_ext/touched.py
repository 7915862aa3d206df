"""Every name of pynetdicom that the patches replace, wrap or read beyond its documented API.

``tests/net/pynetdicom_ext/test_canary.py`` checks each one exists in the installed pynetdicom with the
parameters listed here: run it before adding a version to :data:`qrscp.net.pynetdicom_ext.TESTED_VERSIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Touched:
    """One name: `owner` (module or ``module:Class``) and `name`; `parameters` of a callable, in order
    (None: an attribute or constant); `instance` for an attribute set on instances in ``__init__``."""

    owner: str
    name: str
    parameters: tuple[str, ...] | None = None
    instance: bool = False
    used_by: str = ""


TOUCHED: tuple[Touched, ...] = (
    # Process-wide replacements (install/uninstall).
    Touched("pynetdicom.service_class", "encode", ("ds", "is_implicit_vr", "is_little_endian", "deflated"),
            used_by="fastencode"),
    Touched("pynetdicom.dimse_messages", "encode", ("ds", "is_implicit_vr", "is_little_endian", "deflated"),
            used_by="fastencode"),
    Touched("pynetdicom.dimse:DIMSEServiceProvider", "send_msg", ("self", "primitive", "context_id"),
            used_by="fastdimse"),
    Touched("pynetdicom.dul", "time", used_by="wakeups"),
    Touched("pynetdicom.association", "time", used_by="wakeups"),
    Touched("pynetdicom.dul:DULServiceProvider", "run_reactor", ("self",), used_by="wakeups"),
    Touched("pynetdicom.association:Association", "_run_reactor", ("self",), used_by="wakeups"),
    Touched("pynetdicom.association:Association", "_serve_request", ("self", "msg", "context_id"),
            used_by="incomplete"),
    # Read by the fast DIMSE encoder.
    Touched("pynetdicom.dimse_messages", "_COMMAND_SET_KEYWORDS", used_by="fastdimse"),
    Touched("pynetdicom.dimse_messages", "_MESSAGE_TYPES", used_by="fastdimse"),
    Touched("pynetdicom._config", "LOG_HANDLER_LEVEL", used_by="fastdimse"),
    Touched("pynetdicom.dimse_primitives:C_STORE", "_dataset_path", instance=True, used_by="fastdimse, transfer"),
    # Per-association replacements (bound as event handlers while installed).
    Touched("pynetdicom.dul:DULServiceProvider", "_read_pdu_data", ("self",), used_by="pdu_guard"),
    Touched("pynetdicom.dul:DULServiceProvider", "_decode_pdu", ("self", "bytestream"), used_by="pdu_guard"),
    Touched("pynetdicom.dul:DULServiceProvider", "_recv_pdu", instance=True, used_by="pdu_guard"),
    Touched("pynetdicom.dul:DULServiceProvider", "event_queue", instance=True, used_by="pdu_guard, wakeups"),
    Touched("pynetdicom.dul:DULServiceProvider", "to_user_queue", instance=True, used_by="limits, pdu_guard, wakeups"),
    Touched("pynetdicom.fsm:StateMachine", "do_action", ("self", "event"), used_by="pdu_guard"),
    Touched("pynetdicom.fsm", "TRANSITION_TABLE", used_by="pdu_guard"),
    Touched("pynetdicom.dimse:DIMSEServiceProvider", "message", instance=True, used_by="pdu_guard"),
    Touched("pynetdicom.dul:DULServiceProvider", "kill_dul", ("self",), used_by="wakeups"),
    Touched("pynetdicom.dul:DULServiceProvider", "to_provider_queue", instance=True, used_by="wakeups"),
    Touched("pynetdicom.dul:DULServiceProvider", "_kill_thread", instance=True, used_by="wakeups"),
    Touched("pynetdicom.dimse:DIMSEServiceProvider", "msg_queue", instance=True, used_by="wakeups"),
    Touched("pynetdicom.association:Association", "_kill", instance=True, used_by="wakeups"),
    Touched("pynetdicom.transport:AssociationSocket", "_is_connected", instance=True, used_by="wakeups, direct_send"),
    Touched("pynetdicom.transport:AssociationSocket", "socket", instance=True, used_by="wakeups, direct_send"),
    Touched("pynetdicom.transport:AssociationSocket", "send", ("self", "bytestream"), used_by="direct_send"),
    Touched("pynetdicom.dul:DULServiceProvider", "send_pdu", ("self", "primitive"), used_by="direct_send"),
    Touched("pynetdicom.dul:DULServiceProvider", "state_machine", instance=True, used_by="direct_send"),
    Touched("pynetdicom.fsm:StateMachine", "current_state", instance=True, used_by="direct_send"),
    Touched("pynetdicom.pdu_primitives:P_DATA", "presentation_data_value_list", instance=True, used_by="direct_send"),
    Touched("pynetdicom.association:Association", "send_c_store",
            ("self", "dataset", "msg_id", "priority", "originator_aet", "originator_id"), used_by="transfer"),
    Touched("pynetdicom.dimse:DIMSEServiceProvider", "get_msg", ("self", "block"), used_by="transfer"),
    Touched("pynetdicom.association:Association", "_reactor_checkpoint", instance=True, used_by="transfer, wakeups"),
    Touched("pynetdicom.association:Association", "_is_paused", instance=True, used_by="transfer"),
    Touched("pynetdicom.association:Association", "_handle_no_response", ("self",), used_by="transfer"),
    Touched("pynetdicom.association:Association", "_check_received_status", ("self", "rsp"), used_by="transfer"),
    Touched("pynetdicom.dimse_messages:DIMSEMessage", "_set_command_group_length", ("self",), used_by="amendments"),
    Touched("pynetdicom.transport:AssociationServer", "contexts", instance=True, used_by="shared_contexts"),
    # A server on a socket bound already.
    Touched("pynetdicom.ae:ApplicationEntity", "_servers", instance=True, used_by="listener"),
    Touched("pynetdicom.ae:ApplicationEntity", "make_server",
            ("self", "address", "ae_title", "contexts", "ssl_context", "evt_handlers", "server_class", "kwargs"),
            used_by="listener"),
    Touched("pynetdicom.transport:AssociationServer", "server_bind", ("self",), used_by="listener"),
)
