#!/usr/bin/env python
"""Benchmark: ``qrscp convert --to enhanced`` against highdicom's legacy converter, as whole processes.

Both convert the same generated CT series (512x512 16-bit slices with per-slice private data; plus a
JPEG 2000 series) to one Legacy Converted Enhanced CT image. Each run is a fresh Python process; wall
time and peak RSS come from ``os.wait4`` of that process; output size is the size of what it wrote.

Targets (issue 4): qrscp >= 3x faster on uncompressed series and >= 5x on compressed ones, output no
larger than highdicom's, qrscp peak RSS <= output size + 150 MB.

Usage::

    python scripts/bench_convert.py [--sizes 100,500,2000] [--jpeg2000-slices 200] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PRIVATE_BYTES = 2048
RSS_ALLOWANCE_MB = 150


def generate(directory: Path, slices: int, transfer_syntax: str) -> None:
    """Write a factory CT series, in chunks so that generation itself stays small in memory."""
    import warnings

    from qrscp.testing.factory import make_series, write_datasets

    if directory.exists() and len(list(directory.iterdir())) == slices:
        return
    shutil.rmtree(directory, ignore_errors=True)
    warnings.simplefilter("ignore")
    series = make_series("CT", slices=slices, rows=512, columns=512, seed=157, transfer_syntax=transfer_syntax,
                         private_block_bytes=PRIVATE_BYTES)
    write_datasets(series, directory)


def highdicom_worker(source: Path, output: Path) -> None:
    """The highdicom side: read every slice, build the LCE CT image, save it."""
    import highdicom as hd
    import pydicom

    datasets = [pydicom.dcmread(path) for path in sorted(source.iterdir())]
    image = hd.legacy.LegacyConvertedEnhancedCTImage(
        legacy_datasets=datasets,
        series_instance_uid=hd.UID(),
        series_number=1,
        sop_instance_uid=hd.UID(),
        instance_number=1,
    )
    output.mkdir(parents=True, exist_ok=True)
    image.save_as(output / "lce.dcm")


def measure(command: list[str]) -> tuple[float, float]:
    """Run `command`; return (wall seconds, peak RSS in MB) of that process alone."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode(errors="replace")[-2000:] if process.stderr else ""
        raise RuntimeError(f"{command[:4]} failed ({process.returncode}): {error}")
    return elapsed, usage.ru_maxrss / 1024


def size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 2**20


def run_case(name: str, source: Path, workdir: Path) -> dict:
    results = {}
    for tool in ("qrscp", "highdicom"):
        output = workdir / f"out-{name}-{tool}"
        shutil.rmtree(output, ignore_errors=True)
        if tool == "qrscp":
            command = [sys.executable, "-m", "qrscp", "convert", "--to", "enhanced", str(source), "-o", str(output),
                       "--secret", "bench"]
        else:
            command = [sys.executable, __file__, "--highdicom-worker", str(source), str(output)]
        seconds, rss = measure(command)
        results[tool] = {"seconds": seconds, "rss": rss, "size": size_mb(output)}
        shutil.rmtree(output, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,2000", help="uncompressed series sizes (slices)")
    parser.add_argument("--jpeg2000-slices", type=int, default=200, help="slices of the JPEG 2000 series (0: none)")
    parser.add_argument("--workdir", default="/tmp/qrscp-bench-convert")
    parser.add_argument("--highdicom-worker", nargs=2, metavar=("SOURCE", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.highdicom_worker:
        highdicom_worker(Path(args.highdicom_worker[0]), Path(args.highdicom_worker[1]))
        return 0

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cases = [(f"{n} slices uncompressed", "1.2.840.10008.1.2.1", int(n)) for n in args.sizes.split(",") if n]
    if args.jpeg2000_slices:
        cases.append((f"{args.jpeg2000_slices} slices JPEG 2000", "1.2.840.10008.1.2.4.90", args.jpeg2000_slices))
    rows = []
    for name, syntax, slices in cases:
        source = workdir / f"src-{slices}-{syntax}"
        generate(source, slices, syntax)
        result = run_case(name.replace(" ", "-"), source, workdir)
        rows.append((name, size_mb(source), result))
        print(f"done: {name}", file=sys.stderr, flush=True)

    header = (f"{'series':<28} {'input MB':>8} | {'qrscp s':>8} {'hd s':>8} {'speed-up':>8} | {'qrscp RSS':>9} "
              f"{'hd RSS':>8} {'RSS-out':>8} | {'qrscp MB':>9} {'hd MB':>8} {'size':>6}")
    print(header)
    print("-" * len(header))
    for name, input_mb, r in rows:
        q, h = r["qrscp"], r["highdicom"]
        print(f"{name:<28} {input_mb:>8.1f} | {q['seconds']:>8.2f} {h['seconds']:>8.2f} "
              f"{h['seconds'] / q['seconds']:>7.1f}x | {q['rss']:>9.0f} {h['rss']:>8.0f} "
              f"{q['rss'] - q['size']:>8.0f} | {q['size']:>9.1f} {h['size']:>8.1f} {q['size'] / h['size']:>6.3f}")
    print(f"(RSS in MB; RSS-out = qrscp peak RSS - output size, target <= {RSS_ALLOWANCE_MB}; "
          "size = qrscp output / highdicom output, target <= 1; speed-up target >= 3x uncompressed, "
          ">= 5x compressed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
