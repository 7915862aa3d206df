"""pynetdicom's ``encode`` with the flat fast path of :mod:`qrscp.dicom.flat`.

pynetdicom encodes every command set twice (once for its group length) and every C-FIND response
identifier once, through pydicom's general writer; on a 500-match C-FIND that was the largest cost in the
server (py-spy). Flat little endian datasets go to :func:`qrscp.dicom.flat.encode_flat`; anything else
(sequences, non-ASCII text, big endian, deflate) to the original pydicom/pynetdicom encoder, so the output
is always what pydicom writes; ``tests/net/pynetdicom_ext/test_fastencode.py`` checks both give the same bytes.

:func:`install` replaces the ``encode`` used by pynetdicom's service classes and DIMSE messages.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pynetdicom.dsutils import encode as pynetdicom_encode

from qrscp.dicom.flat import NotFlat, ascii_compatible, encode_flat


class EncodedIdentifier:
    """A C-FIND response identifier encoded already, yielded to pynetdicom in place of a Dataset.

    Only while :func:`encode` is installed and pynetdicom does not log identifiers (it would print
    them): see :func:`encoded_identifiers_for`.
    """

    __slots__ = ("data", "is_implicit_vr")

    def __init__(self, data: bytes, is_implicit_vr: bool) -> None:
        self.data = data
        self.is_implicit_vr = is_implicit_vr


def encoded_identifiers_for(transfer_syntax: Any) -> bool | None:
    """Whether a C-FIND on a context of `transfer_syntax` may yield :class:`EncodedIdentifier`: the
    implicit VR flag to encode with (little endian, not deflated), or None for Datasets."""
    from pynetdicom import _config
    from pynetdicom import service_class

    if service_class.encode is not encode or _config.LOG_RESPONSE_IDENTIFIERS:
        return None
    if not transfer_syntax.is_little_endian or transfer_syntax.is_deflated:
        return None
    return bool(transfer_syntax.is_implicit_VR)


def encode(ds: Dataset, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False) -> bytes | None:
    """Drop-in for :func:`pynetdicom.dsutils.encode` with the flat fast path."""
    if type(ds) is EncodedIdentifier:
        if ds.is_implicit_vr == is_implicit_vr and is_little_endian and not deflated:
            return ds.data
        return None  # pynetdicom answers C312 (cannot encode): never seen, the context decides both
    if is_little_endian and not deflated and ascii_compatible(ds):
        try:
            return encode_flat(ds, is_implicit_vr)
        except NotFlat:
            pass
    return pynetdicom_encode(ds, is_implicit_vr, is_little_endian, deflated)


def install() -> None:
    """Make pynetdicom's service classes and DIMSE messages use :func:`encode` (idempotent)."""
    from pynetdicom import dimse_messages, service_class

    service_class.encode = encode  # type: ignore[assignment]
    dimse_messages.encode = encode  # type: ignore[assignment]


def uninstall() -> None:
    """Restore pynetdicom's own encoder."""
    from pynetdicom import dimse_messages, service_class

    service_class.encode = pynetdicom_encode  # type: ignore[assignment]
    dimse_messages.encode = pynetdicom_encode  # type: ignore[assignment]
