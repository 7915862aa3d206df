"""DICOM TLS (PS3.15 Annex B) and access control bound to address or certificate (issue 6, point 4).

A throwaway PKI (CA, server certificate for 127.0.0.1/localhost, client certificates, and a certificate
from a CA the server does not trust) is made with ``cryptography``. Clients: pynetdicom with an
``ssl.SSLContext`` and DCMTK ``echoscu``/``storescu`` with ``+tls``.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

cryptography = pytest.importorskip("cryptography")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402
from pynetdicom import AE  # noqa: E402
from pynetdicom.sop_class import Verification  # noqa: E402
from rawpeer import RawPeer, wait_until  # noqa: E402

from qrscp.net.access import (  # noqa: E402
    REASON_CALLING_AE_TITLE_NOT_RECOGNISED,
    REJECTED_PERMANENT,
    SOURCE_SERVICE_USER,
)
from qrscp.net.tls import client_context  # noqa: E402
from qrscp.status import Status  # noqa: E402
from qrscp.testing.dcmtk import dcmtk_tool, run_dcmtk  # noqa: E402

pytestmark = pytest.mark.timeout(120)

LOCALHOST = "127.0.0.1"


@dataclass
class Identity:
    certificate: Path
    private_key: Path


@dataclass
class PKI:
    ca: Path
    server: Identity
    modality: Identity  # CN=modality1, signed by the CA
    intruder: Identity  # CN=intruder, signed by the CA
    stranger: Identity  # CN=modality1, signed by another CA


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: rsa.RSAPrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def _certificate(subject: str, key, issuer_name: x509.Name, issuer_key, *, ca: bool = False, server: bool = False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOCALHOST))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _identity(directory: Path, stem: str, subject: str, issuer_cert, issuer_key, server: bool = False) -> Identity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = _certificate(subject, key, issuer_cert.subject, issuer_key, server=server)
    cert_path = directory / f"{stem}.crt"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return Identity(cert_path, _write_key(key, directory / f"{stem}.key"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> PKI:
    directory = tmp_path_factory.mktemp("pki")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_cert = _certificate("qrscp test CA", ca_key, _name("qrscp test CA"), ca_key, ca=True)
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_cert = _certificate("another CA", other_key, _name("another CA"), other_key, ca=True)
    return PKI(
        ca=ca_path,
        server=_identity(directory, "server", "localhost", ca_cert, ca_key, server=True),
        modality=_identity(directory, "modality1", "modality1", ca_cert, ca_key),
        intruder=_identity(directory, "intruder", "intruder", ca_cert, ca_key),
        stranger=_identity(directory, "stranger", "modality1", other_cert, other_key),
    )


def _tls_config(pki: PKI, *, require_client_certificate: bool = True, only: bool = False):
    def configure(config) -> None:
        config.tls.enabled = True
        config.tls.port = 0
        config.tls.certificate = str(pki.server.certificate)
        config.tls.private_key = str(pki.server.private_key)
        config.tls.ca_certificates = str(pki.ca)
        config.tls.require_client_certificate = require_client_certificate
        config.tls.only = only
        config.server.artim_timeout = 5.0
        config.access.bindings = {
            "MODALITY1": ["CN=modality1"],
            "LOCALONLY": ["127.0.0.0/8"],
            "ELSEWHERE": ["10.9.9.9"],
        }

    return configure


@pytest.fixture
def tls_archive(make_archive, pki):
    return make_archive(_tls_config(pki))


def _associate(port: int, calling: str = "PYTEST", tls_args=None):
    ae = AE(ae_title=calling)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = 10
    return ae.associate(LOCALHOST, port, ae_title="QRSCP", tls_args=tls_args)


def _echo(port: int, calling: str = "PYTEST", tls_args=None) -> int | None:
    assoc = _associate(port, calling, tls_args)
    if not assoc.is_established:
        return None
    try:
        return int(assoc.send_c_echo().Status)
    finally:
        assoc.release()


def _client(pki: PKI, identity: Identity | None):
    if identity is None:
        return client_context(pki.ca)
    return client_context(pki.ca, identity.certificate, identity.private_key)


def test_pynetdicom_over_tls_echo_and_store(tls_archive, pki, dicom_dir):
    context = _client(pki, pki.modality)
    assert tls_archive.tls_port != tls_archive.port
    assert _echo(tls_archive.tls_port, "MODALITY1", (context, "localhost")) == Status.SUCCESS
    ae = AE(ae_title="MODALITY1")
    from pydicom import dcmread

    files = sorted(dicom_dir.iterdir())
    first = dcmread(files[0])
    ae.add_requested_context(first.SOPClassUID, first.file_meta.TransferSyntaxUID)
    assoc = ae.associate(LOCALHOST, tls_archive.tls_port, ae_title="QRSCP", tls_args=(context, "localhost"))
    assert assoc.is_established
    try:
        assert int(assoc.send_c_store(first).Status) == Status.SUCCESS
    finally:
        assoc.release()
    # Both listeners serve the same archive.
    with tls_archive.sessions() as session:
        from qrscp.index.registry import get_instance

        assert get_instance(session, first.SOPInstanceUID) is not None


def test_plaintext_client_on_the_tls_port_fails_and_the_port_stays_usable(tls_archive, pki, caplog):
    with caplog.at_level(logging.WARNING, logger="qrscp.net"):
        assert _echo(tls_archive.tls_port, "MODALITY1") is None
        assert wait_until(lambda: any("TLS handshake failed" in r.getMessage() for r in caplog.records))
    failures = [r for r in caplog.records if "TLS handshake failed" in r.getMessage()]
    assert len(failures) == 1 and "127.0.0.1:" in failures[0].getMessage()
    assert _echo(tls_archive.tls_port, "MODALITY1", (_client(pki, pki.modality), "localhost")) == Status.SUCCESS


def test_tls_1_1_client_is_refused(tls_archive, pki, caplog):
    context = _client(pki, pki.modality)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated: that is the point
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with caplog.at_level(logging.WARNING, logger="qrscp.net"):
        assert _echo(tls_archive.tls_port, "MODALITY1", (context, "localhost")) is None
        # The client did offer TLS 1.1: the server is the one that refused it.
        assert wait_until(lambda: any("unsupported protocol" in r.getMessage() for r in caplog.records))
    assert _echo(tls_archive.tls_port, "MODALITY1", (_client(pki, pki.modality), "localhost")) == Status.SUCCESS


@pytest.mark.parametrize("who", ["no certificate", "untrusted CA"])
def test_client_certificate_required(tls_archive, pki, who):
    identity = None if who == "no certificate" else pki.stranger
    assert _echo(tls_archive.tls_port, "MODALITY1", (_client(pki, identity), "localhost")) is None


def test_idle_tcp_connections_do_not_block_the_tls_handshake_of_others(tls_archive, pki):
    """pynetdicom's own ssl_context would run each handshake in the accept loop: one silent peer blocks all."""
    silent = [RawPeer(tls_archive.tls_port) for _ in range(3)]
    try:
        assert _echo(tls_archive.tls_port, "MODALITY1", (_client(pki, pki.modality), "localhost")) == Status.SUCCESS
    finally:
        for peer in silent:
            peer.close()


