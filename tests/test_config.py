"""The configuration: ``config/qrscp.toml`` documents every key with its default, ``load_config`` refuses
what it does not know, ``parse_peer`` reads ``--peer`` values, and ``qrscp serve`` flags override the file."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from qrscp.cli import build_parser
from qrscp.config import Config, ConfigError, Peer, load_config, parse_peer
from qrscp.cli.common import config_from_args

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = ROOT / "config" / "qrscp.toml"
SECTION = re.compile(r"^\[([A-Za-z_.]+)\]\s*$")
KEY = re.compile(r"^([A-Za-z_]+)\s*=")


def sections() -> dict[str, list[str]]:
    """Field names of every section dataclass of Config."""
    defaults = Config()
    return {
        f.name: [item.name for item in dataclasses.fields(getattr(defaults, f.name))]
        for f in dataclasses.fields(Config)
        if dataclasses.is_dataclass(getattr(defaults, f.name))
    }


def keys_in_file(text: str) -> dict[tuple[str, str], bool]:
    """{(section, key): documented} for the active (uncommented) keys of a TOML file.

    A key is documented when a comment line stands above it in its block of consecutive non-blank lines
    (a comment may introduce several keys: "Timeouts in seconds: ..." above three timeouts).
    """
    found: dict[tuple[str, str], bool] = {}
    section = ""
    block: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            block = []
            continue
        header = SECTION.match(stripped)
        if header:
            section, block = header.group(1), []
            continue
        key = KEY.match(stripped)
        if key:
            found[(section, key.group(1))] = any(previous.startswith("#") for previous in block)
        block.append(stripped)
    return found


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "qrscp.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped file ----------------------------------------------------------------------------


def test_every_key_of_every_section_is_in_the_default_file_with_a_comment():
    found = keys_in_file(DEFAULT_FILE.read_text(encoding="utf-8"))
    for section, names in sections().items():
        for name in names:
            assert (section, name) in found, f"[{section}] {name} missing from {DEFAULT_FILE}"
            assert found[(section, name)], f"[{section}] {name} has no comment line above it"
    known = {(section, name) for section, names in sections().items() for name in names}
    assert set(found) <= known, f"keys in the file that Config does not know: {set(found) - known}"


def test_peers_are_documented_by_a_commented_example():
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    assert re.search(r"^# \[peers\.[A-Z_0-9]+\]\s*$", text, re.MULTILINE)
    assert re.search(r"^# host = ", text, re.MULTILINE) and re.search(r"^# port = \d+", text, re.MULTILINE)


def test_default_file_shows_the_defaults():
    assert load_config(DEFAULT_FILE) == Config()


def test_without_a_file_the_defaults_apply(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/qrscp.toml here
    assert load_config(None) == Config()


def test_the_default_file_is_read_when_no_path_is_given(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert load_config(None) == load_config(DEFAULT_FILE)


# --- loading -------------------------------------------------------------------------------------


def test_values_and_peers_are_read(tmp_path):
    path = write(
        tmp_path,
        """
