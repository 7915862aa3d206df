"""Conversion engine: classic <-> Legacy Converted Enhanced CT/MR/PET (DICOM Supplement 157).

Pure functions on pydicom Datasets: no network, no database, no clock, no randomness. The same sources
give byte-identical outputs in any order, in any process (UIDs from a :class:`UIDSource`).

Public API
----------
``to_enhanced(sources, *, uids, view=View.ENHANCED, materialize_pixels=True) -> list[Conversion]``
    Classic CT/MR/PET images (any mix; others are ignored) -> one Legacy Converted Enhanced image per
    group (:func:`group_for_enhanced`), each followed by the GSPS conversions (kind ``OVERLAY_GSPS``)
    that carry the overlays removed from its frames.
``to_classic(source, *, uids, view=View.CLASSIC, recover_originals=True, overlay_states=()) -> list[Conversion]``
    One Enhanced / Legacy Converted Enhanced CT/MR/PET image -> one classic image per frame. Frames of a
    Legacy Converted image get back their original UIDs and values (kind ``RECOVERED``, ZZZA.7); other
    frames become new instances (kind ``CLASSIC``). Any other SOP class gives [].
``rewrite_references(dataset, mapping, *, uids, view) -> Dataset | None``
    A copy of any instance with every reference updated (new SOP Instance UID and series), or None when
    it references nothing that `mapping` knows.
``group_for_enhanced(datasets) -> list[list[Dataset]]``
    The grouping rule and frame order used by :func:`to_enhanced`.
``Conversion(dataset, sources: list[FrameSource], frame_map, kind, pixel_plan=None)``
    ``frame_map``: ``{(source SOP Instance UID, source frame or None): (new SOP Instance UID, new frame
    or None)}``; frames count from 1, None = a whole single-frame instance. ``dataset.file_meta`` holds the
    transfer syntax of the output.
``ReferenceMapping``
    ``ReferenceMapping.from_conversions(conversions)``; ``.add(old_uid, old_frame, ReferenceTarget(
    sop_class_uid, sop_instance_uid, frame, series_instance_uid, study_instance_uid))``;
    ``.targets(old_uid, old_frame=None) -> list[ReferenceTarget]``. Add the conversions of rewritten
    instances too (``conversion_for_rewritten``) so references to references follow (closure).
``UIDSource(secret)``; ``.derive(view, kind, source_uids) -> "2.25.<int>"``.
``write_part10(conversion_or_dataset, path) -> int`` and ``read_source(path, defer=True) -> Dataset``.

Every output carries Query/Retrieve View (0008,0053) = the `view` argument (except recovered originals,
which are the original instances again).

Notes for callers
-----------------
- A RECOVERED conversion has the SOP Instance UID of the classic image the frame was made from. When
  that original is itself in the archive, the enhanced image needs no conversion for the CLASSIC view:
  its frames already are the originals.
- OVERLAY_GSPS conversions have no frame_map; their Conversion Source Attributes name the classic images
  whose overlays they carry, and the enhanced image references them (Referenced Presentation State
  Sequence). Pass them back to ``to_classic(..., overlay_states=...)`` to recover the overlays.
- Outputs never share mutable values with the sources except raw (undecoded) elements, which are
  immutable.
"""

from __future__ import annotations

from qrscp.convert.classic import to_classic
from qrscp.convert.enhanced import to_enhanced
from qrscp.convert.grouping import group_for_enhanced
from qrscp.convert.io import read_source, write_part10
from qrscp.convert.model import (
    CLASSIC,
    ENHANCED,
    OVERLAY_GSPS,
    RECOVERED,
    REWRITTEN,
    Conversion,
    FrameSource,
    ReferenceMapping,
    ReferenceTarget,
)
from qrscp.convert.references import conversion_for_rewritten, rewrite_references
from qrscp.convert.uids import UIDSource

__all__ = [
    "CLASSIC",
    "ENHANCED",
    "OVERLAY_GSPS",
    "RECOVERED",
    "REWRITTEN",
    "Conversion",
    "FrameSource",
    "ReferenceMapping",
    "ReferenceTarget",
    "UIDSource",
    "conversion_for_rewritten",
    "group_for_enhanced",
    "read_source",
    "rewrite_references",
    "to_classic",
    "to_enhanced",
    "write_part10",
]
