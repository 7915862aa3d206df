"""HTTP errors of the DICOMweb front end: a status and a clear message, never a traceback."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

logger = logging.getLogger("qrscp.web")


class WebError(Exception):
    """A request answered with `status` and a one-line `message` (``text/plain``).

    Parameters
    ----------
    status : int
        The HTTP status (400, 404, 405, 406, 409, 413, 415, ...).
    message : str
        What was wrong, for the person or program that sent the request.
    headers : dict, optional
        Extra response headers (``Allow``, ``WWW-Authenticate``).
    """

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def peer_of(request: Request) -> str:
    """``host:port`` of the client, for the logs."""
    client = request.client
    return f"{client.host}:{client.port}" if client else "?"


def error_response(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Log the refusal with the peer and answer it as plain text."""
    logger.warning("%s: %s %s -> %d %s", peer_of(request), request.method, request.url.path, status, message)
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


async def handle_web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    return error_response(request, exc.status, exc.message, exc.headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown path 404, wrong method 405) as plain one-line messages."""
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "error"
    headers = getattr(exc, "headers", None)
    if status == 404:
        detail = f"no such resource: {request.url.path}"
    elif status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return error_response(request, status, str(detail), headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback, answered 500 with the exception's type only."""
    logger.exception("%s: %s %s failed", peer_of(request), request.method, request.url.path)
    return PlainTextResponse(f"internal error ({type(exc).__name__})\n", status_code=500)
