"""STOW-RS (PS3.18 10.5): each ``application/dicom`` part through the storage service, as C-STORE.

A part is a Part 10 file; its data set bytes, transfer syntax and Media Storage SOP Class/Instance
UIDs go to :meth:`StorageService.store` exactly like a C-STORE's data set, command UIDs and
presentation context: same checks, same duplicate policy, same atomicity. The answer is the Store
Instances Response Module (PS3.18 Table 10.5.3-3): Referenced SOP Sequence for what was stored,
Failed SOP Sequence with the Failure Reason (the C-STORE status) for what was not, HTTP 200 when all
parts were stored, 202 when some were, 409 when none was.
"""

from __future__ import annotations

import logging
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from qrscp.status import Status
from qrscp.dicom.part10 import NotPart10, split_part10
from qrscp.web.errors import WebError
from qrscp.web.media import DICOM, parse_media_type
from qrscp.web.multipart import Part

logger = logging.getLogger("qrscp.web")

#: Source Application Entity Title of the files stored through STOW-RS.
STOW_SOURCE_AE_TITLE = "DICOMWEB"
STUDY_INSTANCE_UID = 0x0020000D
SERIES_INSTANCE_UID = 0x0020000E
_SCANNED_SYNTAXES = frozenset({"1.2.840.10008.1.2.1"})
#: (implicit VR, little endian) of the transfer syntaxes read by pydicom here.
_ENCODINGS = {"1.2.840.10008.1.2": (True, True), "1.2.840.10008.1.2.2": (False, False)}
_LONG_VRS = frozenset(vr.encode() for vr in ("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"))


def _uids_of(dataset_bytes: bytes, transfer_syntax_uid: str) -> tuple[str, str]:
    """(Study, Series Instance UID) of a data set; empty strings when unreadable (the storage service
    then refuses it with the reason). Explicit VR Little Endian headers are scanned up to (0020,000E)."""
    syntax = UID(transfer_syntax_uid)
    if syntax.is_deflated:
        # The header is in the first inflated bytes; Deflated Explicit VR Little Endian underneath.
        dataset_bytes = zlib.decompressobj(-zlib.MAX_WBITS).decompress(dataset_bytes, 1 << 20)
    if transfer_syntax_uid in _SCANNED_SYNTAXES or syntax.is_encapsulated or syntax.is_deflated:
        found = _scan_uids(dataset_bytes)
        if found is not None:
            return found
    try:
        ds = read_dataset(DicomBytesIO(dataset_bytes), *_ENCODINGS.get(transfer_syntax_uid, (False, True)),
                          stop_when=lambda tag, vr, length: tag > SERIES_INSTANCE_UID)
        return str(ds.get("StudyInstanceUID", "") or ""), str(ds.get("SeriesInstanceUID", "") or "")
    except Exception:  # noqa: BLE001 - refused by the storage service with its reason
        return "", ""


def _scan_uids(data: bytes) -> tuple[str, str] | None:
    """The two UIDs read off an Explicit VR Little Endian data set; None when it cannot be scanned."""
    values = {STUDY_INSTANCE_UID: "", SERIES_INSTANCE_UID: ""}
    position, end = 0, len(data)
    try:
        while position + 8 <= end:
            group, element = struct.unpack_from("<HH", data, position)
            tag = group << 16 | element
            if tag > SERIES_INSTANCE_UID:
                break
            vr = data[position + 4:position + 6]
            if vr in _LONG_VRS:
                (length,) = struct.unpack_from("<I", data, position + 8)
                position += 12
            else:
                (length,) = struct.unpack_from("<H", data, position + 6)
                position += 8
            if length == 0xFFFFFFFF:
                return None  # a sequence of undefined length before the UIDs: pydicom walks it
            if tag in values:
                values[tag] = data[position:position + length].decode("ascii").rstrip("\x00 ")
            position += length
    except (struct.error, UnicodeDecodeError):
        return None
    return values[STUDY_INSTANCE_UID], values[SERIES_INSTANCE_UID]


