#!/usr/bin/env python3
"""Cost of sending each DIMSE command and its data set in separate PDUs, on many small messages.

One in-process archive holds a series of small images; DCMTK ``findscu`` (IMAGE level, one match per
image) and ``getscu`` (the series) run against it alternately with ``[server] command_and_data_in_one_pdu``
off (the default: separate PDUs) and on (command and first data fragment in one PDU). The medians and
the ratio separate/combined are printed. Large images hide the difference: see
``scripts/bench_archive.py --combined`` for a 512x512 series.

Usage::

    python scripts/bench_packing.py                 # 300 64x64 images, 9 rounds
    python scripts/bench_packing.py --images 500 --rounds 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qrscp.app import Archive  # noqa: E402
from qrscp.config import Config  # noqa: E402
from qrscp.net.pynetdicom_ext import fastdimse  # noqa: E402
from qrscp.testing.dcmtk import dcmtk_env, dcmtk_tool  # noqa: E402
from qrscp.testing.factory import make_series  # noqa: E402
from qrscp.testing.network import LOCALHOST, client_for  # noqa: E402


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=dcmtk_env())
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="64x64 CT images in the series")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds per packing")
    args = parser.parse_args(argv)
    if dcmtk_tool("findscu") is None or dcmtk_tool("getscu") is None:
        print("DCMTK findscu/getscu not found (apt-get install dcmtk)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="qrscp-packing-"))
    config = Config()
    config.server.bind_address, config.server.port = LOCALHOST, 0
    config.storage.data_dir, config.storage.fsync = work / "data", False
    config.views.enabled = False
    archive = Archive(config)
    archive.start()
    try:
        series = make_series("CT", slices=args.images, rows=64, columns=64, seed=9)
        client_for(archive).store(series)
        keys = ["-k", f"StudyInstanceUID={series[0].StudyInstanceUID}",
                "-k", f"SeriesInstanceUID={series[0].SeriesInstanceUID}"]
        server = [LOCALHOST, str(archive.port)]
        find = [dcmtk_tool("findscu"), "-S", "-aec", archive.ae_title, "-k", "QueryRetrieveLevel=IMAGE",
                *keys, "-k", "SOPInstanceUID", *server]
        get = [dcmtk_tool("getscu"), "-S", "-aec", archive.ae_title, "-od", str(work),
               "-k", "QueryRetrieveLevel=SERIES", *keys, *server]
        times: dict[bool, dict[str, list[float]]] = {False: {"C-FIND": [], "C-GET": []},
                                                     True: {"C-FIND": [], "C-GET": []}}
        for _ in range(args.rounds):
            for combine in (False, True):
                setattr(archive.ae, fastdimse.COMBINED_ATTRIBUTE, combine)
                times[combine]["C-FIND"].append(timed(find))
                times[combine]["C-GET"].append(timed(get))
    finally:
        archive.stop()
    print(f"{args.images} 64x64 images, median of {args.rounds} interleaved rounds")
    print(f"{'work':<8}{'separate':>12}{'combined':>12}{'separate/combined':>20}")
    for work_name in ("C-FIND", "C-GET"):
        separate = statistics.median(times[False][work_name])
        combined = statistics.median(times[True][work_name])
        print(f"{work_name:<8}{separate * 1000:>10.0f}ms{combined * 1000:>10.0f}ms{separate / combined:>19.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
