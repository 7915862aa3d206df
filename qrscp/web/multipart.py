"""``multipart/related`` messages (RFC 2387) as PS3.18 uses them: written as streams, read whole."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from qrscp.web.errors import WebError
from qrscp.web.media import MULTIPART, parse_media_type


@dataclass(frozen=True)
class Part:
    """One body part: its headers (lower-case names) and content."""

    headers: dict[str, str]
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class MultipartWriter:
    """Frames parts of one ``multipart/related`` answer with a fresh boundary.

    Parameters
    ----------
    part_type : str
        The ``type`` parameter (the root part's media type).
    """

    def __init__(self, part_type: str) -> None:
        self.boundary = uuid.uuid4().hex
        self.part_type = part_type
        self._first = True

    @property
    def content_type(self) -> str:
        """The response's ``Content-Type``."""
        return f'{MULTIPART}; type="{self.part_type}"; boundary={self.boundary}'

    def head(self, content_type: str, **headers: str) -> bytes:
        """The delimiter and headers that come before one part's content."""
        lead = b"" if self._first else b"\r\n"
        self._first = False
        lines = [f"--{self.boundary}", f"Content-Type: {content_type}"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        return lead + ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")

    def end(self) -> bytes:
        """The close delimiter."""
        return (f"\r\n--{self.boundary}--\r\n" if not self._first else f"--{self.boundary}--\r\n").encode("ascii")

    def stream(self, parts: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
        """Yield the whole message of (content type, content) parts."""
        for content_type, content in parts:
            yield self.head(content_type)
            yield content
        yield self.end()


def boundary_of(content_type: str) -> tuple[str, str]:
    """Return (boundary, type parameter) of a ``multipart/related`` Content-Type; 400/415 otherwise."""
    media = parse_media_type(content_type or "")
    if media.media_type != MULTIPART:
        raise WebError(415, f"expected {MULTIPART} content, got {content_type or 'none'!r}")
    boundary = media.params.get("boundary", "")
    if not boundary or len(boundary) > 200:
        raise WebError(400, "multipart/related content without a valid boundary parameter")
    return boundary, media.params.get("type", "").lower()


def parse(body: bytes, boundary: str) -> list[Part]:
    """Split a whole ``multipart/related`` body into its parts.

    Raises
    ------
    WebError
        400 when the body does not start with the boundary, a part has no header end, or the close
        delimiter is missing.
    """
    marker = b"--" + boundary.encode("latin-1")
    delimiter = b"\r\n" + marker
    start = body.find(marker)
    if start < 0 or body[:start].strip(b"\r\n\t ") not in (b"",):
        raise WebError(400, "malformed multipart body: it does not start with its boundary")
    parts: list[Part] = []
    position = start + len(marker)
    while True:
        if body[position : position + 2] == b"--":
            return parts
        if body[position : position + 2] != b"\r\n":
            raise WebError(400, "malformed multipart body: bad delimiter line")
        header_end = body.find(b"\r\n\r\n", position + 2)
        if header_end < 0:
            if body[position + 2 : position + 4] == b"\r\n":  # a part without headers
                header_end = position
            else:
                raise WebError(400, "malformed multipart body: a part's headers never end")
        next_delimiter = body.find(delimiter, header_end + 4)
        if next_delimiter < 0:
            raise WebError(400, "malformed multipart body: the close delimiter is missing")
        parts.append(Part(_headers(body[position + 2 : header_end]), body[header_end + 4 : next_delimiter]))
        position = next_delimiter + len(delimiter)


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise WebError(400, f"malformed multipart body: bad header line {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers
