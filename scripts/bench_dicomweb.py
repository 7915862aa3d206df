#!/usr/bin/env python3
"""Benchmark qrscp's DICOMweb against Orthanc with its DICOMweb plugin, side by side on loopback.

Work (issue 18, point 7), on the same 500-slice CT series (``qrscp.testing``) stored in both over DICOM
(DCMTK ``storescu``):

- QIDO-RS: the instances of the series (``/studies/{study}/series/{series}/instances``);
- WADO-RS metadata of the series (``/studies/{study}/series/{series}/metadata``);
- WADO-RS retrieve of the series (``multipart/related; type="application/dicom"; transfer-syntax=*``);
- STOW-RS of 100 instances in one request (a new series each time).

Orthanc runs from ``/usr/sbin/Orthanc`` with a temporary JSON configuration (free ports, SQLite index,
``libOrthancDicomWeb.so`` of Debian's ``orthanc-dicomweb``); qrscp is ``python -m qrscp serve
--http-port``. Both write their files durably (qrscp ``fsync``, Orthanc ``SyncStorageArea``; both off
with ``--no-fsync``). The same
``httpx`` client asks both; each request is made once to warm up, then ``--repeat`` times, alternating
the servers, and the median is reported with qrscp's time over Orthanc's (target <= 1.0x).

Usage::

    python scripts/bench_dicomweb.py                       # 500 slices of 512x512
    python scripts/bench_dicomweb.py --slices 100 --rows 128 --repeat 3   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qrscp.testing.dcmtk import dcmtk_env, dcmtk_tool  # noqa: E402
from qrscp.testing.factory import PatientSpec, make_series, write_datasets  # noqa: E402

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN_CANDIDATES = ("/usr/share/orthanc/plugins/libOrthancDicomWeb.so", "/usr/lib/orthanc/libOrthancDicomWeb.so.1.7")
DICOM_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'
JSON_ACCEPT = "application/dicom+json"
TARGET = 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def storescu(port: int, ae_title: str, directory: Path) -> None:
    result = subprocess.run(
        [dcmtk_tool("storescu") or "storescu", "-aec", ae_title, "-aet", "BENCH", "+sd", "+r", "-nh",
         "127.0.0.1", str(port), str(directory)],
        capture_output=True, text=True, env=dcmtk_env(), timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"storescu to {ae_title} failed:\n{result.stdout}\n{result.stderr}")


def plugin_path() -> str:
    for candidate in DICOMWEB_PLUGIN_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    listing = subprocess.run(["dpkg", "-L", "orthanc-dicomweb"], capture_output=True, text=True).stdout.split()
    for path in listing:
        if "DicomWeb" in path and ".so" in path:
            return path
    raise SystemExit("orthanc-dicomweb is not installed (apt-get install orthanc-dicomweb)")


class Server:
    """A started server: name, DICOMweb root URL, process."""

    def __init__(self, name: str, root: str, process: subprocess.Popen, dicom_port: int, ae_title: str) -> None:
        self.name, self.root, self.process, self.dicom_port, self.ae_title = name, root, process, dicom_port, ae_title

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_orthanc(directory: Path, durable: bool) -> Server:
    http_port, dicom_port = free_port(), free_port()
    config = {
        "Name": "bench", "StorageDirectory": str(directory / "storage"), "IndexDirectory": str(directory / "index"),
        "HttpPort": http_port, "DicomPort": dicom_port, "DicomAet": "ORTHANC", "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False, "HttpCompressionEnabled": False, "SyncStorageArea": durable,
        "Plugins": [plugin_path()], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "StorageCompression": False, "ConcurrentJobs": 2,
    }
    path = directory / "orthanc.json"
    path.write_text(json.dumps(config))
    log = open(directory / "orthanc.log", "wb")
    process = subprocess.Popen([ORTHANC, str(path)], stdout=log, stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{http_port}/system")
    return Server("Orthanc", f"http://127.0.0.1:{http_port}/dicom-web", process, dicom_port, "ORTHANC")


def start_qrscp(directory: Path, durable: bool) -> Server:
    http_port, dicom_port = free_port(), free_port()
    config = directory / "qrscp.toml"
    config.write_text(f"[storage]\nfsync = {'true' if durable else 'false'}\n")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = open(directory / "qrscp.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "qrscp", "serve", "--config", str(config), "--port", str(dicom_port), "--bind", "127.0.0.1",
         "--http-port", str(http_port), "--data-dir", str(directory / "data"), "--log-level", "WARNING"],
        cwd=directory, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    wait_http(f"http://127.0.0.1:{http_port}/dicomweb/studies")
    return Server("qrscp", f"http://127.0.0.1:{http_port}/dicomweb", process, dicom_port, "QRSCP")


def stow_body(directory: Path, boundary: str) -> bytes:
    chunks = []
    for path in sorted(directory.rglob("*.dcm")):
        chunks.append(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + path.read_bytes() + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode()


def timed(call: Callable[[], httpx.Response], check: Callable[[httpx.Response], None]) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    check(response)
    return elapsed


def enhanced_view_times(client: httpx.Client, server: Server, study: str, repeat: int) -> dict[str, tuple[float, float]]:
    """qrscp alone: the series of the study in the ENHANCED view (built on the first request), the
    metadata and the retrieve of the converted multi-frame series."""
    root = server.root + "/views/enhanced"
    started = time.perf_counter()
    series = client.get(f"{root}/studies/{study}/series", headers={"Accept": JSON_ACCEPT}).json()
    build = time.perf_counter() - started
    series_uid = series[0]["0020000E"]["Value"][0]
    path = f"{root}/studies/{study}/series/{series_uid}"

    def ok(response: httpx.Response) -> None:
        if response.status_code != 200:
            raise RuntimeError(f"ENHANCED view: HTTP {response.status_code}: {response.text[:200]}")

    results = {"QIDO-RS series (builds the view)": (build, statistics.median(
        timed(lambda: client.get(f"{root}/studies/{study}/series", headers={"Accept": JSON_ACCEPT}), ok) for _ in range(repeat)))}
    for name, url, accept in (("WADO-RS metadata of the multi-frame series", path + "/metadata", JSON_ACCEPT),
                              ("WADO-RS retrieve of the multi-frame series", path, DICOM_ACCEPT)):
        times = [timed(lambda: client.get(url, headers={"Accept": accept}), ok) for _ in range(repeat + 1)]
        results[name] = (times[0], statistics.median(times[1:]))
    for name, (first, median) in results.items():
        print(f"ENHANCED view, {name}: first {first:.3f} s, median {median:.3f} s", flush=True)
    return results


def make_data(work: Path, args: argparse.Namespace, boundary: str) -> tuple[str, str, list[bytes]]:
    """Write the series to store over DICOM and the STOW-RS bodies; return (study, series, bodies)."""
    print(f"generating a {args.slices}-slice {args.rows}x{args.rows} CT series and {args.repeat + 1} STOW series ...", flush=True)
    series = make_series("CT", slices=args.slices, rows=args.rows, columns=args.rows, seed=1800)
    write_datasets(series, work / "series")
    study, series_uid = str(series[0].StudyInstanceUID), str(series[0].SeriesInstanceUID)
    bodies = []
    for i in range(args.repeat + 1):
        patient = PatientSpec.from_seed(1900 + i)
        write_datasets(make_series("CT", slices=args.stow, rows=args.rows, columns=args.rows, seed=1900 + i, patient=patient),
                       work / f"stow{i}")
        bodies.append(stow_body(work / f"stow{i}", boundary))
    return study, series_uid, bodies


def expect(count: int, kind: str) -> Callable[[httpx.Response], None]:
    """A check of an answer: HTTP 200 and, for JSON or multipart, `count` items."""
    def check(response: httpx.Response) -> None:
        if response.status_code != 200:
            raise RuntimeError(f"{kind}: HTTP {response.status_code}: {response.text[:300]}")
        if kind == "json" and len(response.json()) != count:
            raise RuntimeError(f"{kind}: {len(response.json())} answers, expected {count}")
        if kind == "multipart" and response.content.count(b"Content-Type: application/dicom") < count:
            raise RuntimeError(f"{kind}: fewer than {count} parts")
    return check


def operations(client: httpx.Client, args: argparse.Namespace, series_path: str, bodies: list[bytes],
               boundary: str) -> dict[str, Callable[[Server, int], float]]:
    """The measured requests: name -> (server, repetition) -> seconds."""
    stow_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    return {
        "QIDO-RS instances of the series": lambda s, i: timed(
            lambda: client.get(s.root + series_path + "/instances", headers={"Accept": JSON_ACCEPT}), expect(args.slices, "json")),
        "WADO-RS metadata of the series": lambda s, i: timed(
            lambda: client.get(s.root + series_path + "/metadata", headers={"Accept": JSON_ACCEPT}), expect(args.slices, "json")),
        "WADO-RS retrieve of the series": lambda s, i: timed(
            lambda: client.get(s.root + series_path, headers={"Accept": DICOM_ACCEPT}), expect(args.slices, "multipart")),
        f"STOW-RS of {args.stow} instances": lambda s, i: timed(
            lambda: client.post(s.root + "/studies", content=bodies[i], headers={"Content-Type": stow_type, "Accept": JSON_ACCEPT}),
            expect(0, "stow")),
    }


def measure(servers: list[Server], name: str, operation: Callable[[Server, int], float], repeat: int) -> tuple:
    """One warm-up request per server, then `repeat` alternating; (name, qrscp, Orthanc, ratio) medians."""
    times: dict[str, list[float]] = {s.name: [] for s in servers}
    for server in servers:
        cold = operation(server, 0)  # warm-up (STOW: the first body)
        print(f"  {name}: {server.name} first request {cold:.3f} s", flush=True)
    for i in range(1, repeat + 1):
        for server in (servers if i % 2 else list(reversed(servers))):
            times[server.name].append(operation(server, i))
    ours, theirs = statistics.median(times["qrscp"]), statistics.median(times["Orthanc"])
    print(f"{name}: qrscp {ours:.3f} s, Orthanc {theirs:.3f} s, ratio {ours / theirs:.2f}x", flush=True)
    return name, ours, theirs, ours / theirs


def print_tables(args: argparse.Namespace, rows: list[tuple], enhanced: dict[str, tuple[float, float]]) -> None:
    print()
    print(f"| Operation ({args.slices} slices {args.rows}x{args.rows}, median of {args.repeat}) | qrscp (s) | Orthanc + DICOMweb (s) | ratio | target |")
    print("|---|---|---|---|---|")
    for name, ours, theirs, ratio in rows:
        print(f"| {name} | {ours:.3f} | {theirs:.3f} | {ratio:.2f}x | <= {TARGET:.1f}x |")
    print()
    print("| qrscp ENHANCED view root (no peer serves views) | first request (s) | median (s) |")
    print("|---|---|---|")
    for name, (first, median) in enhanced.items():
        print(f"| {name} | {first:.3f} | {median:.3f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=500)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--stow", type=int, default=100, help="instances per STOW-RS request")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--no-fsync", action="store_true", help="both servers write without fsync")
    args = parser.parse_args()
    if not Path(ORTHANC).exists():
        raise SystemExit("Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)")
    work = Path(tempfile.mkdtemp(prefix="bench-dicomweb-"))
    servers: list[Server] = []
    try:
        boundary = uuid.uuid4().hex
        study, series_uid, bodies = make_data(work, args, boundary)
        for start in (start_qrscp, start_orthanc):
            directory = work / start.__name__
            directory.mkdir()
            servers.append(start(directory, not args.no_fsync))
        for server in servers:
            started = time.perf_counter()
            storescu(server.dicom_port, server.ae_title, work / "series")
            print(f"{server.name}: stored the series over DICOM in {time.perf_counter() - started:.1f} s", flush=True)
        client = httpx.Client(timeout=600)
        measured = operations(client, args, f"/studies/{study}/series/{series_uid}", bodies, boundary)
        rows = [measure(servers, name, operation, args.repeat) for name, operation in measured.items()]
        print_tables(args, rows, enhanced_view_times(client, servers[0], study, args.repeat))
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
