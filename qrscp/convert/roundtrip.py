"""Exact comparison of an original classic image with the one a round trip gives back.

Every element is compared, nested ones included: presence, emptiness (present with no value is not
absent), Value Representation, value, and the number and order of sequence items. Not compared: what a
round trip may change by the standard's or the encoding's rules (conformance statement 5.4): group
lengths, File Meta Information, Data Set Trailing Padding, padding of values (and the leading spaces of DS and IS values), the pixel data's
encoding (its values are compared frame by frame elsewhere), a UN element of an Explicit VR source that
comes back under its dictionary VR with the same bytes, and overlays when their presentation states were
not passed back.
"""

from __future__ import annotations

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from qrscp.convert.absence import EMPTY, presence_key
from qrscp.convert.attributes import PIXEL_TAGS, is_group_length, is_overlay, value_key
from qrscp.dicom.datasets import element_dict

_TRAILING_PADDING = 0xFFFCFFFC
_NUMBER_STRINGS = ("DS", "IS")


def _little(ds: Dataset) -> bool:
    return (getattr(ds, "original_encoding", None) or (None, None))[1] is not False


def _vr(ds: Dataset, tag: BaseTag) -> str:
    vr = element_dict(ds)[tag].VR
    if vr is None:
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            vr = "UN"
    return vr


def _same_vr(a: str, b: str) -> bool:
    """Equal, one of the choices of an ambiguous dictionary VR ("US or SS"), or UN on one side: pydicom
    reads a UN element of an item under its dictionary VR (``replace_un_with_known_vr``)."""
    return a == b or "UN" in (a, b) or b in a.split(" or ") or a in b.split(" or ")


def round_trip_differences(original: Dataset, recovered: Dataset, *, overlays: bool = True,
                           path: str = "") -> list[str]:
    """Differences between `original` and `recovered`, one line each (empty: identical).

    Parameters
    ----------
    original, recovered : Dataset
        The source image and the image the round trip gave back.
    overlays : bool
        Compare overlay groups (60xx) too; False when the presentation states were not passed back.
    """
    differences = []
    little = (_little(original), _little(recovered))
    elements = (element_dict(original), element_dict(recovered))
    for tag in sorted(set(elements[0]) | set(elements[1]), key=int):
        pair = (elements[0].get(tag), elements[1].get(tag))
        if pair[0] is pair[1] or (type(pair[0]) is type(pair[1]) is RawDataElement and all(little)
                                  and pair[0].VR == pair[1].VR and pair[0].VR not in (None, "SQ")
                                  and pair[0].value == pair[1].value):
            continue  # the same element, or the same bytes under the same VR
        tag = Tag(tag)
        if is_group_length(tag) or tag in PIXEL_TAGS or tag.group == 2 or tag == _TRAILING_PADDING:
            continue
        if not overlays and is_overlay(tag):
            continue
        where = f"{path}{tag}"
        if tag not in element_dict(recovered):
            differences.append(f"{where} missing")
            continue
        if tag not in element_dict(original):
            differences.append(f"{where} added")
            continue
        vr = (_vr(original, tag), _vr(recovered, tag))
        if not _same_vr(*vr):
            differences.append(f"{where} VR {vr[0]} != {vr[1]}")
            continue
        if vr[0] == "SQ" and vr[1] == "SQ":
            items = (original[tag].value or [], recovered[tag].value or [])
            if len(items[0]) != len(items[1]):
                differences.append(f"{where} {len(items[0])} items != {len(items[1])}")
                continue
            for index, (a, b) in enumerate(zip(*items)):
                differences += round_trip_differences(a, b, overlays=overlays, path=f"{where}[{index}].")
            continue
        keys = (presence_key(original, tag, value_key(original, tag, little[0])),
                presence_key(recovered, tag, value_key(recovered, tag, little[1])))
        if "UN" in vr and vr[0] != vr[1]:  # the same bytes, text padding aside
            keys = tuple(k.rstrip(b"\x00 ") if k else k for k in keys)
        if vr[0] in _NUMBER_STRINGS and keys[0] != keys[1]:  # leading spaces are not significant (PS3.5 6.2)
            keys = tuple(b"\\".join(v.strip() for v in k.split(b"\\")) if k and k != EMPTY else k for k in keys)
        if keys[0] != keys[1]:
            differences.append(f"{where} value {_shown(original, tag)} != {_shown(recovered, tag)}")
    return differences


def _shown(ds: Dataset, tag: BaseTag) -> str:
    try:
        return repr(ds[tag].value)[:40]
    except Exception:  # noqa: BLE001 - an undecodable value is still a difference to report
        return "<undecodable>"
