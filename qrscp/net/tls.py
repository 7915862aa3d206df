"""DICOM TLS (PS3.15 Annex B, "The Basic TLS Secure Transport Connection Profile") and peer bindings.

The TLS listener is a second pynetdicom server of the same AE on ``[tls] port`` (or the only one with
``[tls] only = true``); associations on both count toward the same limits. TLS 1.2 is the minimum.

pynetdicom's own ``ssl_context`` wraps every accepted socket *in the accept loop* with a blocking
handshake: one peer that connects and sends nothing stops the whole TLS port. Here the listener is a
plain one and :func:`handle_tls_connection_open` (EVT_CONN_OPEN, in the connection's own thread) wraps
the socket and runs the handshake with the ARTIM timeout; a failed handshake is logged once with the
peer and the connection closed.

:class:`PeerBindings` binds calling AE titles to the addresses or TLS client certificate subjects they
may come from (``[access] bindings``): ``{"CT1": ["192.168.10.21"], "VIEWER": ["CN=viewer.example.org"]}``.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pynetdicom import evt

from qrscp.config import Config, ConfigError
from qrscp.net.access import (
    REASON_CALLING_AE_TITLE_NOT_RECOGNISED,
    REJECTED_PERMANENT,
    SOURCE_SERVICE_USER,
)
from qrscp.net.limits import peer_of, raw_socket, wake_acceptor

logger = logging.getLogger("qrscp.net")

#: Seconds allowed for the TLS handshake when no ARTIM timeout is configured.
DEFAULT_HANDSHAKE_TIMEOUT = 10.0


def server_context(config: Config) -> ssl.SSLContext:
    """Return the server-side TLS context of ``[tls]``: certificate, key, client verification, TLS 1.2+.

    Raises
    ------
    qrscp.config.ConfigError
        A file is missing or unreadable, or client certificates are required without a CA bundle.
    """
    tls = config.tls
    if not tls.certificate or not tls.private_key:
        raise ConfigError("[tls] certificate and private_key are required when TLS is enabled")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(tls.certificate, tls.private_key)
        if tls.ca_certificates:
            context.load_verify_locations(cafile=tls.ca_certificates)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"[tls] cannot load certificates: {exc}") from exc
    if tls.require_client_certificate:
        if not tls.ca_certificates:
            raise ConfigError("[tls] require_client_certificate needs ca_certificates")
        context.verify_mode = ssl.CERT_REQUIRED
    elif tls.ca_certificates:
        # A client certificate is checked when offered, so that bindings can name its subject.
        context.verify_mode = ssl.CERT_OPTIONAL
    else:
        context.verify_mode = ssl.CERT_NONE
    return context


def client_context(
    ca_certificates: str | Path, certificate: str | Path | None = None, private_key: str | Path | None = None
) -> ssl.SSLContext:
    """Return a client-side TLS 1.2+ context trusting `ca_certificates`, with an optional client certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_certificates))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if certificate is not None:
        context.load_cert_chain(str(certificate), str(private_key) if private_key else None)
    return context


def peer_certificate_subject(assoc: Any) -> dict[str, str]:
    """The verified client certificate subject of `assoc` as {attribute: value} (empty without one)."""
    sock = raw_socket(assoc)
    if not isinstance(sock, ssl.SSLSocket):
        return {}
    try:
        certificate = sock.getpeercert()
    except (ValueError, OSError):
        return {}
    subject: dict[str, str] = {}
    for rdn in (certificate or {}).get("subject", ()):
        for key, value in rdn:
            subject[key] = value
    return subject


