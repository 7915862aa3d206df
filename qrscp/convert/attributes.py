"""Attribute-level rules of the conversion: removal rules and private creators.

The values themselves are read and compared by the codec (:mod:`qrscp.dicom.values`, comparison keys of
encoded bytes) and elements are moved with :mod:`qrscp.dicom.elements`; the names the conversion uses are
imported here so that ``attrs.value_key`` and the like read as the conversion's vocabulary.
"""

from __future__ import annotations

from pydicom.tag import BaseTag, Tag

from qrscp.dicom.elements import add_moved, copy_element, empty_element, generated_element, put, reusable_element
from qrscp.dicom.tags import PIXEL_DATA, PIXEL_TAGS, keyword_tag, shared_tag
from qrscp.dicom.values import number_of_frames, sequence_fingerprint, text, unsigned, value_key, value_keys

__all__ = [
    "CONCATENATION_KEYWORDS", "CONCATENATION_TAGS", "GRAPHIC_ANNOTATION_SEQUENCE", "PIXEL_DATA", "PIXEL_TAGS",
    "add_moved", "copy_element", "empty_element", "generated_element", "is_curve", "is_group_length",
    "is_overlay", "is_private_creator", "is_removed_for_enhanced", "keyword_tag", "number_of_frames",
    "private_creator_tag", "put", "reusable_element", "sequence_fingerprint", "text", "unsigned", "value_key",
    "value_keys",
]

CONCATENATION_KEYWORDS = (
    "ConcatenationUID",
    "SOPInstanceUIDOfConcatenationSource",
    "InConcatenationNumber",
    "InConcatenationTotalNumber",
    "ConcatenationFrameOffsetNumber",
)
CONCATENATION_TAGS = frozenset(shared_tag(Tag(k)) for k in CONCATENATION_KEYWORDS)
GRAPHIC_ANNOTATION_SEQUENCE = shared_tag(Tag("GraphicAnnotationSequence"))


def is_group_length(tag: BaseTag) -> bool:
    return tag.element == 0


def is_overlay(tag: BaseTag) -> bool:
    """Overlay Plane module (60xx,eeee), even groups 6000-601E (PS3.5 7.6)."""
    return 0x6000 <= tag.group <= 0x601E and tag.group % 2 == 0


def is_curve(tag: BaseTag) -> bool:
    """Retired Curve module (50xx,eeee)."""
    return 0x5000 <= tag.group <= 0x501E and tag.group % 2 == 0


def is_removed_for_enhanced(tag: BaseTag) -> bool:
    """True for attributes C.3.5 removes when converting to an enhanced image (overlay, curve, ...)."""
    return (
        is_group_length(tag)
        or is_overlay(tag)
        or is_curve(tag)
        or tag in CONCATENATION_TAGS
        or tag == GRAPHIC_ANNOTATION_SEQUENCE
        or tag in PIXEL_TAGS
    )


def private_creator_tag(tag: BaseTag) -> BaseTag | None:
    """Return the Private Creator tag reserving private element `tag`, or None if not a private element."""
    if tag.group % 2 == 0 or tag.element < 0x1000:
        return None
    return Tag(tag.group, tag.element >> 8)


def is_private_creator(tag: BaseTag) -> bool:
    return tag.group % 2 == 1 and 0x0010 <= tag.element <= 0x00FF
