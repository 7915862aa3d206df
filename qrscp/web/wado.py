"""WADO-RS (PS3.18 10.4): study, series and instance retrieve, metadata and bulk data.

The instances of a resource come from the query service (``instances``: the same lookup as C-GET, in
the same view); their files are sent as stored (so a converted object's data set is the same bytes
C-GET sends) unless the request asks for another transfer syntax, then decoded with pydicom and the
pylibjpeg plugins and written again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from qrscp.dicom.reader import read_explicit_little_endian
from qrscp.dicom.part10 import encode_header, make_file_meta
from qrscp.services.transcode import encode as encode_in_syntax
from qrscp.uids import Level, View
from qrscp.web import dicomjson
from qrscp.web.errors import WebError
from qrscp.web.multipart import MultipartWriter

logger = logging.getLogger("qrscp.web")

#: Transfer syntaxes a stored object can be re-encoded into on request.
TRANSCODE_TARGETS = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
#: Bytes of files handed to the HTTP server at a time by a retrieve.
STREAM_CHUNK = 4 * 1024 * 1024
#: Binary values above this size are given as BulkDataURI in metadata.
BULK_THRESHOLD = 1024


@dataclass(frozen=True)
class Resource:
    """A WADO-RS target: the UIDs from the path (study, then series, then instance) and the view."""

    view: View
    study: str
    series: str | None = None
    instance: str | None = None

    @property
    def level(self) -> Level:
        return Level.IMAGE if self.instance else Level.SERIES if self.series else Level.STUDY

    def identifier(self) -> Dataset:
        ds = Dataset()
        ds.QueryRetrieveLevel = self.level.value
        ds.StudyInstanceUID = self.study
        if self.series:
            ds.SeriesInstanceUID = self.series
        if self.instance:
            ds.SOPInstanceUID = self.instance
        return ds

    def describe(self) -> str:
        name = {Level.STUDY: "study", Level.SERIES: "series", Level.IMAGE: "instance"}[self.level]
        uid = self.instance or self.series or self.study
        return f"{name} {uid} in the {self.view.value or 'default'} view"


def locate(services: Any, resource: Resource) -> list[Any]:
    """The stored instances of `resource`; 404 when there are none."""
    locations = services.query.instances(resource.identifier(), view=resource.view)
    if not locations:
        raise WebError(404, f"no {resource.describe()}")
    return locations


def read_file(services: Any, location: Any) -> bytes:
    """The stored Part 10 file of `location`; a lost converted file is rebuilt first."""
    path = services.retrieve.stored_path(location)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        builder = services.view_builder
        if builder is None or not builder.restore(location.sop_instance_uid):
            raise
        return path.read_bytes()


def choose_syntax(stored: str, acceptable: list[str]) -> str | None:
    """The transfer syntax to send a `stored` object in, or None when nothing acceptable can be made."""
    for syntax in acceptable:
        if syntax in ("*", stored):
            return stored
        if syntax in TRANSCODE_TARGETS:
            return syntax
    return None


def check_syntaxes(locations: list[Any], acceptable: list[str]) -> None:
    """406 before anything is sent when some instance cannot be sent in an acceptable syntax."""
    for location in locations:
        if choose_syntax(location.transfer_syntax_uid, acceptable) is None:
            raise WebError(
                406,
                f"instance {location.sop_instance_uid} is stored in {location.transfer_syntax_uid}; "
                f"it can be sent as stored or as {', '.join(TRANSCODE_TARGETS)}, not {', '.join(acceptable)}",
            )


def transcoded(path: Path, syntax: str) -> bytes:
    """The stored object at `path` decoded and written as a Part 10 file in `syntax`."""
    # The same transcoder as the C-GET/C-MOVE sub-operations, so both send the same data set bytes.
    ds = dcmread(path)
    body = encode_in_syntax(ds, syntax)
    meta = make_file_meta(sop_class_uid=ds.SOPClassUID, sop_instance_uid=ds.SOPInstanceUID, transfer_syntax_uid=syntax)
    return encode_header(meta) + body


def instance_batches(services: Any, locations: list[Any], acceptable: list[str],
                     writer: MultipartWriter) -> Iterator[list[bytes]]:
    """The pieces of a retrieve answer in batches of about :data:`STREAM_CHUNK` bytes of files: each
    batch is read in one worker-thread hop, and its pieces are sent without being copied together."""
    pending: list[bytes] = []
    size = 0
    for location in locations:
        syntax = choose_syntax(location.transfer_syntax_uid, acceptable)
        try:
            if syntax == location.transfer_syntax_uid:
                content = read_file(services, location)
            else:
                content = transcoded(services.retrieve.stored_path(location), syntax)
        except Exception as exc:  # noqa: BLE001 - the status line is gone; log and go on with the others
            logger.error("WADO-RS: instance %s left out: %s", location.sop_instance_uid, exc)
            continue
        pending += (writer.head(f"application/dicom; transfer-syntax={syntax}"), content)
        size += len(content)
        if size >= STREAM_CHUNK:
            yield pending
            pending, size = [], 0
    pending.append(writer.end())
    yield pending


def bulk_path_text(path: list[int]) -> str:
    """``7FE00010`` or ``00540016/0/00181072``: tags in hexadecimal, item indexes in decimal."""
    return "/".join(dicomjson.tag_key(p) if i % 2 == 0 else str(p) for i, p in enumerate(path))


def parse_bulk_path(text: str) -> list[int]:
    pieces = [p for p in text.split("/") if p]
    try:
        path = [int(p, 16) if i % 2 == 0 else int(p) for i, p in enumerate(pieces)]
    except ValueError:
        raise WebError(400, f"bad bulk data path {text!r}") from None
    if not path or len(path) % 2 == 0:
        raise WebError(400, f"bad bulk data path {text!r}: it must end with a tag")
    return path


class MetadataCache:
    """The DICOM JSON of stored files, encoded once (stored instances do not change; a replaced file has
    another size or time and is read again), at most `max_bytes` of it, least recently used first out.

    Bulk data URIs hold :data:`BASE_MARK` in place of the root URL, which depends on the request.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, int]) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: tuple[str, int, int], value: bytes) -> None:
        if len(value) > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)