def _rejection(assoc) -> tuple[int, int, int]:
    primitive = assoc.acceptor.primitive
    return primitive.result, primitive.result_source, primitive.diagnostic


def test_ae_title_bound_to_a_certificate_subject(tls_archive, pki):
    accepted = _associate(tls_archive.tls_port, "MODALITY1", (_client(pki, pki.modality), "localhost"))
    assert accepted.is_established
    accepted.release()
    # Same AE title, a valid certificate of someone else.
    wrong_cn = _associate(tls_archive.tls_port, "MODALITY1", (_client(pki, pki.intruder), "localhost"))
    assert wrong_cn.is_rejected
    assert _rejection(wrong_cn) == (REJECTED_PERMANENT, SOURCE_SERVICE_USER, REASON_CALLING_AE_TITLE_NOT_RECOGNISED)
    # Same AE title without TLS (no certificate, and 127.0.0.1 is not in its binding).
    plain = _associate(tls_archive.port, "MODALITY1")
    assert plain.is_rejected
    # Unbound AE titles are not concerned.
    assert _echo(tls_archive.tls_port, "INTRUDER", (_client(pki, pki.intruder), "localhost")) == Status.SUCCESS


def test_ae_title_bound_to_addresses(tls_archive):
    assert _echo(tls_archive.port, "LOCALONLY") == Status.SUCCESS
    elsewhere = _associate(tls_archive.port, "ELSEWHERE")
    assert elsewhere.is_rejected
    assert _rejection(elsewhere) == (REJECTED_PERMANENT, SOURCE_SERVICE_USER, REASON_CALLING_AE_TITLE_NOT_RECOGNISED)


