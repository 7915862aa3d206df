"""The archive server: configuration -> index -> store -> services -> pynetdicom AE.

``Archive`` wires the parts and runs the association server; ``run_serve`` is the ``qrscp serve``
command. SIGTERM or Ctrl-C stops accepting associations, lets C-STOREs in flight finish (their file and
index row are committed or neither), then aborts what is left and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from pynetdicom import AE, evt

from qrscp import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from qrscp.config import Config, ConfigError, load_config, parse_peer
from qrscp.index.database import create_engine_for, init_schema, session_factory
from qrscp.net import fastdimse, fastencode, handlers, incomplete, limits, listener, negotiation, pacing, tls
from qrscp.net.access import AccessPolicy, handle_requested
from qrscp.net.amendments import handle_dimse_sent
from qrscp.net.contexts import handle_requested_peer_order, supported_contexts
from qrscp.net.logs import configure_logging, quiet_pynetdicom
from qrscp.net.shared_limits import handle_conn_close
from qrscp.net.transfer import handle_connection_open
from qrscp.services.query import QueryService
from qrscp.services.retrieve import RetrieveService
from qrscp.services.storage import StorageService
from qrscp.startup import freeze_imported_objects
from qrscp.store.filestore import FileStore

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
    ae.acse_timeout = config.server.acse_timeout
    ae.dimse_timeout = config.server.dimse_timeout
    ae.network_timeout = config.server.network_timeout
    ae.connection_timeout = config.server.acse_timeout
    # The access policy checks the called AE title with a logged reason; pynetdicom's own check stays off.
    ae.require_called_aet = False
    ae.require_calling_aet = []
    return ae


class SharedContexts(list):
    """The supported presentation contexts, shared by every association instead of copied.

    pynetdicom deep-copies the server's contexts for each new association: with 180 SOP classes and 13
    transfer syntaxes that costs ~80 ms per association (seen with py-spy). Negotiation only reads them,
    so every association may share one list.
    """

    def __deepcopy__(self, memo: dict) -> list:
        return list(self)


def _view_builder(config: Config, sessions: Any, file_store: FileStore, storage: StorageService) -> Any:
    """Return the VIEWS part's ViewBuilder when views are enabled and the part is installed."""
    if not config.views.enabled:
        return None
    try:
        from qrscp.services.views import ViewBuilder

        return ViewBuilder(config, sessions, file_store, storage)
    except ImportError as exc:
        # The archive stays useful without the conversion part: default view only.
        logger.warning("views enabled but unavailable (%s): CLASSIC/ENHANCED views off", exc)
        return None


