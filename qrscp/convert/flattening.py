"""The classic attributes that functional group items carry: the enhanced -> classic direction of
:mod:`qrscp.convert.functional_groups` (whose builders it inverts for every attribute copied verbatim).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from qrscp.convert.absence import presence_key
from qrscp.convert.attributes import keyword_tag as _tag
from qrscp.convert.attributes import value_key
from qrscp.convert.functional_groups import MACRO_ATTRIBUTES
from qrscp.dicom.datasets import element_dict, new_dataset


def _carried(items: list[Dataset]) -> Iterator[tuple[Dataset, BaseTag]]:
    """(item, tag) of every classic attribute that functional group `items` carry."""
    for group in items:
        elements = element_dict(group)
        for keyword, inside in _FLATTENED:
            tag = _tag(keyword)
            if tag not in elements:
                continue
            if not inside:
                yield group, tag
                continue
            for item in group[tag].value[:1]:
                for keyword_inside in inside:
                    tag_inside = _tag(keyword_inside)
                    if tag_inside in element_dict(item):
                        yield item, tag_inside


def flattened_keys(items: list[Dataset]) -> dict[int, bytes | None]:
    """:func:`~qrscp.convert.attributes.value_key` of every classic attribute that :func:`flatten_groups`
    would give for `items`, keyed by plain ``int`` tag, without building the flattened Dataset."""
    return {int(tag): presence_key(holder, int(tag), value_key(holder, tag)) for holder, tag in _carried(items)}


def flatten_groups(items: list[Dataset], *, copy_values: bool = True) -> Dataset:
    """Classic attributes carried by functional group items (shared items first, then per-frame ones).

    With `copy_values` False the elements are shared with `items` (for comparisons only).
    """
    flat = new_dataset()
    for holder, tag in _carried(items):
        flat.add(_maybe_copy(holder[tag], copy_values))
    return flat


#: Functional group sequence -> the classic attributes inside its first item that :func:`flatten_groups`
#: gives (empty: the sequence element itself).
_FLATTENED: tuple[tuple[str, tuple[str, ...]], ...] = (
    *MACRO_ATTRIBUTES.items(),
    ("ReferencedImageSequence", ()),
    ("RealWorldValueMappingSequence", ()),
    ("DerivationImageSequence", ("DerivationDescription", "DerivationCodeSequence", "SourceImageSequence")),
)


def _maybe_copy(elem, copy_values: bool):
    return copy.deepcopy(elem) if copy_values else elem
