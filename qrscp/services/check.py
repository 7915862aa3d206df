"""Does an archive convert cleanly? Both conversions of every series, in memory, checked like the tests do.

For each series of the files given: classic CT/MR/PET images are converted to Legacy Converted Enhanced
and back; enhanced CT/MR/PET images to classic. Each result says how many frames, whether it converted
(else why not), the dciodvfy errors of the outputs that no source file already has
(:mod:`qrscp.services.validation`; skipped when dciodvfy is not installed), and the differences of the
round trip (:func:`qrscp.convert.roundtrip.round_trip_differences`, pixel data compared frame by frame).
A series of other objects (SR, RT, SEG...) is listed as not converted, with the reason.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from qrscp.convert import ENHANCED, OVERLAY_GSPS, UIDSource, read_source, to_classic, to_enhanced, write_part10
from qrscp.convert.classic import is_convertible_enhanced
from qrscp.convert.grouping import classic_refusal
from qrscp.convert.roundtrip import round_trip_differences
from qrscp.dicom.datasets import element_dict
from qrscp.services import validation

logger = logging.getLogger(__name__)


@dataclass
class SeriesCheck:
    """The result for one series (``--json`` prints :meth:`as_json`)."""

    series_instance_uid: str
    frames: int = 0
    converted: bool = False
    reason: str = ""
    new_errors: list[str] = field(default_factory=list)
    round_trip_differences: list[str] = field(default_factory=list)
    direction: str = ""
    location: str = ""

    @property
    def ok(self) -> bool:
        """Nothing new is wrong (a series of objects that are not images to convert is fine)."""
        return not self.new_errors and not self.round_trip_differences and not self.reason.startswith("failed")

    def as_json(self) -> dict:
        keys = ("series_instance_uid", "frames", "converted", "reason", "new_errors", "round_trip_differences")
        return {key: value for key, value in asdict(self).items() if key in keys}


def series_of(paths: Iterable[Path]) -> tuple[dict[str, list[tuple[Path, Dataset]]], list[tuple[Path, str]]]:
    """The readable DICOM instances of `paths` by Series Instance UID, and the files that are not."""
    series: dict[str, list[tuple[Path, Dataset]]] = {}
    unreadable: list[tuple[Path, str]] = []
    for path in paths:
        try:
            ds = read_source(path)
        except Exception as exc:  # noqa: BLE001 - a broken file is reported, the others checked
            unreadable.append((path, f"not DICOM ({exc.__class__.__name__})"))
            continue
        if "SOPInstanceUID" not in ds:
            unreadable.append((path, "not a DICOM composite instance"))
            continue
        series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((path, ds))
    return series, unreadable


class Checker:
    """Checks series; dciodvfy runs `workers` at a time, only when an output has errors to explain."""

    def __init__(self, uids: UIDSource, *, validate: bool = True, workers: int | None = None,
                 workdir: str | os.PathLike | None = None) -> None:
        self.uids = uids
        self.validate = validate and validation.dciodvfy_path() is not None
        self.workers = workers or os.cpu_count() or 2
        self.pool = ThreadPoolExecutor(max_workers=self.workers)
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="qrscp-check-"))
        self._count = 0

    def close(self) -> None:
        self.pool.shutdown()

    def _path(self) -> Path:
        self._count += 1
        return self.workdir / f"{self._count}.dcm"

    def check(self, uid: str, instances: Sequence[tuple[Path, Dataset]]) -> list[SeriesCheck]:
        """One result per direction the series needs (classic images and enhanced images)."""
        classic = [(p, ds) for p, ds in instances if classic_refusal(ds) is None]
        enhanced = [(p, ds) for p, ds in instances if is_convertible_enhanced(ds)]
        results = []
        if classic:
            results.append(self._guarded(uid, "enhanced", classic, self._classic))
        if enhanced:
            results.append(self._guarded(uid, "classic", enhanced, self._enhanced))
        if not results:
            reasons = sorted({classic_refusal(ds) or "" for _, ds in instances})
            results.append(SeriesCheck(uid, reason="; ".join(reasons), location=_location(instances)))
        for path in self.workdir.glob("*.dcm"):  # this series' outputs
            path.unlink()
        return results

    def _guarded(self, uid: str, direction: str, instances, run: Callable) -> SeriesCheck:
        result = SeriesCheck(uid, direction=direction, location=_location(instances))
        try:
            run(result, instances)
        except Exception as exc:  # noqa: BLE001 - reported per series; the others are still checked
            logger.exception("check of series %s failed", uid)
            result.converted = False
            result.reason = f"failed: {exc.__class__.__name__}: {exc}"
        return result

    def _classic(self, result: SeriesCheck, instances: Sequence[tuple[Path, Dataset]]) -> None:
        failures: list[str] = []
        conversions = to_enhanced([ds for _, ds in instances], uids=self.uids,
                                  on_error=lambda frames, exc: failures.append(f"{exc.__class__.__name__}: {exc}"))
        if failures:
            result.reason = "failed: " + "; ".join(failures)
        states = [c.dataset for c in conversions if c.kind == OVERLAY_GSPS]
        originals = {str(ds.SOPInstanceUID): (path, ds) for path, ds in instances}
        outputs = []
        for conversion in conversions:
            path = self._path()
            write_part10(conversion, path)
            outputs.append(path)
            if conversion.kind != ENHANCED:
                continue
            result.converted = True
            result.frames += int(conversion.dataset.NumberOfFrames)
            enhanced = read_source(path, defer=False)
            read = {s.sop_instance_uid: read_source(originals[s.sop_instance_uid][0], defer=False)
                    for s in conversion.sources}
            for recovered in to_classic(enhanced, uids=self.uids, overlay_states=states):
                uid = str(recovered.dataset.SOPInstanceUID)
                if uid not in read:
                    result.round_trip_differences.append(f"{uid}: not an original instance")
                    continue
                for line in round_trip_differences(read[uid], recovered.dataset):
                    result.round_trip_differences.append(f"{uid}: {line}")
                if not _same_pixels(read[uid], recovered.dataset):
                    result.round_trip_differences.append(f"{uid}: pixel data differ")
            _same_frames(result, enhanced, [read[s.sop_instance_uid] for s in conversion.sources])
        result.new_errors = self._new_errors(outputs, [p for p, _ in instances], [ds for _, ds in instances])

    def _enhanced(self, result: SeriesCheck, instances: Sequence[tuple[Path, Dataset]]) -> None:
        outputs = []
        for path, _ in instances:
            source = read_source(path, defer=False)
            conversions = to_classic(source, uids=self.uids)
            frames = []
            for conversion in conversions:
                out = self._path()
                write_part10(conversion, out)
                outputs.append(out)
                frames.append(read_source(out, defer=False))
            result.frames += len(conversions)
            result.converted = result.converted or bool(conversions)
            source_frames = _frames(source)
            for number, frame in enumerate(frames, start=1):
                if not np.array_equal(_frames(frame)[0], source_frames[number - 1]):
                    result.round_trip_differences.append(f"{source.SOPInstanceUID} frame {number}: pixel data differ")
        result.new_errors = self._new_errors(outputs, [p for p, _ in instances], [ds for _, ds in instances])

    def _new_errors(self, outputs: list[Path], sources: list[Path], datasets: list[Dataset]) -> list[str]:
        """Errors of the outputs not explained by the sources; sources are validated only as needed."""
        if not self.validate:
            return []
        output_errors = sorted({e for errors in self.pool.map(validation.dciodvfy_errors, outputs) for e in errors})
        if not output_errors:
            return []
        unexplained = output_errors
        known: list[str] = []
        batch = self.workers
        for start in range(0, len(sources), batch):  # stop once the sources explain everything
            for errors in self.pool.map(validation.dciodvfy_errors, sources[start:start + batch]):
                known += errors
            unexplained = validation.new_errors(output_errors, known)
            if not unexplained:
                return []
        return validation.new_errors(output_errors, known, empty_in_source=_empty_in_all(datasets))


def _location(instances: Sequence[tuple[Path, Dataset]]) -> str:
    folders = sorted({str(path.parent) for path, _ in instances})
    return folders[0] if len(folders) == 1 else f"{folders[0]} (+{len(folders) - 1})"


def _empty_in_all(datasets: Sequence[Dataset]) -> set[str]:
    """Keywords every dataset has with no value."""
    sets = []
    for ds in datasets:  # top level, from the raw lengths: nothing decoded
        sets.append({keyword_for_tag(tag) for tag, elem in element_dict(ds).items()
                     if (elem.length == 0 if type(elem) is RawDataElement else elem.VR != "SQ" and elem.is_empty)})
    return set.intersection(*sets) - {""} if sets else set()


def _frames(ds: Dataset) -> np.ndarray:
    array = ds.pixel_array
    return array[np.newaxis] if int(ds.get("NumberOfFrames", 1) or 1) == 1 else array


def _native_bytes(ds: Dataset) -> bytes | None:
    """The Pixel Data bytes of a native little-endian image (None: compressed or big endian)."""
    from qrscp.convert.pixels import transfer_syntax_of

    syntax = transfer_syntax_of(ds)
    if syntax not in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1") or "PixelData" not in ds:
        return None
    return bytes(ds.PixelData)


def _same_pixels(original: Dataset, recovered: Dataset) -> bool:
    if "PixelData" not in original:
        return "PixelData" not in recovered
    fast = _native_bytes(original), _native_bytes(recovered)
    if None not in fast and fast[0] == fast[1] and original.get("BitsStored") == recovered.get("BitsStored"):
        return True  # the same bytes under the same Image Pixel module: the same values
    try:
        return bool(np.array_equal(_frames(original).astype(np.int64), _frames(recovered).astype(np.int64)))
    except ValueError:  # a truncated source slice: the conversion zero-pads it
        return True


def _same_frames(result: SeriesCheck, enhanced: Dataset, sources: list[Dataset]) -> None:
    """Frame i of the enhanced image has the pixel values of source i."""
    frames = _frames(enhanced)
    for number, source in enumerate(sources, start=1):
        try:
            expected = _frames(source)[0]
        except ValueError:
            continue
        if not np.array_equal(frames[number - 1].astype(np.int64), expected.astype(np.int64)):
            result.round_trip_differences.append(f"{enhanced.SOPInstanceUID} frame {number}: pixel data differ")


def check_paths(paths: Iterable[Path], *, uids: UIDSource, validate: bool = True,
                progress: Callable[[int, int], None] | None = None) -> list[SeriesCheck]:
    """Check every series of the files `paths` (see the module docstring), in Series Instance UID order."""
    series, unreadable = series_of(paths)
    results: list[SeriesCheck] = []
    with tempfile.TemporaryDirectory(prefix="qrscp-check-") as workdir:
        checker = Checker(uids, validate=validate, workdir=workdir)
        try:
            for done, uid in enumerate(sorted(series), start=1):
                results.extend(checker.check(uid, series[uid]))
                if progress is not None:
                    progress(done, len(series))
        finally:
            checker.close()
    for path, reason in unreadable:
        logger.info("check: %s skipped: %s", path, reason)
    return results
