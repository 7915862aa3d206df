"""Who may use the HTTP front end: loopback without credentials by default; HTTP Basic and bearer
tokens when required (or when listening beyond loopback); HTTPS with the DICOM TLS certificate."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from dicomweb_client.api import DICOMwebClient
from requests.exceptions import HTTPError

from qrscp.config import ConfigError
from qrscp.app import Archive
from qrscp.testing.network import LOCALHOST
from qrscp.web.auth import Authenticator
from tests.web.conftest import start_web_archive, web_config

pytestmark = pytest.mark.network


def _users(config) -> None:
    config.http.require_auth = True
    config.http.users = {"alice": "wonderland", "bob": "sha256:" + hashlib.sha256(b"builder").hexdigest()}
    config.http.tokens = ["s3cret-token"]


@pytest.fixture
def auth_web(tmp_path):
    web = start_web_archive(tmp_path / "archive", _users)
    try:
        yield web
    finally:
        web.archive.stop(drain_timeout=10)


@pytest.mark.parametrize("path", ["/dicomweb/studies", "/dicomweb/views/enhanced/studies", "/"])
def test_every_request_needs_credentials_when_required(auth_web, path):
    with auth_web.http() as http:
        anonymous = http.get(path)
        assert anonymous.status_code == 401
        assert "Basic" in anonymous.headers["www-authenticate"]
        assert http.get(path, auth=("alice", "wrong")).status_code == 401
        assert http.get(path, auth=("mallory", "wonderland")).status_code == 401
        assert http.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        for good in ({"auth": ("alice", "wonderland")}, {"auth": ("bob", "builder")},
                     {"headers": {"Authorization": "Bearer s3cret-token"}}):
            assert http.get(path, **good).status_code in (200, 204)


def test_dicomweb_client_with_basic_auth(auth_web):
    import requests

    session = requests.Session()
    session.auth = ("alice", "wonderland")
    assert DICOMwebClient(url=auth_web.url("default"), session=session).search_for_studies() == []
    with pytest.raises(HTTPError) as refused:
        DICOMwebClient(url=auth_web.url("default")).search_for_studies()
    assert refused.value.response.status_code == 401


def test_loopback_answers_without_credentials_by_default(tmp_path):
    web = start_web_archive(tmp_path / "archive")
    try:
        assert web.archive.config.http.bind_address == "127.0.0.1"
        with web.http() as http:
            assert http.get("/dicomweb/studies").status_code == 204
    finally:
        web.archive.stop(drain_timeout=10)


def test_listening_beyond_loopback_requires_authentication(tmp_path):
    config = web_config(tmp_path / "a")
    config.http.bind_address = "0.0.0.0"
    with pytest.raises(ConfigError, match="users or tokens"):
        Authenticator.from_config(config)
    config.http.tokens = ["t"]
    assert Authenticator.from_config(config) is not None
    archive = Archive(config)
    archive.start()
    try:
        response = httpx.get(f"http://{LOCALHOST}:{archive.http.port}/dicomweb/studies")
        assert response.status_code == 401
    finally:
        archive.stop(drain_timeout=10)


def _self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOCALHOST))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_with_the_dicom_tls_certificate(tmp_path):
    cert_path, key_path = _self_signed(tmp_path)

    def configure(config) -> None:
        config.tls.certificate, config.tls.private_key = str(cert_path), str(key_path)
        config.http.tls = True

    web = start_web_archive(tmp_path / "archive", configure)
    try:
        url = f"https://{LOCALHOST}:{web.archive.http.port}/dicomweb/studies"
        context = ssl.create_default_context(cafile=str(cert_path))
        assert httpx.get(url, verify=context).status_code == 204
        with pytest.raises(httpx.ConnectError):
            httpx.get(url)  # not trusted without the certificate
        with pytest.raises(httpx.HTTPError):
            httpx.get(url.replace("https", "http"))  # no plain HTTP on the TLS port
    finally:
        web.archive.stop(drain_timeout=10)


def test_a_missing_certificate_fails_the_start_with_a_message(tmp_path):
    config = web_config(tmp_path / "a")
    config.http.tls = True
    config.tls.certificate, config.tls.private_key = str(tmp_path / "none.crt"), str(tmp_path / "none.key")
    archive = Archive(config)
    with pytest.raises(ConfigError, match="certificates"):
        archive.start()
    archive.stop(drain_timeout=1)


def test_cors_for_a_viewer_of_another_origin(tmp_path):
    def configure(config) -> None:
        _users(config)
        config.http.cors_origins = ["http://viewer.example"]

    web = start_web_archive(tmp_path / "archive", configure)
    try:
        with web.http() as http:
            preflight = http.options("/dicomweb/studies", headers={
                "Origin": "http://viewer.example", "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization, accept"})
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == "http://viewer.example"
            refused = http.get("/dicomweb/studies", headers={"Origin": "http://viewer.example"})
            assert refused.status_code == 401
            assert refused.headers["access-control-allow-origin"] == "http://viewer.example"
            allowed = http.get("/dicomweb/studies", headers={"Origin": "http://viewer.example"}, auth=("alice", "wonderland"))
            assert allowed.status_code == 204
            other = http.get("/dicomweb/studies", headers={"Origin": "http://evil.example"}, auth=("alice", "wonderland"))
            assert "access-control-allow-origin" not in other.headers
    finally:
        web.archive.stop(drain_timeout=10)
