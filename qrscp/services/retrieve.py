"""C-MOVE and C-GET: which instances a retrieve sends, and in what form.

The retrieve service turns a request identifier into the list of stored instances (through
``QueryService.locate``) and each of them into what a C-STORE sub-operation sends:

- normally a :class:`StoredInstance`: a stand-in dataset carrying only the SOP Class/Instance UIDs,
  the stored transfer syntax and the file; the network layer sends the file's dataset bytes exactly as
  stored, never decoded (bit-preserving and fast);
- :func:`decode_for_transcoding` when the peer did not accept the stored transfer syntax;
- :func:`without_bulk_data` for Composite Instance Retrieve Without Bulk Data (PS3.4 Z.1.3).

No sockets here: the network layer (``qrscp.net``) drives the sub-operations.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pydicom import dcmread
from pydicom.config import IGNORE
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, UID

from qrscp.config import Config
from qrscp.services.protocols import InstanceLocator, StoredPaths
from qrscp.status import Status
from qrscp.uids import (
    COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
    Level,
    View,
)

logger = logging.getLogger(__name__)

#: Composite Instance Root and Without Bulk Data models (PS3.4 Y, Z): IMAGE level, SOP Instance UIDs only.
INSTANCE_ROOT_MODELS = frozenset(
    {COMPOSITE_INSTANCE_ROOT_MOVE, COMPOSITE_INSTANCE_ROOT_GET, COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET}
)

#: PS3.4 Table Z.1-1: attributes not included at the top level by Retrieve Without Bulk Data.
BULK_DATA_TAGS = (
    Tag(0x7FE0, 0x0010),  # Pixel Data
    Tag(0x7FE0, 0x0008),  # Float Pixel Data
    Tag(0x7FE0, 0x0009),  # Double Float Pixel Data
    Tag(0x0028, 0x7FE0),  # Pixel Data Provider URL
    Tag(0x5600, 0x0020),  # Spectroscopy Data
    Tag(0x0042, 0x0011),  # Encapsulated Document
)
#: Repeating groups of Table Z.1-1: (60xx,3000) Overlay Data, (50xx,3000) Curve Data,
#: (50xx,200C) Audio Sample Data.
BULK_DATA_REPEATING = ((0x6000, 0x3000), (0x5000, 0x3000), (0x5000, 0x200C))
WAVEFORM_DATA = Tag(0x5400, 0x1010)  # not included within Waveform Sequence (5400,0100) items


class RetrieveError(Exception):
    """A retrieve request that cannot be served; answered with `status` and `comment`."""

    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = status
        self.comment = comment


class InstanceLocationLike(Protocol):
    """What ``QueryService.locate`` returns for each instance (``qrscp.services.query.InstanceLocation``)."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    file_path: str


SOP_CLASS_UID, SOP_INSTANCE_UID = 0x00080016, 0x00080018
MEDIA_STORAGE_SOP_CLASS_UID, MEDIA_STORAGE_SOP_INSTANCE_UID, TRANSFER_SYNTAX_UID = 0x00020002, 0x00020003, 0x00020010


class StoredInstance(Dataset):
    """A stored instance to send as its file's bytes (a :class:`Dataset` so that pynetdicom accepts it).

    Only SOP Class UID, SOP Instance UID and File Meta (Transfer Syntax UID) are set; `stored_path` is
    the Part 10 file whose dataset bytes go on the wire unchanged.
    """

    def __init__(self, location: InstanceLocationLike, stored_path: Path) -> None:
        super().__init__()
        # The UIDs come from the index: not validated again (that was a tenth of a C-GET's time).
        sop_class = UID(location.sop_class_uid, validation_mode=IGNORE)
        sop_instance = UID(location.sop_instance_uid, validation_mode=IGNORE)
        self.add(DataElement(SOP_CLASS_UID, "UI", sop_class, validation_mode=IGNORE))
        self.add(DataElement(SOP_INSTANCE_UID, "UI", sop_instance, validation_mode=IGNORE))
        meta = FileMetaDataset()
        meta.add(DataElement(MEDIA_STORAGE_SOP_CLASS_UID, "UI", sop_class, validation_mode=IGNORE))
        meta.add(DataElement(MEDIA_STORAGE_SOP_INSTANCE_UID, "UI", sop_instance, validation_mode=IGNORE))
        meta.add(DataElement(TRANSFER_SYNTAX_UID, "UI", UID(location.transfer_syntax_uid, validation_mode=IGNORE),
                             validation_mode=IGNORE))
        self.file_meta = meta
        object.__setattr__(self, "stored_path", Path(stored_path))


