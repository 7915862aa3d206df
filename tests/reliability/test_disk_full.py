"""Disk full on a running ``qrscp serve`` (issue 6, point 5).

The data directory (store and SQLite index) lives on a small tmpfs. Stores that do not fit get A700 with an
Error Comment, nothing partial is indexed, the server keeps answering, and once space returns the same
instances are stored without a restart.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from qrscp.store.filestore import TEMPORARY_DIRECTORY
from qrscp.testing.factory import make_series
from qrscp.testing.network import client_for  # NET's shared test client

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

OUT_OF_RESOURCES = 0xA700


@pytest.fixture
def small_file_system(tmp_path) -> Path:
    """A 4 MiB tmpfs (needs root; skipped otherwise), unmounted at teardown."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _consistent(data_dir: Path) -> tuple[set[str], bool]:
    engine = create_engine(f"sqlite:///{data_dir / 'index.sqlite'}")
    try:
        with engine.connect() as connection:
            rows = dict(connection.execute(text("SELECT sop_instance_uid, file_path FROM instance")).all())
    finally:
        engine.dispose()
    root = data_dir / "store"
    files = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and TEMPORARY_DIRECTORY not in p.parts}
    return set(rows), set(rows.values()) == files and not os.listdir(root / TEMPORARY_DIRECTORY)


def test_disk_full_gives_a700_and_recovers_when_space_returns(serve_process, small_file_system):
    data_dir = small_file_system / "data"
    serve = serve_process("--data-dir", str(data_dir))
    free = os.statvfs(small_file_system)
    blocker = small_file_system / "blocker"
    # Leave about 300 KiB: room for a few 64x64 slices (~13 KiB each) and the index's growth.
    blocker.write_bytes(b"\0" * max(0, free.f_bavail * free.f_frsize - 300 * 1024))
    series = make_series("CT", slices=60, rows=64, columns=64, seed=41, private_block_bytes=4096)
    client = client_for(serve)

    responses = client.store(series)
    statuses = [int(r.Status) for r in responses]
    assert 0x0000 in statuses and OUT_OF_RESOURCES in statuses, statuses
    assert set(statuses) <= {0x0000, OUT_OF_RESOURCES}
    assert all("ErrorComment" in r for r in responses if r.Status == OUT_OF_RESOURCES)
    acknowledged = {ds.SOPInstanceUID for ds, r in zip(series, responses) if r.Status == 0x0000}
    indexed, consistent = _consistent(data_dir)
    assert indexed == acknowledged and consistent
    assert client.echo() == 0x0000

    blocker.unlink()
    retried = client.store(series)
    assert [int(r.Status) for r in retried] == [0x0000] * len(series)
    indexed, consistent = _consistent(data_dir)
    assert indexed == {ds.SOPInstanceUID for ds in series} and consistent
    print(
        f"\n[disk full] {len(acknowledged)} of {len(series)} stored before the disk filled, "
        f"{statuses.count(OUT_OF_RESOURCES)} refused with A700 "
        f"({next(r.ErrorComment for r in responses if r.Status == OUT_OF_RESOURCES)!r}); all stored after space returned"
    )
    assert serve.terminate() == 0
