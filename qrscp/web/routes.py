"""The PS3.18 resources of one service root (``/dicomweb`` or a view's), as Starlette routes.

Each endpoint checks its request, runs the service calls in a worker thread and answers; errors of
the services become HTTP statuses here (unknown UID 404, a bad query 400, STOW into a view 405).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from functools import wraps
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from qrscp.services.query import QueryError
from qrscp.services.retrieve import RetrieveError
from qrscp.services.views.scope import ViewError
from qrscp.uids import Level, View
from qrscp.web import dicomjson, frames, media, multipart, qido, rendered, stow, wado
from qrscp.web.errors import WebError, peer_of

logger = logging.getLogger("qrscp.web")

JSON_TYPE = "application/dicom+json"


def _guarded(endpoint: Callable) -> Callable:
    """Service errors -> HTTP: a refused query 400, a UID outside the view 404."""

    @wraps(endpoint)
    async def wrapper(self: DicomWebRoot, request: Request) -> Response:
        try:
            return await endpoint(self, request)
        except (QueryError, RetrieveError) as exc:
            status = 404 if isinstance(exc, ViewError) else 400
            raise WebError(status, getattr(exc, "comment", str(exc))) from None

    return wrapper


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)


class DicomWebRoot:
    """One DICOMweb service root over the archive's services.

    Parameters
    ----------
    services : object
        Has ``config``, ``query`` (QueryService), ``retrieve`` (RetrieveService), ``storage``
        (StorageService) and ``view_builder`` (or None): the running archive.
    view : View
        The view this root serves; STOW-RS is refused (405) on the CLASSIC and ENHANCED roots.
    prefix : str
        The root's path (``/dicomweb``, ``/dicomweb/views/enhanced``...), for Retrieve URLs.
    cache : MetadataCache, optional
        Encoded metadata of stored files, shared by the roots.
    """

    def __init__(self, services: Any, view: View, prefix: str, cache: wado.MetadataCache | None = None) -> None:
        self.services = services
        self.view = view
        self.prefix = prefix
        self.cache = cache

    def base_url(self, request: Request) -> str:
        """The root's absolute URL as the client addressed it (Host header; our port when the header
        has none, as dicomweb-client sends it)."""
        netloc = request.url.netloc
        server = request.scope.get("server")
        default_port = 443 if request.url.scheme == "https" else 80
        if ":" not in netloc.rsplit("]", 1)[-1] and server and server[1] not in (None, default_port):
            netloc = f"{netloc}:{server[1]}"
        return f"{request.url.scheme}://{netloc}{self.prefix}"

    def routes(self) -> list[Route]:
        s, se, i = "/studies/{study}", "/series/{series}", "/instances/{instance}"
        get = ["GET"]
        table = [
            ("/studies", self.search, get), ("/series", self.search, get), ("/instances", self.search, get),
            (s + "/series", self.search, get), (s + "/instances", self.search, get),
            (s + se + "/instances", self.search, get),
            (s, self.retrieve, get), (s + se, self.retrieve, get), (s + se + i, self.retrieve, get),
            (s + "/metadata", self.metadata, get), (s + se + "/metadata", self.metadata, get),
            (s + se + i + "/metadata", self.metadata, get),
            (s + se + i + "/frames/{frames}", self.frames, get),
            (s + se + i + "/bulkdata/{path:path}", self.bulkdata, get),
            (s + "/rendered", self.rendered, get), (s + se + "/rendered", self.rendered, get),
            (s + se + i + "/rendered", self.rendered, get), (s + se + i + "/frames/{frames}/rendered", self.rendered, get),
            (s + "/thumbnail", self.thumbnail, get), (s + se + "/thumbnail", self.thumbnail, get),
            (s + se + i + "/thumbnail", self.thumbnail, get),
            (s + se + i + "/frames/{frames}/thumbnail", self.thumbnail, get),
            ("/studies", self.store, ["POST"]), (s, self.store, ["POST"]),
        ]
        return [Route(path, endpoint, methods=methods) for path, endpoint, methods in table]

    def _resource(self, request: Request) -> wado.Resource:
        p = request.path_params
        return wado.Resource(self.view, p["study"], p.get("series"), p.get("instance"))

    # -- QIDO-RS -----------------------------------------------------------------------------------

    @_guarded
    async def search(self, request: Request) -> Response:
        media.require_json(request)
        path = request.url.path
        level = Level.STUDY if path.endswith("/studies") else Level.SERIES if path.endswith("/series") else Level.IMAGE
        uids = {"StudyInstanceUID": request.path_params.get("study"), "SeriesInstanceUID": request.path_params.get("series")}
        search = qido.parse(request.query_params, level, {k: v for k, v in uids.items() if v})
        matches, unsupported = await run_in_threadpool(qido.run, self.services.query, search, self.view)
        if unsupported:
            search.warnings.append(f"not supported for matching, answered empty: {', '.join(unsupported)}")
        headers = {"Warning": ", ".join(f'299 qrscp "{w}"' for w in search.warnings)} if search.warnings else None
        if not matches:
            return Response(status_code=204, headers=headers)
        base = self.base_url(request)
        payload = [dicomjson.encode(qido.answer(m, _retrieve_url(base, level, m))) for m in matches]
        return _json(payload, headers=headers)

    # -- WADO-RS -----------------------------------------------------------------------------------

    @_guarded
    async def retrieve(self, request: Request) -> Response:
        syntaxes = media.dicom_syntaxes(request)
        resource = self._resource(request)
        locations = await run_in_threadpool(wado.locate, self.services, resource)
        wado.check_syntaxes(locations, syntaxes)
        writer = multipart.MultipartWriter(media.DICOM)
        batches = wado.instance_batches(self.services, locations, syntaxes, writer)
        return StreamingResponse(_pieces(batches), media_type=writer.content_type)

    @_guarded
    async def metadata(self, request: Request) -> Response:
        media.require_json(request)
        resource = self._resource(request)

        def work() -> bytes:
            return wado.metadata(self.services, wado.locate(self.services, resource), self.base_url(request), self.cache)

        return Response(await run_in_threadpool(work), media_type=JSON_TYPE)

    async def _pixel_source(self, resource: wado.Resource) -> frames.PixelSource:
        def work() -> frames.PixelSource:
            location = wado.locate(self.services, resource)[0]
            path = self.services.retrieve.stored_path(location)
            if not path.exists():
                wado.read_file(self.services, location)
            return frames.pixel_source(path)

        return await run_in_threadpool(work)

    @_guarded
    async def frames(self, request: Request) -> Response:
        ranges = media.part_types(request)
        source = await self._pixel_source(self._resource(request))
        numbers = frames.parse_frame_list(request.path_params["frames"], source.frames)
        part_type, decode = frames.frame_plan(source, ranges)
        writer = multipart.MultipartWriter(part_type.split(";")[0])
        return StreamingResponse(frames.frame_stream(source, numbers, part_type, decode, writer), media_type=writer.content_type)

    @_guarded
    async def bulkdata(self, request: Request) -> Response:
        ranges = media.part_types(request)
        bulk_path = wado.parse_bulk_path(request.path_params["path"])
        resource = self._resource(request)
        if bulk_path == [frames.PIXEL_DATA]:
            source = await self._pixel_source(resource)
            part_type, decode = frames.frame_plan(source, ranges)
            writer = multipart.MultipartWriter(part_type.split(";")[0])
            numbers = list(range(1, source.frames + 1))
            return StreamingResponse(frames.frame_stream(source, numbers, part_type, decode, writer), media_type=writer.content_type)
        if not any(r.matches(media.OCTET_STREAM) for r in ranges):
            raise media.not_acceptable(request, 'multipart/related; type="application/octet-stream"')

        def work() -> bytes:
            location = wado.locate(self.services, resource)[0]
            element, _ = wado.bulk_value(self.services.retrieve.stored_path(location), bulk_path)
            value = element.value
            if not isinstance(value, (bytes, bytearray)):
                raise WebError(404, f"{wado.bulk_path_text(bulk_path)} is not a binary value")
            return bytes(value)

        content = await run_in_threadpool(work)
        writer = multipart.MultipartWriter(media.OCTET_STREAM)
        return StreamingResponse(writer.stream([(media.OCTET_STREAM, content)]), media_type=writer.content_type)

    async def _render(self, request: Request, *, thumbnail: bool) -> Response:
        media_type = rendered.output_type(media.accepted(request))
        params = request.query_params
        window = rendered.parse_window(params.get("window"))
        viewport = rendered.parse_viewport(params.get("viewport"))
        if thumbnail and viewport is None:
            viewport = (rendered.THUMBNAIL_SIZE, rendered.THUMBNAIL_SIZE)
        quality = params.get("quality", "90")
        if not quality.isdigit() or not 1 <= int(quality) <= 100:
            raise WebError(400, f"quality={quality!r}: a number from 1 to 100")
        resource = self._resource(request)
        frame_text = request.path_params.get("frames")

        def work() -> bytes:
            locations = wado.locate(self.services, resource)
            # A study or series: its middle instance (thumbnail) or first; a multi-frame: its middle frame.
            location = locations[len(locations) // 2] if thumbnail else locations[0]
            path = self.services.retrieve.stored_path(location)
            if not path.exists():
                wado.read_file(self.services, location)
            source = frames.pixel_source(path)
            if frame_text is not None:
                index = frames.parse_frame_list(frame_text, source.frames)[0] - 1
            else:
                index = source.frames // 2 if thumbnail else 0
            return rendered.render(path, index, media_type, window=window, viewport=viewport, quality=int(quality))

        return Response(await run_in_threadpool(work), media_type=media_type)

    @_guarded
    async def rendered(self, request: Request) -> Response:
        return await self._render(request, thumbnail=False)

    @_guarded
    async def thumbnail(self, request: Request) -> Response:
        return await self._render(request, thumbnail=True)

    # -- STOW-RS -----------------------------------------------------------------------------------

    @_guarded
    async def store(self, request: Request) -> Response:
        if self.view is not View.DEFAULT:
            raise WebError(
                405,
                f"the {self.view.value} view is read-only: store into /dicomweb/studies",
                headers={"Allow": "GET"},
            )
        media.require_json(request)
        boundary, part_type = multipart.boundary_of(request.headers.get("content-type", ""))
        body = await read_body(request, self.services.config.http.max_request_bytes)
        parts = await run_in_threadpool(multipart.parse, body, boundary)
        stow.check_part_types(part_type, parts)
        study = request.path_params.get("study")
        peer = peer_of(request)
        result = await run_in_threadpool(
            stow.store_parts, self.services.storage, parts, study=study, base_url=self.base_url(request), peer=peer
        )
        logger.info("%s: STOW-RS %d stored, %d failed", peer, len(result.referenced), len(result.failed))
        return _json(dicomjson.encode(result.response()), status=result.http_status)


async def _pieces(batches: Iterator[list[bytes]]) -> AsyncIterator[bytes]:
    """Each batch read in a worker thread, its pieces sent from the event loop as they are."""
    done = object()
    while True:
        batch = await run_in_threadpool(next, batches, done)
        if batch is done:
            return
        for piece in batch:
            yield piece


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise WebError(413, f"request body of {declared} bytes exceeds the limit of {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebError(413, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _retrieve_url(base: str, level: Level, match: Any) -> str:
    url = f"{base}/studies/{match.get('StudyInstanceUID', '')}"
    if level is not Level.STUDY:
        url += f"/series/{match.get('SeriesInstanceUID', '')}"
    if level is Level.IMAGE:
        url += f"/instances/{match.get('SOPInstanceUID', '')}"
    return url
