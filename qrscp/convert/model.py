"""Value classes of the conversion engine: results and reference mappings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydicom.dataset import Dataset


@dataclass(frozen=True, order=True)
class FrameSource:
    """One source of a converted instance: a SOP Instance, or one frame of it (frame numbers from 1)."""

    sop_instance_uid: str
    frame: int | None = None
    sop_class_uid: str = ""


#: Kinds of Conversion.
ENHANCED = "enhanced"  # Legacy Converted Enhanced image made from classic images
CLASSIC = "classic"  # classic single-frame image made from one frame of an enhanced image
RECOVERED = "recovered"  # original classic image recovered from a Legacy Converted Enhanced image (ZZZA.7)
OVERLAY_GSPS = "overlay-gsps"  # presentation state carrying overlays removed from classic images
REWRITTEN = "rewritten"  # any instance whose references were updated


@dataclass
class Conversion:
    """A new instance made by conversion.

    Attributes
    ----------
    dataset : Dataset
        The new instance, with ``file_meta`` (TransferSyntaxUID, MediaStorage SOP Class/Instance UID).
    sources : list of FrameSource
        The instances (or frames) it was made from, in frame order.
    frame_map : dict
        Exact mapping ``(source SOP Instance UID, source frame or None) -> (new SOP Instance UID, new frame
        or None)``. Frames are numbered from 1; None means "the whole single-frame instance".
    kind : str
        One of ``ENHANCED``, ``CLASSIC``, ``RECOVERED``, ``OVERLAY_GSPS``, ``REWRITTEN``.
    """

    dataset: Dataset
    sources: list[FrameSource]
    frame_map: dict[tuple[str, int | None], tuple[str, int | None]] = field(default_factory=dict)
    kind: str = ENHANCED
    #: How the frames are read when the dataset was made with ``materialize_pixels=False`` (see io).
    pixel_plan: object | None = field(default=None, repr=False, compare=False)

    @property
    def sop_instance_uid(self) -> str:
        return str(self.dataset.SOPInstanceUID)

    @property
    def sop_class_uid(self) -> str:
        return str(self.dataset.SOPClassUID)

    @property
    def series_instance_uid(self) -> str:
        return str(self.dataset.SeriesInstanceUID)


@dataclass(frozen=True, order=True)
class ReferenceTarget:
    """Where a reference points after conversion."""

    sop_class_uid: str
    sop_instance_uid: str
    frame: int | None
    series_instance_uid: str
    study_instance_uid: str = ""


class ReferenceMapping:
    """Old reference ``(SOP Instance UID, frame or None)`` -> list of new ReferenceTarget.

    A reference to a whole multi-frame instance that was split into classic images maps to all of them;
    a reference to one frame maps to one target. Build it from every Conversion of the patient with
    :meth:`from_conversions`, or :meth:`add` targets one by one.
    """

    def __init__(self) -> None:
        self._targets: dict[tuple[str, int | None], list[ReferenceTarget]] = {}

    def add(self, old_uid: str, old_frame: int | None, target: ReferenceTarget) -> None:
        """Map reference (`old_uid`, `old_frame`) to `target` (appended; duplicates ignored)."""
        targets = self._targets.setdefault((old_uid, old_frame), [])
        if target not in targets:
            targets.append(target)

    def targets(self, old_uid: str, old_frame: int | None = None) -> list[ReferenceTarget]:
        """Return the new targets of a reference, or [] when it is not mapped."""
        found = self._targets.get((old_uid, old_frame))
        if found is None and old_frame is not None:
            # A frame reference to a single-frame source that became a frame elsewhere.
            found = self._targets.get((old_uid, None)) if old_frame == 1 else None
        return list(found or [])

    def __contains__(self, uid: object) -> bool:
        return any(key[0] == uid for key in self._targets)

    def __iter__(self) -> Iterator[tuple[str, int | None]]:
        return iter(sorted(self._targets, key=lambda k: (k[0], k[1] or 0)))

    def __len__(self) -> int:
        return len(self._targets)

    def add_conversion(self, conversion: Conversion) -> None:
        """Add every (source, frame) -> (new instance, frame) pair of `conversion`."""
        ds = conversion.dataset
        sop_class = str(ds.SOPClassUID)
        series = str(ds.SeriesInstanceUID)
        study = str(ds.get("StudyInstanceUID", ""))
        whole: dict[str, list[ReferenceTarget]] = {}
        for (old_uid, old_frame), (new_uid, new_frame) in conversion.frame_map.items():
            target = ReferenceTarget(sop_class, new_uid, new_frame, series, study)
            self.add(old_uid, old_frame, target)
            if old_frame is not None:
                whole.setdefault(old_uid, []).append((old_frame, target))
        for old_uid, pairs in whole.items():
            for _, target in sorted(pairs, key=lambda p: p[0]):
                self.add(old_uid, None, ReferenceTarget(
                    target.sop_class_uid, target.sop_instance_uid,
                    None if target.frame is None else target.frame,
                    target.series_instance_uid, target.study_instance_uid))

    @classmethod
    def from_conversions(cls, conversions: Iterable[Conversion]) -> ReferenceMapping:
        """Build the mapping of every Conversion (enhanced, classic, recovered, overlay, rewritten)."""
        mapping = cls()
        for conversion in conversions:
            mapping.add_conversion(conversion)
        return mapping
