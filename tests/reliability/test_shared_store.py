"""Two ``qrscp serve`` processes on one index and one store ingest the same study at once (issue 6, point 6).

The second server starts while the first is ingesting (its start-up recovery must leave the first one's
writes in flight alone), then both receive every instance from their own ``storescu``. Afterwards each SOP
Instance UID has exactly one row, every row its file, no file is left without a row, nothing is left in
flight, and every file holds the sent data set byte for byte.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from qrscp.store.filestore import TEMPORARY_DIRECTORY
from qrscp.dicom.part10 import split_part10
from qrscp.testing.dcmtk import dcmtk_tool
from qrscp.testing.factory import make_series, write_datasets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from storescu import StorescuRun, index_paths, store_files, temporaries  # noqa: E402

pytestmark = [pytest.mark.dcmtk, pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """One study of two series (160 instances) as Part 10 files, and their data set bytes."""
    if dcmtk_tool("storescu") is None:
        pytest.skip("DCMTK storescu not installed")
    root = tmp_path_factory.mktemp("shared")
    first = make_series("CT", slices=80, rows=64, columns=64, seed=51)
    second = make_series("CT", slices=80, rows=64, columns=64, seed=52, study_uid=first[0].StudyInstanceUID)
    dataset_bytes = {}
    for name, series in (("a", first), ("b", second)):
        for path in write_datasets(series, root / name):
            header, data = split_part10(path.read_bytes())
            dataset_bytes[header.file_meta.MediaStorageSOPInstanceUID] = data
    return root, dataset_bytes


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared-index.sqlite'}"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "index"))
    import pgcluster

    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.PG_BIN}")
    return pgcluster.shared_cluster().create_database()


def test_two_servers_ingest_the_same_study_into_one_store(serve_process, tmp_path, study, database_url):
    root, dataset_bytes = study
    data_dir = tmp_path / "shared-data"
    shared = ("--data-dir", str(data_dir), "--database-url", database_url)
    first = serve_process(*shared)
    run_first, run_second = StorescuRun(), StorescuRun()
    codes: dict[str, list[int]] = {}

    def send(name, run, server, signal_after=None):
        codes[name] = run.send(server.port, server.ae_title, [root / "a", root / "b"], signal_after=signal_after)

    sender = threading.Thread(target=send, args=("first", run_first, first, 20))
    sender.start()
    run_first.reached.wait(timeout=120)  # the first server is ingesting: start the second one now
    second = serve_process(*shared)
    send("second", run_second, second)
    sender.join()
    problems = [
        line for output in run_first.outputs + run_second.outputs for line in output.splitlines()
        if line.startswith(("E:", "W:", "F:")) or ("Store Response" in line and "Success" not in line)
    ]
    assert codes == {"first": [0, 0], "second": [0, 0]}, problems[:20]
    assert len(run_first.acknowledged) == len(run_second.acknowledged) == len(dataset_bytes)

    rows = index_paths(data_dir, database_url)
    assert set(rows) == set(dataset_bytes)  # one row per SOP Instance UID (the column is unique)
    files = store_files(data_dir)
    assert set(rows.values()) == files, (
        f"rows without file: {sorted(set(rows.values()) - files)}; files without row: {sorted(files - set(rows.values()))}"
    )
    assert temporaries(data_dir) == []
    for uid, path in rows.items():
        assert split_part10((data_dir / "store" / path).read_bytes())[1] == dataset_bytes[uid]
    assert first.terminate() == 0 and second.terminate() == 0
    assert not list((data_dir / "store" / TEMPORARY_DIRECTORY).iterdir())