def decode_for_transcoding(path: str | os.PathLike) -> Dataset:
    """Read a stored file and return it decoded to an uncompressed transfer syntax.

    Compressed pixel data is decompressed (pydicom with the pylibjpeg plugins); deflated and big endian
    datasets come back as read, pynetdicom re-encodes them for the accepted syntax.

    Raises
    ------
    Exception
        The pixel data cannot be decoded (no plugin, corrupt data); the caller counts a failed
        sub-operation.
    """
    ds = dcmread(os.fspath(path))
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax.is_compressed and "PixelData" in ds:
        # Same instance, other encoding: the SOP Instance UID must not change (pydicom's default does).
        ds.decompress(generate_instance_uid=False)
    elif syntax.is_deflated:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def without_bulk_data(path: str | os.PathLike) -> Dataset:
    """Read a stored file and return it without the attributes of PS3.4 Table Z.1-1.

    Pixel data inside Icon Image Sequence items is kept (Z.1.3 note); Waveform Data is removed from
    Waveform Sequence items. Private attributes are kept (documented in the conformance statement).
    When the stored syntax was encapsulated or deflated, the result is Explicit VR Little Endian:
    without pixel data nothing is left to compress.
    """
    ds = dcmread(os.fspath(path), defer_size=4096)
    for tag in BULK_DATA_TAGS:
        if tag in ds:
            del ds[tag]
    for tag in [t for t in ds.keys() if 0x5000 <= t.group <= 0x60FF and t.group % 2 == 0]:
        base = ((tag.group & 0xFF00), tag.element)
        if base in BULK_DATA_REPEATING:
            del ds[tag]
    for item in ds.get("WaveformSequence", None) or []:
        if WAVEFORM_DATA in item:
            del item[WAVEFORM_DATA]
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax.is_compressed or syntax.is_deflated:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    # Deferred values are read from the file at encoding time; load them now so that encoding does not
    # depend on the file staying in place.
    for elem in ds.iterall():
        _ = elem.value
    return ds


class RetrieveService:
    """Selects the instances of a C-MOVE/C-GET and prepares each sub-operation's dataset.

    Parameters
    ----------
    config : qrscp.config.Config
        Peers (C-MOVE destinations) and limits.
    query_service : qrscp.services.query.QueryService
        Its ``locate`` resolves identifiers to stored instances.
    file_store : qrscp.store.filestore.FileStore
        Resolves relative file paths.
    """

    def __init__(self, config: Config, query_service: InstanceLocator, file_store: StoredPaths) -> None:
        self.config = config
        self.query_service = query_service
        self.file_store = file_store

    def locate(
        self,
        identifier: Dataset,
        *,
        information_model: str,
        relational: bool = False,
        view: View = View.DEFAULT,
    ) -> list[InstanceLocationLike]:
        """Return the stored instances that the retrieve `identifier` selects.

        Composite Instance Root and Without Bulk Data requests (PS3.4 Y.4.2.1.3, Z.4.2.1.3.1) must be at
        IMAGE level with SOP Instance UID(s); they are resolved like a relational Study Root retrieve.

        Raises
        ------
        RetrieveError
            Bad level or missing SOP Instance UID for the instance-root models.
        qrscp.services.query.QueryError
            Raised by the query service for a bad identifier.
        """
        if information_model in INSTANCE_ROOT_MODELS:
            level = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
            if level == Level.FRAME.value:
                raise RetrieveError(Status.UNABLE_TO_PROCESS, "frame-level retrieve is not supported")
            if level != Level.IMAGE.value:
                raise RetrieveError(
                    Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
                    f"Query/Retrieve Level must be IMAGE for this SOP class, not {level or 'empty'!r}",
                )
            if not identifier.get("SOPInstanceUID", None):
                raise RetrieveError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "SOP Instance UID is required")
            instance_keys = Dataset()
            instance_keys.QueryRetrieveLevel = Level.IMAGE.value
            instance_keys.SOPInstanceUID = identifier.SOPInstanceUID
            for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "QueryRetrieveView"):
                if identifier.get(keyword, None):
                    instance_keys[keyword] = identifier[keyword]
            model = STUDY_ROOT_MOVE if information_model == COMPOSITE_INSTANCE_ROOT_MOVE else STUDY_ROOT_GET
            return list(
                self.query_service.locate(instance_keys, information_model=model, relational=True, view=view)
            )
        return list(
            self.query_service.locate(identifier, information_model=information_model, relational=relational, view=view)
        )

    def stored_path(self, location: InstanceLocationLike) -> Path:
        """Return the absolute path of a located instance's file."""
        return Path(self.file_store.absolute(location.file_path))

    def dataset_for(self, location: InstanceLocationLike, *, information_model: str) -> Dataset:
        """Return what the C-STORE sub-operation for `location` sends.

        A :class:`StoredInstance` (sent as stored), or for Without Bulk Data the decoded dataset
        stripped of bulk data.
        """
        path = self.stored_path(location)
        if information_model == COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET:
            return without_bulk_data(path)
        return StoredInstance(location, path)

    @staticmethod
    def instance_pairs(locations: Sequence[InstanceLocationLike]) -> list[tuple[str, str]]:
        """Return (SOP Class UID, transfer syntax UID) of each location, for context negotiation."""
        return [(loc.sop_class_uid, loc.transfer_syntax_uid) for loc in locations]