def handle_tls_connection_open(event: Any, context: ssl.SSLContext, handshake_timeout: float) -> None:
    """EVT_CONN_OPEN handler of the TLS listener: TLS handshake in the connection's thread.

    On failure (plaintext peer, TLS below 1.2, missing or untrusted client certificate, timeout) the
    connection is closed; pynetdicom then ends the association thread as for any closed transport.
    """
    assoc = event.assoc
    transport = assoc.dul.socket
    sock = transport.socket
    try:
        tls_sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
    except (OSError, ssl.SSLError) as exc:
        logger.warning("%s: TLS set-up failed: %s", peer_of(assoc), exc)
        transport.close()
        wake_acceptor(assoc)
        return
    # wrap_socket detached the plain socket: from now on the transport is the TLS one.
    transport.socket = tls_sock
    try:
        tls_sock.settimeout(handshake_timeout if handshake_timeout > 0 else DEFAULT_HANDSHAKE_TIMEOUT)
        tls_sock.do_handshake()
    except (OSError, ssl.SSLError) as exc:  # ssl.SSLError and TimeoutError are OSErrors
        logger.warning("%s: TLS handshake failed, connection closed: %s", peer_of(assoc), exc)
        transport.close()
        wake_acceptor(assoc)
        return
    subject = peer_certificate_subject(assoc)
    logger.info(
        "%s: TLS %s %s%s",
        peer_of(assoc),
        tls_sock.version(),
        (tls_sock.cipher() or ("?",))[0],
        f", client certificate CN={subject['commonName']}" if "commonName" in subject else "",
    )


@dataclass(frozen=True)
class PeerBindings:
    """Calling AE titles bound to addresses/networks and/or client certificate common names."""

    networks: dict[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]
    common_names: dict[str, frozenset[str]]

    @classmethod
    def from_config(cls, config: Config) -> PeerBindings:
        """Parse ``[access] bindings`` (entries ``"CN=name"`` are certificate subjects, others addresses)."""
        networks: dict[str, tuple] = {}
        common_names: dict[str, frozenset[str]] = {}
        for ae_title, entries in config.access.bindings.items():
            if isinstance(entries, str):
                entries = [entries]
            nets, names = [], set()
            for entry in entries:
                text = str(entry).strip()
                if text.upper().startswith("CN="):
                    names.add(text[3:].strip())
                    continue
                try:
                    nets.append(ipaddress.ip_network(text, strict=False))
                except ValueError as exc:
                    raise ConfigError(
                        f"[access] bindings.{ae_title}: {text!r} is neither an address nor CN=..."
                    ) from exc
            networks[ae_title.strip()] = tuple(nets)
            common_names[ae_title.strip()] = frozenset(names)
        return cls(networks, common_names)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def why_refused(self, calling_ae_title: str, address: str, common_name: str | None) -> str | None:
        """Return why `calling_ae_title` may not come from `address` / `common_name`, or None if it may."""
        ae_title = calling_ae_title.strip()
        if ae_title not in self.networks:
            return None
        if common_name is not None and common_name in self.common_names[ae_title]:
            return None
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            ip = None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip is not None and any(ip in network for network in self.networks[ae_title]):
            return None
        identity = f"address {address}" + (f", certificate CN={common_name}" if common_name else "")
        return f"calling AE title {ae_title!r} is bound elsewhere, not to {identity}"


def handle_requested_binding(event: Any, bindings: PeerBindings) -> None:
    """EVT_REQUESTED handler: reject a bound calling AE title arriving from elsewhere (A-ASSOCIATE-RJ
    permanent, service-user, calling AE title not recognised). Bind it before the access policy's."""
    if not bindings:
        return
    assoc = event.assoc
    request = assoc.requestor.primitive
    common_name = peer_certificate_subject(assoc).get("commonName")
    why = bindings.why_refused(str(request.calling_ae_title or ""), str(assoc.requestor.address or ""), common_name)
    if why is None:
        return
    logger.warning("%s: association rejected (result 1, source 1, reason 3): %s", peer_of(assoc), why)
    assoc.acse.send_reject(REJECTED_PERMANENT, SOURCE_SERVICE_USER, REASON_CALLING_AE_TITLE_NOT_RECOGNISED)
    assoc.kill()



def tls_event_handlers(config: Config, handlers: list[Any]) -> list[Any]:
    """The event bindings of the TLS listener: the TLS handshake first, then `handlers` (the plain ones).

    Raises
    ------
    qrscp.config.ConfigError
        From :func:`server_context`.
    """
    context = server_context(config)
    handshake = (evt.EVT_CONN_OPEN, handle_tls_connection_open, [context, config.server.artim_timeout])
    return [handshake, *handlers]
