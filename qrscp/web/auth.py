"""Who may use the HTTP front end: HTTP Basic against ``[http] users`` or bearer ``[http] tokens``.

Authentication is required when ``[http] require_auth`` is set or the front end listens beyond
loopback (``[http] bind_address``); on loopback without ``require_auth`` anyone local may ask.
Passwords in the configuration are plain text or ``sha256:<hex digest>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress

from qrscp.config import Config, ConfigError

CHALLENGE = 'Basic realm="qrscp", charset="UTF-8", Bearer realm="qrscp"'


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Authenticator:
    """Checks ``Authorization`` headers against the configured users and tokens."""

    def __init__(self, users: dict[str, str], tokens: list[str]) -> None:
        self.users = dict(users)
        self.tokens = [t.encode("utf-8") for t in tokens]

    @classmethod
    def from_config(cls, config: Config) -> Authenticator | None:
        """The authenticator `config` asks for, or None when requests need none.

        Raises
        ------
        ConfigError
            Authentication is required but no user or token is configured (nobody could get in).
        """
        http = config.http
        if not http.require_auth and is_loopback(http.bind_address):
            return None
        if not http.users and not http.tokens:
            raise ConfigError(
                f"[http] listening on {http.bind_address} (beyond loopback) or require_auth needs users or tokens"
            )
        return cls(http.users, http.tokens)

    def user_of(self, authorization: str) -> str | None:
        """The user name (``token`` for a bearer token) the header proves, or None."""
        scheme, _, credentials = authorization.partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if scheme == "bearer":
            given = credentials.encode("utf-8")
            return "token" if any(hmac.compare_digest(given, t) for t in self.tokens) else None
        if scheme != "basic":
            return None
        try:
            name, _, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        expected = self.users.get(name)
        if expected is None:
            hmac.compare_digest(password, password)  # same work for unknown users
            return None
        if expected.startswith("sha256:"):
            digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
            return name if hmac.compare_digest(digest, expected[7:].lower()) else None
        return name if hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8")) else None
