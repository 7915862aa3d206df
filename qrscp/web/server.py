"""Runs the DICOMweb application on uvicorn in a thread of the archive's process.

:func:`start_http` is the one hook the composition root calls after its services exist;
:meth:`HttpFrontEnd.stop` lets requests in flight finish (uvicorn's graceful shutdown) before the
services go away.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from typing import Any

import uvicorn

from qrscp.config import Config, ConfigError
from qrscp.web.app import build_app

logger = logging.getLogger("qrscp.web")

#: Seconds allowed for uvicorn to start and to finish requests in flight when stopping.
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 30.0


class _Server(uvicorn.Server):
    """uvicorn's server telling the starting thread when it listens (or failed)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()


def _bind(config: Config, *, reuse_port: bool = False) -> socket.socket:
    http = config.http
    family = socket.AF_INET6 if ":" in http.bind_address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port and hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((http.bind_address, max(http.port, 0)))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class HttpFrontEnd:
    """The HTTP listener of one archive.

    Parameters
    ----------
    services : object
        The archive (``config``, ``query``, ``retrieve``, ``storage``, ``view_builder``).
    """

    def __init__(self, services: Any) -> None:
        self.config: Config = services.config
        self.app = build_app(services)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The TCP port listened on (the real one for ``port = -1``)."""
        return int(self._socket.getsockname()[1]) if self._socket is not None else self.config.http.port

    @property
    def scheme(self) -> str:
        return "https" if self.config.http.tls else "http"

    def _uvicorn_config(self) -> uvicorn.Config:
        kwargs: dict[str, Any] = {}
        if self.config.http.tls:
            tls = self.config.tls
            if not tls.certificate or not tls.private_key:
                raise ConfigError("[http] tls needs [tls] certificate and private_key")
            kwargs.update(ssl_certfile=tls.certificate, ssl_keyfile=tls.private_key)
            if tls.ca_certificates:
                kwargs["ssl_ca_certs"] = tls.ca_certificates
            if tls.require_client_certificate:
                kwargs["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        return uvicorn.Config(
            self.app, log_config=None, access_log=False, lifespan="off", server_header=False,
            timeout_graceful_shutdown=SHUTDOWN_TIMEOUT, **kwargs,
        )

    def start(self, listen_socket: socket.socket | None = None, *, reuse_port: bool = False) -> None:
        """Listen (on `listen_socket` when given: a worker process serving a socket its supervisor bound
        once; else on a socket bound here, shared with sibling workers through ``SO_REUSEPORT`` when
        `reuse_port`) and serve in a daemon thread; raise OSError/ConfigError when that cannot be done."""
        uv_config = self._uvicorn_config()
        try:
            uv_config.load()  # certificates are read here: a bad one fails the start, not a request
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"[http] cannot load the TLS certificates: {exc}") from exc
        self._socket = listen_socket if listen_socket is not None else _bind(self.config, reuse_port=reuse_port)
        self._server = _Server(uv_config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="qrscp-http", daemon=True)
        self._thread.start()
        if not self._server.ready.wait(STARTUP_TIMEOUT) or not self._server.started:
            self.stop()
            raise OSError(f"the HTTP front end did not start on {self.config.http.bind_address}:{self.port}")
        logger.info("DICOMweb on %s://%s:%d/dicomweb (views: /dicomweb/views/enhanced, /dicomweb/views/classic)",
                    self.scheme, self.config.http.bind_address, self.port)

    def stop(self) -> None:
        """Stop accepting, finish requests in flight, close the socket."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(SHUTDOWN_TIMEOUT + 5)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
        self._server = None


def bind_http(config: Config) -> socket.socket | None:
    """Bind the ``[http]`` listening socket once (for a supervisor of worker processes); None when off."""
    return _bind(config) if config.http.port else None


def start_http(services: Any, listen_socket: socket.socket | None = None, *, reuse_port: bool = False) -> HttpFrontEnd | None:
    """Start the HTTP front end of `services` (the archive) unless ``[http] port`` is 0."""
    if services.config.http.port == 0:
        return None
    front_end = HttpFrontEnd(services)
    front_end.start(listen_socket, reuse_port=reuse_port)
    return front_end
