"""The views on a PostgreSQL index: same answers as on SQLite, and the cross-builder claim works there too."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from sqlalchemy import func, select

from qrscp.index.models import ConversionRecord, ViewBuild
from qrscp.services.views import ViewBuilder
from qrscp.testing.factory import write_datasets
from qrscp.uids import LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, STUDY_ROOT_FIND, View
from qrscp.testing.network import client_for
from tests.views.conftest import ZZZ_STUDY_UID, view_negotiation, zzzb_datasets



def _pgcluster():
    """The index tests' throwaway-cluster helper, shared with them when already imported (one cluster)."""
    if "pgcluster" in sys.modules:
        return sys.modules["pgcluster"]
    path = Path(__file__).resolve().parent.parent / "index" / "pgcluster.py"
    spec = importlib.util.spec_from_file_location("pgcluster", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["pgcluster"] = module
    spec.loader.exec_module(module)
    return module


pgcluster = _pgcluster()
pytestmark = pytest.mark.postgres


@pytest.fixture
def postgresql_archive(archive_config, tmp_path):
    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.PG_BIN}")
    from qrscp.app import Archive

    archive_config.storage.database_url = pgcluster.shared_cluster().create_database()
    server = Archive(archive_config)
    server.start()
    try:
        statuses = client_for(server).store(write_datasets(zzzb_datasets(), tmp_path / "zzzb"))
        assert all(int(s.Status) == 0 for s in statuses)
        yield server
    finally:
        server.stop()


def _study(client, view: str) -> Dataset:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = ZZZ_STUDY_UID
    identifier.QueryRetrieveView = view
    identifier.NumberOfStudyRelatedSeries = None
    identifier.NumberOfStudyRelatedInstances = None
    identifier.SOPClassesInStudy = None
    status, matches = client.find(identifier, STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_FIND))
    assert status.Status == 0 and len(matches) == 1
    return matches[0]


def test_views_on_postgresql(postgresql_archive):
    server = postgresql_archive
    builders = [ViewBuilder(server.config, server.sessions, server.file_store, server.storage) for _ in range(2)]
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = ZZZ_STUDY_UID
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def build(builder: ViewBuilder) -> None:
        try:
            barrier.wait()
            builder.ensure(None, identifier, View.ENHANCED)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(b,)) for b in builders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(b.generations_built for b in builders) == 1

    client = client_for(server)
    enhanced = _study(client, "ENHANCED")
    classic = _study(client, "CLASSIC")
    assert (int(enhanced.NumberOfStudyRelatedSeries), int(enhanced.NumberOfStudyRelatedInstances)) == (2, 2)
    assert (int(classic.NumberOfStudyRelatedSeries), int(classic.NumberOfStudyRelatedInstances)) == (2, 3)
    assert LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE in list(enhanced.SOPClassesInStudy)
    with server.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ViewBuild)) == 2
        assert session.scalar(select(func.count()).select_from(ConversionRecord)) == 2
