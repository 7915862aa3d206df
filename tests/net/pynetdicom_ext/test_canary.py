"""Canary: every private name of pynetdicom that qrscp's patches touch exists with the expected signature.

Run this first when a new pynetdicom version is tried; add it to ``TESTED_VERSIONS`` only when it passes
(and the whole suite does).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import socket

import pynetdicom
import pytest
from pynetdicom import AE
from pynetdicom.association import Association

from qrscp.net import pynetdicom_ext
from qrscp.net.pynetdicom_ext.touched import TOUCHED, Touched


def _owner(touched: Touched):
    module_name, _, class_name = touched.owner.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name) if class_name else module


@pytest.fixture(scope="module")
def instances():
    """One instance of each class whose instance attributes are touched, built as pynetdicom builds them."""
    from pynetdicom.dimse_primitives import C_STORE
    from pynetdicom.pdu_primitives import P_DATA
    from pynetdicom.transport import AssociationServer, AssociationSocket

    ae = AE()
    ae.add_supported_context("1.2.840.10008.1.1")
    assoc = Association(ae, "requestor")
    server = ae.start_server(("127.0.0.1", 0), block=False)
    client_socket = socket.socket()
    try:
        yield {
            "pynetdicom.association:Association": assoc,
            "pynetdicom.dul:DULServiceProvider": assoc.dul,
            "pynetdicom.dimse:DIMSEServiceProvider": assoc.dimse,
            "pynetdicom.dimse_primitives:C_STORE": C_STORE(),
            "pynetdicom.ae:ApplicationEntity": ae,
            "pynetdicom.transport:AssociationServer": server,
            "pynetdicom.fsm:StateMachine": assoc.dul.state_machine,
            "pynetdicom.pdu_primitives:P_DATA": P_DATA(),
            "pynetdicom.transport:AssociationSocket": AssociationSocket(assoc, client_socket=client_socket),
        }
        assert isinstance(server, AssociationServer)
    finally:
        client_socket.close()
        server.shutdown()


@pytest.mark.parametrize("touched", TOUCHED, ids=lambda t: f"{t.owner}.{t.name}")
def test_touched_name_exists_with_its_signature(touched, instances):
    owner = _owner(touched)
    if touched.instance:
        instance = instances[touched.owner]
        assert isinstance(instance, owner)
        assert hasattr(instance, touched.name), f"{touched.owner}().{touched.name} is gone ({touched.used_by})"
        return
    assert hasattr(owner, touched.name), f"{touched.owner}.{touched.name} is gone ({touched.used_by})"
    if touched.parameters is not None:
        parameters = tuple(inspect.signature(getattr(owner, touched.name)).parameters)
        assert parameters == touched.parameters, f"{touched.owner}.{touched.name}{parameters} ({touched.used_by})"


def test_the_installed_version_is_tested_and_pinned():
    """pyproject's pin and TESTED_VERSIONS say the same thing, and the installed version is among them."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())["project"]
    from packaging.requirements import Requirement

    [pin] = [Requirement(d) for d in project["dependencies"] if d.startswith("pynetdicom")]
    assert all(pin.specifier.contains(version) for version in pynetdicom_ext.TESTED_VERSIONS)
    assert not pin.specifier.contains("3.0.999") and not pin.specifier.contains("3.1.0"), "untested releases pinned out"
    assert pynetdicom_ext.version_tested()


def test_an_untested_version_falls_back_to_plain_pynetdicom_with_a_warning(monkeypatch, caplog):
    was_active = pynetdicom_ext.active()
    monkeypatch.setattr(pynetdicom, "__version__", "3.9.0")
    try:
        with caplog.at_level(logging.WARNING, logger="qrscp.net"):
            assert pynetdicom_ext.install(True) is False
        assert "pynetdicom 3.9.0 is not among the tested versions" in caplog.text
        assert not pynetdicom_ext.active()
        assert Association._serve_request is pynetdicom_ext.incomplete._original_serve_request
        assert pynetdicom_ext.server_handlers(None) == []
    finally:
        monkeypatch.undo()
        pynetdicom_ext.install(was_active)


@pytest.mark.parametrize("value, configured, expected", [
    ("off", True, False), ("0", True, False), ("on", False, True), ("", True, True), ("", False, False),
])
def test_environment_overrides_the_configuration(monkeypatch, value, configured, expected):
    monkeypatch.setenv(pynetdicom_ext.ENV_VAR, value)
    assert pynetdicom_ext.wanted(configured) is expected
