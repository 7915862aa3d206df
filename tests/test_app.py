"""The composition root: patches installed only by building an archive, the parts it wires, a socket handed in."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from qrscp.app import Archive, build_parts
from qrscp.net import pynetdicom_ext
from qrscp.net.handlers import ArchiveServices


def test_importing_installs_no_patch():
    code = """
import json
from pynetdicom.association import Association
from pynetdicom.dimse import DIMSEServiceProvider
original = (DIMSEServiceProvider.send_msg, Association._serve_request)
import qrscp.app, qrscp.cli, qrscp.cli.serve, qrscp.net.server, qrscp.net.handlers
from qrscp.net import pynetdicom_ext
after = (DIMSEServiceProvider.send_msg, Association._serve_request)
print(json.dumps({"same": original == after, "active": pynetdicom_ext.active()}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == {"same": True, "active": False}


def test_build_parts_wires_the_services_over_one_index(archive_config):
    parts = build_parts(archive_config)
    try:
        assert isinstance(parts.services, ArchiveServices)
        assert parts.services.storage is parts.storage and parts.services.query is parts.query
        assert parts.retrieve.query_service is parts.query and parts.retrieve.file_store is parts.file_store
        assert parts.storage.sessions is parts.sessions
    finally:
        parts.engine.dispose()


def test_archive_serves_a_socket_bound_by_its_caller(archive_config):
    from qrscp.testing.network import client_for

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    archive = Archive(archive_config)
    archive.start(listen_socket=listener)
    try:
        assert archive.port == port
        assert client_for(archive).echo() == 0x0000
    finally:
        archive.stop(drain_timeout=5)
    assert listener.fileno() == -1  # closed with the server


def test_patches_off_by_configuration_and_back_on(archive_config, monkeypatch):
    from qrscp.testing.network import client_for

    monkeypatch.delenv(pynetdicom_ext.ENV_VAR, raising=False)
    was_active = pynetdicom_ext.active()
    archive_config.server.pynetdicom_patches = False
    archive = Archive(archive_config)
    try:
        assert not pynetdicom_ext.active()
        archive.start()
        assert client_for(archive).echo() == 0x0000
    finally:
        archive.stop(drain_timeout=5)
        pynetdicom_ext.install(was_active)
