"""``qrscp get|move --frames/--frame-range/--time-range``: FRAME level requests from the command line."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from pydicom import dcmread

from qrscp.cli import main
from qrscp.cli.client import ClientError, frame_range_keys
from qrscp.config import Peer
from qrscp.testing.enhanced import make_enhanced_mr
from qrscp.testing.network import free_port


def _args(frames=None, frame_range=(), time_range=None) -> argparse.Namespace:
    return argparse.Namespace(frames=frames, frame_range=list(frame_range), time_range=time_range)


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (_args(frames="1,5,9"), {"SimpleFrameList": [1, 5, 9]}),
        (_args(frame_range=["2-9/3", "12-end/5"]), {"CalculatedFrameList": [2, 9, 3, 12, 0xFFFFFFFF, 5]}),
        (_args(frame_range=["4-6"]), {"CalculatedFrameList": [4, 6, 1]}),
        (_args(time_range="0.5-1.25"), {"TimeRange": [0.5, 1.25]}),
        (_args(), None),
    ],
)
def test_frame_options_become_one_frame_range_key(args, keys):
    assert frame_range_keys(args) == keys


@pytest.mark.parametrize(
    "args", [_args(frames="1,2", time_range="0-1"), _args(frames="1,x"), _args(frame_range=["5"]),
             _args(time_range="soon")],
)
def test_bad_frame_options(args):
    with pytest.raises(ClientError):
        frame_range_keys(args)


@pytest.fixture
def enhanced(archive, dicom_client):
    ds = make_enhanced_mr(frames=10, seed=61)
    assert dicom_client.store([ds])[0].Status == 0
    return ds


def _base(command: str, archive) -> list[str]:
    return [command, "127.0.0.1", str(archive.port), "--aec", archive.ae_title]


def test_get_frames_in_the_enhanced_view(archive, enhanced, tmp_path, capsys):
    output = tmp_path / "got"
    code = main(_base("get", archive) + [
        "--view", "enhanced", "-k", f"SOPInstanceUID={enhanced.SOPInstanceUID}", "--frames", "2,4,10",
        "-o", str(output),
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    [path] = list(output.glob("*.dcm"))
    ds = dcmread(path)
    assert ds.NumberOfFrames == 3 and np.array_equal(ds.pixel_array, enhanced.pixel_array[[1, 3, 9]])
    assert list(ds.FrameExtractionSequence[-1].SimpleFrameList) == [2, 4, 10]


def test_move_frame_ranges_to_its_own_storage_port(archive, enhanced, tmp_path, capsys):
    port = free_port()
    archive.config.peers["QRSCU"] = Peer("QRSCU", "127.0.0.1", port)
    output = tmp_path / "moved"
    code = main(_base("move", archive) + [
        "-k", f"SOPInstanceUID={enhanced.SOPInstanceUID}", "--frame-range", "1-3", "--frame-range", "8-end/2",
        "--dest", "QRSCU", "--store-port", str(port), "-o", str(output),
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    [path] = list(output.glob("*.dcm"))
    assert np.array_equal(dcmread(path).pixel_array, enhanced.pixel_array[[0, 1, 2, 7, 9]])


def test_refused_frame_request_gives_a_non_zero_exit_code(archive, enhanced, tmp_path, capsys):
    code = main(_base("get", archive) + [
        "-k", f"SOPInstanceUID={enhanced.SOPInstanceUID}", "--frames", "11", "-o", str(tmp_path),
    ])
    out = capsys.readouterr().out
    assert code == 1 and "0xAA00" in out
