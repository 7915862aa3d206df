"""``qrscp serve --workers 2``: one port, two worker processes, limits that count every worker (issue 14, point 1).

Real ``qrscp serve`` processes on loopback, pynetdicom and raw TCP peers as clients.
"""

from __future__ import annotations

import re
import socket
import threading

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification
from workerprocs import SETTLE, listening, wait_until, workers_of

from qrscp.net.access import REASON_LOCAL_LIMIT_EXCEEDED, REJECTED_TRANSIENT, SOURCE_SERVICE_PROVIDER_PRESENTATION
from qrscp.status import Status
from qrscp.testing.network import client_for

pytestmark = [pytest.mark.slow, pytest.mark.network, pytest.mark.timeout(180)]

WORKERS = 2


def _config(tmp_path, text: str) -> str:
    path = tmp_path / "workers.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _associate(port: int, ae_title: str = "QRSCP"):
    ae = AE(ae_title="PYTEST")
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.network_timeout = 20
    return ae.associate("127.0.0.1", port, ae_title=ae_title)


def test_workers_share_one_port_and_name_themselves_in_every_log_line(serve_process, tmp_path):
    # Room for all 12 at once: on a loaded machine they overlap, and the default limit (10) would refuse some.
    config = _config(tmp_path, "[server]\nmax_associations = 16\n")
    serve = serve_process("--workers", str(WORKERS), "--config", config)
    workers = workers_of(serve.process.pid)
    assert len(workers) == WORKERS
    statuses: list[int] = []
    lock = threading.Lock()

    def echo() -> None:
        status = client_for(serve).echo()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=echo) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SETTLE)
    assert statuses == [Status.SUCCESS] * 12
    assert serve.terminate() == 0
    assert not any(p.is_running() and p.status() != "zombie" for p in workers)
    lines = [line for line in serve.log().splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert lines and all(re.search(r"\[(worker \d+|supervisor) pid \d+\]", line) for line in lines), lines[:5]
    accepted_by = {m.group(1) for line in lines if (m := re.search(r"\[(worker \d+) pid.*association accepted", line))}
    listening_workers = {m.group(1) for line in lines if (m := re.search(r"\[(worker \d+) pid.*listening on", line))}
    assert listening_workers == {"worker 1", "worker 2"}
    print(f"\n[workers] 12 concurrent C-ECHO accepted by {sorted(accepted_by)}")
    for number in (1, 2):
        assert f"worker {number} (pid {workers[number - 1].pid}) stopped (exit code 0)" in serve.log()


def _hold_on(worker, others, port: int, count: int) -> list:
    """Open `count` associations that `worker` accepts (the other workers are stopped meanwhile)."""
    for other in others:
        other.suspend()
    try:
        held = [_associate(port) for _ in range(count)]
    finally:
        for other in others:
            other.resume()
    assert all(assoc.is_established for assoc in held)
    return held


def test_max_associations_counts_the_associations_of_every_worker(serve_process, tmp_path):
    config = _config(tmp_path, "[server]\nmax_associations = 4\n")
    serve = serve_process("--workers", str(WORKERS), "--config", config)
    first, second = workers_of(serve.process.pid)
    # Two associations on each worker (SIGSTOP keeps the other from accepting): each worker alone
    # holds fewer than max_associations, together they hold it.
    held = _hold_on(first, [second], serve.port, 2) + _hold_on(second, [first], serve.port, 2)
    try:
        for _ in range(4):
            extra = _associate(serve.port)
            assert extra.is_rejected
            assert (extra.acceptor.primitive.result, extra.acceptor.primitive.result_source,
                    extra.acceptor.primitive.diagnostic) == (
                REJECTED_TRANSIENT, SOURCE_SERVICE_PROVIDER_PRESENTATION, REASON_LOCAL_LIMIT_EXCEEDED)
        held.pop().release()
        # The released association no longer counts, whichever worker had it and whichever gets the next.
        assert wait_until(lambda: (a := _associate(serve.port)).is_established and (held.append(a) or True))
        log = serve.log()
        holders = {m.group(1) for m in re.finditer(r"\[(worker \d+) pid \d+\] qrscp.net: PYTEST@\S+: association accepted", log)}
        assert holders == {"worker 1", "worker 2"}
        rejecters = set(re.findall(r"\[(worker \d+) pid \d+\] qrscp.net: PYTEST@\S+ association rejected", log))
        print(f"\n[workers] 2 associations held on each of 2 workers (max 4); 4 more rejected by {sorted(rejecters)}")
    finally:
        for assoc in held:
            assoc.release()
    assert serve.terminate() == 0


def test_allow_lists_hold_in_every_worker(serve_process, tmp_path):
    from qrscp.net.access import REASON_CALLING_AE_TITLE_NOT_RECOGNISED, REJECTED_PERMANENT, SOURCE_SERVICE_USER

    config = _config(tmp_path, '[access]\nallowed_calling_ae_titles = ["GOOD", "PYTEST"]\n')
    serve = serve_process("--workers", str(WORKERS), "--config", config)
    good, bad = client_for(serve, calling_ae_title="GOOD"), AE(ae_title="BAD")
    bad.add_requested_context(Verification)
    for _ in range(6):
        assert good.echo() == Status.SUCCESS
        refused = bad.associate("127.0.0.1", serve.port, ae_title="QRSCP")
        assert refused.is_rejected
        primitive = refused.acceptor.primitive
        assert (primitive.result, primitive.result_source, primitive.diagnostic) == (
            REJECTED_PERMANENT, SOURCE_SERVICE_USER, REASON_CALLING_AE_TITLE_NOT_RECOGNISED)
    refusers = set(re.findall(r"\[(worker \d+) pid \d+\] qrscp.net: BAD@\S+ association rejected", serve.log()))
    print(f"\n[workers] calling AE title allow-list applied by {sorted(refusers)}")
    assert serve.terminate() == 0


def _still_open(sock) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True  # open, nothing to read
    except OSError:
        return False


def test_thirty_idle_connections_do_not_lock_out_a_c_echo(serve_process, tmp_path):
    config = _config(tmp_path, "[server]\nmax_associations = 2\nartim_timeout = 30.0\n")
    serve = serve_process("--workers", str(WORKERS), "--config", config)
    from rawpeer import RawPeer

    idle = [RawPeer(serve.port) for _ in range(30)]
    try:
        first = _associate(serve.port)
        try:
            assert first.is_established
            assert client_for(serve).echo() == Status.SUCCESS
        finally:
            first.release()
        assert all(_still_open(peer.sock) for peer in idle)  # nobody was closed to make room
    finally:
        for peer in idle:
            peer.close()
    assert serve.terminate() == 0


def test_a_worker_that_cannot_start_makes_serve_exit_1(tmp_path):
    import os
    import subprocess
    import sys

    from qrscp.testing.network import REPO_ROOT, free_port

    port = free_port()
    bad = tmp_path / "bad.toml"
    bad.write_text('[tls]\nenabled = true\ncertificate = "/nonexistent.pem"\nprivate_key = "/nonexistent.key"\n'
                   f"port = {free_port()}\n")
    result = subprocess.run(
        [sys.executable, "-m", "qrscp", "serve", "--workers", "2", "--port", str(port), "--bind", "127.0.0.1",
         "--data-dir", str(tmp_path / "data"), "--config", str(bad)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
    )
    assert result.returncode == 1, result.stderr
    assert "cannot start" in result.stderr
    assert not listening(port)
