"""Crash safety and disk-full recovery of a real ``qrscp serve`` process (issue 6, points 1 and 5).

kill -9 of the server while DCMTK ``storescu`` sends a few hundred instances (one association, or several
at once), at several points; after a restart on the same data directory: every instance whose C-STORE got
Success is in the index, answered by C-FIND and retrieved by C-GET byte for byte; no file without a row,
no row without a file, no temporary left. Then the same instances are sent again and all are stored.

The figures (acknowledged before the kill, lost after, writes caught in flight) are printed; run with
``-s`` to see them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from qrscp.store.filestore import TEMPORARY_DIRECTORY
from qrscp.dicom.part10 import split_part10
from qrscp.testing.dcmtk import dcmtk_env, dcmtk_tool
from qrscp.testing.factory import make_series, write_datasets
from qrscp.testing.network import client_for  # NET's shared test client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from storescu import StorescuRun, index_paths, store_files, temporaries  # noqa: E402

pytestmark = [pytest.mark.dcmtk, pytest.mark.slow, pytest.mark.timeout(240)]

SERIES = (("CT", 31), ("MR", 32), ("PET", 33))
SLICES = 80  # 240 instances in all


@dataclass
class Ingest:
    """Part 10 files to send, one directory per series, and their data set bytes by SOP Instance UID."""

    directories: list[Path]
    dataset_bytes: dict[str, bytes]
    study_uids: list[str]


@pytest.fixture(scope="module")
def ingest(tmp_path_factory) -> Ingest:
    if dcmtk_tool("storescu") is None:
        pytest.skip("DCMTK storescu not installed")
    root = tmp_path_factory.mktemp("ingest")
    directories, dataset_bytes, studies = [], {}, []
    for modality, seed in SERIES:
        series = make_series(modality, slices=SLICES, rows=64, columns=64, seed=seed)
        studies.append(series[0].StudyInstanceUID)
        directory = root / modality
        for path in write_datasets(series, directory):
            header, data = split_part10(path.read_bytes())
            dataset_bytes[header.file_meta.MediaStorageSOPInstanceUID] = data
        directories.append(directory)
    return Ingest(directories, dataset_bytes, studies)


def _find(client, level: str, **keys: str) -> list[Dataset]:
    query = Dataset()
    query.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(query, keyword, value)
    final, matches = client.find(query)
    assert final.Status == 0x0000, final
    return matches


def image_level_uids(client, study_uid: str) -> set[str]:
    """SOP Instance UIDs of a study by hierarchical C-FIND (SERIES, then IMAGE per series)."""
    uids = set()
    for series in _find(client, "SERIES", StudyInstanceUID=study_uid, SeriesInstanceUID=""):
        images = _find(client, "IMAGE", StudyInstanceUID=study_uid,
                       SeriesInstanceUID=str(series.SeriesInstanceUID), SOPInstanceUID="")
        uids |= {str(m.SOPInstanceUID) for m in images}
    return uids


def retrieved_bytes(client, study_uid: str) -> dict[str, bytes]:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    result = client.get(query)
    assert result.status.Status == 0x0000, result.status
    return {r.sop_instance_uid: r.dataset_bytes for r in result.received}


def verify_after_restart(serve, data_dir: Path, ingest: Ingest, acknowledged: set[str]) -> dict[str, int]:
    """Check the restarted archive (serving `data_dir`); return the figures."""
    assert temporaries(data_dir) == [], "temporary files left after restart"
    indexed = index_paths(data_dir)
    assert set(indexed.values()) == store_files(data_dir), "file without row or row without file"
    lost = acknowledged - set(indexed)
    assert not lost, f"{len(lost)} acknowledged instance(s) lost"
    client = client_for(serve)
    for study_uid in ingest.study_uids:
        queryable = image_level_uids(client, study_uid)
        retrieved = retrieved_bytes(client, study_uid)
        assert set(retrieved) == queryable
        for uid, data in retrieved.items():
            assert data == ingest.dataset_bytes[uid], f"{uid} not retrieved byte for byte"
    return {"indexed": len(indexed), "lost": len(lost), "stored_unacknowledged": len(set(indexed) - acknowledged)}


def _wait_for_a_write_in_flight(data_dir: Path, seconds: float = 10.0) -> None:
    """Return as soon as the store holds a temporary (a write between its first byte and its index
    commit), or after `seconds`. Polls without sleeping: the window is a few milliseconds wide."""
    directory = data_dir / "store" / TEMPORARY_DIRECTORY
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with os.scandir(directory) as entries:
            if any(not entry.name.startswith(".") for entry in entries):
                return


@pytest.mark.parametrize(
    ("associations", "kill_after", "moment"),
    [
        ("single", 1, "after an acknowledgement"),
        ("single", 100, "during a write"),
        ("concurrent", 30, "during a write"),
        ("concurrent", 170, "after an acknowledgement"),
    ],
)
def test_kill_9_during_ingest_loses_nothing_acknowledged(
    serve_process, tmp_path, ingest, associations, kill_after, moment
):
    data_dir = tmp_path / "archive-data"
    serve = serve_process("--data-dir", str(data_dir))
    run = StorescuRun()

    def kill_when_reached() -> None:
        run.reached.wait(timeout=180)
        if moment == "during a write":
            _wait_for_a_write_in_flight(data_dir)
        serve.kill()  # the server and its workers (qrscp serve --workers, default one per CPU)

    killer = threading.Thread(target=kill_when_reached)
    killer.start()
    if associations == "single":
        # One association for all series: storescu scans the parent directory recursively.
        codes = _send_recursive(run, serve, ingest.directories[0].parent, kill_after)
    else:
        codes = run.send(serve.port, serve.ae_title, ingest.directories, signal_after=kill_after)
    run.reached.set()  # release the killer if storescu finished first (it must not have)
    killer.join()
    assert serve.process.wait(timeout=30) == -signal.SIGKILL, "the server was not killed during the ingest"
    acknowledged = set(run.acknowledged)
    assert kill_after <= len(acknowledged) < len(ingest.dataset_bytes)
    assert any(code != 0 for code in codes)
    in_flight = len(temporaries(data_dir))

    restarted = serve_process("--data-dir", str(data_dir))
    figures = verify_after_restart(restarted, data_dir, ingest, acknowledged)
    recovered = re.search(r"recovery: removed (\d+) file", restarted.log())
    print(
        f"\n[crash] {associations} kill {moment} after {kill_after}: acknowledged {len(acknowledged)}, "
        f"lost {figures['lost']}, stored but unacknowledged {figures['stored_unacknowledged']}, "
        f"writes in flight at the kill {in_flight}, files removed by recovery "
        f"{recovered.group(1) if recovered else 0}"
    )

    resend = StorescuRun()
    codes = resend.send(restarted.port, restarted.ae_title, ingest.directories)
    assert codes == [0] * len(ingest.directories), resend.outputs
    assert len(resend.acknowledged) == len(ingest.dataset_bytes)
    assert set(index_paths(data_dir)) == set(ingest.dataset_bytes)
    assert set(index_paths(data_dir).values()) == store_files(data_dir)
    assert restarted.terminate() == 0
    assert temporaries(data_dir) == []


def _send_recursive(run: StorescuRun, serve, directory: Path, kill_after: int) -> list[int]:
    process = subprocess.Popen(
        [dcmtk_tool("storescu"), "-v", "-aec", serve.ae_title, "127.0.0.1", str(serve.port), "+sd", "+r",
         str(directory)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dcmtk_env(),
    )
    run._read(process, kill_after)
    return [process.wait(timeout=60)]


def test_kill_9_while_replacing_leaves_one_file_per_instance(serve_process, tmp_path, ingest):
    """Policy replace: every resent instance gets a new file and its old file is removed after the
    commit; a kill in between must leave neither the old file behind nor the row without a file."""
    config = tmp_path / "replace.toml"
    config.write_text('[storage]\nduplicate_policy = "replace"\n')
    data_dir = tmp_path / "archive-data"
    serve = serve_process("--config", str(config), "--data-dir", str(data_dir))
    first = StorescuRun()
    assert first.send(serve.port, serve.ae_title, ingest.directories) == [0] * len(ingest.directories)
    run = StorescuRun()

    def kill_during_a_write() -> None:
        run.reached.wait(timeout=180)
        _wait_for_a_write_in_flight(data_dir)
        serve.kill()  # the server and its workers (qrscp serve --workers, default one per CPU)

    killer = threading.Thread(target=kill_during_a_write)
    killer.start()
    run.send(serve.port, serve.ae_title, ingest.directories, signal_after=50)
    run.reached.set()
    killer.join()
    assert serve.process.wait(timeout=30) == -signal.SIGKILL
    in_flight = len(temporaries(data_dir))

    restarted = serve_process("--config", str(config), "--data-dir", str(data_dir))
    figures = verify_after_restart(restarted, data_dir, ingest, set(ingest.dataset_bytes))
    assert figures["indexed"] == len(ingest.dataset_bytes)
    recovered = re.search(r"recovery: removed (\d+) file", restarted.log())
    print(
        f"\n[crash] replace policy, kill during a write after {len(run.acknowledged)} replacements: "
        f"lost 0 of {figures['indexed']}, writes in flight {in_flight}, files removed by recovery "
        f"{recovered.group(1) if recovered else 0}, files in store {len(store_files(data_dir))}"
    )
    assert restarted.terminate() == 0
