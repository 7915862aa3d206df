"""Fixtures of the DICOMweb tests: a running archive with its HTTP front end on loopback, filled over
DICOM (C-STORE) with a native CT series, a JPEG 2000 MR series and a true Enhanced MR, and clients
for each service root (``dicomweb-client`` and ``httpx``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset
from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation

from qrscp.config import Config
from qrscp.app import Archive
from qrscp.testing.factory import is_available, make_enhanced_mr, make_series
from qrscp.testing.network import LOCALHOST, DicomClient, client_for
from qrscp.uids import STUDY_ROOT_FIND, STUDY_ROOT_GET

#: Service root of each view (tests parametrize over these).
ROOTS = {"default": "/dicomweb", "classic": "/dicomweb/views/classic", "enhanced": "/dicomweb/views/enhanced"}
VIEW_KEYS = {"default": None, "classic": "CLASSIC", "enhanced": "ENHANCED"}
JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
IMAGE_STORAGE = (
    "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.2",  # CT, Legacy Converted Enhanced CT
    "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.4.1", "1.2.840.10008.5.1.4.1.1.4.4",  # MR, Enhanced, LCE
)


def web_config(directory: Path) -> Config:
    """An archive on loopback: DICOM port 0, HTTP on any free port (-1), SQLite, fsync off."""
    config = Config()
    config.server.bind_address = LOCALHOST
    config.server.port = 0
    config.storage.data_dir = directory
    config.storage.fsync = False
    config.http.port = -1
    return config


@dataclass
class WebArchive:
    """A running archive with its HTTP front end and what was stored in it."""

    archive: Any
    studies: dict[str, str] = field(default_factory=dict)  # name -> Study Instance UID
    series: dict[str, str] = field(default_factory=dict)
    instances: dict[str, list[str]] = field(default_factory=dict)  # name -> SOP Instance UIDs

    @property
    def base_url(self) -> str:
        return f"http://{LOCALHOST}:{self.archive.http.port}"

    def url(self, view: str, path: str = "") -> str:
        return self.base_url + ROOTS[view] + path

    def client(self, view: str, **kwargs: Any) -> DICOMwebClient:
        return DICOMwebClient(url=self.url(view), **kwargs)

    def http(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60, **kwargs)

    def dicom(self) -> DicomClient:
        return client_for(self.archive)


def start_web_archive(directory: Path, configure: Callable[[Config], None] | None = None) -> WebArchive:
    config = web_config(directory)
    if configure is not None:
        configure(config)
    archive = Archive(config)
    archive.start()
    return WebArchive(archive)


def store(web: WebArchive, name: str, datasets: list[Dataset]) -> None:
    statuses = web.dicom().store(datasets)
    assert [int(s.Status) for s in statuses] == [0] * len(datasets)
    web.studies[name] = str(datasets[0].StudyInstanceUID)
    web.series[name] = str(datasets[0].SeriesInstanceUID)
    web.instances[name] = [str(ds.SOPInstanceUID) for ds in datasets]


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[WebArchive]:
    """One archive per test module with: ``ct`` (4 native slices), ``mr`` (3 JPEG 2000 slices when
    the encoder is available, else native) and ``enhanced`` (a 5-frame true Enhanced MR)."""
    archive = start_web_archive(tmp_path_factory.mktemp("web"))
    try:
        store(archive, "ct", make_series("CT", slices=4, rows=32, columns=32, seed=181))
        syntax = JPEG2000_LOSSLESS if is_available(JPEG2000_LOSSLESS) else UNCOMPRESSED[0]
        store(archive, "mr", make_series("MR", slices=3, rows=32, columns=32, seed=182, transfer_syntax=syntax))
        store(archive, "enhanced", [make_enhanced_mr(frames=5, rows=32, columns=32, seed=183)])
        yield archive
    finally:
        archive.archive.stop(drain_timeout=10)


def view_negotiation(*sop_classes: str) -> list[SOPClassExtendedNegotiation]:
    """Extended negotiation offering the Enhanced Multi-Frame Image Conversion option."""
    items = []
    for uid in sop_classes:
        item = SOPClassExtendedNegotiation()
        item.sop_class_uid = uid
        item.service_class_application_information = b"\x01\x00\x00\x00\x01" if uid == STUDY_ROOT_FIND else b"\x01\x01"
        items.append(item)
    return items


def c_get(web: WebArchive, view: str, level: str, **uids: str) -> list[Any]:
    """C-GET in `view`, accepting every image class in the stored syntaxes; the received instances."""
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level
    for keyword, uid in uids.items():
        setattr(identifier, keyword, uid)
    ext_neg = None
    if VIEW_KEYS[view]:
        identifier.QueryRetrieveView = VIEW_KEYS[view]
        ext_neg = view_negotiation(STUDY_ROOT_GET)
    # One context per syntax group: the archive then sends each instance as stored.
    storage = [(uid, syntaxes) for uid in IMAGE_STORAGE for syntaxes in ([JPEG2000_LOSSLESS], UNCOMPRESSED)]
    result = web.dicom().get(identifier, STUDY_ROOT_GET, storage=storage, ext_neg=ext_neg)
    assert result.code == 0, result.status
    return result.received


def c_find(web: WebArchive, view: str, level: str, **keys: Any) -> list[Dataset]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(identifier, keyword, value)
    ext_neg = view_negotiation(STUDY_ROOT_FIND)  # relational queries (and the views' option)
    if VIEW_KEYS[view]:
        identifier.QueryRetrieveView = VIEW_KEYS[view]
    final, matches = web.dicom().find(identifier, STUDY_ROOT_FIND, ext_neg=ext_neg)
    assert int(final.Status) == 0, final
    return matches
