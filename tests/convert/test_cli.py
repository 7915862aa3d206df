"""The ``qrscp convert`` command: files and folders in, Part 10 files out, deterministic across processes."""

from __future__ import annotations

import copy
import subprocess
import sys

import pydicom
from convert_checks import series_for

from qrscp.convert import UIDSource, to_enhanced, write_part10
from qrscp.testing.factory import write_datasets


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qrscp", "convert", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_convert_to_enhanced_and_back_from_folders(tmp_path):
    slices = list(series_for("PET", "jpeg2000"))
    source_dir = tmp_path / "in"
    paths = write_datasets(slices, source_dir / "nested")
    (source_dir / "notes.txt").write_text("not DICOM")
    result = _run("--to", "enhanced", str(source_dir), "-o", str(tmp_path / "enhanced"), "--secret", "s")
    assert result.returncode == 1, "an input that could not be converted gives a non-zero exit code"
    assert "notes.txt" in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "Legacy Converted Enhanced PET Image Storage" in lines[0]
    assert f"{len(slices)} frames" in lines[0]
    written = list((tmp_path / "enhanced").iterdir())
    assert len(written) == 1

    # In-process conversion with pixels in memory gives the same bytes as the streaming CLI.
    in_memory = tmp_path / "in-memory.dcm"
    write_part10(to_enhanced([pydicom.dcmread(p) for p in paths], uids=UIDSource("s"))[0], in_memory)
    assert written[0].read_bytes() == in_memory.read_bytes()

    back = _run("--to", "classic", str(written[0]), "-o", str(tmp_path / "classic"), "--secret", "s")
    assert back.returncode == 0, back.stderr
    recovered = {p.name for p in (tmp_path / "classic").iterdir()}
    assert recovered == {f"{ds.SOPInstanceUID}.dcm" for ds in slices}


def test_two_processes_with_different_input_order_write_identical_files(tmp_path):
    slices = list(series_for("MR", "overlay"))
    forward = write_datasets(slices, tmp_path / "a")
    backward_dir = tmp_path / "b"
    backward_dir.mkdir()
    for index, path in enumerate(reversed(forward)):
        (backward_dir / f"{index:03d}.dcm").write_bytes(path.read_bytes())
    outputs = []
    for name in ("a", "b"):
        result = _run("--to", "enhanced", str(tmp_path / name), "-o", str(tmp_path / f"out-{name}"), "--secret", "x")
        assert result.returncode == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / f"out-{name}").iterdir()})
    assert outputs[0] == outputs[1] and len(outputs[0]) >= 2  # enhanced image + overlay presentation states


def test_unsupported_inputs_are_reported(tmp_path):
    paths = write_datasets(list(series_for("CT", "uncompressed"))[:1], tmp_path / "in")
    result = _run("--to", "classic", str(paths[0]), "-o", str(tmp_path / "out"), "--secret", "s")
    assert result.returncode == 1
    assert "is not an Enhanced CT/MR/PET image" in result.stderr


def test_each_skipped_input_says_why(tmp_path):
    image = copy.deepcopy(series_for("CT", "uncompressed")[0])
    del image.PixelData
    write_datasets([image], tmp_path / "in")
    result = _run("--to", "enhanced", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--secret", "s")
    assert result.returncode == 1
    assert "CT Image Storage without Pixel Data" in result.stderr