[server]
port = 4242
acse_timeout = 5
[storage]
data_dir = "/srv/archive"
duplicate_policy = "reject"
[access]
bindings = { CT1 = ["10.0.0.0/8"] }
[peers.VIEWER]
host = "10.1.2.3"
port = 104
""",
    )
    config = load_config(path)
    assert config.server.port == 4242
    assert config.server.acse_timeout == 5.0 and isinstance(config.server.acse_timeout, float)
    assert config.storage.data_dir == Path("/srv/archive")
    assert config.storage.duplicate_policy == "reject"
    assert config.access.bindings == {"CT1": ["10.0.0.0/8"]}
    assert config.peers == {"VIEWER": Peer("VIEWER", "10.1.2.3", 104)}
    assert config.peer("VIEWER  ") == Peer("VIEWER", "10.1.2.3", 104)
    assert config.server.ae_title == "QRSCP"  # untouched keys keep their defaults


@pytest.mark.parametrize(
    "text, message",
    [
        ("[server]\nportt = 1\n", "unknown key"),
        ("[nonsense]\nx = 1\n", "unknown section"),
        ("[server]\nrequire_called_ae_title = 1\n", "true or false"),
        ('[storage]\nduplicate_policy = "overwrite"\n', "duplicate_policy"),
        ('[views]\nbuild_policy = "sometimes"\n', "build_policy"),
        ('[peers.VIEWER]\nhost = "h"\n', "host and port"),
        ('[peers.VIEWER]\nhost = "h"\nport = "x"\n', "host and port"),
        ("[server\n", "cannot read"),
    ],
    ids=["unknown-key", "unknown-section", "bool", "duplicate-policy", "build-policy", "peer-port", "peer-int", "toml"],
)
def test_invalid_files_raise_config_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_missing_file_raises_config_error(tmp_path):
    with pytest.raises(ConfigError):
        load_config(tmp_path / "absent.toml")


# --- --peer --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, peer",
    [
        ("VIEWER=127.0.0.1:11113", Peer("VIEWER", "127.0.0.1", 11113)),
        ("WS1=viewer.example.org:104", Peer("WS1", "viewer.example.org", 104)),
        (" WS2 =host:105", Peer("WS2", "host", 105)),
        ("V6=[::1]:4242", Peer("V6", "::1", 4242)),
    ],
)
def test_parse_peer_round_trips(text, peer):
    parsed = parse_peer(text)
    assert parsed == peer
    assert parse_peer(f"{parsed.ae_title}={parsed.host}:{parsed.port}") == parsed


@pytest.mark.parametrize("text", ["VIEWER", "VIEWER=host", "VIEWER=host:port", "VIEWER=host:", ""])
def test_parse_peer_rejects_bad_input(text):
    with pytest.raises(ConfigError):
        parse_peer(text)


@pytest.mark.parametrize("text", ["=host:104", "A_TITLE_LONGER_THAN_16=host:104", "VIEWER=host:0", "VIEWER=host:70000", "A\\B=host:104", "VIEWER=:104"])
def test_parse_peer_rejects_invalid_ae_titles_and_ports(text):
    with pytest.raises(ConfigError):
        parse_peer(text)


# --- command-line flags over the file --------------------------------------------------------------


def test_serve_flags_override_the_file(tmp_path):
    path = write(
        tmp_path,
        """
[server]
ae_title = "FROMFILE"
port = 5000
bind_address = "10.0.0.1"
[storage]
data_dir = "/from/file"
database_url = "sqlite:////from/file.sqlite"
[logging]
level = "WARNING"
[peers.VIEWER]
host = "file-host"
port = 1
[peers.OTHER]
host = "other"
port = 2
""",
    )
    args = build_parser().parse_args(
        [
            "serve", "--config", str(path), "--port", "6000", "--bind", "127.0.0.1", "--ae-title", "FROMFLAG",
            "--data-dir", str(tmp_path / "data"), "--database-url", "postgresql+psycopg://u@h/db",
            "--peer", "VIEWER=flag-host:11113", "--peer", "NEW=new-host:104", "--log-level", "DEBUG",
        ]
    )
    config = config_from_args(args)
    assert config.server.port == 6000
    assert config.server.bind_address == "127.0.0.1"
    assert config.server.ae_title == "FROMFLAG"
    assert config.storage.data_dir == tmp_path / "data"
    assert config.storage.database_url == "postgresql+psycopg://u@h/db"
    assert config.logging.level == "DEBUG"
    assert config.peers == {
        "VIEWER": Peer("VIEWER", "flag-host", 11113),
        "OTHER": Peer("OTHER", "other", 2),
        "NEW": Peer("NEW", "new-host", 104),
    }


def test_without_flags_the_file_applies(tmp_path):
    path = write(tmp_path, '[server]\nae_title = "FROMFILE"\nport = 5000\n[storage]\ndata_dir = "/from/file"\n')
    config = config_from_args(build_parser().parse_args(["serve", "--config", str(path)]))
    assert (config.server.ae_title, config.server.port, config.storage.data_dir) == ("FROMFILE", 5000, Path("/from/file"))
    assert config.storage.resolved_database_url == f"sqlite:///{Path('/from/file/index.sqlite')}"


def test_port_zero_flag_is_not_ignored(tmp_path):
    """``--port 0`` (any free port) must override the file, although 0 is falsy."""
    path = write(tmp_path, "[server]\nport = 5000\n")
    config = config_from_args(build_parser().parse_args(["serve", "--config", str(path), "--port", "0"]))
    assert config.server.port == 0


def test_bad_peer_flag_is_a_config_error(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(ConfigError):
        config_from_args(build_parser().parse_args(["serve", "--config", str(path), "--peer", "nonsense"]))
