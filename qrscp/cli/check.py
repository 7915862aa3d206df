"""``qrscp check PATH... [--from HOST PORT] [--json] [--secret S]``: does an archive convert cleanly?

Reads the files (or, with ``--from``, every study of a running archive through C-FIND and C-GET into a
temporary folder), converts every series both ways in memory and checks the outputs
(:mod:`qrscp.services.check`): one row per series with a progress bar on stderr, then a summary;
``--json`` prints a list with one object per series instead. Exit status 1 when any series has a new
dciodvfy error, a round-trip difference or a conversion failure, else 0.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parser is built for every command: the engine is imported only to run this one
    from qrscp.convert import UIDSource
    from qrscp.services.check import SeriesCheck


def add_check(subparsers: argparse._SubParsersAction) -> None:
    """The ``check`` subcommand's arguments."""
    p = subparsers.add_parser("check", help="check that every series converts cleanly both ways")
    p.add_argument("paths", nargs="*", help="files or folders (recursive)")
    p.add_argument("--from", dest="source", nargs=2, metavar=("HOST", "PORT"),
                   help="check a running archive (C-FIND then C-GET of every study)")
    p.add_argument("--aet", default="QRSCU", help="our AE title (with --from)")
    p.add_argument("--aec", default="QRSCP", help="the archive's AE title (with --from)")
    p.add_argument("--json", action="store_true", help="print one JSON object per series")
    p.add_argument("--no-validate", action="store_true", help="do not run dciodvfy")
    p.add_argument("--secret", help="UID secret (default: [views] uid_secret of the configuration)")
    p.add_argument("--config")


def run_check(args: argparse.Namespace) -> int:
    """Run ``qrscp check``; return the exit code."""
    from qrscp.convert import UIDSource
    from qrscp.cli.convert import _secret, input_files

    if not args.paths and not args.source:
        print("qrscp check: give PATH... or --from HOST PORT", file=sys.stderr)
        return 2
    collecting = gc.isenabled()
    gc.disable()  # as in ``qrscp convert``: the sources' headers stay alive, the collector frees nothing
    try:
        with tempfile.TemporaryDirectory(prefix="qrscp-check-get-") as received, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's warnings about source values: the rows report them
            paths = list(input_files(args.paths))
            if args.source:
                host, port = args.source[0], int(args.source[1])
                paths += retrieve_all(host, port, Path(received), aet=args.aet, aec=args.aec)
            results = _check(paths, UIDSource(_secret(args)), validate=not args.no_validate)
    finally:
        if collecting:
            gc.enable()
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=1))
    else:
        print(format_table(results))
    return 0 if all(r.ok for r in results) else 1


def _check(paths: list[Path], uids: UIDSource, *, validate: bool) -> list[SeriesCheck]:
    from qrscp.cli.convert import _progress
    from qrscp.services.check import check_paths

    with _progress() as progress:
        task = progress.add_task("checking series", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total) if hasattr(progress, "update") else None

        return check_paths(paths, uids=uids, validate=validate, progress=advance)


def format_table(results: list[SeriesCheck]) -> str:
    """One row per series (frames, converted or why not, new errors, round-trip differences), a summary."""
    rows = [("series", "direction", "frames", "converted", "new errors", "round trip", "location / reason")]
    for r in results:
        detail = r.reason or r.location
        if r.new_errors:
            detail += " | " + r.new_errors[0]
        if r.round_trip_differences:
            detail += " | " + r.round_trip_differences[0]
        rows.append((r.series_instance_uid[-24:], r.direction or "-", str(r.frames), "yes" if r.converted else "no",
                     str(len(r.new_errors)), str(len(r.round_trip_differences)), detail))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[6] for row in rows]
    converted = [r for r in results if r.converted]
    wrong = [r for r in results if not r.ok]
    lines.append(f"{len(results)} series checked: {len(converted)} converted "
                 f"({sum(r.frames for r in converted)} frames), {len(results) - len(converted)} not converted, "
                 f"{sum(len(r.new_errors) for r in results)} new validator errors, "
                 f"{sum(len(r.round_trip_differences) for r in results)} round-trip differences, "
                 f"{len(wrong)} series with something new wrong")
    return "\n".join(lines)


def retrieve_all(host: str, port: int, output: Path, *, aet: str, aec: str) -> list[Path]:
    """Every instance of the archive at host:port, by C-FIND of its studies then one C-GET each."""
    from rich.console import Console

    from qrscp.cli.client import _run_retrieve

    console = Console(stderr=True)
    base = dict(host=host, port=port, aet=aet, aec=aec, root="study", view=None, output=str(output), dest=None,
                store_port=0)
    for study in _study_uids(argparse.Namespace(**base)):
        args = argparse.Namespace(**base, level="STUDY", key=[f"StudyInstanceUID={study}"])
        if _run_retrieve(args, console, "get") != 0:
            raise RuntimeError(f"C-GET of study {study} from {host}:{port} failed")
    return sorted(p for p in output.rglob("*") if p.is_file())


def _study_uids(args: argparse.Namespace) -> list[str]:
    """Study Instance UIDs of every study of the archive (Study Root C-FIND, universal matching)."""
    from pydicom.dataset import Dataset
    from pynetdicom import AE

    from qrscp.cli.client import INFORMATION_MODELS, ClientError, _associate

    sop_class = INFORMATION_MODELS[("study", "find")]
    ae = AE(ae_title=args.aet)
    ae.add_requested_context(sop_class)
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = ""
    assoc = _associate(ae, args, sop_class, False)
    studies = []
    try:
        for status, match in assoc.send_c_find(identifier, sop_class):
            if not status:
                raise ClientError("no response from the archive (timeout or aborted association)")
            if int(status.Status) in (0xFF00, 0xFF01) and match is not None:
                studies.append(str(match.StudyInstanceUID))
    finally:
        assoc.release()
    return sorted(set(studies))
