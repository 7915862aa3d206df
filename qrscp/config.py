"""Configuration: a TOML file (``config/qrscp.toml``) overridden by command-line flags.

Every key is documented in ``config/qrscp.toml``; this module only gives them types and defaults.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: The configuration file used when ``--config`` is not given and it exists.
DEFAULT_CONFIG_PATH = Path("config/qrscp.toml")


class ConfigError(ValueError):
    """The configuration file or a flag holds an invalid value."""


@dataclass
class Peer:
    """A known remote AE: a C-MOVE destination."""

    ae_title: str
    host: str
    port: int


@dataclass
class ServerConfig:
    ae_title: str = "QRSCP"
    bind_address: str = "0.0.0.0"
    port: int = 11112
    max_associations: int = 10
    max_pdu: int = 262144
    acse_timeout: float = 30.0
    dimse_timeout: float = 60.0
    network_timeout: float = 60.0
    require_called_ae_title: bool = True
    artim_timeout: float = 10.0
    max_pending_connections: int = 64
    pynetdicom_patches: bool = True
    # A DIMSE command and the start of its data set in one P-DATA-TF PDU (PS3.8 allows it; GDCM fails on it).
    command_and_data_in_one_pdu: bool = False
    workers: int = 0  # worker processes; 0: one per CPU; 1: a single process

    @property
    def worker_count(self) -> int:
        """Worker processes to run: ``workers``, or the number of CPUs when it is 0."""
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)


@dataclass
class StorageConfig:
    data_dir: Path = Path("./qrscp-data")
    database_url: str = ""  # empty: sqlite:///DATA_DIR/index.sqlite
    duplicate_policy: str = "keep-first"  # keep-first | replace | reject
    fsync: bool = True
    max_dataset_bytes: int = 4 * 1024**3

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'index.sqlite').resolve()}"


@dataclass
class AccessConfig:
    allowed_calling_ae_titles: list[str] = field(default_factory=list)  # empty: anyone
    allowed_addresses: list[str] = field(default_factory=list)  # empty: anywhere
    bindings: dict[str, list[str]] = field(default_factory=dict)  # AE title -> addresses / "CN=..."


@dataclass
class QueryConfig:
    case_insensitive_person_names: bool = True
    match_unknown: bool = True  # an empty stored value of a non-unique key matches (C.2.2.1.2)
    max_matches: int = 0  # 0: unlimited


@dataclass
class ViewsConfig:
    enabled: bool = True
    build_policy: str = "lazy"  # lazy | eager
    quiet_seconds: float = 30.0
    uid_secret: str = "qrscp-default-secret-change-me"


@dataclass
class TLSConfig:
    enabled: bool = False
    port: int = 2762
    certificate: str = ""
    private_key: str = ""
    ca_certificates: str = ""
    require_client_certificate: bool = False
    only: bool = False  # TLS in place of the plain port


@dataclass
class HttpConfig:
    """``[http]``: the DICOMweb front end and study browser (``qrscp.web``)."""

    port: int = 8080  # 0: off; -1: any free port (tests)
    bind_address: str = "127.0.0.1"  # beyond loopback every request needs authentication
    require_auth: bool = False  # also on loopback
    users: dict[str, str] = field(default_factory=dict)  # name -> password or "sha256:<hex>"
    tokens: list[str] = field(default_factory=list)  # bearer tokens
    tls: bool = False  # HTTPS with the [tls] certificate and key
    max_request_bytes: int = 1024**3  # larger bodies: 413
    cors_origins: list[str] = field(default_factory=list)  # web viewers' origins allowed ("*": any)


@dataclass
class LoggingConfig:
    level: str = "INFO"
    file: str = ""


@dataclass
class Config:
    """The whole configuration of a qrscp server."""

    server: ServerConfig = field(default_factory=ServerConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    query: QueryConfig = field(default_factory=QueryConfig)
    views: ViewsConfig = field(default_factory=ViewsConfig)
    tls: TLSConfig = field(default_factory=TLSConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    peers: dict[str, Peer] = field(default_factory=dict)

    def peer(self, ae_title: str) -> Peer | None:
        """Return the configured peer named `ae_title` (AE titles compare without padding)."""
        return self.peers.get(ae_title.strip())


def parse_peer(text: str) -> Peer:
    """Parse ``AET=HOST:PORT`` as given to ``--peer``."""
    try:
        ae_title, address = text.split("=", 1)
        host, port = address.rsplit(":", 1)
        port_number = int(port)
    except ValueError as exc:
        raise ConfigError(f"peer {text!r} is not AET=HOST:PORT") from exc
    return checked_peer(ae_title.strip(), host.strip("[] "), port_number, source=f"peer {text!r}")


def checked_peer(ae_title: str, host: str, port: int, *, source: str) -> Peer:
    """Return the peer, or raise ConfigError when its AE title or port could never be used.

    An AE title is 1 to 16 characters of the default character repertoire without backslash
    (PS3.5 6.2, VR AE); a TCP port is 1 to 65535.
    """
    title = ae_title.strip()
    if not 1 <= len(title) <= 16 or "\\" in title or not all(" " <= c <= "~" for c in title):
        raise ConfigError(f"{source}: AE title {ae_title!r} must be 1 to 16 printable characters without '\\'")
    if not host:
        raise ConfigError(f"{source}: host is empty")
    if not 1 <= port <= 65535:
        raise ConfigError(f"{source}: port {port} is not between 1 and 65535")
    return Peer(title, host, port)


def _section(cls: type, values: dict[str, Any], name: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
    kwargs = {}
    for key, value in values.items():
        default = getattr(cls(), key)
        if isinstance(default, Path):
            value = Path(value)
        elif isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"[{name}] {key} must be true or false")
        elif isinstance(default, float) and isinstance(value, int):
            value = float(value)
        kwargs[key] = value
    return cls(**kwargs)


def load_config(path: Path | str | None = None) -> Config:
    """Load a configuration file; missing sections and keys take their defaults.

    Parameters
    ----------
    path : pathlib.Path or str, optional
        The TOML file. When None, ``config/qrscp.toml`` is read if it exists, else defaults apply.

    Returns
    -------
    Config
    """
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            return Config()
        path = DEFAULT_CONFIG_PATH
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc}") from exc
    sections = {
        "server": ServerConfig,
        "storage": StorageConfig,
        "access": AccessConfig,
        "query": QueryConfig,
        "views": ViewsConfig,
        "tls": TLSConfig,
        "http": HttpConfig,
        "logging": LoggingConfig,
    }
    unknown = set(raw) - set(sections) - {"peers"}
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}")
    config = Config(**{name: _section(cls, raw.get(name, {}), name) for name, cls in sections.items()})
    for ae_title, peer in raw.get("peers", {}).items():
        try:
            host, port = str(peer["host"]), int(peer["port"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"[peers.{ae_title}] needs host and port") from exc
        config.peers[ae_title] = checked_peer(ae_title, host, port, source=f"[peers.{ae_title}]")
    if config.storage.duplicate_policy not in ("keep-first", "replace", "reject"):
        raise ConfigError("[storage] duplicate_policy must be keep-first, replace or reject")
    if not -1 <= config.http.port <= 65535:
        raise ConfigError("[http] port must be 0 (off) to 65535")
    if config.server.workers < 0:
        raise ConfigError("[server] workers must be 0 (one per CPU) or more")
    if config.views.build_policy not in ("lazy", "eager"):
        raise ConfigError("[views] build_policy must be lazy or eager")
    return config
