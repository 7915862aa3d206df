"""``qrscp convert --to enhanced|classic INPUT... -o OUTDIR [--secret S]``.

Inputs are files or folders (recursive). Classic CT/MR/PET images are grouped automatically
(:func:`qrscp.convert.grouping.group_for_enhanced`); enhanced inputs are converted one by one. Each
output is written as ``OUTDIR/<SOP Instance UID>.dcm`` with a one-line summary on stdout; a progress
bar goes to stderr. Non-DICOM and unsupported inputs are reported on stderr and skipped; the exit code is
1 when any input could not be converted, else 0.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from qrscp.convert.classic import is_convertible_enhanced, to_classic
from qrscp.convert.enhanced import to_enhanced
from qrscp.convert.grouping import classic_refusal
from qrscp.convert.io import read_source, write_part10
from qrscp.convert.model import Conversion
from qrscp.convert.uids import UIDSource

logger = logging.getLogger(__name__)


def input_files(inputs: list[str]) -> Iterator[Path]:
    """Every file named or found (recursively, in sorted order) under the inputs."""
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for file in sorted(files):
                    yield Path(root) / file
        else:
            yield path


def _secret(args: argparse.Namespace) -> str:
    if getattr(args, "secret", None):
        return str(args.secret)
    from qrscp.config import load_config

    return load_config(getattr(args, "config", None)).views.uid_secret


def _read(path: Path) -> Dataset | str:
    """The dataset of `path`, or the reason it cannot be used."""
    try:
        ds = read_source(path)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        return f"not DICOM ({exc.__class__.__name__})"
    except Exception as exc:  # noqa: BLE001 - a broken file must not stop the others
        return f"unreadable ({exc.__class__.__name__}: {exc})"
    if "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
        return "not a DICOM composite instance"
    return ds


def _summary(conversion: Conversion, path: Path) -> str:
    ds = conversion.dataset
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return f"{UID(str(ds.SOPClassUID)).name}\t{frames} frame{'s' if frames != 1 else ''}\t{path}"


class _NoProgress:
    """Stand-in for ``rich.progress.Progress`` when stderr is not a terminal (nothing would be drawn)."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def add_task(self, description: str, total: int | None = None) -> int:
        return 0

    def advance(self, task: int) -> None:
        return None


def _progress():
    """A progress bar on stderr when it is a terminal; rich is imported only then (it costs ~40 ms)."""
    if not sys.stderr.isatty():
        return _NoProgress()
    from rich.progress import Progress

    return Progress(transient=True)


def run_convert(args: argparse.Namespace) -> int:
    """Run the ``qrscp convert`` command; return the exit code."""
    # A conversion keeps every source header alive to the end, so the cyclic garbage collector walks
    # them again and again and frees nothing: a fifth of the time of a 2,000-slice series. The command
    # is one short process; the collector is off while it runs.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _convert(args)
    finally:
        if collecting:
            gc.enable()


def _convert(args: argparse.Namespace) -> int:
    uids = UIDSource(_secret(args))
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    to = args.to
    failed = 0
    sources: list[Dataset] = []
    paths = list(input_files(args.inputs))
    with _progress() as progress:
        task = progress.add_task("reading", total=len(paths))
        for path in paths:
            result = _read(path)
            progress.advance(task)
            if isinstance(result, str):
                print(f"skipped {path}: {result}", file=sys.stderr)
                failed += 1
                continue
            if to == "enhanced":
                refusal = classic_refusal(result)
            elif not is_convertible_enhanced(result):
                refusal = f"{UID(str(result.SOPClassUID)).name} is not an Enhanced CT/MR/PET image"
            else:
                refusal = None
            if refusal:
                print(f"skipped {path}: {refusal}", file=sys.stderr)
                failed += 1
                continue
            sources.append(result)
        conversions: list[Conversion] = []
        if to == "enhanced":
            def report(frames: Sequence[Dataset], exc: Exception) -> None:
                nonlocal failed
                failed += len(frames)
                files = ", ".join(str(getattr(ds, "filename", "?")) for ds in frames[:3])
                more = f" and {len(frames) - 3} more" if len(frames) > 3 else ""
                print(f"error: {len(frames)} images ({files}{more}) not converted: {exc.__class__.__name__}: "
                      f"{exc}", file=sys.stderr)

            conversions = to_enhanced(sources, uids=uids, materialize_pixels=False, on_error=report)
        task = progress.add_task("converting", total=len(sources) if to == "classic" else len(conversions))
        if to == "classic":
            for source in sources:
                try:
                    made = to_classic(source, uids=uids)
                except Exception as exc:  # noqa: BLE001 - report and go on with the other inputs
                    print(f"error: {source.filename}: {exc}", file=sys.stderr)
                    failed += 1
                    continue
                for conversion in made:
                    _write(conversion, out_dir)
                progress.advance(task)
        else:
            for conversion in conversions:
                _write(conversion, out_dir)
                progress.advance(task)
    return 1 if failed else 0


def _write(conversion: Conversion, out_dir: Path) -> None:
    path = out_dir / f"{conversion.sop_instance_uid}.dcm"
    write_part10(conversion, path)
    print(_summary(conversion, path), flush=True)
