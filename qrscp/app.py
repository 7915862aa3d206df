"""The composition root: configuration -> index -> store -> services -> views -> DICOM server.

The only module that builds the parts and wires them. :func:`build_parts` makes what every front end
needs (``qrscp import`` uses :func:`open_storage` alone); :class:`Archive` adds the DICOM server and runs
it; :func:`prepare_pynetdicom` installs qrscp's pynetdicom patches (:mod:`qrscp.net.pynetdicom_ext`) for
the process, or not. A supervisor of worker processes can build an :class:`Archive` per worker and
start it on a socket it bound once (``Archive.start(listen_socket=...)``).
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from qrscp.config import Config
from qrscp.index.database import create_engine_for, init_schema, session_factory
from qrscp.net import pynetdicom_ext
from qrscp.net.handlers import ArchiveServices
from qrscp.net.logs import quiet_pynetdicom
from qrscp.net.server import DRAIN_TIMEOUT, DicomServer
from qrscp.services.protocols import ViewBuilderLike
from qrscp.services.query import QueryService
from qrscp.services.retrieve import RetrieveService
from qrscp.services.storage import StorageService
from qrscp.store.filestore import FileStore

logger = logging.getLogger("qrscp.net")


#: Seconds a computing thread keeps the GIL while another waits (see Archive.__init__).
GIL_SWITCH_INTERVAL = 0.001


def prepare_pynetdicom(config: Config) -> bool:
    """Quiet pynetdicom's own logging (unless DEBUG) and install the patches when wanted and tested.

    Returns whether the patches are active (``[server] pynetdicom_patches``, overridden by the
    ``QRSCP_PYNETDICOM_PATCHES`` environment variable; an untested pynetdicom version runs plain).
    """
    quiet_pynetdicom(debug=config.logging.level.upper() == "DEBUG")
    return pynetdicom_ext.install(pynetdicom_ext.wanted(config.server.pynetdicom_patches))


@dataclass
class StorageParts:
    """The index and the store of one data directory, and the storage service over them."""

    engine: Engine
    sessions: sessionmaker[Session]
    file_store: FileStore
    storage: StorageService


def open_storage(config: Config) -> StorageParts:
    """Create the data directories, open (and migrate) the index, and build the storage service."""
    Path(config.storage.data_dir).mkdir(parents=True, exist_ok=True)
    config.storage.store_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine_for(config.storage.resolved_database_url, durable=config.storage.fsync)
    init_schema(engine)
    sessions = session_factory(engine)
    file_store = FileStore(config.storage.store_dir, fsync=config.storage.fsync)
    return StorageParts(engine, sessions, file_store, StorageService(config, sessions, file_store))


def build_view_builder(config: Config, parts: StorageParts) -> ViewBuilderLike | None:
    """Return the VIEWS part's builder when views are enabled and the part is installed."""
    if not config.views.enabled:
        return None
    try:
        from qrscp.services.views import ViewBuilder

        return ViewBuilder(config, parts.sessions, parts.file_store, parts.storage)
    except ImportError as exc:
        # The archive stays useful without the conversion part: default view only.
        logger.warning("views enabled but unavailable (%s): CLASSIC/ENHANCED views off", exc)
        return None


@dataclass
class ArchiveParts(StorageParts):
    """Everything but the transport: storage, views, query and retrieve, and the handlers' services."""

    view_builder: ViewBuilderLike | None
    query: QueryService
    retrieve: RetrieveService
    services: ArchiveServices


def build_parts(config: Config) -> ArchiveParts:
    """Build the parts of an archive from `config`; interrupted stores are recovered first."""
    storage = open_storage(config)
    storage.storage.recover()
    view_builder = build_view_builder(config, storage)
    query = QueryService(config, storage.sessions, view_builder=view_builder)
    retrieve = RetrieveService(config, query, storage.file_store)
    services = ArchiveServices(config, storage.storage, query, retrieve)
    return ArchiveParts(
        storage.engine, storage.sessions, storage.file_store, storage.storage, view_builder, query, retrieve, services
    )


class Archive:
    """A running qrscp archive: index, store, services and the DICOM association server.

    Parameters
    ----------
    config : qrscp.config.Config
        The whole configuration; ``config.server.port = 0`` picks a free port (see :attr:`port`).

    Attributes
    ----------
    config, engine, sessions, file_store, storage, query, retrieve, view_builder, services, server, ae
        The parts, for tests and tools.
    """

    def __init__(self, config: Config, shared_count: Any = None) -> None:
        self.config = config
        self.shared_count = shared_count  # qrscp.net.shared_limits: the limit across worker processes
        self.data_dir = Path(config.storage.data_dir)
        prepare_pynetdicom(config)
        # A thread waiting for the GIL (a DUL thread with a PDU to read, a C-GET whose C-STORE response
        # came) gets it within this many seconds from one that computes (a C-FIND): 1 ms, not Python's
        # 5 ms. Measured with scripts/bench_concurrency.py: retrieves during the mixed minute 1.52x ->
        # 1.32x Orthanc's time, C-FIND throughput unchanged.
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)
        parts = build_parts(config)
        self.parts = parts
        self.engine, self.sessions, self.file_store = parts.engine, parts.sessions, parts.file_store
        self.storage, self.view_builder = parts.storage, parts.view_builder
        self.query, self.retrieve, self.services = parts.query, parts.retrieve, parts.services
        self.server = DicomServer(config, parts.services, shared_count)
        self.ae, self.policy, self.limits = self.server.ae, self.server.policy, self.server.limits
        self.http: Any = None  # qrscp.web.server.HttpFrontEnd when [http] port is not 0
        self._stopped = threading.Event()

    @property
    def ae_title(self) -> str:
        return self.config.server.ae_title

    @property
    def port(self) -> int:
        """The TCP port the server listens on (the real one when configured as 0)."""
        return self.server.port

    @property
    def tls_port(self) -> int:
        """The TCP port of the DICOM TLS listener (the real one when configured as 0)."""
        return self.server.tls_port

    @property
    def address(self) -> str:
        return self.config.server.bind_address

    def event_handlers(self) -> list:
        """The (event, handler[, args]) bindings of the association server."""
        return self.server.event_handlers()

    def start(self, block: bool = False, listen_socket=None, tls_socket=None, http_socket=None) -> None:
        """Start accepting associations (on `listen_socket` and `tls_socket` when given) and HTTP requests (on
        `http_socket` when given, see :func:`qrscp.web.server.bind_http`); with `block` return only after
        :meth:`stop`."""
        self._stopped.clear()
        if self.config.http.port:
            # DICOMweb and the study browser on this archive's parts; up before the DICOM port answers.
            # A worker started on a shared DICOM socket shares the HTTP port with its siblings.
            from qrscp.web.server import start_http

            self.http = start_http(self, http_socket, reuse_port=listen_socket is not None)
        self.server.start(listen_socket, tls_socket)
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
        if self.http is not None:
            self.http.stop()  # requests in flight finish first
            self.http = None
        self.server.stop(drain_timeout)
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
