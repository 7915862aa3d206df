#!/usr/bin/env python3
"""Benchmark qrscp against Orthanc under concurrent work, side by side on loopback (issue 14, point 3).

Orthanc (``/usr/sbin/Orthanc``, Debian package) is started by the script with its own temporary
configuration: SQLite index, no storage compression, no plugins. qrscp runs ``qrscp serve`` with
``--workers 1`` and ``--workers 2``, each with ``[storage] fsync`` on (the default) and off. Every server
starts empty; DCMTK clients run with ``TCP_NODELAY=1`` and a 128 KiB maximum PDU.

All servers are started first; each phase then runs server by server (C-FIND and C-GET ``--repeat``
times, median), so that a load change on a shared machine does not favour one of them. Phases (wall
time of the whole phase):

- ingest: 4 concurrent ``storescu``, a quarter of a 500-slice 512x512 CT series each;
- C-FIND: 8 concurrent loops of 10 ``findscu`` IMAGE-level queries (the 500 instances of the series);
- C-GET: 4 concurrent ``getscu`` of the whole series;
- mixed: for ``--mixed-seconds`` (60): 2 senders (``storescu`` of 10 new 128x128 instances at a time),
  4 query loops (the C-FIND above), 2 retrievers (the C-GET above); operations per second.

Also: peak RSS of all the server's processes (supervisor and workers) during the phases, and every
C-STORE that did not get Success (a busy or locked index would show here). Targets: every phase <= 1.2x
Orthanc's time (goal <= 1.0x), RSS < 600 MB.

Usage::

    python scripts/bench_concurrency.py                         # full run (several minutes)
    python scripts/bench_concurrency.py --slices 100 --mixed-seconds 10 --configs w1,w2   # quick look
    python scripts/bench_concurrency.py --profile               # py-spy of every qrscp worker per phase
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_archive import MAX_PDU, REPO, SCU_AE, Server, free_port, wait_for_echo  # noqa: E402

from qrscp.testing.dcmtk import dcmtk_env, dcmtk_tool  # noqa: E402
from qrscp.testing.factory import make_series, write_datasets  # noqa: E402

ORTHANC = "/usr/sbin/Orthanc"
ORTHANC_AE = "ORTHANC"
QRSCP_AE = "QRSCP"
TARGET = 1.2
RSS_TARGET_MB = 600
CONFIGS = {  # name: (workers, fsync)
    "w1": (1, True), "w1-nofsync": (1, False), "w2": (2, True), "w2-nofsync": (2, False),
}


# --- data ----------------------------------------------------------------------------------------


@dataclass
class Data:
    quarters: list[Path]
    batches: list[list[Path]]  # the mixed minute's sender batches (new instances)
    study_uid: str
    series_uid: str
    slices: int


def generate(root: Path, slices: int, batches: int) -> Data:
    marker = root / f"done-{slices}-{batches}"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        series = make_series("CT", slices=slices, rows=512, columns=512, seed=7)
        for q in range(4):
            write_datasets(series[q::4], root / f"q{q}")
        meta = {"study": str(series[0].StudyInstanceUID), "series": str(series[0].SeriesInstanceUID)}
        del series
        for b in range(batches):
            small = make_series("CT", slices=10, rows=128, columns=128, seed=1000 + b)
            write_datasets(small, root / "batches" / f"b{b:04d}")
        (root / "meta.json").write_text(json.dumps(meta))
        marker.write_text("ok")
    meta = json.loads((root / "meta.json").read_text())
    batch_dirs = sorted((root / "batches").iterdir())
    return Data([root / f"q{q}" for q in range(4)], [sorted(d.iterdir()) for d in batch_dirs],
                meta["study"], meta["series"], slices)


# --- servers -------------------------------------------------------------------------------------


def start_orthanc(work: Path, move_port: int) -> Server:
    directory = work / "orthanc"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    port = free_port()
    config = {
        "Name": "bench", "StorageDirectory": str(directory / "db"), "IndexDirectory": str(directory / "db"),
        "StorageCompression": False, "DicomAet": ORTHANC_AE, "DicomPort": port, "HttpPort": free_port(),
        "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "Plugins": [],
        "DicomCheckCalledAet": False, "DicomModalities": {"bench": [SCU_AE, "127.0.0.1", move_port]},
        "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True, "DicomAlwaysAllowFind": True,
        "DicomAlwaysAllowGet": True, "DicomAlwaysAllowMove": True, "MaximumPduLength": int(MAX_PDU),
    }
    path = directory / "orthanc.json"
    path.write_text(json.dumps(config, indent=2))
    process = subprocess.Popen([ORTHANC, str(path)], stdout=subprocess.DEVNULL,
                               stderr=open(directory / "orthanc.log", "ab"), cwd=directory)
    wait_for_echo(port, ORTHANC_AE)
    return Server("Orthanc", ORTHANC_AE, port, process)


def start_qrscp(work: Path, name: str, move_port: int) -> Server:
    workers, fsync = CONFIGS[name]
    data = work / f"qrscp-{name}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    port = free_port()
    config = work / f"qrscp-{name}.toml"
    config.write_text(
        f"[server]\nae_title = \"{QRSCP_AE}\"\nmax_pdu = 262144\nmax_associations = 40\nworkers = {workers}\n"
        "[http]\nport = 0\n"
        f"[storage]\nfsync = {'true' if fsync else 'false'}\n[logging]\nlevel = \"WARNING\"\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "qrscp", "serve", "--config", str(config), "--port", str(port),
         "--bind", "127.0.0.1", "--data-dir", str(data), "--peer", f"{SCU_AE}=127.0.0.1:{move_port}"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(work / f"qrscp-{name}.log", "wb"),
    )
    wait_for_echo(port, QRSCP_AE)
    if workers > 1:  # every worker accepting, not only the first
        deadline = time.monotonic() + 120
        while len(_children(process.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
    return Server(f"qrscp {name}", QRSCP_AE, port, process)


def _children(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children()
    except psutil.Error:
        return []


# --- the work ------------------------------------------------------------------------------------


def dcmtk(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([dcmtk_tool(tool), *args], capture_output=True, text=True, timeout=1800, env=dcmtk_env())


def store(server: Server, paths: list[Path] | Path) -> int:
    """storescu; return the number of C-STOREs that did not get Success (raise when it failed outright)."""
    items = [str(p) for p in paths] if isinstance(paths, list) else ["+sd", str(paths)]
    result = dcmtk("storescu", "-v", "-pdu", MAX_PDU, "-aet", SCU_AE, "-aec", server.ae_title, "127.0.0.1",
                   str(server.port), *items)
    failed = sum(1 for line in result.stdout.splitlines() + result.stderr.splitlines()
                 if "Store Response" in line and "Success" not in line)
    if result.returncode != 0 and not failed:
        raise RuntimeError(f"storescu failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return failed


def find(server: Server, data: Data) -> None:
    result = dcmtk("findscu", "-S", "-pdu", MAX_PDU, "-aet", SCU_AE, "-aec", server.ae_title,
                   "-k", "QueryRetrieveLevel=IMAGE", "-k", f"StudyInstanceUID={data.study_uid}",
                   "-k", f"SeriesInstanceUID={data.series_uid}", "-k", "SOPInstanceUID", "-k", "InstanceNumber",
                   "127.0.0.1", str(server.port))
    if result.returncode != 0:
        raise RuntimeError(f"findscu failed: {result.stderr[-1000:]}")


def get(server: Server, data: Data, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    result = dcmtk("getscu", "-S", "-pdu", MAX_PDU, "-aet", SCU_AE, "-aec", server.ae_title, "-od", str(out),
                   "-k", "QueryRetrieveLevel=SERIES", "-k", f"StudyInstanceUID={data.study_uid}",
                   "-k", f"SeriesInstanceUID={data.series_uid}", "127.0.0.1", str(server.port))
    received = sum(1 for _ in out.iterdir())
    if result.returncode != 0 or received != data.slices:
        raise RuntimeError(f"getscu: {received} of {data.slices} received: {result.stderr[-1000:]}")


def concurrently(tasks: list[Callable[[], object]]) -> float:
    """Run the tasks in threads at once; return the wall time (raise the first error)."""
    errors: list[BaseException] = []

    def wrap(task: Callable[[], object]) -> None:
        try:
            task()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(task,)) for task in tasks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def mixed(server: Server, data: Data, work: Path, seconds: float, batches: list[list[Path]]) -> dict[str, float]:
    """2 senders, 4 query loops, 2 retrievers for `seconds`; operations per second of each kind."""
    done: Counter = Counter()
    failed = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    queue = list(batches)

    def sender() -> None:
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                batch = queue.pop()
            bad = store(server, batch)
            with lock:
                done["store"] += 1
                failed[0] += bad

    def querier() -> None:
        while time.monotonic() < deadline:
            find(server, data)
            with lock:
                done["find"] += 1

    def retriever(index: int) -> None:
        while time.monotonic() < deadline:
            get(server, data, work / f"mixed-get{index}")
            with lock:
                done["get"] += 1

    elapsed = concurrently([sender, sender, querier, querier, querier, querier,
                            lambda: retriever(0), lambda: retriever(1)])
    rates = {kind: done[kind] / elapsed for kind in ("store", "find", "get")}
    rates["all"] = sum(done.values()) / elapsed
    rates["failed stores"] = failed[0]
    return rates


def start_profiles(server: Server, work: Path, phase: str) -> list[subprocess.Popen]:
    if not server.name.startswith("qrscp") or shutil.which("py-spy") is None:
        return []
    pids = [p.pid for p in _children(server.process.pid)] or [server.process.pid]
    safe = server.name.replace(" ", "-")
    return [subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "100", "-o",
                              str(work / f"profile-{safe}-{phase}-{pid}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in pids]


def stop_profiles(spies: list[subprocess.Popen]) -> None:
    import signal

    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        spy.wait(timeout=120)


def _phases(data: Data, work: Path) -> dict[str, Callable[[Server, list[int]], list[Callable[[], object]]]]:
    """The timed phases: name -> (server, failed-store counter) -> the concurrent tasks."""

    def send(server: Server, quarter: Path, failed: list[int]) -> None:
        failed[0] += store(server, quarter)

    safe = lambda server: server.name.replace(" ", "-")  # noqa: E731
    return {
        "ingest": lambda server, failed: [lambda q=q: send(server, q, failed) for q in data.quarters],
        "C-FIND": lambda server, failed: [lambda: [find(server, data) for _ in range(10)] for _ in range(8)],
        "C-GET": lambda server, failed: [lambda i=i: get(server, data, work / f"get-{safe(server)}-{i}") for i in range(4)],
    }


def measure_all(servers: list[Server], data: Data, work: Path, seconds: float, batches: list[list[list[Path]]],
                repeat: int, profile: bool) -> dict[str, dict[str, float]]:
    """Every phase server by server (interleaved, so that a load change on a shared machine favours none);
    C-FIND and C-GET `repeat` times (median); then each server's mixed run."""
    results: dict[str, dict[str, float]] = {s.name: {} for s in servers}
    failed = {s.name: [0] for s in servers}
    stops = {s.name: s.sample_rss() for s in servers}
    for name, tasks in _phases(data, work).items():
        times: dict[str, list[float]] = {s.name: [] for s in servers}
        for round_ in range(1 if name == "ingest" else repeat):
            for server in servers:
                print(f"  {name} round {round_ + 1}: {server.name} ...", flush=True)
                spies = start_profiles(server, work, name) if profile else []
                times[server.name].append(concurrently(tasks(server, failed[server.name])))
                stop_profiles(spies)
        for server in servers:
            results[server.name][name] = statistics.median(times[server.name])
    for server, own in zip(servers, batches):
        print(f"  mixed {seconds:.0f} s: {server.name} ...", flush=True)
        spies = start_profiles(server, work, "mixed") if profile else []
        rates = mixed(server, data, work, seconds, own)
        stop_profiles(spies)
        results[server.name].update({f"mixed {k}": v for k, v in rates.items()})
        results[server.name]["failed stores"] = failed[server.name][0] + rates["failed stores"]
    for server in servers:
        results[server.name]["RSS MB"] = stops[server.name]() / 2**20
    return results


