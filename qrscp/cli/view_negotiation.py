"""The client side of the Enhanced Multi-Frame Image Conversion extended negotiation (Sup 157 C.5, Y.5).

What ``qrscp find/get/move --view`` offers for each Query/Retrieve SOP Class, and how it reads the reply.
"""

from __future__ import annotations

from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation

from qrscp.uids import (
    PATIENT_ROOT_FIND,
    PATIENT_ROOT_GET,
    PATIENT_ROOT_MOVE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
)


def conversion_app_info(sop_class_uid: str, *, view: bool) -> bytes | None:
    """Service-class-application-information offered for `sop_class_uid` (None: offer no item).

    FIND: relational queries (byte 1) and, with a view, bytes 2-4 as 0 and the conversion byte 5.
    Patient/Study Root MOVE/GET: relational retrieval (byte 1) and, with a view, the conversion byte 2.
    Composite Instance Root: only with a view, byte 1 reserved (0) and the conversion byte 2.
    """
    if sop_class_uid in (PATIENT_ROOT_FIND, STUDY_ROOT_FIND):
        return bytes([1, 0, 0, 0, 1]) if view else bytes([1])
    if sop_class_uid in (PATIENT_ROOT_GET, STUDY_ROOT_GET, PATIENT_ROOT_MOVE, STUDY_ROOT_MOVE):
        return bytes([1, 1]) if view else bytes([1])
    return bytes([0, 1]) if view else None


def extended_negotiation_items(sop_class_uid: str, *, view: bool) -> list[SOPClassExtendedNegotiation]:
    """The SOP Class Extended Negotiation items to offer for one Query/Retrieve SOP Class."""
    app_info = conversion_app_info(sop_class_uid, view=view)
    if app_info is None:
        return []
    item = SOPClassExtendedNegotiation()
    item.sop_class_uid = sop_class_uid
    item.service_class_application_information = app_info
    return [item]


def conversion_accepted(sop_class_uid: str, reply: dict[str, bytes]) -> bool:
    """True when the acceptor's reply accepts the Enhanced Multi-Frame Image Conversion option."""
    answer = bytes(reply.get(sop_class_uid, b""))
    index = 4 if sop_class_uid in (PATIENT_ROOT_FIND, STUDY_ROOT_FIND) else 1
    return len(answer) > index and answer[index] == 1
