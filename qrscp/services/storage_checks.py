"""Checks of a data set before it is stored, and the outcome of a store (the C-STORE response).

The conditions and their statuses are listed in :mod:`qrscp.services.storage`. A check that fails raises
:class:`Refusal`, which carries the :class:`StoreOutcome` the peer gets.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import logging
import re
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.tag import BaseTag

from qrscp.dicom.reader import parse_explicit_little_endian
from qrscp.dicom.structure import (
    MalformedDataset,
    check_structure,
    deflate,
    encoding_of,
    inflate,
    leading_file_meta_length,
)
from qrscp.status import Status

logger = logging.getLogger(__name__)

#: Error Comment (0000,0902) is LO: at most 64 characters.
MAX_ERROR_COMMENT = 64
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_UID_LEADING_ZERO = re.compile(r"(^|\.)0[0-9]")
_STOP_AT_BULK_DATA = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})

STUDY_INSTANCE_UID_TAG = 0x0020000D
SERIES_INSTANCE_UID_TAG = 0x0020000E
SOP_CLASS_UID_TAG = 0x00080016
SOP_INSTANCE_UID_TAG = 0x00080018


class StoreAction(str, enum.Enum):
    """What a store did."""

    STORED = "stored"
    REPLACED = "replaced"  # duplicate under policy replace
    DUPLICATE_KEPT = "duplicate-kept"  # duplicate under policy keep-first: stored instance unchanged
    DUPLICATE_REJECTED = "duplicate-rejected"  # duplicate under policy reject
    FAILED = "failed"


@dataclass(frozen=True)
class StoreOutcome:
    """Result of a store: the C-STORE response status and, for failures, why."""

    status: int
    error_comment: str = ""
    offending_element: int | None = None
    action: StoreAction = StoreAction.STORED
    sop_instance_uid: str = ""
    file_path: str = ""  # relative to the store root, when stored

    @property
    def ok(self) -> bool:
        """True when the instance is stored (Success or a Warning status)."""
        return self.status == Status.SUCCESS or 0xB000 <= self.status <= 0xBFFF

    def to_dataset(self) -> Dataset:
        """Return the status data set for the C-STORE response (Status, Error Comment, Offending Element)."""
        ds = Dataset()
        ds.Status = int(self.status)
        if self.error_comment:
            ds.ErrorComment = self.error_comment[:MAX_ERROR_COMMENT]
        if self.offending_element is not None:
            ds.OffendingElement = [BaseTag(self.offending_element)]
        return ds


@dataclass(frozen=True)
class ReceivedDataset:
    """A checked data set: its header (up to the bulk data) and the bytes to store."""

    header: Dataset
    dataset_bytes: bytes
    file_meta_discarded: bool


class Refusal(Exception):
    """A store that cannot go on; carries its outcome."""

    def __init__(self, outcome: StoreOutcome) -> None:
        super().__init__(outcome.error_comment)
        self.outcome = outcome


def refuse(status: int, comment: str, offending: int | None = None, uid: str = "") -> Refusal:
    """The Refusal of a store with `status`, `comment` and the Offending Element."""
    return Refusal(StoreOutcome(int(status), comment, offending, StoreAction.FAILED, uid))


def uid_problem(value: object) -> str | None:
    """Return why `value` is not an acceptable UID, or None when it is (see the module notes)."""
    if value is None:
        return "missing"
    if not isinstance(value, str):
        return "has several values"
    if value == "":
        return "empty"
    if len(value) > 64:
        return f"longer than 64 characters ({len(value)})"
    if not _UID.match(value):
        return "not digits and dots"
    return None



def parse_received(dataset_bytes: bytes, transfer_syntax_uid: str, limit: int) -> ReceivedDataset:
    """Check a received data set (size, structure, File Meta elements) and parse its header.

    Raises
    ------
    Refusal
        A700 beyond `limit` bytes, C000 when not well formed in the transfer syntax.
    """
    if len(dataset_bytes) > limit:
        raise refuse(
            Status.REFUSED_OUT_OF_RESOURCES,
            f"data set of {len(dataset_bytes)} bytes exceeds the limit of {limit}",
        )
    encoding = encoding_of(transfer_syntax_uid)
    try:
        plain = inflate(dataset_bytes, max_bytes=limit) if encoding.deflated else dataset_bytes
        check_structure(plain, encoding)
    except MalformedDataset as exc:
        raise refuse(Status.CANNOT_UNDERSTAND, f"cannot parse data set: {exc}") from exc
    discarded = leading_file_meta_length(plain, encoding)
    if discarded:
        # File Meta elements inside the data set would be read back as the file's File Meta.
        plain = plain[discarded:]
        dataset_bytes = deflate(plain) if encoding.deflated else plain
        if not plain:
            raise refuse(Status.CANNOT_UNDERSTAND, "data set holds nothing but File Meta elements")
    header = None
    if not encoding.implicit_vr and encoding.little_endian:
        # The common case, parsed in one pass over the bytes; None hands anything unusual to pydicom.
        header = parse_explicit_little_endian(plain, stop_at=_STOP_AT_BULK_DATA)
    if header is None:
        try:
            header = read_dataset(
                io.BytesIO(plain),
                encoding.implicit_vr,
                encoding.little_endian,
                stop_when=lambda tag, vr, length: tag in _STOP_AT_BULK_DATA,
            )
        except Exception as exc:  # pydicom raises many types on broken input
            raise refuse(Status.CANNOT_UNDERSTAND, f"cannot parse data set: {exc}") from exc
    implicit, little = header.original_encoding
    if (implicit, little) != (encoding.implicit_vr, encoding.little_endian):
        raise refuse(Status.CANNOT_UNDERSTAND, "data set encoding differs from the transfer syntax")
    return ReceivedDataset(header, dataset_bytes, discarded > 0)

def checked_uids(header: Dataset) -> dict[str, str]:
    """The SOP Instance, SOP Class, Study and Series Instance UIDs of `header`; Refusal (A900) when one is bad."""
    uids: dict[str, str] = {}
    for keyword, tag in (
        ("SOPInstanceUID", SOP_INSTANCE_UID_TAG),
        ("SOPClassUID", SOP_CLASS_UID_TAG),
        ("StudyInstanceUID", STUDY_INSTANCE_UID_TAG),
        ("SeriesInstanceUID", SERIES_INSTANCE_UID_TAG),
    ):
        try:
            value = header.get(keyword)
        except Exception as exc:  # bytes that do not decode as a UID
            raise refuse(Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, f"{keyword} cannot be decoded", tag,
                        uids.get("SOPInstanceUID", "")) from exc
        problem = uid_problem(value)
        if problem is not None:
            raise refuse(
                Status.DATASET_DOES_NOT_MATCH_SOP_CLASS,
                f"{keyword} {problem}",
                tag,
                uids.get("SOPInstanceUID", ""),
            )
        if _UID_LEADING_ZERO.search(value):
            logger.info("%s %s has a component with a leading zero; accepted", keyword, value)
        uids[keyword] = value
    return uids

def check_command(uids: dict[str, str], sop_class_uid: str | None, sop_instance_uid: str | None) -> None:
    """Refuse (A900) a data set whose SOP Instance/Class UID differ from the command's Affected ones."""
    if sop_instance_uid is not None and uids["SOPInstanceUID"] != sop_instance_uid.rstrip("\0 "):
        raise refuse(
            Status.DATASET_DOES_NOT_MATCH_SOP_CLASS,
            "SOP Instance UID differs from Affected SOP Instance UID",
            SOP_INSTANCE_UID_TAG,
            uids["SOPInstanceUID"],
        )
    if sop_class_uid is not None and uids["SOPClassUID"] != sop_class_uid.rstrip("\0 "):
        raise refuse(
            Status.DATASET_DOES_NOT_MATCH_SOP_CLASS,
            "SOP Class UID differs from Affected SOP Class UID",
            SOP_CLASS_UID_TAG,
            uids["SOPInstanceUID"],
        )


def duplicate_outcome(uid: str, existing_path: str, policy: str, context: str) -> StoreOutcome:
    """The outcome of storing an instance already stored, under duplicate policy `policy` (not replace)."""
    if policy == "reject":
        return StoreOutcome(
            Status.DUPLICATE_SOP_INSTANCE,
            "SOP Instance UID already stored (policy reject)",
            SOP_INSTANCE_UID_TAG,
            StoreAction.DUPLICATE_REJECTED,
            uid,
            existing_path,
        )
    logger.info("%s of %s: duplicate, stored instance kept", context, uid)
    return StoreOutcome(Status.SUCCESS, action=StoreAction.DUPLICATE_KEPT, sop_instance_uid=uid,
                        file_path=existing_path)


def file_meta_discarded(outcome: StoreOutcome, context: str) -> StoreOutcome:
    """A store whose data set carried File Meta elements, removed before storing: Warning B006."""
    logger.warning("%s of %s: File Meta elements removed from the data set", context, outcome.sop_instance_uid)
    return dataclasses.replace(
        outcome,
        status=int(Status.ELEMENTS_DISCARDED),
        error_comment="File Meta elements (0002,xxxx) removed from the data set",
    )
