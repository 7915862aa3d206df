"""Where each source attribute of a Legacy Converted Enhanced image goes (step 3 of
:func:`qrscp.convert.enhanced.convert_group`, C.7.6.16.2.FG).

An attribute equal in every frame that both IODs place at the top level, and that may be there
(:mod:`qrscp.convert.conditions`), stays at the top level; every other goes to the Unassigned Shared item
when all frames agree, else to each frame's Unassigned Per-Frame item. An attribute the conversion
generates or carries in a functional group goes to the Unassigned items only when conversion back would
not give its original value; a frame that lacked it gets it recorded as absent
(:mod:`qrscp.convert.absence`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from qrscp.convert import attributes as attrs
from qrscp.convert.absence import EMPTY, mark_absent, presence_key
from qrscp.convert.conditions import allowed_at_top, incomplete_modules
from qrscp.convert.flattening import flattened_keys
from qrscp.convert.generated import CONSUMED_TAGS, ENHANCED_ONLY_KEYWORDS, GENERATED_TAGS, NOT_COPIED
from qrscp.convert.iod_tables import TYPE2_MANDATORY
from qrscp.convert.overlays import overlay_groups_kept
from qrscp.dicom.datasets import element_dict, new_dataset
from qrscp.dicom.tags import shared_tag


def place_attributes(frames: Sequence[Dataset], frame_keys: list[dict], top: Dataset, shared_item: Dataset,
                     per_frame_items: list[Dataset], top_level_keywords: frozenset[str],
                     target_class: str) -> tuple[Dataset, list[Dataset]]:
    """Place every source attribute; return the Unassigned Shared item and the Unassigned Per-Frame items.

    `frame_keys` are the frames' :func:`~qrscp.dicom.values.value_keys`; `top`, `shared_item` and
    `per_frame_items` are the top level and functional groups built so far (the top level is completed).
    """
    unassigned_shared = new_dataset()
    unassigned_per_frame = [new_dataset() for _ in frames]
    absent: dict[int, set[int]] = {}  # Unassigned item (-1: shared, else frame index) -> tags the source lacked
    unassigned = (unassigned_shared, unassigned_per_frame, absent)
    all_tags: set[int] = set()
    for ds in frames:
        all_tags.update(map(int, element_dict(ds)))  # plain ints: see attrs.value_keys
    # Attributes the conversion adds although no source has them need an "absent" marker too.
    all_tags.update(map(int, CONSUMED_TAGS | (GENERATED_TAGS - NOT_COPIED)))
    shared_recovered = flattened_keys([shared_item])
    per_frame_recovered = [flattened_keys([item]) for item in per_frame_items]
    kept_overlays = overlay_groups_kept(frames)
    for int_tag in sorted(all_tags):
        tag = shared_tag(int_tag)
        if tag in NOT_COPIED or (attrs.is_removed_for_enhanced(tag) and tag.group not in kept_overlays):
            continue
        keys = [presence_key(ds, int_tag, fk.get(int_tag)) for ds, fk in zip(frames, frame_keys)]
        if tag in GENERATED_TAGS or tag in CONSUMED_TAGS:
            if tag in GENERATED_TAGS:
                keyword = keyword_for_tag(tag)
                kept = None if keyword in ENHANCED_ONLY_KEYWORDS else presence_key(top, int_tag, attrs.value_key(top, tag))
                recovered = [kept] * len(frames)
            else:
                shared_key = shared_recovered.get(int_tag)
                recovered = [flat[int_tag] if int_tag in flat else shared_key for flat in per_frame_recovered]
            if keys != recovered:
                _place_unassigned(tag, frames, keys, *unassigned, markers=True)
            continue
        keyword = keyword_for_tag(tag)
        if len(set(keys)) == 1 and keyword in top_level_keywords and tag.group % 2 == 0 and allowed_at_top(
                keyword, keys[0] == EMPTY, [shared_item, *per_frame_items]):
            if tag not in element_dict(top):
                attrs.add_moved(top, _first_element(frames, tag))
            continue
        _place_unassigned(tag, frames, keys, *unassigned, markers=False)
    _complete(frames, frame_keys, top, target_class, unassigned)
    return unassigned_shared, unassigned_per_frame


def _complete(frames: Sequence[Dataset], frame_keys: list[dict], top: Dataset, target_class: str,
              unassigned: tuple[Dataset, list[Dataset], dict[int, set[int]]]) -> None:
    """Modules complete or absent, private creators, Type 2 attributes added, absence recorded."""
    unassigned_shared, unassigned_per_frame, absent = unassigned
    for keyword in incomplete_modules(top):  # a module complete or absent: the rest goes Unassigned
        attrs.add_moved(unassigned_shared, element_dict(top).pop(Tag(keyword)))
    _add_private_creators(frames, unassigned_shared, unassigned_per_frame)
    for keyword in TYPE2_MANDATORY[target_class]:
        if keyword not in top:
            tag = Tag(keyword)
            top.add(attrs.empty_element(tag, dictionary_VR(keyword)))
            _place_unassigned(tag, frames, [presence_key(ds, int(tag), fk.get(int(tag)))
                                            for ds, fk in zip(frames, frame_keys)],
                              *unassigned, markers=True, only_absent=True)
    _write_absent(absent, unassigned_shared, unassigned_per_frame)


def _first_element(frames: Sequence[Dataset], tag: BaseTag) -> DataElement:
    for ds in frames:
        if tag in element_dict(ds):
            return attrs.reusable_element(ds, tag)
    raise KeyError(tag)


def _place_unassigned(tag: BaseTag, frames: Sequence[Dataset], keys: list[bytes | None], shared: Dataset,
                      per_frame: list[Dataset], absent: dict[int, set[int]], *, markers: bool,
                      only_absent: bool = False) -> None:
    """Put the original element in the Unassigned Shared item when all frames agree, else per frame.

    With `markers`, a frame lacking the attribute gets it recorded as absent (the attribute was replaced
    or added by the conversion, so its absence must be recorded to be restored): see
    :mod:`qrscp.convert.absence`. With `only_absent`, frames that have the attribute are left alone.
    """
    if len(set(keys)) == 1:
        if keys[0] is None:
            if markers:
                absent.setdefault(-1, set()).add(int(tag))
        elif not only_absent:
            attrs.add_moved(shared, _first_element(frames, tag))
        return
    for index, (ds, item) in enumerate(zip(frames, per_frame)):
        if tag in element_dict(ds):
            if not only_absent:
                attrs.add_moved(item, attrs.reusable_element(ds, tag))
        elif markers:
            absent.setdefault(index, set()).add(int(tag))


def _write_absent(absent: dict[int, set[int]], shared: Dataset, per_frame: list[Dataset]) -> None:
    """Record the absent tags (key -1: the shared item, else the frame index) in the Unassigned items,
    after the private creators of the sources, whose block numbers they must not take."""
    for index, tags in absent.items():
        mark_absent(shared if index < 0 else per_frame[index], tags)


def _vr_of(frames: Sequence[Dataset], tag: BaseTag) -> str:
    for ds in frames:
        if tag in ds:
            return ds[tag].VR
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _add_private_creators(frames: Sequence[Dataset], shared: Dataset, per_frame: list[Dataset]) -> None:
    """Each Unassigned item carries the Private Creator of every private element in it (C.7.6.16.2.FG)."""
    for ds, item in [(frames[0], shared), *zip(frames, per_frame)]:
        elements = element_dict(item)
        creators = {tag & 0xFFFF0000 | (tag & 0xFF00) >> 8 for tag in elements
                    if tag >> 16 & 1 and tag & 0xFFFF >= 0x1000}
        for creator in sorted(creators):
            creator_tag = shared_tag(creator)
            if creator_tag not in elements and creator_tag in element_dict(ds):
                attrs.put(item, attrs.reusable_element(ds, creator_tag))
