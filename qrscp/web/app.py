"""The ASGI application: three DICOMweb service roots, the study browser, authentication and logs.

``/dicomweb`` serves the objects as received, ``/dicomweb/views/enhanced`` and
``/dicomweb/views/classic`` the Supplement 157 views (read-only); ``/`` is the study browser.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount

from qrscp.uids import View
from qrscp.web import browser
from qrscp.web.auth import CHALLENGE, Authenticator
from qrscp.web.errors import WebError, handle_http_exception, handle_unexpected, handle_web_error
from qrscp.web.routes import DicomWebRoot
from qrscp.web.wado import MetadataCache

logger = logging.getLogger("qrscp.web")

#: Service root path of each view.
ROOTS = {
    View.ENHANCED: "/dicomweb/views/enhanced",
    View.CLASSIC: "/dicomweb/views/classic",
    View.DEFAULT: "/dicomweb",
}


class AccessMiddleware:
    """Authentication (when configured) and one log line per request: peer, method, path, status, time."""

    def __init__(self, app: Any, authenticator: Authenticator | None) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "?"
        status_holder = [0]
        user = "-"
        if self.authenticator is not None:
            authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            user = self.authenticator.user_of(authorization) if authorization else None
            if user is None:
                logger.warning("%s: %s %s -> 401 (%s)", peer, scope["method"], scope["path"],
                               "bad credentials" if authorization else "no credentials")
                await _send_plain(send, 401, b"authentication required\n", [(b"www-authenticate", CHALLENGE.encode())])
                return

        async def logged_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
            await send(message)

        await self.app(scope, receive, logged_send)
        logger.info("%s (%s): %s %s -> %d, %.1f ms", peer, user, scope["method"], scope["path"], status_holder[0],
                    (time.perf_counter() - started) * 1000)


async def _send_plain(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())] + headers})
    await send({"type": "http.response.body", "body": body})


def build_app(services: Any) -> Any:
    """The ASGI application over a running archive's services (see :class:`DicomWebRoot`).

    Raises
    ------
    qrscp.config.ConfigError
        Authentication is required but no user or token is configured.
    """
    authenticator = Authenticator.from_config(services.config)
    cache = MetadataCache()
    mounts = [Mount(prefix, routes=DicomWebRoot(services, view, prefix, cache).routes()) for view, prefix in ROOTS.items()]
    app = Starlette(
        routes=[*mounts, *browser.routes(services, ROOTS)],
        exception_handlers={WebError: handle_web_error, HTTPException: handle_http_exception, Exception: handle_unexpected},
    )
    guarded = AccessMiddleware(app, authenticator)
    origins = services.config.http.cors_origins
    if not origins:
        return guarded
    # Outside authentication: a preflight carries no credentials, and a 401 must reach the viewer.
    return CORSMiddleware(guarded, allow_origins=list(origins), allow_methods=["GET", "POST"],
                          allow_headers=["Accept", "Authorization", "Content-Type"], expose_headers=["Warning"])
