"""Schema creation through the shipped Alembic migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from qrscp.index.database import (
    MIGRATIONS_DIR,
    alembic_config,
    create_engine_for,
    init_schema,
)
from qrscp.index.models import Base


def test_migrated_schema_equals_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_init_schema_is_idempotent(engine):
    init_schema(engine)  # second start: nothing to do, nothing lost
    with engine.connect() as connection:
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert current == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert {"patient", "study", "series", "instance"} <= set(inspect(engine).get_table_names())


def test_sqlite_connection_settings(tmp_path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'sub' / 'index.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        # Wild card matching is case-sensitive except for person names (matched on folded columns).
        assert connection.exec_driver_sql("SELECT 'abc' LIKE 'A%'").scalar() == 0


@pytest.mark.parametrize("durable, synchronous", [(True, 2), (False, 1)])  # 2 = FULL, 1 = NORMAL
def test_sqlite_commits_are_durable_when_the_store_fsyncs(tmp_path, durable, synchronous):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'index.sqlite'}", durable=durable)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == synchronous


def test_postgresql_url_gets_psycopg_driver():
    engine = create_engine_for("postgresql://user@127.0.0.1:1/db")
    assert engine.dialect.driver == "psycopg"


def test_migrations_are_packaged():
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert any(MIGRATIONS_DIR.joinpath("versions").glob("0001_*.py"))