def test_tls_in_place_of_the_plain_port(make_archive, pki):
    archive = make_archive(_tls_config(pki, only=True))
    assert archive.port == archive.tls_port
    assert _echo(archive.port, "MODALITY1") is None
    assert _echo(archive.port, "MODALITY1", (_client(pki, pki.modality), "localhost")) == Status.SUCCESS


def test_optional_client_certificate(make_archive, pki):
    archive = make_archive(_tls_config(pki, require_client_certificate=False))
    assert _echo(archive.tls_port, "PYTEST", (_client(pki, None), "localhost")) == Status.SUCCESS
    # A bound AE title still needs its certificate.
    assert _associate(archive.tls_port, "MODALITY1", (_client(pki, None), "localhost")).is_rejected


def _dcmtk_tls(pki: PKI, identity: Identity) -> list[str]:
    return ["+tls", str(identity.private_key), str(identity.certificate), "+cf", str(pki.ca)]


@pytest.mark.dcmtk
def test_dcmtk_echoscu_and_storescu_over_tls(tls_archive, pki, dicom_dir):
    if dcmtk_tool("echoscu") is None:
        pytest.skip("DCMTK not installed")
    port = str(tls_archive.tls_port)
    echo = run_dcmtk("echoscu", *_dcmtk_tls(pki, pki.modality), "-aet", "MODALITY1", "-aec", "QRSCP", LOCALHOST, port)
    assert echo.returncode == 0, echo.stderr + echo.stdout
    files = [str(p) for p in sorted(dicom_dir.iterdir())]
    store = run_dcmtk(
        "storescu", *_dcmtk_tls(pki, pki.modality), "-aet", "MODALITY1", "-aec", "QRSCP", LOCALHOST, port, *files
    )
    assert store.returncode == 0, store.stderr + store.stdout
    # Without +tls DCMTK speaks plain DICOM: the TLS port refuses it.
    plain = run_dcmtk("echoscu", "-to", "5", "-aet", "MODALITY1", "-aec", "QRSCP", LOCALHOST, port)
    assert plain.returncode != 0
    # A certificate the server does not trust.
    stranger = run_dcmtk(
        "echoscu", *_dcmtk_tls(pki, pki.stranger), "-aet", "MODALITY1", "-aec", "QRSCP", LOCALHOST, port
    )
    assert stranger.returncode != 0


def _tls_toml(pki: PKI, port: int) -> str:
    return (
        "[tls]\nenabled = true\n"
        f"port = {port}\ncertificate = \"{pki.server.certificate}\"\nprivate_key = \"{pki.server.private_key}\"\n"
        f"ca_certificates = \"{pki.ca}\"\nrequire_client_certificate = true\n"
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_qrscp_serve_with_tls_from_the_configuration_file(serve_process, pki, tmp_path, workers):
    from qrscp.testing.network import free_port

    port = free_port()
    config = tmp_path / "tls.toml"
    config.write_text(_tls_toml(pki, port), encoding="utf-8")
    server = serve_process("--config", str(config), "--workers", workers)
    for _ in range(4):  # several associations: with 2 workers, both get some
        assert _echo(port, "MODALITY1", (_client(pki, pki.modality), "localhost")) == Status.SUCCESS
        assert _echo(port, "MODALITY1") is None
    assert server.terminate() == 0


def test_qrscp_serve_refuses_to_start_with_a_missing_key(pki, tmp_path):
    import subprocess
    import sys

    from qrscp.testing.network import REPO_ROOT, free_port

    config = tmp_path / "tls.toml"
    config.write_text(_tls_toml(pki, free_port()).replace(str(pki.server.private_key), "/nonexistent.key"))
    result = subprocess.run(
        [sys.executable, "-m", "qrscp", "serve", "--config", str(config), "--port", str(free_port()),
         "--bind", LOCALHOST, "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
    )
    assert result.returncode == 1
    assert "cannot load certificates" in result.stderr
