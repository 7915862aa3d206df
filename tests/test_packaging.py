"""Packaging: pyproject metadata and console script, package discovery, docker-compose.yml structure
(no Docker daemon here, so the file is checked, not run), and the README's two commands."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_qrscp_and_postgres_16(compose):
    services = compose["services"]
    assert set(services) >= {"qrscp", "postgres"}
    assert str(services["postgres"]["image"]).startswith("postgres:16")


def test_postgres_healthcheck_uses_pg_isready(compose):
    check = compose["services"]["postgres"]["healthcheck"]
    test = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
    assert "pg_isready" in test
    for key in ("interval", "timeout", "retries"):
        assert key in check


def test_qrscp_waits_for_a_healthy_database(compose):
    depends = compose["services"]["qrscp"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"


def test_qrscp_serves_on_the_dicom_port_with_the_postgres_index(compose):
    qrscp = compose["services"]["qrscp"]
    command = qrscp["command"]
    assert command[:2] == ["qrscp", "serve"]
    url = command[command.index("--database-url") + 1]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    assert any(str(port).endswith(":11112") for port in qrscp["ports"])
    assert "build" in qrscp and (ROOT / "Dockerfile").exists()


def test_named_volumes_are_declared(compose):
    declared = set(compose.get("volumes") or {})
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, source


def test_mounted_config_exists(compose):
    for volume in compose["services"]["qrscp"]["volumes"]:
        source = str(volume).split(":", 1)[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source


def test_dockerfile_runs_qrscp_serve():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.\d+", text, re.M)
    assert "pip install" in text and '"qrscp", "serve"' in text and "EXPOSE 11112" in text


def test_pyproject_metadata():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "qrscp"
    assert project["scripts"]["qrscp"] == "qrscp.cli:main"
    assert project["requires-python"] == ">=3.10"
    deps = " ".join(project["dependencies"]).lower()
    for name in ("pydicom", "pynetdicom", "sqlalchemy", "alembic", "psycopg"):
        assert name in deps


def test_console_script_is_installed():
    ours = [ep for ep in importlib.metadata.distribution("qrscp").entry_points if ep.group == "console_scripts"]
    assert [(ep.name, ep.value) for ep in ours] == [("qrscp", "qrscp.cli:main")]
    assert callable(ours[0].load())
    # pynetdicom also installs a console script named qrscp (its demo Q/R SCP): whichever package was
    # installed last owns bin/qrscp. Ours must be the one there.
    script = Path(sysconfig.get_path("scripts")) / "qrscp"
    if script.exists():
        assert "qrscp.cli" in script.read_text(encoding="utf-8", errors="replace"), (
            f"{script} is not qrscp's (reinstall qrscp after pynetdicom)"
        )


def test_every_package_directory_is_found_by_setuptools():
    from setuptools import find_packages

    found = set(find_packages(where=str(ROOT), include=["qrscp*"]))
    expected = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "qrscp").rglob("*.py")
        if "migrations" not in path.parts and "__pycache__" not in path.parts
    }
    assert expected <= found, f"missing __init__.py: {sorted(expected - found)}"


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert block is not None and text.index("```") < 200, "README must open with the commands"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    install, test = commands
    assert "pip install" in install and "qrscp serve" in install
    assert "scripts/test.sh" in test or "pytest" in test


def test_nodes_profile_puts_haproxy_before_two_replicas_sharing_index_and_store(compose):
    services = compose["services"]
    nodes = [services["qrscp-node1"], services["qrscp-node2"]]
    assert all(node["profiles"] == ["nodes"] for node in nodes) and services["haproxy"]["profiles"] == ["nodes"]
    assert nodes[0]["command"] == nodes[1]["command"] and "--database-url" in nodes[0]["command"]
    assert nodes[0]["volumes"] == nodes[1]["volumes"] and nodes[0]["volumes"][0].endswith(":/data")
    assert set(services["haproxy"]["depends_on"]) == {"qrscp-node1", "qrscp-node2"}
    mounted = services["haproxy"]["volumes"][0].split(":")[0]
    assert (ROOT / mounted).resolve() == ROOT / "config" / "haproxy.cfg"


def test_haproxy_cfg_is_the_generated_one_and_haproxy_accepts_it():
    import shutil
    import subprocess

    from qrscp.testing.haproxy import HAPROXY, compose_config

    path = ROOT / "config" / "haproxy.cfg"
    assert path.read_text(encoding="utf-8") == compose_config(), "regenerate: python -m qrscp.testing.haproxy"
    if shutil.which(HAPROXY) is None:
        pytest.skip("HAProxy not installed")
    subprocess.run([HAPROXY, "-c", "-f", str(path)], check=True, capture_output=True)
