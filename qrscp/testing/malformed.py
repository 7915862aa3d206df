"""Bad (and merely ugly) inputs for the storage bad-input table.

Each `MalformedInput` is what arrives in one C-STORE: the dataset bytes as the peer encoded them, the
transfer syntax of the presentation context, and the Affected SOP Class/Instance UID of the command. The
expected outcome is a category, not a status code: which failure status to use is the storage service's
decision (see docs/conformance.md).
"""

from __future__ import annotations

import copy
import io
import struct
import warnings
from dataclasses import dataclass, field

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, UID

from qrscp.testing.classic import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, make_series
from qrscp.uids import MR_IMAGE_STORAGE

#: The instance must be stored (status Success or a Warning such as B000/B007) and be retrievable.
STORED = "stored"
#: A failure status with an Error Comment; nothing stored, index unchanged.
REJECTED = "rejected"
#: Either outcome is acceptable, but the server must answer and stay consistent (no crash, no partial file).
EITHER = "either"


@dataclass(frozen=True)
class MalformedInput:
    """One row of the bad-input table.

    Attributes
    ----------
    name
        Stable identifier (use as pytest id).
    dataset_bytes
        The data set as sent in the P-DATA (no preamble, no File Meta).
    transfer_syntax_uid
        Transfer syntax of the presentation context.
    affected_sop_class_uid, affected_sop_instance_uid
        C-STORE-RQ command values.
    expected
        `STORED`, `REJECTED` or `EITHER`.
    description
        What is wrong, in one line.
    dataset
        The Dataset when it can be built by pydicom (None for byte-level damage).
    """

    name: str
    dataset_bytes: bytes
    transfer_syntax_uid: str
    affected_sop_class_uid: str
    affected_sop_instance_uid: str
    expected: str
    description: str
    dataset: Dataset | None = field(default=None, compare=False, repr=False)

    def part10_bytes(self) -> bytes:
        """Return preamble + ``DICM`` + File Meta (from the command values) + the raw dataset bytes.

        Suitable for ``pynetdicom``'s ``send_c_store(path)`` or DCMTK ``storescu``, which send the dataset
        part of a file without re-encoding it.
        """
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = self.affected_sop_class_uid
        meta.MediaStorageSOPInstanceUID = self.affected_sop_instance_uid
        meta.TransferSyntaxUID = self.transfer_syntax_uid
        meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        buffer = io.BytesIO()
        buffer.write(b"\x00" * 128 + b"DICM")
        pydicom.filewriter.write_file_meta_info(buffer, meta, enforce_standard=True)
        return buffer.getvalue() + self.dataset_bytes


def encode_dataset(ds: Dataset, transfer_syntax_uid: str = ExplicitVRLittleEndian) -> bytes:
    """Return the bytes of `ds` (no File Meta) in an uncompressed little endian `transfer_syntax_uid`."""
    syntax = UID(transfer_syntax_uid)
    out = copy.copy(ds)
    if hasattr(out, "file_meta"):
        del out.file_meta
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pydicom.dcmwrite(buffer, out, implicit_vr=syntax.is_implicit_VR, little_endian=True)
    return buffer.getvalue()


def _base(seed: int) -> Dataset:
    ds = make_series("CT", slices=1, rows=16, columns=16, seed=seed, private_block_bytes=16)[0]
    return ds


def _variant(
    name: str, ds: Dataset, expected: str, description: str, *, sop_class: str | None = None,
    sop_instance: str | None = None, transfer_syntax: str = ExplicitVRLittleEndian,
) -> MalformedInput:
    return MalformedInput(
        name=name,
        dataset_bytes=encode_dataset(ds, transfer_syntax),
        transfer_syntax_uid=transfer_syntax,
        affected_sop_class_uid=sop_class or str(ds.get("SOPClassUID", "")),
        affected_sop_instance_uid=sop_instance or str(ds.get("SOPInstanceUID", "")),
        expected=expected,
        description=description,
        dataset=ds,
    )


def _without(ds: Dataset, keyword: str) -> Dataset:
    out = copy.deepcopy(ds)
    delattr(out, keyword)
    return out


