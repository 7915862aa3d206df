"""The whole archive on a PostgreSQL index: store, find, get and move over the network.

Uses the index tests' throwaway cluster (tests/index/pgcluster.py); skipped when the PostgreSQL binaries
are absent.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "index"))
import pgcluster  # noqa: E402

from qrscp.status import Status  # noqa: E402
from qrscp.testing.factory import make_series  # noqa: E402

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_archive(make_archive):
    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.PG_BIN}")
    url = pgcluster.shared_cluster().create_database()
    return make_archive(lambda config: setattr(config.storage, "database_url", url))


def test_store_find_get_move_on_postgresql(postgres_archive, storage_scp):
    from qrscp.testing.network import add_peer, client_for

    client = client_for(postgres_archive)
    assert postgres_archive.engine.dialect.name == "postgresql"
    series = make_series("PET", slices=3, seed=71)
    assert [s.Status for s in client.store(series)] == [0, 0, 0]
    keys = Dataset()
    keys.QueryRetrieveLevel = "SERIES"
    keys.StudyInstanceUID = series[0].StudyInstanceUID
    keys.SeriesInstanceUID = ""
    keys.NumberOfSeriesRelatedInstances = ""
    final, matches = client.find(keys)
    assert final.Status == Status.SUCCESS
    assert [int(m.NumberOfSeriesRelatedInstances) for m in matches] == [3]
    keys.SeriesInstanceUID = series[0].SeriesInstanceUID
    del keys.NumberOfSeriesRelatedInstances
    assert len(client.get(keys).received) == 3
    dest = storage_scp("DEST")
    add_peer(postgres_archive, dest)
    assert client.move(keys, "DEST").code == Status.SUCCESS
    assert len(dest.received) == 3
