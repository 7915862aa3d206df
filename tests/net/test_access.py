"""Association acceptance: called AE title, calling AE allow-list, address allow-list, max associations."""

from __future__ import annotations

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from qrscp.config import Config
from qrscp.net.access import AccessPolicy


def _associate(port: int, *, called: str = "QRSCP", calling: str = "PYTEST"):
    ae = AE(ae_title=calling)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.network_timeout = 10
    return ae.associate("127.0.0.1", port, ae_title=called)


def _rejection(assoc) -> tuple[int, int, int]:
    assert assoc.is_rejected
    rj = assoc.acceptor.primitive
    return rj.result, rj.result_source, rj.diagnostic


def test_wrong_called_ae_title_is_rejected(archive):
    assert _rejection(_associate(archive.port, called="SOMEONE")) == (1, 1, 7)
    assoc = _associate(archive.port)
    assert assoc.is_established
    assoc.release()


def test_called_ae_title_check_can_be_off(make_archive):
    server = make_archive(lambda config: setattr(config.server, "require_called_ae_title", False))
    assoc = _associate(server.port, called="ANYONE")
    assert assoc.is_established
    assoc.release()


def test_calling_ae_title_allow_list(make_archive):
    server = make_archive(lambda config: setattr(config.access, "allowed_calling_ae_titles", ["WS1"]))
    assert _rejection(_associate(server.port, calling="INTRUDER")) == (1, 1, 3)
    assoc = _associate(server.port, calling="WS1")
    assert assoc.is_established
    assoc.release()


@pytest.mark.parametrize("allowed, accepted", [(["10.0.0.0/8"], False), (["127.0.0.0/8"], True), (["127.0.0.1"], True)])
def test_address_allow_list(make_archive, allowed, accepted):
    server = make_archive(lambda config: setattr(config.access, "allowed_addresses", allowed))
    assoc = _associate(server.port)
    if accepted:
        assert assoc.is_established
        assoc.release()
    else:
        assert _rejection(assoc) == (1, 1, 1)


def _wait_until_idle(server, timeout: float = 20.0) -> None:
    """Wait (bounded) until the server's acceptor threads have ended after a release."""
    import threading

    pause = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if not [a for a in server.ae.active_associations if a.is_acceptor]:
            return
        pause.wait(0.01)
    raise AssertionError("associations still active")


def test_max_associations(make_archive):
    server = make_archive(lambda config: setattr(config.server, "max_associations", 1))
    first = _associate(server.port)
    assert first.is_established
    try:
        assert _rejection(_associate(server.port)) == (2, 3, 2)
    finally:
        first.release()
    _wait_until_idle(server)
    again = _associate(server.port)
    assert again.is_established
    again.release()


def test_policy_from_default_config_accepts_anyone():
    policy = AccessPolicy.from_config(Config())
    assert policy.check(calling_ae_title="ANY", called_ae_title="QRSCP", address="192.0.2.7", active=1) is None
    assert policy.check(calling_ae_title="ANY", called_ae_title="QRSCP", address="192.0.2.7", active=11).reason == 2
