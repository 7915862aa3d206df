"""``Accept`` negotiation (PS3.18 8.7): media ranges with their parameters and quality, in order.

The ``accept`` query parameter (PS3.18 8.3.3.1) replaces the header when given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from qrscp.web.errors import WebError

DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
OCTET_STREAM = "application/octet-stream"
MULTIPART = "multipart/related"

#: Compressed transfer syntax -> the media type of its frames (PS3.18 Table 8.7.3-4).
FRAME_MEDIA_TYPES = {
    "1.2.840.10008.1.2.4.50": "image/jpeg",
    "1.2.840.10008.1.2.4.51": "image/jpeg",
    "1.2.840.10008.1.2.4.57": "image/jpeg",
    "1.2.840.10008.1.2.4.70": "image/jpeg",
    "1.2.840.10008.1.2.4.80": "image/jls",
    "1.2.840.10008.1.2.4.81": "image/jls",
    "1.2.840.10008.1.2.4.90": "image/jp2",
    "1.2.840.10008.1.2.4.91": "image/jp2",
    "1.2.840.10008.1.2.4.92": "image/jpx",
    "1.2.840.10008.1.2.4.93": "image/jpx",
    "1.2.840.10008.1.2.4.201": "image/jphc",
    "1.2.840.10008.1.2.4.202": "image/jphc",
    "1.2.840.10008.1.2.4.203": "image/jphc",
    "1.2.840.10008.1.2.5": "image/x-dicom-rle",
}


@dataclass(frozen=True)
class MediaRange:
    """One entry of an ``Accept`` header: ``type/subtype`` (lower case), parameters, quality."""

    media_type: str
    params: dict[str, str] = field(default_factory=dict)
    q: float = 1.0

    def matches(self, media_type: str) -> bool:
        """True when this range admits `media_type` (``*/*`` and ``type/*`` included)."""
        if self.media_type in ("*/*", "*"):
            return True
        main, _, sub = self.media_type.partition("/")
        if sub == "*":
            return media_type.startswith(main + "/")
        return self.media_type == media_type

    @property
    def part_type(self) -> str:
        """The ``type`` parameter of a ``multipart/related`` range (lower case; empty when absent)."""
        return self.params.get("type", "").lower()


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` outside double quotes."""
    pieces, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [p.strip() for p in pieces if p.strip()]


def parse_media_type(text: str) -> MediaRange:
    """Parse ``type/subtype; name=value; ...`` (``q`` becomes the quality)."""
    pieces = _split(text, ";")
    if not pieces:
        raise WebError(400, f"empty media type in {text!r}")
    media_type = pieces[0].lower()
    params: dict[str, str] = {}
    q = 1.0
    for piece in pieces[1:]:
        name, _, value = piece.partition("=")
        name, value = name.strip().lower(), value.strip().strip('"')
        if name == "q":
            try:
                q = float(value)
            except ValueError:
                raise WebError(400, f"bad quality {value!r} in Accept") from None
        else:
            params[name] = value
    return MediaRange(media_type, params, q)


def accepted(request: Request) -> list[MediaRange]:
    """The acceptable media ranges of `request`, best first; ``*/*`` when it names none."""
    texts = request.query_params.getlist("accept") or [request.headers.get("accept", "")]
    ranges = [parse_media_type(piece) for text in texts for piece in _split(text, ",")]
    ranges = [r for r in ranges if r.q > 0]
    if not ranges:
        return [MediaRange("*/*")]
    return sorted(ranges, key=lambda r: -r.q)


def not_acceptable(request: Request, offered: str) -> WebError:
    """The 406 answer: what was asked and what this resource offers."""
    asked = ", ".join(request.query_params.getlist("accept")) or request.headers.get("accept", "")
    return WebError(406, f"cannot answer Accept {asked!r}; this resource offers {offered}")


def require_json(request: Request) -> None:
    """Raise 406 unless the request accepts ``application/dicom+json`` (or plain JSON)."""
    for r in accepted(request):
        if r.matches(DICOM_JSON) or r.matches("application/json"):
            return
    raise not_acceptable(request, DICOM_JSON)


def dicom_syntaxes(request: Request) -> list[str]:
    """Transfer syntaxes acceptable for ``multipart/related; type="application/dicom"``, best first.

    ``*`` stands for the stored one (also when no ``transfer-syntax`` parameter is given: the objects
    go as they are stored). Raises 406 when no range admits DICOM parts.
    """
    syntaxes: list[str] = []
    for r in accepted(request):
        if r.matches(MULTIPART) and r.media_type != "*/*":
            if r.part_type not in ("", DICOM, "*/*", "application/*"):
                continue
        elif not r.matches(DICOM):
            continue
        syntax = r.params.get("transfer-syntax", "*") or "*"
        if syntax not in syntaxes:
            syntaxes.append(syntax)
    if not syntaxes:
        raise not_acceptable(request, 'multipart/related; type="application/dicom"')
    return syntaxes


def part_types(request: Request) -> list[MediaRange]:
    """The media ranges of the parts a ``multipart/related`` answer may hold (frames, bulk data)."""
    parts: list[MediaRange] = []
    for r in accepted(request):
        if r.media_type in ("*/*", "*", "multipart/*"):
            parts.append(MediaRange("*/*", r.params, r.q))
        elif r.media_type == MULTIPART:
            parts.append(MediaRange(r.part_type or OCTET_STREAM, r.params, r.q))
        else:
            parts.append(r)  # a single part type: answered as one part of a multipart message
    return parts
