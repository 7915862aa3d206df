"""SOP Class Extended Negotiation replies over a real association, and the Query/Retrieve View request rules."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation

from qrscp.config import Config
from qrscp.net.negotiation import (
    NegotiatedOptions,
    ViewRequestError,
    accepted_options,
    handle_sop_extended,
    negotiate,
    requested_view,
    view_of,
)
from qrscp.status import Status
from qrscp.uids import (
    COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    CT_IMAGE_STORAGE,
    PATIENT_ROOT_FIND,
    PATIENT_ROOT_GET,
    PATIENT_ROOT_MOVE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
    View,
)

VERIFICATION = "1.2.840.10008.1.1"

# (SOP Class, offered bytes, expected reply with views enabled, expected reply with views disabled)
OFFERS = [
    (STUDY_ROOT_FIND, b"\x01\x00\x00\x00\x01", b"\x01\x00\x00\x00\x01", b"\x01\x00\x00\x00\x00"),
    (PATIENT_ROOT_FIND, b"\x01\x01\x01\x01\x01", b"\x01\x01\x00\x00\x01", b"\x01\x01\x00\x00\x00"),
    (STUDY_ROOT_FIND, b"\x01", b"\x01", b"\x01"),
    (PATIENT_ROOT_FIND, b"\x01\x01\x01", b"\x01\x01\x00", b"\x01\x01\x00"),
    (STUDY_ROOT_FIND, b"\x00\x00\x00\x00\x01", b"\x00\x00\x00\x00\x01", b"\x00\x00\x00\x00\x00"),
    (STUDY_ROOT_MOVE, b"\x01\x01", b"\x01\x01", b"\x01\x00"),
    (PATIENT_ROOT_MOVE, b"\x01", b"\x01", b"\x01"),
    (STUDY_ROOT_GET, b"\x00\x01", b"\x00\x01", b"\x00\x00"),
    (PATIENT_ROOT_GET, b"\x01\x01", b"\x01\x01", b"\x01\x00"),
    (COMPOSITE_INSTANCE_ROOT_MOVE, b"\x00\x01", b"\x00\x01", b"\x00\x00"),
    # Byte 1 is reserved for Composite Instance Root: never echoed as 1 even when a peer sends 1.
    (COMPOSITE_INSTANCE_ROOT_GET, b"\x01\x01", b"\x00\x01", b"\x00\x00"),
    (COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET, b"\x00\x01", b"\x00\x01", b"\x00\x00"),
]


class NegotiationSCP:
    """A real pynetdicom acceptor on 127.0.0.1 using qrscp's negotiation handler; records accepted options."""

    def __init__(self, config: Config) -> None:
        self.ae = AE(ae_title="QRSCP")
        for uid in {offer[0] for offer in OFFERS} | {VERIFICATION}:
            self.ae.add_supported_context(uid)
        self.accepted: list[NegotiatedOptions] = []
        handlers = [
            (evt.EVT_SOP_EXTENDED, handle_sop_extended, [config]),
            (evt.EVT_C_ECHO, self._echo),
        ]
        self.server = self.ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
        self.port = self.server.server_address[1]

    def _echo(self, event) -> int:
        self.accepted.append(accepted_options(event.assoc))
        return 0

    def offer(self, items: dict[str, bytes]) -> tuple[dict[str, bytes], NegotiatedOptions]:
        """Associate offering `items`; return the acceptor's reply items and the options the SCP recorded."""
        scu = AE(ae_title="SCU")
        scu.add_requested_context(VERIFICATION)
        for uid in items:
            scu.add_requested_context(uid)
        ext_neg = []
        for uid, app_info in items.items():
            item = SOPClassExtendedNegotiation()
            item.sop_class_uid = uid
            item.service_class_application_information = app_info
            ext_neg.append(item)
        assoc = scu.associate("127.0.0.1", self.port, ae_title="QRSCP", ext_neg=ext_neg)
        assert assoc.is_established
        try:
            reply = {str(k): bytes(v) for k, v in assoc.acceptor.sop_class_extended.items()}
            assert assoc.send_c_echo().Status == 0
        finally:
            assoc.release()
        return reply, self.accepted[-1]

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(params=[True, False], ids=["views-enabled", "views-disabled"])
def scp(request):
    config = Config()
    config.views.enabled = request.param
    server = NegotiationSCP(config)
    server.views_enabled = request.param
    yield server
    server.stop()