def _with(ds: Dataset, **values: object) -> Dataset:
    out = copy.deepcopy(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for keyword, value in values.items():
            setattr(out, keyword, value)
    return out


def _nested(depth: int) -> Sequence:
    innermost = Dataset()
    innermost.CodeMeaning = "bottom"
    item = innermost
    for _ in range(depth):
        parent = Dataset()
        parent.ContentSequence = Sequence([item])
        item = parent
    return item.ContentSequence


def _with_nesting(ds: Dataset, depth: int) -> Dataset:
    out = copy.deepcopy(ds)
    # A private sequence so that no IOD rule interprets it; the parser still has to walk every level.
    block = out.private_block(0x0029, "QRSCP FACTORY NESTING", create=True)
    block.add_new(0x01, "SQ", _nested(depth))
    return out


def _nested_bytes(ds: Dataset, depth: int) -> bytes:
    """Encode `ds` with a private undefined-length sequence nested `depth` levels deep, built as bytes so
    that the factory itself needs no recursion."""
    creator_tag, nested_tag = 0x00290011, (0x0029, 0x1101)
    out = copy.deepcopy(ds)
    out.add_new(creator_tag, "LO", "QRSCP FACTORY NESTING")
    before = Dataset({tag: elem for tag, elem in out.items() if tag <= 0x00291100})
    after = Dataset({tag: elem for tag, elem in out.items() if tag > 0x00291101})
    if "PixelData" in after:
        # Without Bits Allocated in this half pydicom cannot resolve the OB/OW ambiguity itself.
        after["PixelData"].VR = "OW" if out.BitsAllocated > 8 else "OB"
    undefined = 0xFFFFFFFF
    opening = struct.pack("<HH2sHI", *nested_tag, b"SQ", 0, undefined) + struct.pack("<HHI", 0xFFFE, 0xE000, undefined)
    inner_open = struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, undefined) + struct.pack(
        "<HHI", 0xFFFE, 0xE000, undefined
    )
    closing = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    meaning = b"bottom"
    leaf = struct.pack("<HH2sH", 0x0008, 0x0104, b"LO", len(meaning)) + meaning
    nested = opening + inner_open * (depth - 1) + leaf + closing * depth
    return encode_dataset(before) + nested + encode_dataset(after)


def _truncated_in_header(ds: Dataset) -> bytes:
    data = encode_dataset(ds)
    cut = data.find(b"\x08\x00\x80\x00")  # Institution Name (0008,0080): cut in the middle of its value
    return data[: cut + 12]


def _truncated_in_pixel_data(ds: Dataset) -> bytes:
    data = encode_dataset(ds)
    return data[: len(data) - (ds.Rows * ds.Columns)]


def _length_beyond_end(ds: Dataset) -> bytes:
    header = encode_dataset(_without(ds, "PixelData"))
    declared = 2 * ds.Rows * ds.Columns
    element = struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, declared) + b"\x00" * 100
    return header + element


