"""Two qrscp nodes behind HAProxy on one PostgreSQL index and one store directory (issue 14, point 2).

HAProxy from Debian, started here with its own configuration (TCP mode, DICOM health check), in front of
two ``qrscp serve --workers 2`` processes sharing a throwaway PostgreSQL cluster and one data directory.
Four DCMTK ``storescu`` send through HAProxy; one node is killed (SIGKILL, every process) mid-ingest.
Then: every acknowledged instance is found and retrieved byte for byte from the survivor; the killed node
restarts on its port and C-FIND answers are identical whichever node answers; a view built by one node is
served byte-identical by the other (which builds nothing); a C-MOVE asked of either node reaches its
destination.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from workerprocs import (
    SETTLE,
    StorescuRun,
    find,
    image_uids,
    index_paths,
    make_ingest,
    retrieved_bytes,
    store_files,
    temporaries,
    wait_until,
)

from qrscp.testing.dcmtk import dcmtk_tool
from qrscp.testing.haproxy import HAPROXY, Backend, HAProxy, haproxy_config
from qrscp.testing.network import LOCALHOST, REPO_ROOT, ServeProcess, client_for, echo_status, free_port
from qrscp.uids import CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, STUDY_ROOT_GET

pytestmark = [pytest.mark.postgres, pytest.mark.dcmtk, pytest.mark.network, pytest.mark.slow, pytest.mark.timeout(600)]

KILL_AFTER = 60
STORAGE = [(uid, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]) for uid in (CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE)]
DESTINATION = "NODEDEST"


def _pgcluster():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "index"))
    import pgcluster

    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.PG_BIN}")
    return pgcluster


def start_node(directory: Path, port: int, shared: list[str]) -> ServeProcess:
    """``qrscp serve --workers 2`` on `port`; returns once it answers C-ECHO."""
    import subprocess

    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "serve.log"
    args = [sys.executable, "-m", "qrscp", "serve", "--workers", "2", "--port", str(port), "--bind", LOCALHOST, *shared]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with open(log_path, "ab") as log:
        process = subprocess.Popen(args, cwd=directory, stdout=log, stderr=subprocess.STDOUT, env=env)
    node = ServeProcess(process, port, "QRSCP", Path(shared[shared.index("--data-dir") + 1]), log_path)
    answered = wait_until(lambda: process.poll() is not None or echo_status(LOCALHOST, port, "QRSCP", timeout=2.0) == 0,
                          timeout=SETTLE)
    assert answered and process.poll() is None, node.log()
    return node


@pytest.fixture
def nodes(tmp_path, storage_scp):
    if dcmtk_tool("storescu") is None:
        pytest.skip("DCMTK storescu not installed")
    if not Path(HAPROXY).exists():
        pytest.skip("HAProxy not installed")
    database_url = _pgcluster().shared_cluster().create_database()
    destination = storage_scp(ae_title=DESTINATION)
    data_dir = tmp_path / "shared-data"
    shared = ["--data-dir", str(data_dir), "--database-url", database_url,
              "--peer", f"{DESTINATION}={LOCALHOST}:{destination.port}"]
    ports = [free_port(), free_port()]
    started = [start_node(tmp_path / f"node{i + 1}", port, shared) for i, port in enumerate(ports)]
    front = free_port()
    balancer = HAProxy(haproxy_config(f"{LOCALHOST}:{front}", [Backend(f"node{i + 1}", LOCALHOST, p) for i, p in enumerate(ports)]))
    balancer.start()
    setup = {"nodes": started, "ports": ports, "front": front, "shared": shared, "data_dir": data_dir,
             "database_url": database_url, "destination": destination, "tmp_path": tmp_path, "balancer": balancer}
    try:
        assert wait_until(lambda: echo_status(LOCALHOST, front, "QRSCP", timeout=2.0) == 0, timeout=SETTLE), balancer.log()
        yield setup
    finally:
        balancer.stop()
        for node in setup["nodes"]:
            if node.process.poll() is None:
                node.terminate()


def _comparable(matches: list[Dataset]) -> list[str]:
    return sorted(str(m.to_json_dict()) for m in matches)


def _finds(client, study_uids: list[str]) -> dict[str, list[str]]:
    answers = {"studies": _comparable(find(client, "STUDY", StudyInstanceUID="", NumberOfStudyRelatedInstances="",
                                           PatientID="", StudyDate=""))}
    for study_uid in study_uids:
        for series in find(client, "SERIES", StudyInstanceUID=study_uid, SeriesInstanceUID="", Modality="",
                           NumberOfSeriesRelatedInstances=""):
            series_uid = str(series.SeriesInstanceUID)
            answers[series_uid] = [str(series.to_json_dict())] + _comparable(
                find(client, "IMAGE", StudyInstanceUID=study_uid, SeriesInstanceUID=series_uid, SOPInstanceUID="",
                     InstanceNumber="", SOPClassUID=""))
    return answers


def _enhanced(client, study_uid: str) -> dict[str, bytes]:
    from tests.views.conftest import view_negotiation

    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    identifier.QueryRetrieveView = "ENHANCED"
    result = client.get(identifier, STUDY_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(STUDY_ROOT_GET))
    assert result.code == 0x0000, result.status
    assert result.received
    return {r.sop_instance_uid: r.dataset_bytes for r in result.received}


def _move(client, study_uid: str) -> int:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    return client.move(identifier, DESTINATION).code


def test_two_nodes_behind_haproxy_lose_nothing_when_one_is_killed(nodes, tmp_path_factory, capsys):
    ingest = make_ingest(tmp_path_factory.mktemp("nodes"), (("CT", 81), ("MR", 82), ("PET", 83), ("CT", 84)), slices=60)
    node1, node2 = nodes["nodes"]
    run = StorescuRun()

    def kill_node2() -> None:
        if run.reached.wait(timeout=300):
            node2.kill()

    killer = threading.Thread(target=kill_node2)
    killer.start()
    codes = run.send(nodes["front"], "QRSCP", ingest.directories, signal_after=KILL_AFTER)
    run.reached.set()
    killer.join()
    assert node2.process.wait(timeout=30) < 0, "node 2 was not killed during the ingest"
    acknowledged = set(run.acknowledged)
    assert KILL_AFTER <= len(acknowledged) < len(ingest.dataset_bytes)
    assert any(code != 0 for code in codes), "no association was on the killed node"

    # The survivor: every acknowledged instance indexed, found and retrieved byte for byte.
    survivor = client_for(node1)
    indexed = index_paths(nodes["data_dir"], nodes["database_url"])
    assert acknowledged <= set(indexed)
    for study_uid in ingest.study_uids:
        retrieved = retrieved_bytes(survivor, study_uid)
        assert set(retrieved) == image_uids(survivor, study_uid)
        assert all(data == ingest.dataset_bytes[uid] for uid, data in retrieved.items())
    assert acknowledged <= {uid for study in ingest.study_uids for uid in retrieved_bytes(survivor, study)}
    # Through HAProxy the dead node is skipped.
    assert echo_status(LOCALHOST, nodes["front"], "QRSCP") == 0

    # The killed node restarts on its port (its recovery resolves its writes left in flight).
    node2 = start_node(nodes["tmp_path"] / "node2", nodes["ports"][1], nodes["shared"])
    nodes["nodes"][1] = node2
    assert temporaries(nodes["data_dir"]) == []
    indexed = index_paths(nodes["data_dir"], nodes["database_url"])
    assert set(indexed.values()) == store_files(nodes["data_dir"])
    resend = StorescuRun()
    assert resend.send(nodes["front"], "QRSCP", ingest.directories) == [0] * 4, resend.outputs
    assert set(index_paths(nodes["data_dir"], nodes["database_url"])) == set(ingest.dataset_bytes)

    # C-FIND: the same answers whichever node answers.
    first, second = client_for(node1), client_for(node2)
    assert _finds(first, ingest.study_uids) == _finds(second, ingest.study_uids)

    # A view built by node 1 is served byte-identical by node 2, which builds nothing.
    study = ingest.study_uids[0]
    built = _enhanced(first, study)
    served = _enhanced(second, study)
    assert served == built
    assert "building generation" in node1.log()
    assert "building generation" not in node2.log()

    # C-MOVE asked of either node reaches the destination.
    received = nodes["destination"].received
    for client, study_uid in ((first, ingest.study_uids[1]), (second, ingest.study_uids[2])):
        before = len(received)
        assert _move(client, study_uid) == 0x0000
        moved = received[before:]
        assert {r.sop_instance_uid for r in moved} == image_uids(client, study_uid)
        assert all(r.dataset_bytes == ingest.dataset_bytes[r.sop_instance_uid] for r in moved)

    with capsys.disabled():
        print(f"\n[nodes] 4 storescu through HAProxy, node 2 killed after {KILL_AFTER}: acknowledged "
              f"{len(acknowledged)} of {len(ingest.dataset_bytes)}, lost 0, exit codes {codes}; "
              f"ENHANCED view of {len(built)} object(s) identical on both nodes")
    assert node1.terminate() == 0 and node2.terminate() == 0
