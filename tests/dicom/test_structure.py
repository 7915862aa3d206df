"""Structural check of encoded data sets: real files of every encoding pass, broken bytes fail."""

from __future__ import annotations

import struct

import pytest
from pydicom.data import get_testdata_file

from qrscp.dicom.part10 import split_part10
from qrscp.dicom.structure import (
    MAX_SEQUENCE_DEPTH,
    Encoding,
    MalformedDataset,
    check_structure,
    encoding_of,
    inflate,
)

#: pydicom test files covering implicit/explicit/big endian, deflate and encapsulated syntaxes.
TEST_FILES = [
    "CT_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "image_dfl.dcm",
    "JPEG2000.dcm",
    "emri_small_RLE.dcm",
    "SC_rgb_jpeg_dcmtk.dcm",
    "JPEG-LL.dcm",
    "rtplan.dcm",
]
EXPLICIT_LE = Encoding(implicit_vr=False, little_endian=True, deflated=False, encapsulated=False)
IMPLICIT_LE = Encoding(implicit_vr=True, little_endian=True, deflated=False, encapsulated=False)


def _dataset_of(name: str) -> tuple[bytes, Encoding]:
    header, data = split_part10(open(get_testdata_file(name), "rb").read())
    encoding = encoding_of(header.transfer_syntax_uid)
    if encoding.deflated:
        data = inflate(data, max_bytes=1 << 30)
    return data, encoding


@pytest.mark.parametrize("name", TEST_FILES)
def test_real_files_are_well_formed(name):
    data, encoding = _dataset_of(name)
    check_structure(data, encoding)


@pytest.mark.parametrize("name", TEST_FILES)
def test_truncation_inside_an_element_is_detected(name):
    data, encoding = _dataset_of(name)
    with pytest.raises(MalformedDataset):
        check_structure(data[:-1], encoding)


def _explicit(tag: int, vr: bytes, value: bytes) -> bytes:
    group, element = tag >> 16, tag & 0xFFFF
    if vr in (b"OB", b"SQ", b"UN", b"UT", b"OW"):
        return struct.pack("<HH2sHL", group, element, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def _item(content: bytes, undefined: bool = False) -> bytes:
    if undefined:
        return struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF) + content + struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
    return struct.pack("<HHL", 0xFFFE, 0xE000, len(content)) + content


def _undefined_sequence(tag: int, items: bytes) -> bytes:
    return (
        struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, b"SQ", 0, 0xFFFFFFFF)
        + items
        + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    )


UID = _explicit(0x00080018, b"UI", b"1.2.3\0")


def _nested(depth: int) -> bytes:
    content = UID
    for _ in range(depth):
        content = _undefined_sequence(0x00081140, _item(content, undefined=True))
    return content


BROKEN = {
    "empty": b"",
    "short header": UID + b"\x08\x00",
    "length beyond end": UID + _explicit(0x00100010, b"PN", b"DOE")[:-1],
    "lowercase VR": UID.replace(b"UI", b"ui"),
    "sequence without delimiter": UID + _undefined_sequence(0x00081140, _item(UID))[:-8],
    "item without delimiter": UID + _undefined_sequence(0x00081140, _item(UID, undefined=True)[:-8]),
    "non-item in sequence": UID + _undefined_sequence(0x00081140, UID),
    "item longer than sequence": UID + _explicit(0x00081140, b"SQ", _item(UID)[:-2]),
    "undefined length text": UID + struct.pack("<HH2sHL", 0x0008, 0x103E, b"UT", 0, 0xFFFFFFFF) + b"abcd",
    "fragments without delimiter": UID
    + struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, 0xFFFFFFFF)
    + _item(b"")
    + _item(b"\xff\xd8"),
    "stray item delimiter": UID + struct.pack("<HHL", 0xFFFE, 0xE00D, 0),
    "too deep": _nested(MAX_SEQUENCE_DEPTH + 1),
}


@pytest.mark.parametrize("name", BROKEN)
def test_broken_bytes_are_refused(name):
    with pytest.raises(MalformedDataset):
        check_structure(BROKEN[name], EXPLICIT_LE)


def test_nesting_up_to_the_limit_is_accepted():
    check_structure(_nested(MAX_SEQUENCE_DEPTH - 1), EXPLICIT_LE)


def test_explicit_bytes_under_implicit_syntax_are_refused():
    data, _ = _dataset_of("CT_small.dcm")
    with pytest.raises(MalformedDataset):
        check_structure(data, IMPLICIT_LE)


def test_inflate_refuses_bombs_and_garbage():
    data = open(get_testdata_file("image_dfl.dcm"), "rb").read()
    _, deflated = split_part10(data)
    with pytest.raises(MalformedDataset, match="beyond"):
        inflate(deflated, max_bytes=1000)
    with pytest.raises(MalformedDataset):
        inflate(b"\xff" * 100, max_bytes=1 << 20)
    with pytest.raises(MalformedDataset, match="truncated"):
        inflate(deflated[: len(deflated) // 2], max_bytes=1 << 30)


def test_unknown_transfer_syntax_is_taken_as_explicit_little_endian():
    assert encoding_of("1.2.3.4.5") == Encoding(False, True, False, True)
    assert encoding_of("1.2.840.10008.1.2.2") == Encoding(False, False, False, False)