def malformed_variants(*, seed: int = 0) -> list[MalformedInput]:
    """Return the bad-input table: each input, and whether the archive must store or reject it.

    Parameters
    ----------
    seed
        Base of the UIDs (every variant has distinct SOP Instance UIDs anyway).

    Returns
    -------
    list of MalformedInput
        Rejected: missing/empty/invalid/too long UIDs, SOP Class or Instance differing from the command,
        truncated bytes, an element longer than the data, empty and non-DICOM payloads. Stored: invalid
        values real scanners send (Patient's Sex "0000", bad DA, over-long LO), missing Type 2
        attributes, a 1 MiB private block, 32 levels of nested sequences. Either: 1500 levels of nesting,
        implicit VR bytes sent on an explicit VR context.
    """
    base = _base(seed)

    def fresh(tag: str) -> Dataset:
        ds = make_series("CT", slices=1, rows=16, columns=16, seed=seed * 1000 + hash_name(tag),
                         private_block_bytes=16)[0]
        return ds

    long_uid = "1.2.826.0.1.3680043.8.498." + "1" * 45
    variants = [
        _variant("valid_reference", base, STORED, "a valid CT image (control row)"),
        _variant("missing_sop_instance_uid", _without(fresh("a"), "SOPInstanceUID"), REJECTED,
                 "no SOP Instance UID in the data set", sop_instance=fresh("a").SOPInstanceUID),
        _variant("missing_sop_class_uid", _without(fresh("b"), "SOPClassUID"), REJECTED,
                 "no SOP Class UID in the data set", sop_class=base.SOPClassUID),
        _variant("missing_study_instance_uid", _without(fresh("c"), "StudyInstanceUID"), REJECTED,
                 "no Study Instance UID"),
        _variant("missing_series_instance_uid", _without(fresh("d"), "SeriesInstanceUID"), REJECTED,
                 "no Series Instance UID"),
        _variant("empty_study_instance_uid", _with(fresh("e"), StudyInstanceUID=""), REJECTED,
                 "Study Instance UID present but empty"),
        _variant("sop_instance_uid_invalid_characters", _with(fresh("f"), SOPInstanceUID="1.2.3.4a.5"),
                 REJECTED, "letters in a UID"),
        _variant("study_instance_uid_invalid_characters", _with(fresh("g"), StudyInstanceUID="1.2.840.x 1"),
                 REJECTED, "letter and space in the Study Instance UID"),
        _variant("series_instance_uid_too_long", _with(fresh("h"), SeriesInstanceUID=long_uid), REJECTED,
                 f"Series Instance UID of {len(long_uid)} characters (max 64)"),
        _variant("sop_instance_uid_too_long", _with(fresh("i"), SOPInstanceUID=long_uid), REJECTED,
                 f"SOP Instance UID of {len(long_uid)} characters (max 64)"),
        _variant("sop_class_differs_from_command", fresh("j"), REJECTED,
                 "CT Image data set sent with Affected SOP Class MR Image Storage", sop_class=MR_IMAGE_STORAGE),
        _variant("sop_instance_differs_from_command", fresh("k"), REJECTED,
                 "data set SOP Instance UID differs from the command's Affected SOP Instance UID",
                 sop_instance="1.2.826.0.1.3680043.8.498.999999"),
        MalformedInput("truncated_in_header", _truncated_in_header(fresh("l")), ExplicitVRLittleEndian,
                       base.SOPClassUID, fresh("l").SOPInstanceUID, REJECTED,
                       "data set bytes end in the middle of an element value"),
        MalformedInput("truncated_in_pixel_data", _truncated_in_pixel_data(fresh("m")), ExplicitVRLittleEndian,
                       base.SOPClassUID, fresh("m").SOPInstanceUID, REJECTED,
                       "Pixel Data shorter than its declared length"),
        MalformedInput("element_length_beyond_end", _length_beyond_end(fresh("n")), ExplicitVRLittleEndian,
                       base.SOPClassUID, fresh("n").SOPInstanceUID, REJECTED,
                       "last element declares more bytes than remain"),
        MalformedInput("empty_data_set", b"", ExplicitVRLittleEndian, base.SOPClassUID,
                       fresh("o").SOPInstanceUID, REJECTED, "zero-length data set"),
        MalformedInput("not_dicom", b"%PDF-1.4\n" + bytes(range(256)) * 4, ExplicitVRLittleEndian,
                       base.SOPClassUID, fresh("p").SOPInstanceUID, REJECTED, "bytes that are not a data set"),
        MalformedInput("implicit_bytes_on_explicit_context", encode_dataset(fresh("q"), ImplicitVRLittleEndian),
                       ExplicitVRLittleEndian, base.SOPClassUID, fresh("q").SOPInstanceUID, EITHER,
                       "Implicit VR encoding sent on an Explicit VR Little Endian context"),
        _variant("invalid_values", _invalid_values(fresh("r")), STORED,
                 "Patient's Sex '0000', Patient's Birth Date '00000000', 85-character LO"),
        _variant("missing_type2", _missing_type2(fresh("s")), STORED, "Type 2 attributes absent"),
        _variant("large_private_block", make_series("CT", slices=1, rows=16, columns=16,
                                                    seed=seed * 1000 + hash_name("t"),
                                                    private_block_bytes=1 << 20)[0],
                 STORED, "1 MiB private OB element"),
        _variant("nested_sequence_32", _with_nesting(fresh("u"), 32), STORED, "32 levels of nested sequences"),
        MalformedInput("nested_sequence_1500", _nested_bytes(fresh("v"), 1500), ExplicitVRLittleEndian,
                       base.SOPClassUID, fresh("v").SOPInstanceUID, EITHER,
                       "1500 levels of nested sequences (deeper than Python's default recursion limit)"),
        _variant("implicit_vr_little_endian", fresh("w"), STORED, "valid image on an implicit VR context",
                 transfer_syntax=ImplicitVRLittleEndian),
    ]
    return variants


def hash_name(name: str) -> int:
    """Small stable integer for a variant name (distinct UIDs per variant)."""
    return sum((index + 1) * ord(char) for index, char in enumerate(name)) % 997


def _invalid_values(ds: Dataset) -> Dataset:
    from qrscp.testing.classic import _add_invalid_values

    out = copy.deepcopy(ds)
    _add_invalid_values(out)
    return out


def _missing_type2(ds: Dataset) -> Dataset:
    from qrscp.testing.classic import MISSING_TYPE2_KEYWORDS

    out = copy.deepcopy(ds)
    for keyword in MISSING_TYPE2_KEYWORDS:
        if keyword in out:
            delattr(out, keyword)
    return out
