"""Nothing lost when workers or their supervisor die (issue 14, point 4).

DCMTK ``storescu`` sends three series (240 instances) on three associations at once to
``qrscp serve --workers 2``; in the middle a worker holding an association is killed with SIGKILL, or the
supervisor is, or the supervisor gets SIGTERM. Every instance whose C-STORE was acknowledged is kept: in
the index, in the store (no file without row, no row without file, no temporary left), found by C-FIND
and retrieved by C-GET byte for byte. Figures are printed (``-s``).
"""

from __future__ import annotations

import os
import re
import signal
import threading

import psutil
import pytest
from workerprocs import (
    SETTLE,
    StorescuRun,
    check_kept,
    established_on,
    index_paths,
    listening,
    make_ingest,
    store_files,
    temporaries,
    wait_until,
    workers_of,
)

from qrscp.testing.dcmtk import dcmtk_tool
from qrscp.testing.network import client_for

pytestmark = [pytest.mark.dcmtk, pytest.mark.slow, pytest.mark.network, pytest.mark.timeout(300)]

WORKERS = "2"
KILL_AFTER = 40


@pytest.fixture(scope="module")
def ingest(tmp_path_factory):
    if dcmtk_tool("storescu") is None:
        pytest.skip("DCMTK storescu not installed")
    return make_ingest(tmp_path_factory.mktemp("ingest"), (("CT", 71), ("MR", 72), ("PET", 73)), slices=80)


def _send_and(serve, ingest, action) -> tuple[StorescuRun, list[int]]:
    """Send the ingest; call `action()` once KILL_AFTER instances were acknowledged."""
    run = StorescuRun()

    def act() -> None:
        if run.reached.wait(timeout=180):
            action()

    actor = threading.Thread(target=act)
    actor.start()
    codes = run.send(serve.port, serve.ae_title, ingest.directories, signal_after=KILL_AFTER)
    run.reached.set()
    actor.join()
    return run, codes


def test_kill_9_of_a_worker_mid_ingest_replaces_it_and_keeps_every_acknowledged_instance(serve_process, tmp_path, ingest):
    data_dir = tmp_path / "data"
    serve = serve_process("--workers", WORKERS, "--data-dir", str(data_dir))
    victim: list[psutil.Process] = []

    def kill_a_busy_worker() -> None:
        busy = [p for p in workers_of(serve.process.pid) if established_on(p, serve.port)]
        victim.append(busy[0])
        busy[0].kill()

    run, codes = _send_and(serve, ingest, kill_a_busy_worker)
    assert victim, "no worker held an association"
    acknowledged = set(run.acknowledged)
    assert any(code != 0 for code in codes), "the killed worker's association did not fail"
    assert KILL_AFTER <= len(acknowledged) < len(ingest.dataset_bytes)
    death = re.compile(rf"worker (\d) \(pid {victim[0].pid}\) died \(signal SIGKILL\) after [\d.]+ s holding (\d+) association")
    assert wait_until(lambda: death.search(serve.log()) is not None, timeout=SETTLE), serve.log()[-2000:]
    died = death.search(serve.log())
    assert int(died.group(2)) >= 1
    assert wait_until(lambda: len(workers_of(serve.process.pid)) == 2, timeout=SETTLE)
    assert victim[0].pid not in {p.pid for p in workers_of(serve.process.pid)}
    # The replacement recovered the killed worker's writes in flight before it accepted associations.
    accepting = re.compile(rf"worker {died.group(1)} \(pid \d+\) accepting associations")
    assert wait_until(lambda: accepting.search(serve.log().split(died.group(0), 1)[1]) is not None, timeout=SETTLE)
    assert temporaries(data_dir) == []

    client = client_for(serve)
    figures = check_kept(client, data_dir, ingest, acknowledged)
    print(f"\n[workers] kill -9 of worker {died.group(1)} holding {died.group(2)} association(s) after "
          f"{KILL_AFTER}: acknowledged {len(acknowledged)}, lost 0, stored unacknowledged "
          f"{figures['stored_unacknowledged']}, storescu exit codes {codes}")
    resend = StorescuRun()
    assert resend.send(serve.port, serve.ae_title, ingest.directories) == [0, 0, 0], resend.outputs
    assert set(index_paths(data_dir)) == set(ingest.dataset_bytes)
    assert serve.terminate() == 0
    assert temporaries(data_dir) == []
    assert set(index_paths(data_dir).values()) == store_files(data_dir)


def test_kill_9_of_the_supervisor_leaves_no_worker_and_loses_nothing(serve_process, tmp_path, ingest):
    data_dir = tmp_path / "data"
    serve = serve_process("--workers", WORKERS, "--data-dir", str(data_dir))
    workers = workers_of(serve.process.pid)
    assert len(workers) == 2
    run, codes = _send_and(serve, ingest, serve.process.kill)
    assert serve.process.wait(timeout=30) == -signal.SIGKILL
    # The workers stop on their own (PR_SET_PDEATHSIG / the closed channel): none is left listening.
    gone, alive = psutil.wait_procs(workers, timeout=SETTLE)
    assert not alive, f"orphan workers: {[p.pid for p in alive]}"
    assert not listening(serve.port)
    acknowledged = set(run.acknowledged)
    assert KILL_AFTER <= len(acknowledged) < len(ingest.dataset_bytes)
    assert any(code != 0 for code in codes)

    restarted = serve_process("--workers", WORKERS, "--data-dir", str(data_dir))
    assert temporaries(data_dir) == []
    figures = check_kept(client_for(restarted), data_dir, ingest, acknowledged)
    print(f"\n[workers] kill -9 of the supervisor after {KILL_AFTER}: workers gone, acknowledged "
          f"{len(acknowledged)}, lost 0, stored unacknowledged {figures['stored_unacknowledged']}")
    resend = StorescuRun()
    assert resend.send(restarted.port, restarted.ae_title, ingest.directories) == [0, 0, 0], resend.outputs
    assert set(index_paths(data_dir)) == set(ingest.dataset_bytes)
    assert restarted.terminate() == 0


def test_sigterm_lets_every_worker_finish_its_stores_and_exits_0(serve_process, tmp_path, ingest):
    data_dir = tmp_path / "data"
    serve = serve_process("--workers", WORKERS, "--data-dir", str(data_dir))
    workers = workers_of(serve.process.pid)
    run, codes = _send_and(serve, ingest, lambda: os.kill(serve.process.pid, signal.SIGTERM))
    assert serve.process.wait(timeout=120) == 0
    gone, alive = psutil.wait_procs(workers, timeout=SETTLE)
    assert not alive
    log = serve.log()
    for worker in workers:
        assert re.search(rf"worker \d \(pid {worker.pid}\) stopped \(exit code 0\)", log), log[-3000:]
    assert "still in flight" not in log
    assert not listening(serve.port)
    acknowledged = set(run.acknowledged)
    indexed = index_paths(data_dir)
    assert acknowledged <= set(indexed)
    assert set(indexed.values()) == store_files(data_dir)
    assert temporaries(data_dir) == []
    for uid, path in indexed.items():
        from qrscp.dicom.part10 import split_part10

        assert split_part10((data_dir / "store" / path).read_bytes())[1] == ingest.dataset_bytes[uid]
    print(f"\n[workers] SIGTERM after {KILL_AFTER}: exit 0, acknowledged {len(acknowledged)}, indexed "
          f"{len(indexed)}, storescu exit codes {codes}")
