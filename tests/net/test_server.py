"""The archive server: C-ECHO, configuration flags, ``qrscp serve`` as a subprocess, clean stop."""

from __future__ import annotations

import argparse
import socket

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from qrscp import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from qrscp.cli import build_parser
from qrscp.cli.common import config_from_args
from qrscp.testing.dcmtk import dcmtk_tool, run_dcmtk


def test_echo_with_pynetdicom(dicom_client):
    assert dicom_client.echo() == 0x0000


@pytest.mark.dcmtk
@pytest.mark.skipif(dcmtk_tool("echoscu") is None, reason="DCMTK not installed")
def test_echo_with_dcmtk(archive):
    result = run_dcmtk("echoscu", "-aec", archive.ae_title, "127.0.0.1", str(archive.port), timeout=60)
    assert result.returncode == 0, result.stderr


def test_server_sockets_have_tcp_nodelay(archive):
    seen: list[int] = []
    ae = AE(ae_title="PYTEST")
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", archive.port, ae_title=archive.ae_title)
    assert assoc.is_established
    try:
        for other in archive.ae.active_associations:
            sock = other.dul.socket.socket
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        assoc.release()
    assert seen and all(seen)


def test_association_accept_names_the_qrscp_implementation(archive):
    ae = AE(ae_title="PYTEST")
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", archive.port, ae_title=archive.ae_title)
    assert assoc.is_established
    try:
        assert assoc.acceptor.implementation_class_uid == IMPLEMENTATION_CLASS_UID
        assert assoc.acceptor.implementation_version_name == IMPLEMENTATION_VERSION_NAME
    finally:
        assoc.release()


def test_flags_override_the_config_file(tmp_path):
    config_file = tmp_path / "qrscp.toml"
    config_file.write_text('[server]\nae_title = "FROMFILE"\nport = 104\n[peers.VIEWER]\nhost = "10.0.0.1"\nport = 11113\n')
    args = build_parser().parse_args(
        ["serve", "--config", str(config_file), "--port", "4242", "--data-dir", str(tmp_path / "d"),
         "--peer", "WS=127.0.0.1:5000"]
    )
    config = config_from_args(args)
    assert config.server.port == 4242
    assert config.server.ae_title == "FROMFILE"
    assert config.storage.data_dir == tmp_path / "d"
    assert config.peer("WS").port == 5000 and config.peer("VIEWER").host == "10.0.0.1"


def test_defaults_without_flags(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/qrscp.toml here
    config = config_from_args(argparse.Namespace(peer=[]))
    assert (config.server.port, config.server.ae_title) == (11112, "QRSCP")
    assert config.storage.resolved_database_url.endswith("qrscp-data/index.sqlite")


@pytest.mark.slow
def test_serve_subprocess_answers_and_stops_cleanly_on_sigterm(archive_subprocess):
    from qrscp.testing.network import client_for

    assert client_for(archive_subprocess).echo() == 0x0000
    assert (archive_subprocess.data_dir / "index.sqlite").exists()
    assert (archive_subprocess.data_dir / "store").is_dir()
    assert archive_subprocess.terminate() == 0
    log = archive_subprocess.log()
    assert "association accepted" in log and "stopped" in log


@pytest.mark.slow
def test_serve_with_a_bad_flag_value_exits_non_zero(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "qrscp", "serve", "--peer", "not-a-peer", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "AET=HOST:PORT" in result.stderr


@pytest.mark.slow
def test_sigterm_lets_stores_in_flight_finish(tmp_path):
    """SIGTERM during a stream of C-STOREs: exit 0, every acknowledged instance is indexed with its file,
    no temporary file is left, and a restarted server answers for them."""
    import threading

    from pydicom.dataset import Dataset
    from pynetdicom import AE

    from qrscp.testing.network import client_for, start_serve_process
    from qrscp.testing.factory import make_series

    series = make_series("CT", slices=60, rows=128, columns=128, seed=81)
    serve = start_serve_process(tmp_path / "node")
    acknowledged: list[str] = []
    enough = threading.Event()

    def send() -> None:
        ae = AE(ae_title="PYTEST")
        ae.add_requested_context(series[0].SOPClassUID, series[0].file_meta.TransferSyntaxUID)
        assoc = ae.associate("127.0.0.1", serve.port, ae_title=serve.ae_title)
        try:
            for ds in series:
                try:
                    status = assoc.send_c_store(ds)
                except (RuntimeError, ValueError):
                    break
                if status.get("Status") != 0:
                    break
                acknowledged.append(str(ds.SOPInstanceUID))
                if len(acknowledged) == 5:
                    enough.set()
        finally:
            enough.set()
            if assoc.is_established:
                assoc.release()

    sender = threading.Thread(target=send)
    sender.start()
    assert enough.wait(120)
    assert serve.terminate() == 0
    sender.join(120)
    assert len(acknowledged) >= 5
    tmp_dir = serve.data_dir / "store" / ".tmp"
    assert not tmp_dir.exists() or not any(tmp_dir.iterdir())

    again = start_serve_process(tmp_path / "node")
    try:
        keys = Dataset()
        keys.QueryRetrieveLevel = "IMAGE"
        keys.StudyInstanceUID = series[0].StudyInstanceUID
        keys.SeriesInstanceUID = series[0].SeriesInstanceUID
        keys.SOPInstanceUID = ""
        final, matches = client_for(again).find(keys)
        indexed = {str(m.SOPInstanceUID) for m in matches}
        assert set(acknowledged) <= indexed
        del keys.SOPInstanceUID
        keys.QueryRetrieveLevel = "SERIES"
        got = client_for(again).get(keys)
        assert {r.sop_instance_uid for r in got.received} == indexed  # every row has its file
    finally:
        again.terminate()
