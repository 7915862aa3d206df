"""Concurrent load on a ``qrscp serve`` process (issue 6, point 6; issue 14, point 4).

20 clients at once, each one association per operation, mix C-STORE (new instances), C-FIND (study and
series level) and C-GET (a 4-instance study) for a bounded time, on SQLite (WAL, busy timeout) and on
PostgreSQL: no failed operation (a deadlock or a lock timeout would surface as one), every stored
instance indexed once, the server's RSS flat (``/proc/<pid>/status`` VmRSS after a warm-up and at the
end) and its thread count back to where it was. The server runs the default worker count (one per CPU):
RSS and threads are summed over the supervisor and its workers. 20 s here; ``QRSCP_LOAD_SECONDS=60`` for
the minute of issue 14. Figures are printed (``-s``).

Two servers on one index and store ingesting the same study: tests/reliability/test_shared_store.py.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from rawpeer import wait_until

from qrscp.status import Status
from qrscp.testing.factory import make_series
from qrscp.testing.network import client_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CLIENTS = 20
#: 20 s in the suite; QRSCP_LOAD_SECONDS=60 for the long run of issue 14.
LOAD_SECONDS = float(os.environ.get("QRSCP_LOAD_SECONDS", "20"))
#: Generous bound on RSS growth over the run: caches warm up, a leak per association would not fit.
RSS_GROWTH_LIMIT_KB = 96 * 1024
BASE_SLICES = 4
KINDS = ("store", "find", "get")


def proc_status(pid: int, key: str) -> int:
    """A numeric field of /proc/<pid>/status (VmRSS in kB, Threads)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def tree_status(pid: int, key: str) -> int:
    """:func:`proc_status` summed over the server and its worker processes (``qrscp serve --workers``)."""
    import psutil

    pids = [pid, *(child.pid for child in psutil.Process(pid).children())]
    return sum(proc_status(p, key) for p in pids)


@dataclass
class LoadRun:
    done: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _find(client, level: str, **keys) -> tuple[int, int]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(identifier, keyword, value)
    final, matches = client.find(identifier)
    return int(final.get("Status", -1)), len(matches)


def _worker(index: int, server, base: list[Dataset], deadline: float, run: LoadRun) -> None:
    client = client_for(server, calling_ae_title=f"LOAD{index:02d}")
    study_uid = base[0].StudyInstanceUID
    template = base[index % len(base)]
    series_uid = generate_uid()
    operation = index
    while time.monotonic() < deadline:
        kind = KINDS[operation % len(KINDS)]
        operation += 1
        try:
            if kind == "store":
                ds = copy.deepcopy(template)  # Dataset.copy() would share elements with the base series
                ds.SeriesInstanceUID = series_uid
                ds.SOPInstanceUID = generate_uid()
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                status = int(client.store([ds])[0].Status)
                ok = status == Status.SUCCESS
                if ok:
                    with run.lock:
                        run.stored.append(ds.SOPInstanceUID)
            elif kind == "find":
                status, count = _find(client, "SERIES", StudyInstanceUID=study_uid, SeriesInstanceUID="")
                ok = status == Status.SUCCESS and count >= 1
            else:
                identifier = Dataset()
                identifier.QueryRetrieveLevel = "SERIES"
                identifier.StudyInstanceUID = study_uid
                identifier.SeriesInstanceUID = base[0].SeriesInstanceUID
                result = client.get(identifier)
                status = result.code
                ok = status == Status.SUCCESS and len(result.received) == BASE_SLICES
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the other clients
            ok, status = False, f"{type(exc).__name__}: {exc}"
        with run.lock:
            if ok:
                run.done[kind] += 1
            else:
                run.errors.append(f"client {index} {kind}: {status}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def load_server(request, serve_process, tmp_path):
    """``qrscp serve`` with the default worker count (one per CPU), its processes' RSS and threads summed."""
    config = tmp_path / "load.toml"
    config.write_text(
        "[server]\nmax_associations = 40\ndimse_timeout = 60.0\n\n[storage]\nfsync = false\n", encoding="utf-8"
    )
    extra = ["--config", str(config), "--log-level", "WARNING"]
    if request.param == "postgresql":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "index"))
        import pgcluster

        if not pgcluster.available():
            pytest.skip(f"PostgreSQL binaries not found in {pgcluster.PG_BIN}")
        extra += ["--database-url", pgcluster.shared_cluster().create_database()]
    return request.param, serve_process(*extra)


def test_twenty_concurrent_clients_mixing_store_find_get(load_server, capsys):
    database, server = load_server
    pid = server.process.pid
    base = make_series("CT", slices=BASE_SLICES, rows=64, columns=64, seed=61)
    client = client_for(server)
    assert all(int(s.Status) == Status.SUCCESS for s in client.store(base))
    # Warm-up: one of each operation, so that the first-use caches are not counted as growth.
    warm = LoadRun()
    _worker(0, server, base, time.monotonic() + 2.0, warm)
    assert not warm.errors, warm.errors
    rss_before = tree_status(pid, "VmRSS")
    threads_before = tree_status(pid, "Threads")

    run = LoadRun()
    deadline = time.monotonic() + LOAD_SECONDS
    workers = [threading.Thread(target=_worker, args=(i, server, base, deadline, run)) for i in range(CLIENTS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=LOAD_SECONDS + 120)
    assert not any(worker.is_alive() for worker in workers), "a client hung (deadlock?)"
    assert wait_until(lambda: tree_status(pid, "Threads") <= threads_before, timeout=30.0)
    rss_after = tree_status(pid, "VmRSS")

    with capsys.disabled():
        print(
            f"\nload ({database}): {CLIENTS} clients for {LOAD_SECONDS:.0f} s: {dict(run.done)} "
            f"({sum(run.done.values()) / LOAD_SECONDS:.0f} operations/s), errors {len(run.errors)}; "
            f"RSS {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB after; "
            f"threads {threads_before} before, {tree_status(pid, 'Threads')} after"
        )
    assert not run.errors, run.errors[:10]
    assert all(run.done[kind] > 0 for kind in KINDS), run.done
    assert rss_after - rss_before < RSS_GROWTH_LIMIT_KB
    # Every acknowledged store is indexed exactly once.
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = base[0].StudyInstanceUID
    identifier.NumberOfStudyRelatedInstances = ""
    final, (match,) = client.find(identifier)
    assert int(final.Status) == Status.SUCCESS
    assert int(match.NumberOfStudyRelatedInstances) == BASE_SLICES + len(warm.stored) + len(run.stored)
    assert len(set(run.stored)) == len(run.stored)
    assert client.echo() == Status.SUCCESS
