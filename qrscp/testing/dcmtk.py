"""Locate and run DCMTK and dicom3tools command-line programs.

pynetdicom installs Python scripts named ``storescu``, ``findscu``... that shadow DCMTK's on PATH, so
DCMTK programs are looked up by asking each candidate for its version.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from qrscp.services.validation import dciodvfy_errors, dciodvfy_path  # the tests' dciodvfy is the product's

_DEBIAN_BIN = Path("/usr/bin")


@functools.lru_cache(maxsize=None)
def dcmtk_tool(name: str) -> str | None:
    """Return the path of DCMTK's program `name`, or None when DCMTK does not provide it."""
    candidates = [str(_DEBIAN_BIN / name)]
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidates.append(str(Path(directory) / name))
    for candidate in dict.fromkeys(candidates):
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            continue
        try:
            out = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, timeout=20
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if "dcmtk" in (out.stdout + out.stderr).lower():
            return candidate
    return None


def dcmtk_env() -> dict[str, str]:
    """Environment for DCMTK programs: TCP_NODELAY=1 so that no DIMSE message waits for a delayed ACK."""
    env = dict(os.environ)
    env["TCP_NODELAY"] = "1"
    return env


def run_dcmtk(name: str, *args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess:
    """Run DCMTK program `name` with `args`; raise FileNotFoundError when it is not installed."""
    tool = dcmtk_tool(name)
    if tool is None:
        raise FileNotFoundError(f"DCMTK program {name} not found (apt-get install dcmtk)")
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, timeout=timeout, env=dcmtk_env(), check=check
    )


__all__ = ["dciodvfy_errors", "dciodvfy_path", "dcmtk_env", "dcmtk_tool", "run_dcmtk"]
