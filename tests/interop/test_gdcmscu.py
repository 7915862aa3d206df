"""GDCM's ``gdcmscu`` 3.0 (Debian ``libgdcm-tools``) against the archive: C-ECHO, C-FIND, C-MOVE.

gdcmscu aborts (SIGABRT, "ProtocolStream as nullptr is invalid") after every A-RELEASE against any server,
a GDCM fault: its exit status and its final printout (written after the release) are not used. What is
checked is what it received before: the C-FIND responses it parsed (its ``-D`` trace of every P-DATA-TF),
the files its storage SCP wrote during a C-MOVE, and the archive's own log lines.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from qrscp.testing.factory import make_series
from qrscp.testing.network import LOCALHOST, add_peer, client_for, free_port

pytestmark = [
    pytest.mark.interop,
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("gdcmscu") is None, reason="gdcmscu not installed (apt-get install libgdcm-tools)"),
]

GDCM_AE = "GDCMSCU"
#: gdcmscu never waits on its own; a hang (the failure this lane guards against) ends here.
TIMEOUT = 60


def _gdcmscu(archive, *args: str) -> subprocess.CompletedProcess:
    command = ["gdcmscu", *args, "--call", archive.ae_title, "--aetitle", GDCM_AE, LOCALHOST, str(archive.port)]
    return subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=TIMEOUT)


def _lines(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("qrscp.net") and text in r.getMessage()]


@pytest.fixture
def stored(archive, dicom_client) -> list:
    series = make_series("CT", slices=16, rows=32, columns=32, seed=701)  # 16: gdcmscu used to parse 8
    assert all(s.Status == 0 for s in dicom_client.store(series))
    return series


def test_gdcmscu_echo(archive, caplog):
    caplog.set_level(logging.INFO, logger="qrscp.net")
    _gdcmscu(archive, "--echo")
    assert len(_lines(caplog, "C-ECHO status 0x0000")) == 1
    assert _lines(caplog, "association released")


def test_gdcmscu_find_parses_every_response(archive, stored, caplog):
    caplog.set_level(logging.INFO, logger="qrscp.net")
    result = _gdcmscu(archive, "-D", "--find", "--studyroot", "--image",
                      "--key", f"20,d={stored[0].StudyInstanceUID}", "--key", f"20,e={stored[0].SeriesInstanceUID}",
                      "--key", "8,18=")
    trace = result.stdout + result.stderr
    # gdcmscu traces the first PDV of every P-DATA-TF PDU it takes as the start of a message: one command
    # per response when in step; a data set PDV there (message control header 2) means it lost one.
    assert trace.count("MessageHeader: 2") == 0
    assert trace.count("MessageHeader: 3") == len(stored) + 1
    assert f"{len(stored)} matches, status 0x0000" in " ".join(_lines(caplog, "C-FIND IMAGE"))
    assert _lines(caplog, "association released"), "gdcmscu released (it did not wait for a timeout)"


def test_gdcmscu_move_receives_parseable_c_stores(archive, stored, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="qrscp.net")
    port = free_port()
    add_peer(archive, type("GdcmPeer", (), {"ae_title": GDCM_AE, "port": port, "host": LOCALHOST}))
    out = tmp_path / "received"
    out.mkdir()
    _gdcmscu(archive, "--move", "--studyroot", "--series", "--port-scp", str(port), "-o", str(out),
             "--key", f"20,d={stored[0].StudyInstanceUID}", "--key", f"20,e={stored[0].SeriesInstanceUID}")
    received = {ds.SOPInstanceUID: ds for ds in map(dcmread, sorted(Path(out).iterdir()))}
    originals = {ds.SOPInstanceUID: ds for ds in stored}
    assert sorted(received) == sorted(originals)
    for uid, ds in received.items():
        np.testing.assert_array_equal(ds.pixel_array, originals[uid].pixel_array)
    [line] = _lines(caplog, "C-MOVE SERIES to GDCMSCU")
    assert f"{len(stored)} completed, 0 failed, 0 warning, status 0x0000" in line
    assert client_for(archive).echo() == 0