def _item(sop_class: str, sop_instance: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = sop_instance
    return item


class StowResult:
    """What one STOW-RS request stored and refused."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.referenced: list[Dataset] = []
        self.failed: list[Dataset] = []
        self.studies: set[str] = set()

    def fail(self, sop_class: str, sop_instance: str, reason: int, why: str, peer: str) -> None:
        logger.warning("%s: STOW-RS of %s refused (0x%04X): %s", peer, sop_instance or "?", reason, why)
        item = _item(sop_class, sop_instance)
        item.FailureReason = int(reason)
        self.failed.append(item)

    def stored(self, sop_class: str, sop_instance: str, study: str, series: str, warning: int | None) -> None:
        item = _item(sop_class, sop_instance)
        item.RetrieveURL = f"{self.base_url}/studies/{study}/series/{series}/instances/{sop_instance}"
        if warning is not None:
            item.WarningReason = int(warning)
        self.referenced.append(item)
        self.studies.add(study)

    @property
    def http_status(self) -> int:
        if not self.failed:
            return 200
        return 202 if self.referenced else 409

    def response(self) -> Dataset:
        ds = Dataset()
        if len(self.studies) == 1:
            ds.RetrieveURL = f"{self.base_url}/studies/{next(iter(self.studies))}"
        if self.failed:
            ds.FailedSOPSequence = Sequence(self.failed)
        if self.referenced:
            ds.ReferencedSOPSequence = Sequence(self.referenced)
        return ds


def check_part_types(type_parameter: str, parts: list[Part]) -> None:
    """415 unless the request and every part are ``application/dicom``."""
    if type_parameter and type_parameter != DICOM:
        raise WebError(415, f'STOW-RS accepts multipart/related; type="{DICOM}", not type="{type_parameter}"')
    if not parts:
        raise WebError(400, "the multipart body holds no part")
    for part in parts:
        part_type = parse_media_type(part.content_type or DICOM).media_type
        if part_type != DICOM:
            raise WebError(415, f"STOW-RS accepts {DICOM} parts, not {part_type}")


#: Parts stored at the same time: their fsyncs overlap, as C-STOREs of several associations do.
STORE_WORKERS = 4


def _store_one(storage: Any, part: Part, study: str | None, peer: str) -> tuple:
    """Store one part; return ("stored", class, instance, study, series, warning) or ("failed", class,
    instance, reason, why)."""
    try:
        header, dataset_bytes = split_part10(part.content)
    except (NotPart10, ValueError, EOFError) as exc:
        return ("failed", "", "", Status.CANNOT_UNDERSTAND, f"not a DICOM Part 10 file: {exc}")
    meta = header.file_meta
    sop_class = str(meta.get("MediaStorageSOPClassUID", "") or "")
    sop_instance = str(meta.get("MediaStorageSOPInstanceUID", "") or "")
    study_uid, series_uid = _uids_of(dataset_bytes, header.transfer_syntax_uid)
    if study is not None and study_uid != study:
        return ("failed", sop_class, sop_instance, Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
                f"Study Instance UID {study_uid!r} is not the study {study} of the request")
    outcome = storage.store(
        dataset_bytes,
        transfer_syntax_uid=header.transfer_syntax_uid,
        affected_sop_class_uid=sop_class or None,
        affected_sop_instance_uid=sop_instance or None,
        calling_ae_title=STOW_SOURCE_AE_TITLE,
        peer=peer,
    )
    if not outcome.ok:
        return ("failed", sop_class, sop_instance or outcome.sop_instance_uid, outcome.status, outcome.error_comment)
    warning = None if outcome.status == Status.SUCCESS else outcome.status
    return ("stored", sop_class, outcome.sop_instance_uid or sop_instance, study_uid, series_uid, warning)


def store_parts(storage: Any, parts: list[Part], *, study: str | None, base_url: str, peer: str) -> StowResult:
    """Store each part (several at a time); `study` (from ``/studies/{study}``) must be the Study
    Instance UID of each. The response lists them in the order of the request."""
    result = StowResult(base_url)
    with ThreadPoolExecutor(max_workers=min(STORE_WORKERS, len(parts)) or 1, thread_name_prefix="qrscp-stow") as pool:
        outcomes = list(pool.map(lambda part: _store_one(storage, part, study, peer), parts))
    for outcome in outcomes:
        if outcome[0] == "stored":
            result.stored(*outcome[1:])
        else:
            result.fail(*outcome[1:], peer)
    return result
