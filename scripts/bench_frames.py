#!/usr/bin/env python
"""Benchmark of FRAME level retrieve: 10 frames of a 500-frame LCE of the ENHANCED view vs the whole object.

Measured over the network on 127.0.0.1 against a ``qrscp serve`` subprocess (fsync off, SQLite). A classic
CT series of N slices (default 500, 256x256) is stored with DCMTK storescu; the ENHANCED view is built
first (warm), and its Legacy Converted Enhanced CT of N frames is the source:

- whole object: Composite Instance Root C-GET at IMAGE level in the ENHANCED view;
- 10 frames, extracted: C-GET at FRAME level, Calculated Frame List of 10 frames spread over the object,
  each repetition a different list (a new instance made every time: header read, frames copied);
- 10 frames, repeated request: the same list again (the extracted file is sent from the frame cache).
  Target (issue 16): 10 frames <= 10 % of the whole object's time.
- server RSS: growth (peak during the frame requests minus the RSS before them) compared with the size
  of the source object; the frames are read from the stored file by offset, so the growth must not
  follow the source size. ``--slices 250`` and ``--slices 500`` show it does not.

Usage: ``python scripts/bench_frames.py [--slices 500] [--rows 256] [--columns 256] [--repeat 7]``.
Whole-object and frame requests are interleaved (same noise for both); medians are reported. Exit code 0
whatever the figures (a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, build_role, evt
from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qrscp.testing.dcmtk import run_dcmtk  # noqa: E402
from qrscp.testing.factory import PatientSpec, derive_uid, make_series, write_datasets  # noqa: E402
from qrscp.uids import (  # noqa: E402
    COMPOSITE_INSTANCE_ROOT_GET,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    STUDY_ROOT_FIND,
)

AE_TITLE = "QRSCP"
UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
LCE = LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def view_item(sop_class: str) -> SOPClassExtendedNegotiation:
    item = SOPClassExtendedNegotiation()
    item.sop_class_uid = sop_class
    item.service_class_application_information = (
        b"\x01\x00\x00\x00\x01" if sop_class == STUDY_ROOT_FIND else b"\x00\x01"
    )
    return item


def associate(port: int, contexts: list[tuple[str, list[str]]], ext_neg: list, handlers=None):
    ae = AE(ae_title="BENCH")
    ae.maximum_pdu_size = 0
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 600
    for uid, syntaxes in contexts:
        ae.add_requested_context(uid, syntaxes)
    assoc = ae.associate("127.0.0.1", port, ae_title=AE_TITLE, ext_neg=ext_neg, evt_handlers=handlers)
    if not assoc.is_established:
        raise SystemExit("association refused")
    assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return assoc


def lce_uid(port: int, study: str) -> str:
    """Find the LCE of the ENHANCED view (the view is built by this first request)."""
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "IMAGE"
    identifier.StudyInstanceUID = study
    identifier.SOPClassUID = LCE
    identifier.SOPInstanceUID = None
    identifier.QueryRetrieveView = "ENHANCED"
    assoc = associate(port, [(STUDY_ROOT_FIND, UNCOMPRESSED)], [view_item(STUDY_ROOT_FIND)])
    try:
        found = [ds.SOPInstanceUID for status, ds in assoc.send_c_find(identifier, STUDY_ROOT_FIND)
                 if status.Status in (0xFF00, 0xFF01)]
    finally:
        assoc.release()
    if len(found) != 1:
        raise SystemExit(f"expected one LCE in the ENHANCED view, found {len(found)}")
    return str(found[0])


def c_get(port: int, identifier: Dataset) -> tuple[float, int]:
    """C-GET `identifier` (Composite Instance Root, ENHANCED view); (seconds, bytes received)."""
    received: list[int] = []

    def on_store(event):
        received.append(len(event.request.DataSet.getvalue()))
        return 0

    assoc = associate(
        port, [(COMPOSITE_INSTANCE_ROOT_GET, UNCOMPRESSED), (LCE, UNCOMPRESSED)],
        [view_item(COMPOSITE_INSTANCE_ROOT_GET), build_role(LCE, scp_role=True)],
        handlers=[(evt.EVT_C_STORE, on_store)],
    )
    try:
        start = time.perf_counter()
        for status, _ in assoc.send_c_get(identifier, COMPOSITE_INSTANCE_ROOT_GET):
            if status.Status not in (0xFF00, 0x0000):
                raise SystemExit(f"C-GET failed 0x{status.Status:04X} {status.get('ErrorComment', '')}")
        elapsed = time.perf_counter() - start
    finally:
        assoc.release()
    if len(received) != 1:
        raise SystemExit(f"expected one instance, received {len(received)}")
    return elapsed, received[0]


def keys(uid: str, level: str, frames: list[int] | None = None) -> Dataset:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level
    identifier.SOPInstanceUID = uid
    identifier.QueryRetrieveView = "ENHANCED"
    if frames is not None:
        identifier.CalculatedFrameList = frames
    return identifier


class RSSSampler:
    """Peak RSS of a process, sampled every 5 ms on a thread while active."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return self.process.memory_info().rss

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> RSSSampler:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def measure(port: int, pid: int, uid: str, slices: int, repeat: int) -> dict[str, object]:
    step = max(1, slices // 10)
    c_get(port, keys(uid, "IMAGE"))  # page cache and code paths warm for both
    c_get(port, keys(uid, "FRAME", [1, slices, step]))
    whole: list[float] = []
    fresh: list[float] = []
    cached: list[float] = []
    before = psutil.Process(pid).memory_info().rss
    with RSSSampler(pid) as sampler:  # frame requests only: the growth they cause
        for index in range(repeat):
            c_get(port, keys(uid, "FRAME", [2 + index % max(1, step - 1), slices, step]))
        frames_peak = sampler.peak
    for index in range(repeat):  # interleaved, so that machine noise hits every measurement alike
        first = 2 + (repeat + index) % max(1, step - 1)  # a Frame List not asked before: extracted anew
        elapsed, frame_bytes = c_get(port, keys(uid, "FRAME", [first, slices, step]))
        fresh.append(elapsed)
        cached.append(c_get(port, keys(uid, "FRAME", [1, slices, step]))[0])
        elapsed, whole_bytes = c_get(port, keys(uid, "IMAGE"))
        whole.append(elapsed)
    return {
        "whole": statistics.median(whole), "fresh": statistics.median(fresh), "cached": statistics.median(cached),
        "whole_bytes": whole_bytes, "frame_bytes": frame_bytes, "rss_before": before, "rss_peak": frames_peak,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=500)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--columns", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-frames-") as tmp:
        tmp = Path(tmp)
        patient = PatientSpec.from_seed(516)
        study = derive_uid("bench-frames", "study")
        print(f"generating {args.slices} CT slices {args.rows}x{args.columns} ...", flush=True)
        ct = make_series("CT", slices=args.slices, rows=args.rows, columns=args.columns, patient=patient,
                         study_uid=study, seed=516)
        write_datasets(ct, tmp / "in")
        del ct
        config = tmp / "qrscp.toml"
        config.write_text('[http]\nport = 0\n[storage]\nfsync = false\n[logging]\nlevel = "WARNING"\n', encoding="utf-8")
        port = free_port()
        log = open(tmp / "serve.log", "wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "qrscp", "serve", "--config", str(config), "--port", str(port), "--bind",
             "127.0.0.1", "--data-dir", str(tmp / "data")],
            cwd=tmp, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONPATH=str(REPO)),
        )
        try:
            deadline = time.monotonic() + 60
            while run_dcmtk("echoscu", "-aec", AE_TITLE, "127.0.0.1", str(port)).returncode != 0:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("qrscp serve did not start:\n" + (tmp / "serve.log").read_text())
                threading.Event().wait(0.2)
            result = run_dcmtk("storescu", "-aec", AE_TITLE, "127.0.0.1", str(port), "+sd", str(tmp / "in"),
                               timeout=1800)
            if result.returncode != 0:
                raise SystemExit(result.stderr)
            uid = lce_uid(port, study)
            figures = measure(port, server.pid, uid, args.slices, args.repeat)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            log.close()

    whole, fresh, cached = figures["whole"], figures["fresh"], figures["cached"]
    growth = figures["rss_peak"] - figures["rss_before"]
    mib = 1024 * 1024
    rows = [
        (f"whole LCE, C-GET IMAGE ({figures['whole_bytes'] / mib:.1f} MiB)", f"{whole:.4f}", "", ""),
        (f"10 frames, C-GET FRAME, extracted ({figures['frame_bytes'] / mib:.2f} MiB)", f"{fresh:.4f}",
         f"{100 * fresh / whole:.1f} % of whole", "<= 10 %"),
        ("10 frames, same request again (frame cache)", f"{cached:.4f}", f"{100 * cached / whole:.1f} % of whole", ""),
        ("server RSS growth during the frame requests", f"{growth / mib:.1f} MiB",
         f"{100 * growth / figures['whole_bytes']:.1f} % of the source size", "not growing with the source"),
    ]
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"qrscp FRAME level: {args.slices}-frame LCE {args.rows}x{args.columns}, ENHANCED view "
                            f"(medians of {args.repeat})")
        for column in ("measurement", "seconds / size", "ratio", "target"):
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    except ImportError:  # pragma: no cover
        for row in rows:
            print(*row, sep="\t")
    return 0


if __name__ == "__main__":
    sys.exit(main())
