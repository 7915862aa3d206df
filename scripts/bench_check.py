#!/usr/bin/env python
"""Benchmark: ``qrscp check`` against ``qrscp convert --to enhanced`` on the same series, as whole processes.

Target (issue 17): check <= 2x the time of convert. Each folder given (default: the classic series of
``../shared/realdata``) is converted and checked in fresh processes, best of `--repeat` wall times; the
ratio check/convert is printed per folder and for the sum. The machines are shared: ratios are the figure.

Usage::

    python scripts/bench_check.py [FOLDER...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
DEFAULT = ["dcm_qa_philips_enh/elition_1901_pcasl_classic", "dcm_qa_philips/achieva_dstream_fmri",
           "dcm_qa_ge/signa_pioneer_dwi", "dcm_qa_ct/ge_hispeed_tilt_first15", "dcm4che/genesis_signa_mr"]


def _best(command: list[str], repeat: int) -> float:
    """Best wall time of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(os.environ.get("QRSCP_REALDATA", REALDATA))
    folders = [Path(f) for f in args.folders] or [root / f for f in DEFAULT]
    totals = [0.0, 0.0]
    print(f"{'folder':60} {'convert s':>10} {'check s':>10} {'ratio':>6}")
    for folder in folders:
        out = Path(tempfile.mkdtemp())
        try:
            convert = _best([sys.executable, "-m", "qrscp", "convert", "--to", "enhanced", str(folder), "-o",
                             str(out), "--secret", "bench"], args.repeat)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        check = _best([sys.executable, "-m", "qrscp", "check", str(folder), "--secret", "bench"], args.repeat)
        totals[0] += convert
        totals[1] += check
        print(f"{str(folder)[-60:]:60} {convert:10.2f} {check:10.2f} {check / convert:6.2f}")
    print(f"{'all':60} {totals[0]:10.2f} {totals[1]:10.2f} {totals[1] / totals[0]:6.2f}  (target <= 2.00)")
    return 0 if totals[1] <= 2 * totals[0] else 1


if __name__ == "__main__":
    sys.exit(main())
