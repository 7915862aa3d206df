"""Presentation contexts the archive supports: SOP classes, roles and transfer syntaxes.

These tables are the conformance statement's source: ``docs/conformance.md`` lists the same values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLossless,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import AllStoragePresentationContexts, build_context
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import Verification

from qrscp.uids import FIND_SOP_CLASSES, GET_SOP_CLASSES, MOVE_SOP_CLASSES

#: Uncompressed transfer syntaxes, in our order of preference when we must transcode.
UNCOMPRESSED_TRANSFER_SYNTAXES = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian)

#: Every transfer syntax accepted for storage (and offered back on retrieval).
STORAGE_TRANSFER_SYNTAXES = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    JPEG2000Lossless,
    JPEG2000,
    RLELossless,
)

#: Transfer syntaxes of Verification and Query/Retrieve contexts (identifiers are small).
QUERY_TRANSFER_SYNTAXES = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian)

#: Every storage SOP class that pynetdicom knows.
STORAGE_SOP_CLASSES = tuple(str(cx.abstract_syntax) for cx in AllStoragePresentationContexts)

#: PS3.8: at most 128 presentation contexts in one A-ASSOCIATE-RQ.
MAX_REQUESTED_CONTEXTS = 128


def supported_contexts() -> list[PresentationContext]:
    """Return the contexts the archive accepts as association acceptor.

    Storage contexts accept SCP/SCU role selection both ways: a C-GET SCU proposes the SCP role for
    them, and we then act as Storage SCU on that association.
    """
    contexts = [build_context(Verification, list(QUERY_TRANSFER_SYNTAXES))]
    for uid in (*FIND_SOP_CLASSES, *MOVE_SOP_CLASSES, *GET_SOP_CLASSES):
        contexts.append(build_context(uid, list(QUERY_TRANSFER_SYNTAXES)))
    for uid in STORAGE_SOP_CLASSES:
        cx = build_context(uid, list(STORAGE_TRANSFER_SYNTAXES))
        cx.scu_role = True
        cx.scp_role = True
        contexts.append(cx)
    return contexts


def requested_storage_contexts(instances: Iterable[tuple[str, str]]) -> list[PresentationContext]:
    """Return the contexts to request from a C-MOVE destination for `instances`.

    Parameters
    ----------
    instances : iterable of (sop_class_uid, transfer_syntax_uid)
        What will be sent.

    Returns
    -------
    list of PresentationContext
        Per SOP class: one context per stored compressed transfer syntax (sent as stored when accepted)
        and one with the uncompressed syntaxes (the fallback after decoding), at most 128 in all.
    """
    by_class: dict[str, list[str]] = {}
    for sop_class, syntax in instances:
        syntaxes = by_class.setdefault(sop_class, [])
        if syntax and syntax not in UNCOMPRESSED_TRANSFER_SYNTAXES and syntax not in syntaxes:
            syntaxes.append(syntax)
    contexts: list[PresentationContext] = []
    # Uncompressed contexts first: with them every instance can be delivered, so they win the 128 slots.
    for sop_class in by_class:
        contexts.append(build_context(sop_class, list(UNCOMPRESSED_TRANSFER_SYNTAXES)))
    for sop_class, syntaxes in by_class.items():
        for syntax in syntaxes:
            contexts.append(build_context(sop_class, syntax))
    return contexts[:MAX_REQUESTED_CONTEXTS]


def in_peer_order(
    requested: Iterable[PresentationContext], supported: Iterable[PresentationContext]
) -> list[PresentationContext]:
    """Return the supported contexts of the requested SOP classes, transfer syntaxes in the peer's order.

    pynetdicom's acceptor takes, for each proposed context, the first of *its own* transfer syntaxes
    that the peer listed. An archive should take the peer's first choice: a modality that proposes
    [JPEG 2000, Explicit VR Little Endian] in one context has JPEG 2000 data, and storing it as sent
    keeps it bit-preserved. The first proposed context of a SOP class sets the order; our other
    syntaxes follow. Roles are kept.
    """
    ours = {str(cx.abstract_syntax): cx for cx in supported}
    ordered: dict[str, PresentationContext] = {}
    for proposal in requested:
        uid = str(proposal.abstract_syntax)
        own = ours.get(uid)
        if own is None or uid in ordered:
            continue
        syntaxes = [ts for ts in proposal.transfer_syntax if ts in own.transfer_syntax]
        syntaxes += [ts for ts in own.transfer_syntax if ts not in syntaxes]
        cx = build_context(uid, syntaxes)
        cx.scu_role = own.scu_role
        cx.scp_role = own.scp_role
        ordered[uid] = cx
    return list(ordered.values())


def handle_requested_peer_order(event: Any) -> None:
    """EVT_REQUESTED handler: negotiate transfer syntaxes in the peer's order of preference."""
    assoc = event.assoc
    if assoc.is_rejected or assoc.is_aborted or not assoc.acceptor.writeable:
        return
    proposed = assoc.requestor.primitive.presentation_context_definition_list or []
    assoc.acceptor.supported_contexts = in_peer_order(proposed, assoc.acceptor.supported_contexts)