#: Stands for the service root URL in cached metadata.
BASE_MARK = "@@qrscp-service-root@@"


def instance_metadata(path: Path, sop_instance_uid: str) -> bytes:
    """The DICOM JSON of one stored file, bulk data (Pixel Data, binary values above 1 KiB) by URI."""
    # The fast reader for Explicit VR Little Endian files (and encapsulated ones), pydicom for the others.
    ds = read_explicit_little_endian(path, defer_size=BULK_THRESHOLD) or dcmread(path, defer_size=BULK_THRESHOLD)
    instance_url = (
        f"{BASE_MARK}/studies/{ds.get('StudyInstanceUID', '')}/series/{ds.get('SeriesInstanceUID', '')}"
        f"/instances/{sop_instance_uid}"
    )
    encoded = dicomjson.encode(ds, lambda p: f"{instance_url}/bulkdata/{bulk_path_text(p)}", threshold=BULK_THRESHOLD)
    return json.dumps(encoded, separators=(",", ":"), allow_nan=False).encode("utf-8")


def metadata(services: Any, locations: list[Any], base_url: str, cache: MetadataCache | None = None) -> bytes:
    """The ``application/dicom+json`` body of the metadata of `locations` (a JSON array)."""
    answers = []
    for location in locations:
        path = services.retrieve.stored_path(location)
        try:
            status = path.stat()
        except FileNotFoundError:
            read_file(services, location)  # rebuilds a lost converted file
            status = path.stat()
        key = (str(path), status.st_mtime_ns, status.st_size)
        encoded = cache.get(key) if cache is not None else None
        if encoded is None:
            encoded = instance_metadata(path, location.sop_instance_uid)
            if cache is not None:
                cache.put(key, encoded)
        answers.append(encoded)
    body = b"[" + b",".join(answers) + b"]"
    return body.replace(BASE_MARK.encode("utf-8"), json.dumps(base_url)[1:-1].encode("utf-8"))


def bulk_value(path: Path, bulk_path: list[int]) -> tuple[Any, Dataset]:
    """The element at `bulk_path` of the file and the data set (top level) it was read from."""
    ds = dcmread(path)
    current: Any = ds
    for i in range(0, len(bulk_path) - 1, 2):
        tag, index = bulk_path[i], bulk_path[i + 1]
        try:
            current = current[tag].value[index]
        except (KeyError, IndexError, TypeError):
            raise WebError(404, f"no bulk data at {bulk_path_text(bulk_path)}") from None
    if bulk_path[-1] not in current:
        raise WebError(404, f"no bulk data at {bulk_path_text(bulk_path)}")
    return current[bulk_path[-1]], ds