# --- report --------------------------------------------------------------------------------------


def print_table(results: dict[str, dict[str, float]], data: Data, seconds: float) -> None:
    reference = results.get("Orthanc")
    names = list(results)
    print(f"\n{data.slices}-slice 512x512 CT series; mixed: {seconds:.0f} s. Times in s (lower is better), "
          f"ops/s (higher is better); ratio = qrscp / Orthanc time, Orthanc / qrscp rate.")
    header = f"{'phase':<16}" + "".join(f"{n:>20}" for n in names)
    print(header)
    print("-" * len(header))
    for key in ("ingest", "C-FIND", "C-GET"):
        row = f"{key + ' (s)':<16}"
        for name in names:
            value = results[name][key]
            ratio = f" {value / reference[key]:.2f}x" if reference and name != "Orthanc" else ""
            row += f"{f'{value:.2f}{ratio}':>20}"
        print(row)
    for key in ("mixed all", "mixed store", "mixed find", "mixed get"):
        row = f"{key + ' /s':<16}"
        for name in names:
            value = results[name][key]
            ratio = f" {reference[key] / value:.2f}x" if reference and name != "Orthanc" and value else ""
            row += f"{f'{value:.2f}{ratio}':>20}"
        print(row)
    print(f"{'peak RSS MB':<16}" + "".join(f"{results[n]['RSS MB']:>20.0f}" for n in names))
    print(f"{'failed stores':<16}" + "".join(f"{results[n]['failed stores']:>20.0f}" for n in names))
    print(f"{'busy retries':<16}" + "".join(f"{results[n].get('index busy retries', 0):>20.0f}" for n in names)
          + "   (index commits retried after 'database is locked'/busy)")
    print(f"targets: every phase <= {TARGET}x Orthanc (goal <= 1.0x), qrscp RSS (all processes) < {RSS_TARGET_MB} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/qrscp-bench-concurrency"))
    parser.add_argument("--slices", type=int, default=500)
    parser.add_argument("--mixed-seconds", type=float, default=60.0)
    parser.add_argument("--configs", default="w1,w2,w1-nofsync,w2-nofsync", help=f"qrscp runs among {list(CONFIGS)}")
    parser.add_argument("--no-orthanc", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the C-FIND and C-GET phases (median)")
    parser.add_argument("--profile", action="store_true", help="py-spy record of every qrscp worker per phase")
    args = parser.parse_args(argv)
    for tool in ("storescu", "findscu", "getscu", "echoscu"):
        if dcmtk_tool(tool) is None:
            print(f"DCMTK {tool} not found", file=sys.stderr)
            return 2
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"generating data in {args.work / 'data'} ...", flush=True)
    batches_per_run = max(20, int(args.mixed_seconds * 2))
    runs = ([] if args.no_orthanc else ["Orthanc"]) + args.configs.split(",")
    data = generate(args.work / "data", args.slices, batches_per_run * len(runs))
    move_port = free_port()
    servers: list[Server] = []
    try:
        for name in runs:  # all started (empty) before any work, then measured phase by phase
            servers.append(start_orthanc(args.work, move_port) if name == "Orthanc"
                           else start_qrscp(args.work, name, move_port))
        batches = [data.batches[i * batches_per_run:(i + 1) * batches_per_run] for i in range(len(runs))]
        measured = measure_all(servers, data, args.work, args.mixed_seconds, batches, args.repeat, args.profile)
    finally:
        for server in servers:
            server.stop()
    results = {("Orthanc" if name == "Orthanc" else name): measured[server.name] for name, server in zip(runs, servers)}
    for name in runs:
        if name != "Orthanc":
            log = (args.work / f"qrscp-{name}.log").read_text(errors="replace")
            results[name]["index busy retries"] = log.count("retried after OperationalError")
    print_table(results, data, args.mixed_seconds)
    if args.profile:
        print(f"\npy-spy profiles (raw, collapsed stacks): {args.work}/profile-*.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
