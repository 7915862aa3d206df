#!/usr/bin/env python
"""Benchmark of the views: a CT study of N slices (default 500) and a GSPS, served by ``qrscp serve``.

Measured over the network on 127.0.0.1 against a ``qrscp serve`` subprocess (fsync off, SQLite):

- series-level C-FIND, default view vs warm ENHANCED view (target: ENHANCED <= 1.2x default);
- study-level C-GET, default view vs cold ENHANCED (the view is built during the request; target <= 2x)
  and warm ENHANCED (target: >= 3x faster than default).

Usage: ``python scripts/bench_views.py [--slices 500] [--rows 256] [--columns 256] [--repeat 40] [--get-repeat 5]``.
The cold C-GET comes first; the warm figures are measured interleaved with the default view's (same noise
for both). Prints a table of medians and ratios; exit code 0 whatever the figures (a benchmark, not a test).
The cold C-GET is compared with the default C-GET measured after it (the store is warm in the page cache
for both).
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

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, build_role, evt
from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qrscp.testing.dcmtk import run_dcmtk  # noqa: E402
from qrscp.testing.factory import PatientSpec, derive_uid, make_gsps, make_series, write_datasets  # noqa: E402
from qrscp.uids import (  # noqa: E402
    CT_IMAGE_STORAGE,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
)

AE_TITLE = "QRSCP"
UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def view_item(sop_class: str) -> SOPClassExtendedNegotiation:
    item = SOPClassExtendedNegotiation()
    item.sop_class_uid = sop_class
    item.service_class_application_information = b"\x01\x00\x00\x00\x01" if sop_class == STUDY_ROOT_FIND else b"\x01\x01"
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


def series_find(port: int, study: str, view: str | None) -> float:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = study
    for keyword in ("SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "NumberOfSeriesRelatedInstances"):
        setattr(identifier, keyword, None)
    ext_neg = [view_item(STUDY_ROOT_FIND)]
    if view:
        identifier.QueryRetrieveView = view
    assoc = associate(port, [(STUDY_ROOT_FIND, UNCOMPRESSED)], ext_neg)
    try:
        start = time.perf_counter()
        matches = 0
        for status, ds in assoc.send_c_find(identifier, STUDY_ROOT_FIND):
            if status.Status in (0xFF00, 0xFF01):
                matches += 1
            elif status.Status != 0:
                raise SystemExit(f"C-FIND failed 0x{status.Status:04X}")
        elapsed = time.perf_counter() - start
    finally:
        assoc.release()
    assert matches == 2, matches
    return elapsed


def study_get(port: int, study: str, view: str | None) -> tuple[float, int]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study
    if view:
        identifier.QueryRetrieveView = view
    storage = [CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE]
    received = []

    def on_store(event):
        received.append(len(event.request.DataSet.getvalue()))
        return 0

    assoc = associate(
        port,
        [(STUDY_ROOT_GET, UNCOMPRESSED)] + [(uid, UNCOMPRESSED) for uid in storage],
        [view_item(STUDY_ROOT_GET)] + [build_role(uid, scp_role=True) for uid in storage],
        handlers=[(evt.EVT_C_STORE, on_store)],
    )
    try:
        start = time.perf_counter()
        for status, _ in assoc.send_c_get(identifier, STUDY_ROOT_GET):
            if status.Status not in (0xFF00, 0x0000):
                raise SystemExit(f"C-GET failed 0x{status.Status:04X}")
        elapsed = time.perf_counter() - start
    finally:
        assoc.release()
    return elapsed, len(received)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=500)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--columns", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=40, help="C-FIND repetitions of each view")
    parser.add_argument("--get-repeat", type=int, default=5, help="warm C-GET repetitions of each view")
    args = parser.parse_args()
    repeat_get = max(1, args.get_repeat)

    with tempfile.TemporaryDirectory(prefix="bench-views-") as tmp:
        tmp = Path(tmp)
        patient = PatientSpec.from_seed(500)
        study = derive_uid("bench-views", "study")
        print(f"generating {args.slices} CT slices {args.rows}x{args.columns} and a GSPS ...", flush=True)
        ct = make_series("CT", slices=args.slices, rows=args.rows, columns=args.columns, patient=patient,
                         study_uid=study, seed=500)
        paths = write_datasets([*ct, make_gsps(ct[:3], seed=500)], tmp / "in")
        del ct
        config = tmp / "qrscp.toml"
        config.write_text('[storage]\nfsync = false\n[logging]\nlevel = "WARNING"\n[http]\nport = 0\n', encoding="utf-8")
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
            start = time.perf_counter()
            result = run_dcmtk("storescu", "-aec", AE_TITLE, "127.0.0.1", str(port), "+sd", str(tmp / "in"), timeout=1800)
            if result.returncode != 0:
                raise SystemExit(result.stderr)
            print(f"stored {len(paths)} instances with storescu in {time.perf_counter() - start:.1f} s", flush=True)

            # Cold first (the view is built during this request), then the warm figures measured
            # interleaved with the default view's so that machine noise hits both alike.
            cold_get, cold_count = study_get(port, study, "ENHANCED")
            finds: dict[str, list[float]] = {"default": [], "enhanced": []}
            gets: dict[str, list[float]] = {"default": [], "enhanced": []}
            default_count = 0
            for index in range(args.repeat):
                finds["default"].append(series_find(port, study, None))
                finds["enhanced"].append(series_find(port, study, "ENHANCED"))
                if index < repeat_get:
                    elapsed, default_count = study_get(port, study, None)
                    gets["default"].append(elapsed)
                    gets["enhanced"].append(study_get(port, study, "ENHANCED")[0])
            find_default, find_warm = statistics.median(finds["default"]), statistics.median(finds["enhanced"])
            get_default, get_warm = statistics.median(gets["default"]), statistics.median(gets["enhanced"])
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            log.close()

    rows = [
        ("series C-FIND, default view", find_default, "", ""),
        ("series C-FIND, ENHANCED (warm)", find_warm, f"{find_warm / find_default:.2f}x default", "<= 1.2x"),
        (f"study C-GET, default view ({default_count} objects)", get_default, "", ""),
        (f"study C-GET, ENHANCED cold ({cold_count} objects, view built)", cold_get,
         f"{cold_get / get_default:.2f}x default", "<= 2x"),
        ("study C-GET, ENHANCED (warm)", get_warm, f"{get_default / get_warm:.1f}x faster", ">= 3x faster"),
    ]
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"qrscp views: {args.slices}-slice CT {args.rows}x{args.columns} + GSPS (medians)")
        for column in ("measurement", "seconds", "ratio", "target"):
            table.add_column(column)
        for name, seconds, ratio, target in rows:
            table.add_row(name, f"{seconds:.4f}", ratio, target)
        Console().print(table)
    except ImportError:  # pragma: no cover
        for row in rows:
            print(*row, sep="\t")
    return 0


if __name__ == "__main__":
    sys.exit(main())
