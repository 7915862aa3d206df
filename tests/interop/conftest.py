"""Interop lane fixtures: one archive per module holding one MR instance per available transfer syntax.

The third-party programs (Orthanc, gdcmscu, DCMTK) are started by the tests themselves; every test here is
marked ``interop`` and ``network`` (and ``dcmtk`` for DCMTK), see ``pytest -m interop``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from qrscp.config import Config
from qrscp.testing.encoding import available_transfer_syntaxes
from qrscp.testing.factory import make_series
from qrscp.testing.network import LOCALHOST, client_for
from qrscp.uids import STUDY_ROOT_GET


@dataclass
class SyntaxArchive:
    """A running archive and, per stored transfer syntax, the instance stored in it."""

    archive: Any
    originals: dict[str, Dataset]

    def stored(self, syntax: str) -> Dataset:
        """The instance as the archive stored it (read from its file)."""
        return dcmread(self.archive.file_store.absolute(self.location(syntax).file_path))

    def location(self, syntax: str) -> Any:
        [location] = self.archive.retrieve.locate(instance_keys(self.originals[syntax]), information_model=STUDY_ROOT_GET)
        return location


def instance_keys(ds: Dataset, level: str = "IMAGE") -> Dataset:
    keys = Dataset()
    keys.QueryRetrieveLevel = level
    keys.StudyInstanceUID = ds.StudyInstanceUID
    if level in ("SERIES", "IMAGE"):
        keys.SeriesInstanceUID = ds.SeriesInstanceUID
    if level == "IMAGE":
        keys.SOPInstanceUID = ds.SOPInstanceUID
    return keys


@pytest.fixture(scope="module")
def syntax_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyntaxArchive]:
    from qrscp.app import Archive

    config = Config()
    config.server.bind_address = LOCALHOST
    config.server.port = 0
    config.storage.data_dir = tmp_path_factory.mktemp("interop")
    config.storage.fsync = False
    archive = Archive(config)
    archive.start()
    try:
        originals = {}
        for index, syntax in enumerate(available_transfer_syntaxes()):
            [ds] = make_series("MR", slices=1, seed=500 + index, transfer_syntax=syntax)
            [status] = client_for(archive).store([ds])
            assert status.Status == 0
            originals[syntax] = ds
        yield SyntaxArchive(archive, originals)
    finally:
        archive.stop(drain_timeout=10)
