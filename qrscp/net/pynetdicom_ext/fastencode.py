"""pynetdicom's ``encode`` with the flat fast path of :mod:`qrscp.dicom.flat`.

pynetdicom encodes every command set twice (once for its group length) and every C-FIND response
identifier once, through pydicom's general writer; on a 500-match C-FIND that was the largest cost in the
server (py-spy). Flat little endian datasets go to :func:`qrscp.dicom.flat.encode_flat`; anything else
(sequences, non-ASCII text, big endian, deflate) to the original pydicom/pynetdicom encoder, so the output
is always what pydicom writes; ``tests/net/pynetdicom_ext/test_fastencode.py`` checks both give the same bytes.

:func:`install` replaces the ``encode`` used by pynetdicom's service classes and DIMSE messages.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pynetdicom.dsutils import encode as pynetdicom_encode

from qrscp.dicom.flat import NotFlat, ascii_compatible, encode_flat


def encode(ds: Dataset, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False) -> bytes | None:
    """Drop-in for :func:`pynetdicom.dsutils.encode` with the flat fast path."""
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
