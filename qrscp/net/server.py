"""The DICOM association server of one archive: the pynetdicom AE, its listeners and event bindings.

:class:`DicomServer` gets the services (:class:`~qrscp.net.handlers.ArchiveServices`) from the
composition root (:mod:`qrscp.app`) and knows nothing of the index or the store. Stopping lets C-STOREs in
flight finish (their file and index row are committed or neither), then aborts what is left.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from pynetdicom import AE, evt

from qrscp import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from qrscp.config import Config
from qrscp.net import handlers, limits, negotiation, pynetdicom_ext, retrieve_log, sockets, tls
from qrscp.net.access import AccessPolicy, handle_requested
from qrscp.net.contexts import handle_requested_peer_order, supported_contexts
from qrscp.net.handlers import ArchiveServices
from qrscp.net.pynetdicom_ext import fastdimse
from qrscp.net.shared_limits import handle_conn_close
from qrscp.net.pynetdicom_ext.listener import start_on_socket

logger = logging.getLogger("qrscp.net")

#: How long a stopping server waits for C-STOREs in flight before aborting associations.
DRAIN_TIMEOUT = 30.0


def build_ae(config: Config) -> AE:
    """Return the pynetdicom AE with every supported context, timeouts and limits of `config`."""
    ae = AE(ae_title=config.server.ae_title)
    ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    ae.implementation_version_name = IMPLEMENTATION_VERSION_NAME
    for cx in supported_contexts():
        # add_supported_context keeps the SCP/SCU role selection (the supported_contexts setter drops it).
        ae.add_supported_context(cx.abstract_syntax, cx.transfer_syntax, scu_role=cx.scu_role, scp_role=cx.scp_role)
    # The access policy enforces max_associations on associations (qrscp.net.limits.count_associations);
    # pynetdicom's own count includes connections that never send an A-ASSOCIATE-RQ.
    ae.maximum_associations = limits.UNBOUNDED_ACCEPTOR_THREADS
    ae.maximum_pdu_size = config.server.max_pdu
    setattr(ae, fastdimse.COMBINED_ATTRIBUTE, config.server.command_and_data_in_one_pdu)
    ae.acse_timeout = config.server.acse_timeout
    ae.dimse_timeout = config.server.dimse_timeout
    ae.network_timeout = config.server.network_timeout
    ae.connection_timeout = config.server.acse_timeout
    # The access policy checks the called AE title with a logged reason; pynetdicom's own check stays off.
    ae.require_called_aet = False
    ae.require_calling_aet = []
    return ae


class DicomServer:
    """The association server: plain TCP listener, optional DICOM TLS listener, bound to `services`.

    Parameters
    ----------
    config : qrscp.config.Config
        ``[server]``, ``[access]`` and ``[tls]``; ``config.server.port = 0`` picks a free port.
    services : qrscp.net.handlers.ArchiveServices
        What the DIMSE handlers call.
    shared_count : qrscp.net.shared_limits.SharedAssociationCount, optional
        The association count of every worker process, for ``max_associations`` (``qrscp serve --workers``).
    """

    def __init__(self, config: Config, services: ArchiveServices, shared_count: Any = None) -> None:
        self.config = config
        self.services = services
        self.shared_count = shared_count
        self.policy = AccessPolicy.from_config(config)
        self.limits = limits.ConnectionLimits(config)
        self.bindings = tls.PeerBindings.from_config(config)
        self.ae = build_ae(config)
        self._server: Any = None
        self._tls_server: Any = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on (the real one when configured as 0)."""
        if self._server is None:
            return self.config.server.port
        return int(self._server.server_address[1])

    @property
    def tls_port(self) -> int:
        """The TCP port of the DICOM TLS listener (the real one when configured as 0)."""
        if self._tls_server is None:
            return self.config.tls.port
        return int(self._tls_server.server_address[1])

    def event_handlers(self) -> list[Any]:
        """The (event, handler[, args]) bindings of the association server."""
        services = self.services
        return [
            (evt.EVT_CONN_OPEN, limits.handle_connection_open, [self.limits]),
            (evt.EVT_CONN_OPEN, sockets.handle_connection_open),
            *pynetdicom_ext.server_handlers(self.limits),
            # After the amendments: the C-MOVE/C-GET line reports the final status actually sent.
            (evt.EVT_DIMSE_SENT, retrieve_log.handle_dimse_sent),
            (evt.EVT_REQUESTED, limits.handle_requested, [self.limits]),
            (evt.EVT_REQUESTED, tls.handle_requested_binding, [self.bindings]),
            (evt.EVT_REQUESTED, handle_requested, [self.policy, self.shared_count]),
            (evt.EVT_REQUESTED, handle_requested_peer_order),
            (evt.EVT_ACCEPTED, handlers.handle_accepted),
            (evt.EVT_RELEASED, handlers.handle_released),
            (evt.EVT_ABORTED, handlers.handle_aborted),
            (evt.EVT_SOP_EXTENDED, negotiation.handle_sop_extended, [self.config]),
            (evt.EVT_C_ECHO, handlers.handle_echo),
            (evt.EVT_C_STORE, handlers.handle_store, [services]),
            (evt.EVT_C_FIND, handlers.handle_find, [services]),
            (evt.EVT_C_MOVE, handlers.handle_move, [services]),
            (evt.EVT_C_GET, handlers.handle_get, [services]),
        ] + ([] if self.shared_count is None else [(evt.EVT_CONN_CLOSE, handle_conn_close, [self.shared_count])])

    def _listen(self, port: int, handlers_: list[Any], listen_socket: socket.socket | None) -> Any:
        kwargs = {"evt_handlers": handlers_, "ae_title": self.config.server.ae_title}
        if listen_socket is not None:
            server = start_on_socket(self.ae, listen_socket, **kwargs)
        else:
            server = self.ae.start_server((self.config.server.bind_address, port), block=False, **kwargs)
        pynetdicom_ext.prepare_server(server)
        return server

    def start(self, listen_socket: socket.socket | None = None, tls_socket: socket.socket | None = None) -> None:
        """Start accepting associations, on the configured ports or on sockets bound already.

        Parameters
        ----------
        listen_socket, tls_socket : socket.socket, optional
            Bound (listening or not) sockets to serve instead of binding ``[server] port`` and
            ``[tls] port`` (a supervisor that hands one port to several workers).
        """
        if self.config.tls.enabled:
            # The TLS handshake runs in each connection's thread (qrscp.net.tls), not in the accept loop.
            self._tls_server = self._listen(
                self.config.tls.port, tls.tls_event_handlers(self.config, self.event_handlers()), tls_socket
            )
            logger.info("qrscp %s DICOM TLS listening on port %d", self.config.server.ae_title, self.tls_port)
        if self.config.tls.enabled and self.config.tls.only:
            self._server = self._tls_server
        else:
            self._server = self._listen(self.config.server.port, self.event_handlers(), listen_socket)

    def stop(self, drain_timeout: float = DRAIN_TIMEOUT) -> None:
        """Stop accepting, let C-STOREs in flight finish (up to `drain_timeout` s), then abort the rest."""
        if self._tls_server is not None and self._tls_server is not self._server:
            self._tls_server.shutdown()
        self._tls_server = None
        if self._server is not None:
            self._server.shutdown()
            if not self.services.in_flight.wait_idle(drain_timeout):
                logger.warning("stopping with %d C-STORE(s) still in flight", self.services.in_flight.count)
            self.ae.shutdown()
            # A C-STORE that began between the wait and the abort still ends with its file and row, or neither.
            self.services.in_flight.wait_idle(drain_timeout)
            self._server = None
