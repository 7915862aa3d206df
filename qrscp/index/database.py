"""Engines, schema creation and sessions of the archive index.

SQLite is the embedded default (one file, WAL so that C-FIND readers never block C-STORE writers);
PostgreSQL works through ``postgresql+psycopg://`` URLs with the same code. The schema is created and
upgraded by the Alembic migrations shipped in ``qrscp/index/migrations``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Milliseconds a SQLite writer waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine_for(url: str, *, durable: bool = True, **kwargs) -> Engine:
    """Create the engine of the index at `url`.

    Parameters
    ----------
    url : str
        An SQLAlchemy URL: ``sqlite:///path`` or ``postgresql+psycopg://user:pw@host/db``. A plain
        ``postgresql://`` URL is given the psycopg 3 driver.
    durable : bool, optional
        SQLite only: ``synchronous=FULL`` so that a committed row survives a power loss, as the
        Success of a C-STORE promises (default True); False gives ``NORMAL``, which survives a
        process crash but may lose the last commits on power loss.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.

    Returns
    -------
    sqlalchemy.Engine
        For SQLite, every connection has WAL journaling, a busy timeout, foreign keys on and
        case-sensitive LIKE (wildcard matching is case-sensitive except for person names).
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        engine = create_engine(parsed, **kwargs)
        synchronous = "FULL" if durable else "NORMAL"
        event.listen(engine, "connect", lambda connection, record: _configure_sqlite(connection, synchronous))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def _configure_sqlite(dbapi_connection, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # In WAL mode FULL fsyncs the WAL at each commit (NORMAL only at checkpoints).
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA case_sensitive_like=ON")
    finally:
        cursor.close()


def alembic_config(engine: Engine | None = None) -> AlembicConfig:
    """An Alembic configuration pointing at the shipped migrations (no alembic.ini needed)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def init_schema(engine: Engine) -> None:
    """Create the schema on first start and apply any newer migration.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The index engine, e.g. from :func:`create_engine_for`.
    """
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    log.info("index schema at head on %s", engine.url.render_as_string(hide_password=True))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory of the index; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
