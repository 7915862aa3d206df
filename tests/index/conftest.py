"""Index fixtures: an engine per database kind, SQLite and a throwaway PostgreSQL cluster.

See ``pgcluster.py``: when the PostgreSQL binaries are absent the PostgreSQL cases are skipped; when they
are present, a failure to start the cluster is an error, never a silent skip.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pgcluster  # beside this file: pytest puts this directory on sys.path
import pytest
from sqlalchemy import Engine

from qrscp.index.database import create_engine_for, init_schema, session_factory

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_cluster() -> pgcluster.PostgresCluster:
    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.PG_BIN}")
    try:
        return pgcluster.shared_cluster()
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"cannot start PostgreSQL: {exc.stderr}")


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    """An empty database of each kind: a SQLite file, a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    return request.getfixturevalue("postgres_cluster").create_database()


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    """An index engine with the schema migrated to head."""
    engine = create_engine_for(database_url)
    init_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)
