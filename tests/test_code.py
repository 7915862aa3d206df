"""The code as a linter sees it: pyflakes reports nothing over the product code, tests and scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def test_pyflakes_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "pyflakes", "qrscp", "tests", "scripts"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr
