"""A throwaway PostgreSQL cluster for the index and query tests (imported by their conftest/test modules).

Created once per test process from the Debian binaries in a temporary directory owned by the
``postgres`` system user (initdb and postgres refuse to run as root), listening on a free loopback port
and a private socket directory; stopped and removed when the process exits.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import text

from qrscp.index.database import create_engine_for

PG_BIN = Path(os.environ.get("QRSCP_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """A PostgreSQL cluster in a temporary directory, run as the ``postgres`` user when we are root."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="qrscp-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)

    def start(self) -> None:
        self.sockets.mkdir(parents=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} -c fsync=off -c full_page_writes=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """Create an empty database and return its URL."""
        name = "qrscp_" + uuid.uuid4().hex[:12]
        admin = create_engine_for(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


_shared: PostgresCluster | None = None


def available() -> bool:
    """True when the PostgreSQL server binaries are installed."""
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def shared_cluster() -> PostgresCluster:
    """The cluster of this test process, started on first use (raises CalledProcessError on failure)."""
    global _shared
    if _shared is None:
        cluster = PostgresCluster()
        try:
            cluster.start()
        except subprocess.CalledProcessError:
            cluster.stop()
            raise
        atexit.register(cluster.stop)
        _shared = cluster
    return _shared
