#!/usr/bin/env python
"""Benchmark: ``qrscp convert --to enhanced`` against highdicom's legacy converter, as whole processes.

Both convert the same generated CT series (512x512 16-bit slices with per-slice private data; plus a
JPEG 2000 series) to one Legacy Converted Enhanced CT image. Each run is a fresh Python process measured
by GNU ``/usr/bin/time`` (wall seconds, user+system CPU seconds, peak RSS); output size is the size of
what it wrote. The machines are small and shared: CPU seconds are the steadier figure, wall seconds
include waiting for the disk and for other processes.

Targets (issue 4): qrscp >= 3x faster on uncompressed series and >= 5x on compressed ones, output no
larger than highdicom's, qrscp peak RSS <= output size + 150 MB.

Usage::

    python scripts/bench_convert.py [--sizes 100,500,2000] [--jpeg2000-slices 200] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
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


def compile_packages(names: tuple[str, ...] = ("qrscp", "highdicom", "pydicom")) -> None:
    """Byte-compile the packages both sides import, as ``pip install`` does for installed packages: an
    editable install under ``PYTHONDONTWRITEBYTECODE`` (set on our CI machines) otherwise recompiles qrscp
    from source in every measured process (~25 ms)."""
    import compileall
    import importlib.util

    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                compileall.compile_dir(location, quiet=1)


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


def measure(command: list[str], workdir: Path) -> tuple[float, float, float]:
    """Run `command`; return (wall seconds, CPU seconds, peak RSS in MB) of that process alone.

    GNU time is used rather than ``os.wait4`` of a child of this process: a forked child's peak RSS
    starts at its parent's.
    """
    report = workdir / "time.txt"
    result = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(report), *command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed ({result.returncode}): {result.stderr[-2000:]}")
    wall, user, system, rss_kb = report.read_text().split()[-4:]
    return float(wall), float(user) + float(system), float(rss_kb) / 1024


def size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 2**20


def run_case(name: str, source: Path, workdir: Path, repeat: int) -> dict:
    """Both tools, alternating, `repeat` times; the fastest run of each counts (noise only slows down)."""
    runs: dict[str, list[dict]] = {"qrscp": [], "highdicom": []}
    for _ in range(repeat):
        for tool, result in _run_once(name, source, workdir).items():
            runs[tool].append(result)
    return {tool: {"seconds": min(r["seconds"] for r in results), "cpu": min(r["cpu"] for r in results),
                   "rss": max(r["rss"] for r in results), "size": results[0]["size"]}
            for tool, results in runs.items()}


def _run_once(name: str, source: Path, workdir: Path) -> dict:
    results = {}
    for tool in ("qrscp", "highdicom"):
        output = workdir / f"out-{name}-{tool}"
        shutil.rmtree(output, ignore_errors=True)
        if tool == "qrscp":
            command = [sys.executable, "-m", "qrscp", "convert", "--to", "enhanced", str(source), "-o", str(output),
                       "--secret", "bench"]
        else:
            command = [sys.executable, __file__, "--highdicom-worker", str(source), str(output)]
        seconds, cpu, rss = measure(command, workdir)
        results[tool] = {"seconds": seconds, "cpu": cpu, "rss": rss, "size": size_mb(output)}
        shutil.rmtree(output, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,2000", help="uncompressed series sizes (slices)")
    parser.add_argument("--jpeg2000-slices", type=int, default=200, help="slices of the JPEG 2000 series (0: none)")
    parser.add_argument("--workdir", default="/tmp/qrscp-bench-convert")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the fastest counts")
    parser.add_argument("--highdicom-worker", nargs=2, metavar=("SOURCE", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, metavar=("DIR", "SLICES", "SYNTAX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.highdicom_worker:
        highdicom_worker(Path(args.highdicom_worker[0]), Path(args.highdicom_worker[1]))
        return 0
    if args.generate:
        generate(Path(args.generate[0]), int(args.generate[1]), args.generate[2])
        return 0

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    compile_packages()
    cases = [(f"{n} slices uncompressed", "1.2.840.10008.1.2.1", int(n)) for n in args.sizes.split(",") if n]
    if args.jpeg2000_slices:
        cases.append((f"{args.jpeg2000_slices} slices JPEG 2000", "1.2.840.10008.1.2.4.90", args.jpeg2000_slices))
    rows = []
    for name, syntax, slices in cases:
        source = workdir / f"src-{slices}-{syntax}"
        # In a child process, so that this process stays small (its children are measured).
        subprocess.run([sys.executable, __file__, "--generate", str(source), str(slices), syntax], check=True)
        result = run_case(name.replace(" ", "-"), source, workdir, args.repeat)
        rows.append((name, size_mb(source), result))
        print(f"done: {name}", file=sys.stderr, flush=True)

    header = (f"{'series':<26} {'in MB':>6} | {'wall q':>6} {'wall hd':>7} {'x':>5} | {'cpu q':>6} {'cpu hd':>6} "
              f"{'x':>5} | {'RSS q':>6} {'RSS hd':>6} {'q-out':>6} | {'out q':>7} {'out hd':>7} {'q/hd':>6}")
    print(header)
    print("-" * len(header))
    for name, input_mb, r in rows:
        q, h = r["qrscp"], r["highdicom"]
        print(f"{name:<26} {input_mb:>6.0f} | {q['seconds']:>6.2f} {h['seconds']:>7.2f} "
              f"{h['seconds'] / q['seconds']:>4.1f}x | {q['cpu']:>6.2f} {h['cpu']:>6.2f} {h['cpu'] / q['cpu']:>4.1f}x | "
              f"{q['rss']:>6.0f} {h['rss']:>6.0f} {q['rss'] - q['size']:>6.0f} | "
              f"{q['size']:>7.1f} {h['size']:>7.1f} {q['size'] / h['size']:>6.3f}")
    print(f"(best of {args.repeat} runs; seconds; MB. x = highdicom / qrscp. q-out = qrscp peak RSS - its output size, target <= "
          f"{RSS_ALLOWANCE_MB}. q/hd = output size ratio, target <= 1. Speed-up targets: >= 3x uncompressed, "
          ">= 5x compressed.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
