"""Support of the worker tests: the processes of a ``qrscp serve --workers N``, and an ingest to kill.

(A plain module, not a conftest.py, like tests/reliability/rawpeer.py.)
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil
from pydicom.dataset import Dataset

from qrscp.dicom.part10 import split_part10
from qrscp.testing.factory import make_series, write_datasets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reliability"))
from rawpeer import wait_until  # noqa: E402,F401  (re-exported)
from storescu import StorescuRun, index_paths, store_files, temporaries  # noqa: E402,F401

#: Helpers of the reliability tests that the worker tests use through this module.
REEXPORTED = (wait_until, StorescuRun, index_paths, store_files, temporaries)

#: Bounded waits of these tests (seconds).
SETTLE = 60.0


@dataclass
class Ingest:
    """Part 10 files to send, one directory per series, and their data set bytes by SOP Instance UID."""

    directories: list[Path]
    dataset_bytes: dict[str, bytes]
    study_uids: list[str]


def make_ingest(root: Path, series: tuple[tuple[str, int], ...], slices: int) -> Ingest:
    directories, dataset_bytes, studies = [], {}, []
    for modality, seed in series:
        datasets = make_series(modality, slices=slices, rows=64, columns=64, seed=seed)
        studies.append(str(datasets[0].StudyInstanceUID))
        directory = root / f"{modality}{seed}"
        for path in write_datasets(datasets, directory):
            header, data = split_part10(path.read_bytes())
            dataset_bytes[header.file_meta.MediaStorageSOPInstanceUID] = data
        directories.append(directory)
    return Ingest(directories, dataset_bytes, studies)


def workers_of(supervisor_pid: int) -> list[psutil.Process]:
    """The live worker processes of a supervisor."""
    try:
        return [p for p in psutil.Process(supervisor_pid).children() if p.is_running()]
    except psutil.NoSuchProcess:
        return []


def established_on(process: psutil.Process, port: int) -> int:
    """Connections of `process` accepted on local `port`."""
    try:
        connections = process.net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return 0
    return sum(1 for c in connections if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port)


def listening(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0):
            return True
    except OSError:
        return False


def image_uids(client, study_uid: str) -> set[str]:
    """SOP Instance UIDs of a study by C-FIND at IMAGE level (one query per series)."""
    uids = set()
    for series in find(client, "SERIES", StudyInstanceUID=study_uid, SeriesInstanceUID=""):
        images = find(client, "IMAGE", StudyInstanceUID=study_uid, SeriesInstanceUID=str(series.SeriesInstanceUID),
                      SOPInstanceUID="")
        uids |= {str(m.SOPInstanceUID) for m in images}
    return uids


def find(client, level: str, **keys: str) -> list[Dataset]:
    query = Dataset()
    query.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(query, keyword, value)
    final, matches = client.find(query)
    assert final.Status == 0x0000, final
    return matches


def retrieved_bytes(client, study_uid: str) -> dict[str, bytes]:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    result = client.get(query)
    assert result.status.Status == 0x0000, result.status
    return {r.sop_instance_uid: r.dataset_bytes for r in result.received}


def check_kept(client, data_dir: Path, ingest: Ingest, acknowledged: set[str], database_url: str = "") -> dict[str, int]:
    """Every acknowledged instance indexed, found by C-FIND and retrieved byte for byte; files and rows match."""
    indexed = index_paths(data_dir, database_url)
    assert set(indexed.values()) == store_files(data_dir), "file without row or row without file"
    lost = acknowledged - set(indexed)
    assert not lost, f"{len(lost)} acknowledged instance(s) lost"
    for study_uid in ingest.study_uids:
        retrieved = retrieved_bytes(client, study_uid)
        assert set(retrieved) == image_uids(client, study_uid)
        for uid, data in retrieved.items():
            assert data == ingest.dataset_bytes[uid], f"{uid} not retrieved byte for byte"
    return {"indexed": len(indexed), "stored_unacknowledged": len(set(indexed) - acknowledged)}
