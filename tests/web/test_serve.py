"""``qrscp serve --http-port N``: the HTTP front end runs in the server process and stops with it."""

from __future__ import annotations

import httpx
import pytest

from qrscp.config import load_config
from qrscp.testing.network import LOCALHOST, free_port

pytestmark = [pytest.mark.network, pytest.mark.slow]


def test_serve_answers_dicomweb_on_the_given_port_and_stops_cleanly(serve_process):
    port = free_port()
    serve = serve_process("--http-port", str(port))
    response = httpx.get(f"http://{LOCALHOST}:{port}/dicomweb/studies", timeout=30)
    assert response.status_code == 204
    assert httpx.get(f"http://{LOCALHOST}:{port}/", timeout=30).status_code == 200
    assert serve.terminate() == 0
    assert "DICOMweb on http://127.0.0.1:%d/dicomweb" % port in serve.log()


def test_http_defaults_and_off(tmp_path):
    path = tmp_path / "qrscp.toml"
    path.write_text("[http]\nport = 0\n")
    assert load_config(path).http.port == 0
    path.write_text("")
    defaults = load_config(path).http
    assert (defaults.port, defaults.bind_address, defaults.require_auth) == (8080, "127.0.0.1", False)


def test_an_archive_serves_http_on_a_socket_bound_for_it(tmp_path):
    """What a supervisor of worker processes does: bind once, start each worker's archive on it."""
    from qrscp.app import Archive
    from qrscp.web.server import bind_http
    from tests.web.conftest import web_config

    config = web_config(tmp_path / "a")
    sock = bind_http(config)
    port = sock.getsockname()[1]
    archive = Archive(config)
    archive.start(http_socket=sock)
    try:
        assert archive.http.port == port
        assert httpx.get(f"http://{LOCALHOST}:{port}/dicomweb/studies", timeout=30).status_code == 204
    finally:
        archive.stop(drain_timeout=10)


def test_workers_on_a_shared_dicom_socket_share_the_http_port(tmp_path):
    """Two archives started on one DICOM socket (worker processes) both listen on the same HTTP port."""
    import socket

    from qrscp.app import Archive
    from qrscp.testing.network import free_port
    from tests.web.conftest import web_config

    http_port = free_port()
    dicom = socket.create_server((LOCALHOST, 0))
    archives = []
    try:
        for name in ("w1", "w2"):
            config = web_config(tmp_path / "shared")
            config.http.port = http_port
            archive = Archive(config)
            archive.start(listen_socket=dicom)
            archives.append(archive)
        assert [a.http.port for a in archives] == [http_port, http_port]
        assert httpx.get(f"http://{LOCALHOST}:{http_port}/dicomweb/studies", timeout=30).status_code == 204
    finally:
        for archive in archives:
            archive.stop(drain_timeout=10)
        dicom.close()