class Archive:
    """A running qrscp archive: index, store, services and the DICOM association server.

    Parameters
    ----------
    config : qrscp.config.Config
        The whole configuration; ``config.server.port = 0`` picks a free port (see :attr:`port`).
    sockets : dict, optional
        Listening sockets bound by the worker supervisor (``"plain"``, ``"tls"``): accept on them instead
        of binding the configured ports (:mod:`qrscp.net.listener`).
    shared_count : qrscp.net.shared_limits.SharedAssociationCount, optional
        The association count of all workers, for ``max_associations``.

    Attributes
    ----------
    config, engine, sessions, file_store, storage, query, retrieve, view_builder, ae
        The parts, for tests and tools.
    """

    def __init__(self, config: Config, sockets: dict[str, Any] | None = None, shared_count: Any = None) -> None:
        self.config = config
        self.sockets = sockets or {}
        self.shared_count = shared_count
        self.data_dir = Path(config.storage.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config.storage.store_dir.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine_for(config.storage.resolved_database_url, durable=config.storage.fsync)
        init_schema(self.engine)
        self.sessions = session_factory(self.engine)
        self.file_store = FileStore(config.storage.store_dir, fsync=config.storage.fsync)
        self.storage = StorageService(config, self.sessions, self.file_store)
        self.storage.recover()
        self.view_builder = _view_builder(config, self.sessions, self.file_store, self.storage)
        self.query = QueryService(config, self.sessions, view_builder=self.view_builder)
        self.retrieve = RetrieveService(config, self.query, self.file_store)
        self.services = handlers.ArchiveServices(config, self.storage, self.query, self.retrieve)
        self.policy = AccessPolicy.from_config(config)
        self.limits = limits.ConnectionLimits(config)
        self.bindings = tls.PeerBindings.from_config(config)
        self.ae = build_ae(config)
        self._server: Any = None
        self._tls_server: Any = None
        self._stopped = threading.Event()

    @property
    def ae_title(self) -> str:
        return self.config.server.ae_title

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

    @property
    def address(self) -> str:
        return self.config.server.bind_address

    def event_handlers(self) -> list[Any]:
        """The (event, handler[, args]) bindings of the association server."""
        services = self.services
        return [
            (evt.EVT_CONN_OPEN, limits.handle_connection_open, [self.limits]),
            (evt.EVT_CONN_OPEN, handle_connection_open),
            (evt.EVT_REQUESTED, limits.handle_requested, [self.limits]),
            (evt.EVT_REQUESTED, tls.handle_requested_binding, [self.bindings]),
            (evt.EVT_REQUESTED, handle_requested, [self.policy, self.shared_count]),
            (evt.EVT_REQUESTED, handle_requested_peer_order),
            (evt.EVT_ACCEPTED, handlers.handle_accepted),
            (evt.EVT_RELEASED, handlers.handle_released),
            (evt.EVT_ABORTED, handlers.handle_aborted),
            (evt.EVT_SOP_EXTENDED, negotiation.handle_sop_extended, [self.config]),
            (evt.EVT_DIMSE_SENT, handle_dimse_sent),
            (evt.EVT_C_ECHO, handlers.handle_echo),
            (evt.EVT_C_STORE, handlers.handle_store, [services]),
            (evt.EVT_C_FIND, handlers.handle_find, [services]),
            (evt.EVT_C_MOVE, handlers.handle_move, [services]),
            (evt.EVT_C_GET, handlers.handle_get, [services]),
        ] + ([] if self.shared_count is None else [(evt.EVT_CONN_CLOSE, handle_conn_close, [self.shared_count])])

    def start(self, block: bool = False) -> None:
        """Start accepting associations; with `block` return only after :meth:`stop`."""
        self._stopped.clear()
        if self.config.tls.enabled:
            # The TLS handshake runs in each connection's thread (qrscp.net.tls), not in the accept loop.
            self._tls_server = listener.start_server(
                self.ae,
                (self.config.server.bind_address, self.config.tls.port),
                tls.tls_event_handlers(self.config, self.event_handlers()),
                self.config.server.ae_title,
                self.sockets.get("tls"),
            )
            self._tls_server.contexts = SharedContexts(self._tls_server.contexts)
            logger.info("qrscp %s DICOM TLS listening on port %d", self.ae_title, self.tls_port)
        if self.config.tls.enabled and self.config.tls.only:
            self._server = self._tls_server
        else:
            self._server = listener.start_server(
                self.ae,
                (self.config.server.bind_address, self.config.server.port),
                self.event_handlers(),
                self.config.server.ae_title,
                self.sockets.get("plain"),
            )
            self._server.contexts = SharedContexts(self._server.contexts)
        logger.info(
            "qrscp %s listening on %s:%d, data in %s, index %s",
            self.ae_title,
            self.config.server.bind_address,
            self.port,
            self.data_dir,
            self.engine.url.render_as_string(hide_password=True),
        )
        if self.view_builder is not None:
            self.view_builder.start()  # background view building when [views] build_policy = "eager"
        if block:
            self._stopped.wait()

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
        if self.view_builder is not None:
            self.view_builder.stop()
        self.engine.dispose()
        self._stopped.set()
        logger.info("qrscp %s stopped", self.ae_title)

    def __enter__(self) -> Archive:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def config_from_args(args: argparse.Namespace) -> Config:
    """Load the configuration file and apply the ``qrscp serve`` flags over it."""
    config = load_config(getattr(args, "config", None))
    if getattr(args, "port", None) is not None:
        config.server.port = args.port
    if getattr(args, "bind_address", None):
        config.server.bind_address = args.bind_address
    if getattr(args, "ae_title", None):
        config.server.ae_title = args.ae_title
    if getattr(args, "data_dir", None):
        config.storage.data_dir = Path(args.data_dir)
    if getattr(args, "database_url", None):
        config.storage.database_url = args.database_url
    for text in getattr(args, "peer", None) or []:
        peer = parse_peer(text)
        config.peers[peer.ae_title] = peer
    if getattr(args, "log_level", None):
        config.logging.level = args.log_level
    if getattr(args, "workers", None) is not None:
        config.server.workers = args.workers
    return config


def run_serve(args: argparse.Namespace) -> int:
    """Run ``qrscp serve`` until SIGTERM/SIGINT; return the exit code (0 after a clean stop)."""
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        logging.basicConfig()
        logger.error("configuration error: %s", exc)
        return 2
    configure_logging(config.logging)
    if config.server.worker_count > 1:
        from qrscp.workers.supervisor import run_supervisor

        return run_supervisor(config)
    try:
        archive = Archive(config)
        archive.start()
    except (OSError, ConfigError) as exc:  # ConfigError: unreadable [tls] certificates
        logger.error("cannot start: %s", exc)
        return 1
    # What imports and start-up made lives as long as the server: the collector need not rescan it
    # (a view built during a C-GET of 500 slices: 2.5 -> 1.85 s).
    freeze_imported_objects()
    stop_requested = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        logger.info("signal %s received: stopping", signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    while not stop_requested.wait(1.0):
        pass
    archive.stop()
    return 0


# Fast paths for every association of this process (see the modules): no per-message debug formatting,
# flat command sets and identifiers encoded without pydicom's general writer, Pending C-FIND responses in
# one PDU, short polling naps while an association is busy; and an answer to every incomplete request.
quiet_pynetdicom()
fastencode.install()
fastdimse.install()
pacing.install()
incomplete.install()
