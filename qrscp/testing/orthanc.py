"""An Orthanc server for interoperability tests: its own temporary configuration, driven by its REST API.

Orthanc (Debian ``orthanc``) runs as a child process with free DICOM and HTTP ports, SQLite and storage in
a temporary folder, no remote access, no authentication, no plugins, and one modality entry for the archive
under test. Loopback only; the HTTP client is the standard library.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qrscp.testing.network import LOCALHOST, free_port

ORTHANC = "/usr/sbin/Orthanc"
ORTHANC_AE = "ORTHANC"
#: Bounded wait for Orthanc to answer HTTP after start (seconds); polling, never a fixed sleep.
START_TIMEOUT = 60.0


def orthanc_path() -> str | None:
    """The Orthanc executable, or None when it is not installed."""
    return shutil.which("Orthanc") or (ORTHANC if Path(ORTHANC).exists() else None)


class OrthancError(RuntimeError):
    """An Orthanc REST call failed; the message has the HTTP status and Orthanc's answer."""


@dataclass
class Orthanc:
    """A running Orthanc child process."""

    process: subprocess.Popen
    http_port: int
    dicom_port: int
    directory: Path
    ae_title: str = ORTHANC_AE
    host: str = LOCALHOST

    @property
    def port(self) -> int:
        """The DICOM port (so that ``qrscp.testing.network.add_peer`` can register it)."""
        return self.dicom_port

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                timeout: float = 120) -> Any:
        """Call the REST API; JSON bodies and answers are encoded/decoded, other answers are bytes."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(f"http://{LOCALHOST}:{self.http_port}{path}", data=data, method=method)
        if raw is not None:
            req.add_header("Content-Type", "application/dicom")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                content = response.read()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raise OrthancError(f"{method} {path}: HTTP {exc.code}: {exc.read().decode(errors='replace')}") from exc
        return json.loads(content) if "json" in kind else content

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, body, **kwargs)

    def upload(self, part10: bytes) -> str:
        """Store a Part 10 file in Orthanc (POST /instances); return its Orthanc instance ID."""
        return str(self.post("/instances", raw=part10)["ID"])

    def query(self, modality: str, level: str, keys: dict[str, str]) -> list[dict[str, Any]]:
        """C-FIND through Orthanc (POST /modalities/X/query); return the answers as tag -> value dicts."""
        query = self.post(f"/modalities/{modality}/query", {"Level": level, "Query": keys})
        answers = self.get(f"/queries/{query['ID']}/answers?expand&simplify")
        return list(answers)

    def move(self, modality: str, level: str, resources: list[dict[str, str]]) -> Any:
        """C-MOVE from `modality` into this Orthanc (synchronous)."""
        return self.post(f"/modalities/{modality}/move",
                         {"Level": level, "Resources": resources, "TargetAet": self.ae_title, "Synchronous": True})

    def log(self) -> str:
        path = self.directory / "orthanc.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_orthanc(directory: Path, modalities: dict[str, tuple[str, str, int]]) -> Orthanc:
    """Start Orthanc with a temporary configuration in `directory`.

    Parameters
    ----------
    directory : pathlib.Path
        Holds the configuration, the SQLite index, the storage and the log.
    modalities : dict
        Orthanc modality name -> (AE title, host, port), e.g. ``{"qrscp": ("QRSCP", "127.0.0.1", 11112)}``.
    """
    executable = orthanc_path()
    if executable is None:
        raise RuntimeError("Orthanc is not installed (apt-get install orthanc)")
    directory.mkdir(parents=True, exist_ok=True)
    http_port, dicom_port = free_port(), free_port()
    config = {
        "Name": "qrscp-interop",
        "StorageDirectory": str(directory / "storage"),
        "IndexDirectory": str(directory / "index"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": ORTHANC_AE,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpServerEnabled": True,
        "Plugins": [],
        "DicomCheckCalledAet": False,
        "DicomScuTimeout": 60,
        "DicomModalities": {name: list(entry) for name, entry in modalities.items()},
        "StableAge": 1,
    }
    config_path = directory / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=2))
    log = open(directory / "orthanc.log", "wb")
    process = subprocess.Popen([executable, str(config_path)],
                               stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    orthanc = Orthanc(process, http_port, dicom_port, directory)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited with {process.returncode}:\n{orthanc.log()}")
        try:
            orthanc.get("/system")
            return orthanc
        except (OSError, OrthancError):
            threading.Event().wait(0.2)  # not yet listening: poll again (bounded by START_TIMEOUT)
    orthanc.stop()
    raise RuntimeError(f"Orthanc did not answer within {START_TIMEOUT} s:\n{orthanc.log()}")
