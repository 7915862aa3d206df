#!/usr/bin/env python3
"""Benchmark qrscp against DCMTK's dcmqrscp on the same work, side by side on loopback.

Work (issue 3, Performance):

- ingest: DCMTK ``storescu`` sends 1,000+ instances (a 500-slice 512x512 CT series and other studies);
- C-FIND: IMAGE level, Study Root, returning the 500 instances of the CT series (``findscu``);
- C-GET: the 500-slice series (``getscu``);
- C-MOVE: the 500-slice series to ``movescu`` itself as destination;
- server RSS while ingesting (qrscp: the server process; dcmqrscp: parent and forked children).

Every DCMTK program, dcmqrscp included, runs with ``TCP_NODELAY=1`` (without it each DIMSE message waits
for a delayed ACK) and a 128 KiB maximum PDU. Each measurement is repeated ``--repeat`` times and the
median is reported, with qrscp's time over dcmqrscp's; each ingest goes into freshly started, empty
servers. Targets: ingest <= 1.5x, C-FIND <= 3x,
C-GET and C-MOVE <= 2.5x.

Usage::

    python scripts/bench_archive.py                # full run (about a minute of data generation)
    python scripts/bench_archive.py --slices 100 --other 100 --repeat 1   # quick look
    python scripts/bench_archive.py --profile      # also record py-spy profiles of qrscp (needs py-spy)
    python scripts/bench_archive.py --combined     # also qrscp with command and data set in one PDU
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from pydicom import dcmread

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qrscp.testing.dcmtk import dcmtk_env, dcmtk_tool  # noqa: E402
from qrscp.testing.factory import PatientSpec, make_series, write_datasets  # noqa: E402

MAX_PDU = "131072"
SCU_AE = "BENCHSCU"
DCMQRSCP_AE = "DCMQRSCP"
QRSCP_AE = "QRSCP"
TARGETS = {"ingest": 1.5, "C-FIND": 3.0, "C-GET": 2.5, "C-MOVE": 2.5}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(tool: str, *args: str, timeout: float = 1800) -> float:
    """Run a DCMTK program; return its wall time in seconds (raise on failure)."""
    started = time.perf_counter()
    result = subprocess.run(
        [dcmtk_tool(tool) or tool, *args], capture_output=True, text=True, timeout=timeout, env=dcmtk_env()
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{tool} {' '.join(args[:6])}... failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def wait_for_echo(port: int, ae_title: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = subprocess.run(
            [dcmtk_tool("echoscu"), "-to", "2", "-aec", ae_title, "127.0.0.1", str(port)],
            capture_output=True, env=dcmtk_env(),
        )
        if result.returncode == 0:
            return
        threading.Event().wait(0.2)
    raise RuntimeError(f"{ae_title} on port {port} did not answer C-ECHO")


# --- data ----------------------------------------------------------------------------------------


@dataclass
class BenchData:
    directory: Path
    study_uid: str
    series_uid: str
    slices: int
    total: int


def generate(directory: Path, slices: int, other: int) -> BenchData:
    """Write the CT series and `other` further instances (small MR series of other patients), cached."""
    marker = directory.parent / f"{directory.name}-done-{slices}-{other}"  # storescu scans the data dir
    ct_dir = directory / "ct"
    if not marker.exists():
        shutil.rmtree(directory, ignore_errors=True)
        ct = make_series("CT", slices=slices, rows=512, columns=512, seed=1)
        write_datasets(ct, ct_dir)
        del ct
        per_series = 21
        index = 0
        while index * per_series < other:
            count = min(per_series, other - index * per_series)
            mr = make_series("MR", slices=count, rows=256, columns=256, seed=100 + index,
                             patient=PatientSpec.from_seed(100 + index))
            write_datasets(mr, directory / f"mr{index:03d}")
            index += 1
        marker.write_text("ok")
    first = dcmread(sorted(ct_dir.iterdir())[0], stop_before_pixels=True)
    total = sum(1 for _ in directory.rglob("*.dcm"))
    return BenchData(directory, str(first.StudyInstanceUID), str(first.SeriesInstanceUID), slices, total)


# --- servers -------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    ae_title: str
    port: int
    process: subprocess.Popen
    rss_peak: int = 0
    _sampling: bool = field(default=False, repr=False)

    def rss(self) -> int:
        try:
            proc = psutil.Process(self.process.pid)
            return proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            return 0

    def sample_rss(self) -> Callable[[], int]:
        """Start sampling RSS every 0.1 s; the returned function stops and gives the peak."""
        self._sampling = True
        peak = [self.rss()]

        def loop() -> None:
            stop = threading.Event()
            while self._sampling:
                peak[0] = max(peak[0], self.rss())
                stop.wait(0.1)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()

        def finish() -> int:
            self._sampling = False
            thread.join()
            return peak[0]

        return finish

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_dcmqrscp(work: Path, move_port: int) -> Server:
    db = work / "dcmqrscp-db"
    shutil.rmtree(db, ignore_errors=True)
    db.mkdir(parents=True)
    port = free_port()
    config = work / "dcmqrscp.cfg"
    config.write_text(
        f"NetworkTCPPort = {port}\nMaxPDUSize = {MAX_PDU}\nMaxAssociations = 16\n"
        "HostTable BEGIN\n"
        f"benchscu = ({SCU_AE}, 127.0.0.1, {move_port})\n"
        "HostTable END\n"
        "VendorTable BEGIN\nVendorTable END\n"
        "AETable BEGIN\n"
        f"{DCMQRSCP_AE} {db} RW (5000, 4096mb) ANY\n"
        "AETable END\n"
    )
    process = subprocess.Popen(
        [dcmtk_tool("dcmqrscp"), "-c", str(config), str(port)],
        env=dcmtk_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_echo(port, DCMQRSCP_AE)
    return Server("dcmqrscp", DCMQRSCP_AE, port, process)


def start_qrscp(work: Path, move_port: int, fsync: bool, combined: bool = False) -> Server:
    label = ("fsync" if fsync else "nofsync") + ("-combined" if combined else "")
    data = work / f"qrscp-data-{label}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    port = free_port()
    config = work / f"qrscp-{label}.toml"
    config.write_text(
        f"[server]\nae_title = \"{QRSCP_AE}\"\nmax_pdu = 262144\n"
        f"command_and_data_in_one_pdu = {'true' if combined else 'false'}\n"
        f"[storage]\nfsync = {'true' if fsync else 'false'}\n"
        "[logging]\nlevel = \"WARNING\"\n"
        "[http]\nport = 0\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "qrscp", "serve", "--config", str(config), "--port", str(port),
         "--bind", "127.0.0.1", "--data-dir", str(data), "--peer", f"{SCU_AE}=127.0.0.1:{move_port}"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(work / "qrscp.log", "ab"),
    )
    wait_for_echo(port, QRSCP_AE)
    return Server("qrscp" + (" (fsync)" if fsync else "") + (" (combined PDUs)" if combined else ""),
                  QRSCP_AE, port, process)


# --- the work ------------------------------------------------------------------------------------


def ingest(server: Server, data: BenchData) -> float:
    stop = server.sample_rss()
    try:
        return run("storescu", "-pdu", MAX_PDU, "-aet", SCU_AE, "-aec", server.ae_title, "+sd", "+r",
                   "127.0.0.1", str(server.port), str(data.directory))
    finally:
        server.rss_peak = stop()


def ingest_rounds(starters: list[tuple[str, Callable[[], Server]]], data: BenchData, repeat: int,
                  servers: list[Server]) -> tuple[dict[str, float], dict[str, int]]:
    """Ingest into freshly started, empty servers `repeat` times, server by server in each round.

    Returns the median ingest time and the peak RSS (over the rounds) of each server. The servers of the
    last round are left running in `servers` (filled in place, so the caller stops them on any error)
    for the retrieve work.
    """
    times: dict[str, list[float]] = {name: [] for name, _ in starters}
    rss: dict[str, int] = {name: 0 for name, _ in starters}
    for round_ in range(repeat):
        for server in servers:
            server.stop()
        servers.clear()
        for name, start in starters:
            servers.append(start())  # each start wipes its store and index
        for server in servers:
            print(f"  ingest round {round_ + 1}/{repeat} into {server.name} ...", flush=True)
            times[server.name].append(ingest(server, data))
            rss[server.name] = max(rss[server.name], server.rss_peak)
    return {name: statistics.median(values) for name, values in times.items()}, rss


def c_find(server: Server, data: BenchData) -> float:
    return run("findscu", "-q", "-S", "-pdu", MAX_PDU, "-aet", SCU_AE, "-aec", server.ae_title,
               "-k", "QueryRetrieveLevel=IMAGE", "-k", f"StudyInstanceUID={data.study_uid}",
               "-k", f"SeriesInstanceUID={data.series_uid}", "-k", "SOPInstanceUID", "-k", "InstanceNumber",
               "127.0.0.1", str(server.port))


def _series_keys(data: BenchData) -> list[str]:
    return ["-k", "QueryRetrieveLevel=SERIES", "-k", f"StudyInstanceUID={data.study_uid}",
            "-k", f"SeriesInstanceUID={data.series_uid}"]


def _check_received(directory: Path, data: BenchData) -> None:
    received = sum(1 for _ in directory.iterdir())
    if received != data.slices:
        raise RuntimeError(f"received {received} instances, expected {data.slices}")


def c_get(server: Server, data: BenchData, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    elapsed = run("getscu", "-S", "-pdu", MAX_PDU, "-aet", SCU_AE, "-aec", server.ae_title, "-od", str(out),
                  *_series_keys(data), "127.0.0.1", str(server.port))
    _check_received(out, data)
    return elapsed


def c_move(server: Server, data: BenchData, out: Path, move_port: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    elapsed = run("movescu", "-S", "-pdu", MAX_PDU, "-aet", SCU_AE, "-aem", SCU_AE, "-aec", server.ae_title,
                  "--port", str(move_port), "-od", str(out), *_series_keys(data), "127.0.0.1", str(server.port))
    _check_received(out, data)
    return elapsed


def measure_all(servers: list[Server], data: BenchData, work: Path, move_port: int, repeat: int,
                profile: bool) -> dict[str, dict[str, float]]:
    """Interleave the retrieve work server by server, `repeat` times (after :func:`ingest_rounds`).

    Interleaving keeps a load change on a shared machine from favouring one server.
    """
    times = {s.name: {"C-FIND": [], "C-GET": [], "C-MOVE": []} for s in servers}
    spies = [start_profile(s, work, "retrieve") for s in servers] if profile else []
    for round_ in range(repeat):
        print(f"  retrieve round {round_ + 1}/{repeat} ...", flush=True)
        for server in servers:
            times[server.name]["C-FIND"].append(c_find(server, data))
        for server in servers:
            times[server.name]["C-GET"].append(c_get(server, data, work / "got"))
        for server in servers:
            times[server.name]["C-MOVE"].append(c_move(server, data, work / "moved", move_port))
    for spy in spies:
        if spy is not None:
            stop_profile(spy)
    return {name: {op: statistics.median(v) for op, v in ops.items()} for name, ops in times.items()}


def start_profile(server: Server, work: Path, label: str) -> subprocess.Popen | None:
    """Record a py-spy profile of qrscp (speedscope JSON) while the retrieve work runs."""
    if not server.name.startswith("qrscp") or shutil.which("py-spy") is None:
        return None
    output = work / f"profile-{label}.txt"
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(server.process.pid), "--format", "raw", "--rate", "200",
         "--threads", "-o", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def stop_profile(spy: subprocess.Popen) -> None:
    import signal

    spy.send_signal(signal.SIGINT)
    spy.wait(timeout=60)


# --- report --------------------------------------------------------------------------------------


def print_table(data: BenchData, results: dict[str, dict[str, float]], rss: dict[str, int]) -> None:
    names = list(results)
    reference = results.get("dcmqrscp")
    print()
    print(f"{data.total} instances ingested; C-FIND/C-GET/C-MOVE of a {data.slices}-slice 512x512 CT series")
    header = f"{'work':<10}" + "".join(f"{name:>16}" for name in names)
    if reference:
        header += "".join(f"{'ratio ' + n.split()[0] + (' f' if 'fsync' in n else '') + (' c' if 'combined' in n else ''):>16}" for n in names
                          if n != "dcmqrscp") + f"{'target':>9}"
    print(header)
    print("-" * len(header))
    for work in ("ingest", "C-FIND", "C-GET", "C-MOVE"):
        row = f"{work:<10}" + "".join(f"{results[name][work]:>15.2f}s" for name in names)
        if reference:
            for name in names:
                if name != "dcmqrscp":
                    row += f"{results[name][work] / reference[work]:>15.2f}x"
            row += f"{'<= ' + str(TARGETS[work]) + 'x':>9}"
        print(row)
    print(f"{'peak RSS':<10}" + "".join(f"{rss[name] / 2**20:>14.0f}MB" for name in names) + "   (while ingesting)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/qrscp-bench"), help="data and server dirs")
    parser.add_argument("--slices", type=int, default=500, help="slices of the 512x512 CT series")
    parser.add_argument("--other", type=int, default=525, help="further (MR) instances to ingest")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of ingest, C-FIND, C-GET, C-MOVE")
    parser.add_argument("--no-dcmqrscp", action="store_true", help="only run qrscp")
    parser.add_argument("--fsync", action="store_true", help="also run qrscp with fsync on (its default)")
    parser.add_argument("--profile", action="store_true", help="py-spy profile of qrscp's retrieve work")
    parser.add_argument("--combined", action="store_true",
                        help="also run qrscp with command_and_data_in_one_pdu (the cost of separate PDUs)")
    args = parser.parse_args(argv)

    for tool in ("storescu", "findscu", "getscu", "movescu", "echoscu", "dcmqrscp"):
        if dcmtk_tool(tool) is None:
            print(f"DCMTK {tool} not found (apt-get install dcmtk)", file=sys.stderr)
            return 2
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"generating data in {args.work / 'data'} ...", flush=True)
    data = generate(args.work / "data", args.slices, args.other)
    move_port = free_port()
    starters: list[tuple[str, Callable[[], Server]]] = []
    if not args.no_dcmqrscp:
        starters.append(("dcmqrscp", lambda: start_dcmqrscp(args.work, move_port)))
    starters.append(("qrscp", lambda: start_qrscp(args.work, move_port, fsync=False)))
    if args.fsync:
        starters.append(("qrscp (fsync)", lambda: start_qrscp(args.work, move_port, fsync=True)))
    if args.combined:
        starters.append(("qrscp (combined PDUs)", lambda: start_qrscp(args.work, move_port, False, combined=True)))
    servers: list[Server] = []
    try:
        ingest_times, rss = ingest_rounds(starters, data, args.repeat, servers)
        results = measure_all(servers, data, args.work, move_port, args.repeat, args.profile)
        for name, median in ingest_times.items():
            results[name]["ingest"] = median
    finally:
        for server in servers:
            server.stop()
    print_table(data, results, rss)
    if args.profile:
        print(f"\npy-spy profiles (raw, collapsed stacks): {args.work}/profile-*.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
