"""Tags and VRs: one shared ``BaseTag`` object per tag value, keyword look-up, the tags of the encoding
itself (items, delimiters) and the VR classes the reader, encoder and value readers share.

A look-up in a data set's element dict whose key is an equal but distinct ``BaseTag`` calls
``BaseTag.__eq__``, a Python method, for every match; with the same object the dict matches by identity in
C. The reader keys elements with these objects and the codec and conversion look attributes up with them.
"""

from __future__ import annotations

from pydicom.tag import BaseTag, Tag

#: One ``BaseTag`` object per tag value (see :func:`shared_tag`), for at most this many tags.
_MAX_SHARED_TAGS = 1 << 16
#: Tag value -> its shared object (read it for speed; add through :func:`shared_tag` only).
SHARED_TAGS: dict[int, BaseTag] = {}

#: Item, Item Delimitation and Sequence Delimitation tags (PS3.5 7.5) and the undefined length.
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED_LENGTH = 0xFFFFFFFF
#: VRs with a reserved field and a 4-byte length in Explicit VR (PS3.5 7.1.2).
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
#: :data:`LONG_VRS` as the two bytes of the VR field.
LONG_VR_BYTES = frozenset(vr.encode() for vr in LONG_VRS)
#: Binary number VRs: their ``struct`` format character (little endian).
STRUCT_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d", "SV": "q", "UV": "Q"}
#: VRs whose value is bytes.
BYTES_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN"})
#: Text VRs: their values are padded to even length (with NUL for UI, a space for the others).
TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
                      "UR", "UT"})


def shared_tag(tag: int) -> BaseTag:
    """The one ``BaseTag`` object for `tag`, shared by every data set this package reads.

    Beyond ``_MAX_SHARED_TAGS`` distinct tags (a flood of odd private tags) new objects are made instead.
    """
    shared = SHARED_TAGS.get(tag)
    if shared is None:
        shared = BaseTag(tag)
        if len(SHARED_TAGS) < _MAX_SHARED_TAGS:
            SHARED_TAGS[tag] = shared
    return shared


_KEYWORD_TAGS: dict[str, BaseTag] = {}


def keyword_tag(keyword: str) -> BaseTag:
    """The shared tag object (:func:`shared_tag`) of a DICOM keyword; raises ``ValueError`` for a name that
    is not one."""
    tag = _KEYWORD_TAGS.get(keyword)
    if tag is None:
        tag = _KEYWORD_TAGS[keyword] = shared_tag(Tag(keyword))
    return tag


PIXEL_DATA = shared_tag(0x7FE00010)
#: Pixel data and trailing padding: never compared nor copied as attributes.
PIXEL_TAGS = frozenset(
    shared_tag(t) for t in (0x7FE00010, 0x7FE00008, 0x7FE00009, 0x7FE00001, 0x7FE00002, 0x7FE00003, 0xFFFCFFFC)
)
