"""The real-data lane (issue 17): the corpus of ``../shared/realdata`` (beside the repository; or the folder
named by ``QRSCP_REALDATA``) and pydicom-data.

The corpus is required: without it the lane fails (it never skips silently). Series the engine leaves
unconverted are listed, with the reason, at the end of the pytest report.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qrscp.cli.convert import input_files

_REPOSITORY = Path(__file__).resolve().parents[2]
#: Series left unconverted, with the reason, for the report (kept in the pytest config's stash).
UNCONVERTED_KEY = pytest.StashKey[dict]()


def corpus_root() -> Path | None:
    """``QRSCP_REALDATA``, else the first ``shared/realdata`` beside the repository or an ancestor of it."""
    if os.environ.get("QRSCP_REALDATA"):
        return Path(os.environ["QRSCP_REALDATA"])
    for folder in _REPOSITORY.parents:
        candidate = folder / "shared" / "realdata"
        if (candidate / "MANIFEST.tsv").is_file():
            return candidate
    return None


def corpus_files() -> list[Path]:
    root = corpus_root()
    if root is None:
        return []
    return [p for p in input_files([str(root)]) if p.name not in ("README.md", "MANIFEST.tsv")]


@pytest.fixture(scope="session")
def corpus() -> Path:
    root = corpus_root()
    if root is None:
        pytest.fail("real-data corpus not found: put it at ../shared/realdata or set QRSCP_REALDATA")
    return root


@pytest.fixture
def unconverted(request) -> dict[str, str]:
    """Where a test records a series the engine left unconverted (listed at the end of the report)."""
    return request.config.stash.setdefault(UNCONVERTED_KEY, {})


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest hook signature
    listed = config.stash.get(UNCONVERTED_KEY, {})
    if listed:
        terminalreporter.section(f"real-data series left unconverted ({len(listed)})")
        for series, reason in sorted(listed.items()):
            terminalreporter.write_line(f"{series}: {reason}")
