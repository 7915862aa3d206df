"""What a CLASSIC or ENHANCED view does with each instance of a patient: convert, rewrite or keep unchanged.

Pure functions on pydicom headers (no files, no database), so the mapping and its closure are computed in
full before anything is written (Supplement 157 C.3.5, ZZZA.5):

1. *Converted*: in the ENHANCED view, classic CT/MR/PET images grouped by the engine's
   ``group_for_enhanced`` (groups of one image stay unchanged, C.3.5 note 2: a lone localizer needs no
   conversion); in the CLASSIC view, every Enhanced or Legacy Converted Enhanced CT/MR/PET image.
2. *Rewritten*: every other instance that references (anywhere, the Conversion Source Attributes Sequence
   excepted) an instance that is converted or rewritten — a closure, since a rewritten instance gets a new
   UID in turn. Each instance enters the closure once, so reference cycles terminate.
3. *Unchanged*: everything else; it appears in the view as received.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag

from qrscp.index.view_records import CONVERTED, REWRITTEN, UNCHANGED
from qrscp.uids import CLASSIC_TO_LEGACY_CONVERTED, ENHANCED_TO_CLASSIC, View

#: Conversion Source Attributes Sequence: references to the *other* view, never rewritten (C.3.5 note 3).
CONVERSION_SOURCE_ATTRIBUTES_SEQUENCE = Tag(0x0020, 0x9172)
REFERENCED_SOP_INSTANCE_UID = Tag(0x0008, 0x1155)


def is_convertible(view: View, sop_class_uid: str) -> bool:
    """True when instances of `sop_class_uid` are replaced by converted instances in `view`."""
    if view is View.ENHANCED:
        return sop_class_uid in CLASSIC_TO_LEGACY_CONVERTED
    if view is View.CLASSIC:
        return sop_class_uid in ENHANCED_TO_CLASSIC
    return False


def referenced_instances(ds: Dataset) -> set[str]:
    """Every Referenced SOP Instance UID (0008,1155) in `ds`, at any depth, outside (0020,9172).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A header (pixel data is not needed).

    Returns
    -------
    set of str
    """
    found: set[str] = set()
    stack = [ds]
    while stack:
        current = stack.pop()
        for element in current:
            if element.tag == REFERENCED_SOP_INSTANCE_UID:
                value = element.value
                values = value if isinstance(value, (list, tuple, MultiValue)) else [value]
                found.update(str(v).strip() for v in values if v)
            elif element.VR == "SQ" and element.tag != CONVERSION_SOURCE_ATTRIBUTES_SEQUENCE:
                stack.extend(item for item in (element.value or []) if isinstance(item, Dataset))
    return found


def enhanced_frame_sources(ds: Dataset) -> dict[str, int]:
    """Classic source SOP Instance UID -> frame number, from the per-frame Conversion Source Attributes of an
    Enhanced or Legacy Converted Enhanced image (empty when it names no source)."""
    sources: dict[str, int] = {}
    for frame, item in enumerate(ds.get("PerFrameFunctionalGroupsSequence") or [], start=1):
        for source in item.get("ConversionSourceAttributesSequence") or []:
            uid = str(source.get("ReferencedSOPInstanceUID", "") or "").strip()
            if uid and "ReferencedFrameNumber" not in source:
                sources.setdefault(uid, frame)
    return sources


def rewrite_closure(references: Mapping[str, Iterable[str]], seeds: Iterable[str]) -> set[str]:
    """Instances that must be rewritten because they reference, directly or transitively, a seed.

    Parameters
    ----------
    references : mapping of str to iterable of str
        For each candidate instance, the SOP Instance UIDs it references.
    seeds : iterable of str
        UIDs of instances that get a new identity in the view (converted sources, earlier rewrites).

    Returns
    -------
    set of str
        Candidates to rewrite (never a seed itself unless it is also a candidate that references one).
    """
    referenced_by: dict[str, set[str]] = defaultdict(set)
    for uid, targets in references.items():
        for target in targets:
            if target != uid:
                referenced_by[target].add(uid)
    rewritten: set[str] = set()
    frontier = list(dict.fromkeys(seeds))
    while frontier:
        target = frontier.pop()
        for referrer in referenced_by.get(target, ()):
            if referrer not in rewritten:
                rewritten.add(referrer)
                frontier.append(referrer)
    return rewritten


@dataclass(frozen=True)
class ViewPlan:
    """The fate of each instance of one view generation.

    Attributes
    ----------
    view : View
    conversions : tuple of tuple of str
        Groups of source SOP Instance UIDs; each group is one ``to_enhanced`` call (ENHANCED) or one
        enhanced source for ``to_classic`` (CLASSIC, groups of one).
    rewritten : tuple of str
        Instances whose references are updated in a new copy, sorted.
    unchanged : tuple of str
        Instances that appear in the view as received, sorted.
    superseded : tuple of str
        Classic images hidden because a received enhanced image already holds them (fate CONVERTED).
    """

    view: View
    conversions: tuple[tuple[str, ...], ...] = ()
    rewritten: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    fates: dict[str, str] = field(default_factory=dict, compare=False)
    superseded: tuple[str, ...] = ()

    @property
    def converted(self) -> set[str]:
        return {uid for group in self.conversions for uid in group}


def plan_view(
    view: View,
    headers: Mapping[str, Dataset],
    *,
    mapped_before: Iterable[str] = (),
    superseded: Iterable[str] = (),
    group_for_enhanced: Callable[[Sequence[Dataset]], list[list[Dataset]]] | None = None,
) -> ViewPlan:
    """Decide which instances of a patient are converted, rewritten or kept unchanged in `view`.

    Parameters
    ----------
    view : View
        CLASSIC or ENHANCED.
    headers : mapping of str to Dataset
        SOP Instance UID -> header of every instance of this generation (instances already handled by an
        earlier generation are not included).
    mapped_before : iterable of str
        Instances of earlier generations that got a new identity in this view (converted or rewritten):
        references to them must be rewritten too.
    superseded : iterable of str
        ENHANCED view: classic images already held as frames of an enhanced image the archive received
        (named by its Conversion Source Attributes). They are hidden instead of converted a second time
        (nothing is shown twice), and references to them are rewritten to those frames.
    group_for_enhanced : callable, optional
        The engine's grouping rule (default: ``qrscp.convert.group_for_enhanced``).

    Returns
    -------
    ViewPlan
    """
    hidden = {uid for uid in superseded if uid in headers} if view is View.ENHANCED else set()
    candidates = sorted(
        uid for uid, ds in headers.items()
        if uid not in hidden and is_convertible(view, str(ds.get("SOPClassUID", "")))
    )
    conversions: list[tuple[str, ...]] = []
    if view is View.ENHANCED and candidates:
        if group_for_enhanced is None:
            from qrscp.convert import group_for_enhanced as engine_grouping

            group_for_enhanced = engine_grouping
        for group in group_for_enhanced([headers[uid] for uid in candidates]):
            uids = tuple(str(ds.SOPInstanceUID) for ds in group)
            if len(uids) > 1:
                conversions.append(uids)
    elif view is View.CLASSIC:
        conversions = [(uid,) for uid in candidates]
    conversions.sort()
    converted = {uid for group in conversions for uid in group} | hidden
    others = {uid: referenced_instances(ds) for uid, ds in headers.items() if uid not in converted}
    rewritten = rewrite_closure(others, converted | set(mapped_before))
    fates = {uid: CONVERTED for uid in converted}
    fates.update({uid: REWRITTEN for uid in rewritten})
    unchanged = sorted(uid for uid in headers if uid not in fates)
    fates.update({uid: UNCHANGED for uid in unchanged})
    return ViewPlan(view, tuple(conversions), tuple(sorted(rewritten)), tuple(unchanged), fates, tuple(sorted(hidden)))
