"""Presentation context negotiation: the peer's transfer syntax preference, roles, the C-MOVE request."""

from __future__ import annotations

import pytest
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)
from pynetdicom import AE

from qrscp.net.contexts import MAX_REQUESTED_CONTEXTS, requested_storage_contexts
from qrscp.uids import CT_IMAGE_STORAGE, MR_IMAGE_STORAGE


@pytest.mark.parametrize(
    "proposed, accepted",
    [
        ([JPEG2000Lossless, ExplicitVRLittleEndian], JPEG2000Lossless),
        ([ExplicitVRLittleEndian, JPEG2000Lossless], ExplicitVRLittleEndian),
        ([ImplicitVRLittleEndian, ExplicitVRLittleEndian], ImplicitVRLittleEndian),
        (["1.2.3.4.5.6", RLELossless], RLELossless),
    ],
)
def test_the_peers_first_supported_syntax_is_accepted(archive, proposed, accepted):
    ae = AE(ae_title="PYTEST")
    ae.add_requested_context(CT_IMAGE_STORAGE, proposed)
    assoc = ae.associate("127.0.0.1", archive.port, ae_title=archive.ae_title)
    try:
        [context] = assoc.accepted_contexts
        assert context.transfer_syntax[0] == accepted
    finally:
        assoc.release()


def test_move_request_contexts_put_uncompressed_first_and_fit_128():
    instances = [(CT_IMAGE_STORAGE, JPEGLSLossless), (CT_IMAGE_STORAGE, ExplicitVRLittleEndian),
                 (MR_IMAGE_STORAGE, ExplicitVRBigEndian)]
    contexts = requested_storage_contexts(instances)
    assert [(str(c.abstract_syntax), list(c.transfer_syntax)) for c in contexts] == [
        (CT_IMAGE_STORAGE, [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian]),
        (MR_IMAGE_STORAGE, [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian]),
        (CT_IMAGE_STORAGE, [JPEGLSLossless]),
        (MR_IMAGE_STORAGE, [ExplicitVRBigEndian]),  # sent as stored when the destination takes it
    ]
    many = [(f"1.2.840.10008.5.1.4.1.1.{n}", JPEGLSLossless) for n in range(100)]
    assert len(requested_storage_contexts(many)) == MAX_REQUESTED_CONTEXTS