@pytest.mark.parametrize("sop_class, offered, enabled_reply, disabled_reply", OFFERS)
def test_reply_has_the_offered_length_and_supported_options(scp, sop_class, offered, enabled_reply, disabled_reply):
    reply, options = scp.offer({sop_class: offered})
    expected = enabled_reply if scp.views_enabled else disabled_reply
    assert reply == {sop_class: expected}
    conversion_byte = 4 if sop_class in (PATIENT_ROOT_FIND, STUDY_ROOT_FIND) else 1
    assert options.views(sop_class) == (len(expected) > conversion_byte and expected[conversion_byte] == 1)
    # Combined date-time matching (FIND byte 2) is accepted whenever offered; MOVE/GET byte 2 is not it.
    is_find = sop_class in (PATIENT_ROOT_FIND, STUDY_ROOT_FIND)
    assert options.combined_datetime(sop_class) == (is_find and len(offered) > 1 and offered[1] == 1)


def test_not_offered_sop_classes_are_not_answered(scp):
    reply, options = scp.offer({STUDY_ROOT_FIND: b"\x01\x00\x00\x00\x01", CT_IMAGE_STORAGE: b"\x01\x01"})
    assert set(reply) == {STUDY_ROOT_FIND}
    assert not options.views(STUDY_ROOT_MOVE)
    assert not options.views(CT_IMAGE_STORAGE)


def test_no_offer_no_reply_and_nothing_accepted(scp):
    reply, options = scp.offer({})
    assert reply == {}
    assert options == NegotiatedOptions()


def test_several_sop_classes_in_one_association(scp):
    offers = {STUDY_ROOT_FIND: b"\x01\x00\x00\x00\x01", STUDY_ROOT_GET: b"\x01\x01", COMPOSITE_INSTANCE_ROOT_GET: b"\x00\x01"}
    reply, options = scp.offer(offers)
    assert set(reply) == set(offers)
    assert [options.views(uid) for uid in offers] == [scp.views_enabled] * 3
    assert options.relational(STUDY_ROOT_FIND) and options.relational(STUDY_ROOT_GET)
    assert not options.relational(COMPOSITE_INSTANCE_ROOT_GET)


def _identifier(view: str | None) -> Dataset:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = ""
    if view is not None:
        identifier.QueryRetrieveView = view
    return identifier


ACCEPTED = negotiate({STUDY_ROOT_FIND: b"\x01\x00\x00\x00\x01", STUDY_ROOT_GET: b"\x01\x00"})[1]


@pytest.mark.parametrize("view, expected", [(None, View.DEFAULT), ("CLASSIC", View.CLASSIC), ("ENHANCED", View.ENHANCED)])
def test_requested_view_when_negotiated(view, expected):
    assert view_of(_identifier(view), STUDY_ROOT_FIND, ACCEPTED) is expected


@pytest.mark.parametrize(
    "view, sop_class, fragment",
    [
        ("ENHANCED", STUDY_ROOT_GET, "not negotiated"),  # offered without the conversion byte set
        ("CLASSIC", STUDY_ROOT_MOVE, "not negotiated"),  # never offered
        ("MULTIFRAME", STUDY_ROOT_FIND, "not CLASSIC or ENHANCED"),
        ("classic", STUDY_ROOT_FIND, "not CLASSIC or ENHANCED"),
    ],
)
def test_requested_view_failures_carry_a_comment(view, sop_class, fragment):
    with pytest.raises(ViewRequestError) as caught:
        view_of(_identifier(view), sop_class, ACCEPTED)
    assert caught.value.status == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert fragment in caught.value.comment
    assert len(caught.value.comment) <= 64  # Error Comment is LO


def test_requested_view_reads_the_association_and_the_affected_sop_class():
    # The handler-facing form: options remembered for the event's association, SOP Class from the request.
    class Request:
        AffectedSOPClassUID = STUDY_ROOT_FIND

    class Association:  # weak-referenceable, as pynetdicom's is
        pass

    class Event:
        request = Request()
        assoc = Association()

    event = Event()
    with pytest.raises(ViewRequestError):
        requested_view(event, _identifier("CLASSIC"))  # nothing negotiated on this association
    handle_sop_extended(type("Negotiation", (), {"app_info": {STUDY_ROOT_FIND: b"\x01\x00\x00\x00\x01"},
                                                 "assoc": event.assoc})())
    assert requested_view(event, _identifier("CLASSIC")) is View.CLASSIC
    assert accepted_options(event.assoc).views(STUDY_ROOT_FIND)
