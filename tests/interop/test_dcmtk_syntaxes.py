"""DCMTK ``getscu`` and ``movescu`` (into ``storescp``) retrieving every stored transfer syntax.

With default options DCMTK accepts only uncompressed syntaxes (getscu proposes only little endian ones):
what arrives must be the stored instance, transcoded when needed, with the same pixel values. With the option
that makes it prefer the stored syntax, the stored syntax must arrive unchanged.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from qrscp.config import Peer
from qrscp.testing.dcmtk import dcmtk_env, dcmtk_tool, run_dcmtk
from qrscp.testing.encoding import available_transfer_syntaxes
from qrscp.testing.network import LOCALHOST, echo_status, free_port

pytestmark = [
    pytest.mark.interop,
    pytest.mark.network,
    pytest.mark.dcmtk,
    pytest.mark.pynetdicom_patches,  # transcoding on retrieve is part of the stored-file sender
    pytest.mark.skipif(dcmtk_tool("getscu") is None, reason="DCMTK not installed"),
]

#: The DCMTK option that makes a storage SCP prefer each syntax (JPEG Lossless Process 14 has none).
PREFER = {
    ExplicitVRLittleEndian: "+xe", ImplicitVRLittleEndian: "+xi", ExplicitVRBigEndian: "+xb",
    DeflatedExplicitVRLittleEndian: "+xd", RLELossless: "+xr", JPEGLosslessSV1: "+xs", JPEGLSLossless: "+xt",
    JPEGLSNearLossless: "+xu", JPEG2000Lossless: "+xv", JPEG2000: "+xw", JPEGBaseline8Bit: "+xy",
    JPEGExtended12Bit: "+xx",
}
CASES = [(syntax, "default") for syntax in available_transfer_syntaxes()] + [
    (syntax, "prefer-stored") for syntax in available_transfer_syntaxes() if syntax in PREFER
]
#: getscu proposes Explicit VR Little Endian only with +xi (its option is meant for incoming associations).
GET_CASES = [case for case in CASES if case != (ImplicitVRLittleEndian, "prefer-stored")]


def _ids(case: Any) -> str:
    return UID(case).name if isinstance(case, str) and case.startswith("1.") else str(case)


def _check(path: Path, syntax_archive: Any, syntax: str, options: str) -> None:
    received = dcmread(path)
    original = syntax_archive.originals[syntax]
    arrived = received.file_meta.TransferSyntaxUID
    if options == "prefer-stored":
        assert arrived == syntax
    else:  # uncompressed only: sent as stored when the receiver took that, else transcoded to little endian
        assert arrived == syntax or arrived in (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
        assert not arrived.is_compressed or arrived.is_deflated
    assert received.SOPInstanceUID == original.SOPInstanceUID
    np.testing.assert_array_equal(received.pixel_array, syntax_archive.stored(syntax).pixel_array)


def _keys(ds: Any) -> list[str]:
    return ["-k", "QueryRetrieveLevel=IMAGE", "-k", f"StudyInstanceUID={ds.StudyInstanceUID}",
            "-k", f"SeriesInstanceUID={ds.SeriesInstanceUID}", "-k", f"SOPInstanceUID={ds.SOPInstanceUID}"]


@pytest.mark.parametrize("syntax, options", GET_CASES, ids=_ids)
def test_getscu_receives_every_stored_syntax(syntax_archive, tmp_path, syntax, options):
    archive = syntax_archive.archive
    prefer = [PREFER[syntax]] if options == "prefer-stored" else []
    result = run_dcmtk("getscu", "-S", *prefer, "-aec", archive.ae_title, "-od", str(tmp_path),
                       *_keys(syntax_archive.originals[syntax]), LOCALHOST, str(archive.port))
    assert result.returncode == 0, result.stderr
    [path] = list(tmp_path.iterdir())
    _check(path, syntax_archive, syntax, options)


@pytest.fixture
def storescp(tmp_path: Path) -> Iterator[Any]:
    """Start DCMTK storescp (``storescp(options)``) on a free port; ready when it answers C-ECHO."""
    started: list[subprocess.Popen] = []

    def _start(*options: str) -> tuple[Peer, Path]:
        out = tmp_path / f"received{len(started)}"
        out.mkdir()
        port = free_port()
        process = subprocess.Popen([dcmtk_tool("storescp"), *options, "-aet", "STORESCP", "-od", str(out), str(port)],
                                   env=dcmtk_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        waiter = threading.Event()
        for _ in range(300):  # bounded: 30 s
            if process.poll() is not None:
                raise RuntimeError("storescp exited")
            if echo_status(LOCALHOST, port, "STORESCP", timeout=2) == 0:
                return Peer("STORESCP", LOCALHOST, port), out
            waiter.wait(0.1)
        raise RuntimeError("storescp did not start")

    yield _start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("syntax, options", CASES, ids=_ids)
def test_movescu_into_storescp_delivers_every_stored_syntax(syntax_archive, storescp, syntax, options):
    archive = syntax_archive.archive
    peer, out = storescp(*([PREFER[syntax]] if options == "prefer-stored" else []))
    archive.config.peers[peer.ae_title] = peer
    result = run_dcmtk("movescu", "-S", "-aec", archive.ae_title, "-aem", peer.ae_title,
                       *_keys(syntax_archive.originals[syntax]), LOCALHOST, str(archive.port))
    assert result.returncode == 0, result.stderr
    [path] = list(out.iterdir())
    _check(path, syntax_archive, syntax, options)
    if syntax in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):  # storescp takes both: sent as stored
        assert dcmread(path).file_meta.TransferSyntaxUID == syntax
