"""Interoperability with DCMTK: storescu, findscu, getscu, movescu against the archive, storescp as C-MOVE
destination. Every DCMTK program runs with TCP_NODELAY=1 (``qrscp.testing.dcmtk.run_dcmtk``)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from pydicom import dcmread

from qrscp.config import Peer
from qrscp.testing.dcmtk import dcmtk_env, dcmtk_tool, run_dcmtk
from qrscp.testing.factory import make_series, write_datasets

pytestmark = [
    pytest.mark.dcmtk,
    pytest.mark.skipif(dcmtk_tool("storescu") is None, reason="DCMTK not installed"),
]


@pytest.fixture
def stored(archive, tmp_path) -> list:
    """A CT series of 4 and an MR series of 3 in one study, sent with DCMTK storescu."""
    ct = make_series("CT", slices=4, seed=51)
    mr = make_series("MR", slices=3, seed=51, study_uid=ct[0].StudyInstanceUID)
    files = write_datasets(ct + mr, tmp_path / "send")
    result = run_dcmtk("storescu", "-aec", archive.ae_title, "127.0.0.1", str(archive.port), *map(str, files))
    assert result.returncode == 0, result.stderr
    return ct + mr


def _findscu(archive, *keys: str, root: str = "-S") -> list[str]:
    args = ["-v", root, "-aec", archive.ae_title]
    for key in keys:
        args += ["-k", key]
    result = run_dcmtk("findscu", *args, "127.0.0.1", str(archive.port))
    assert result.returncode == 0, result.stderr
    return [line for line in (result.stdout + result.stderr).splitlines() if "Find Response" in line]


@pytest.mark.parametrize(
    "root, level, extra, pending",
    [
        ("-P", "PATIENT", ["PatientID"], 1),
        ("-S", "STUDY", ["StudyInstanceUID", "ModalitiesInStudy"], 1),
        ("-S", "SERIES", ["SeriesInstanceUID", "Modality"], 2),
        ("-S", "IMAGE", ["SOPInstanceUID"], 4),
    ],
)
def test_findscu_at_every_level(archive, stored, root, level, extra, pending):
    keys = [f"QueryRetrieveLevel={level}", *extra]
    if level in ("SERIES", "IMAGE"):
        keys.append(f"StudyInstanceUID={stored[0].StudyInstanceUID}")
    if level == "IMAGE":
        keys.append(f"SeriesInstanceUID={stored[0].SeriesInstanceUID}")
    if level == "PATIENT":
        keys.append("PatientName=")
    responses = _findscu(archive, *keys, root=root)
    assert sum("Pending" in line for line in responses) == pending
    assert any("Success" in line for line in responses)


def test_getscu_series(archive, stored, tmp_path):
    out = tmp_path / "got"
    out.mkdir()
    result = run_dcmtk(
        "getscu", "-S", "-aec", archive.ae_title, "-od", str(out),
        "-k", "QueryRetrieveLevel=SERIES",
        "-k", f"StudyInstanceUID={stored[0].StudyInstanceUID}",
        "-k", f"SeriesInstanceUID={stored[0].SeriesInstanceUID}",
        "127.0.0.1", str(archive.port),
    )
    assert result.returncode == 0, result.stderr
    got = sorted(str(dcmread(p).SOPInstanceUID) for p in out.iterdir())
    assert got == sorted(str(ds.SOPInstanceUID) for ds in stored[:4])


@pytest.fixture
def dcmtk_storescp(tmp_path):
    """DCMTK storescp on a free port, writing into tmp_path/received; ready when it answers C-ECHO."""
    from qrscp.testing.network import echo_status, free_port

    out = tmp_path / "received"
    out.mkdir()
    port = free_port()
    process = subprocess.Popen(
        [dcmtk_tool("storescp"), "-aet", "STORESCP", "-od", str(out), str(port)],
        env=dcmtk_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        waiter = threading.Event()
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError("storescp exited")
            if echo_status("127.0.0.1", port, "STORESCP", timeout=2) == 0:
                break
            waiter.wait(0.1)
        else:
            raise RuntimeError("storescp did not start")
        yield Peer("STORESCP", "127.0.0.1", port), out
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_movescu_to_dcmtk_storescp(archive, stored, dcmtk_storescp):
    peer, out = dcmtk_storescp
    archive.config.peers[peer.ae_title] = peer
    result = run_dcmtk(
        "movescu", "-S", "-aec", archive.ae_title, "-aem", peer.ae_title,
        "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={stored[0].StudyInstanceUID}",
        "127.0.0.1", str(archive.port),
    )
    assert result.returncode == 0, result.stderr
    got = sorted(str(dcmread(p).SOPInstanceUID) for p in Path(out).iterdir())
    assert got == sorted(str(ds.SOPInstanceUID) for ds in stored)


def test_movescu_unknown_destination(archive, stored):
    result = run_dcmtk(
        "movescu", "-v", "-S", "-aec", archive.ae_title, "-aem", "NOWHERE",
        "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={stored[0].StudyInstanceUID}",
        "127.0.0.1", str(archive.port),
    )
    output = result.stdout + result.stderr
    assert "MoveDestinationUnknown" in output


@pytest.mark.pynetdicom_patches
def test_movescu_to_storescp_that_does_not_accept_the_stored_syntax(archive, tmp_path, dcmtk_storescp):
    from pydicom.uid import RLELossless

    from qrscp.testing.factory import is_available

    if not is_available(RLELossless):
        pytest.skip("RLE encoder not available")
    series = make_series("CT", slices=2, seed=52, transfer_syntax=RLELossless)
    files = write_datasets(series, tmp_path / "rle")
    sent = run_dcmtk("storescu", "-xr", "-aec", archive.ae_title, "127.0.0.1", str(archive.port), *map(str, files))
    assert sent.returncode == 0, sent.stderr
    peer, out = dcmtk_storescp  # storescp accepts only uncompressed syntaxes by default
    archive.config.peers[peer.ae_title] = peer
    result = run_dcmtk(
        "movescu", "-S", "-aec", archive.ae_title, "-aem", peer.ae_title,
        "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={series[0].StudyInstanceUID}",
        "127.0.0.1", str(archive.port),
    )
    assert result.returncode == 0, result.stderr
    received = {str(ds.SOPInstanceUID): ds for ds in (dcmread(p) for p in Path(out).iterdir())}
    assert set(received) == {str(ds.SOPInstanceUID) for ds in series}
    for ds in series:
        got = received[str(ds.SOPInstanceUID)]
        assert not got.file_meta.TransferSyntaxUID.is_compressed
        assert (got.pixel_array == ds.pixel_array).all()
