"""``qrscp check`` (issue 17): files or a running archive, one row or JSON object per series, exit status."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest

from qrscp.cli.check import format_table
from qrscp.cli import main
from qrscp.services import check as check_module
from qrscp.testing import flawed
from qrscp.testing.classic import make_series
from qrscp.testing.enhanced import make_enhanced_mr
from qrscp.testing.factory import write_datasets

KEYS = {"series_instance_uid", "frames", "converted", "reason", "new_errors", "round_trip_differences"}


@pytest.fixture
def folder(tmp_path):
    """A flawed classic MR series, an Enhanced MR image and a non-image object."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = flawed.empty_values(make_series("MR", slices=3, rows=16, columns=16, seed=9))
    write_datasets(series, tmp_path / "in" / "mr")
    enhanced = make_enhanced_mr(frames=2, rows=16, columns=16, seed=4)
    enhanced.save_as(tmp_path / "in" / "enhanced.dcm", enforce_file_format=True)
    (tmp_path / "in" / "notes.txt").write_text("not DICOM")
    return tmp_path / "in"


def test_json_has_one_object_per_series_and_exit_zero(folder, capsys):
    assert main(["check", str(folder), "--json", "--secret", "s"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert all(set(r) == KEYS for r in results)
    by_frames = sorted((r["frames"], r["converted"]) for r in results)
    assert by_frames == [(2, True), (3, True)]
    assert all(r["new_errors"] == [] and r["round_trip_differences"] == [] for r in results)


def test_table_has_a_row_per_series_and_a_summary(folder, capsys):
    assert main(["check", str(folder), "--secret", "s"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["series", "direction", "frames"]
    assert len(lines) == 1 + 2 + 1
    assert lines[-1].startswith("2 series checked: 2 converted (5 frames), 0 not converted, 0 new validator errors")


def test_anything_new_wrong_gives_exit_status_one(folder, monkeypatch, capsys):
    # a fault injected into the round trip comparison: the command must report it and fail
    monkeypatch.setattr(check_module, "round_trip_differences", lambda original, recovered: ["(0010,0010) value"])
    assert main(["check", str(folder), "--json", "--secret", "s"]) == 1
    results = json.loads(capsys.readouterr().out)
    assert [r["round_trip_differences"][:1] for r in results if r["frames"] == 3][0][0].endswith("(0010,0010) value")


def test_a_series_that_is_not_an_image_is_listed_with_the_reason(tmp_path, capsys):
    from pydicom.dataset import Dataset

    from qrscp.testing.files import write_datasets as write

    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.22"  # Enhanced SR
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "2.25.1", "2.25.2", "2.25.3"
    ds.Modality = "SR"
    write([ds], tmp_path / "sr")
    assert main(["check", str(tmp_path / "sr"), "--json", "--secret", "s"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert not result["converted"] and "is not a classic CT/MR/PET image" in result["reason"]


def test_check_of_a_running_archive_through_c_get(folder, archive, dicom_client, tmp_path):
    files = [p for p in folder.rglob("*.dcm")]
    assert all(int(s.Status) == 0 for s in dicom_client.store(files))
    done = subprocess.run([sys.executable, "-m", "qrscp", "check", "--from", "127.0.0.1", str(archive.port),
                           "--aec", archive.ae_title, "--json", "--secret", "s"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert sorted((r["frames"], r["converted"]) for r in results) == [(2, True), (3, True)]


def test_format_table_counts_not_converted_and_wrong_series():
    results = [check_module.SeriesCheck("1", frames=3, converted=True, direction="enhanced"),
               check_module.SeriesCheck("2", reason="RT Plan Storage is not a classic CT/MR/PET image"),
               check_module.SeriesCheck("3", frames=1, converted=True, new_errors=["Error - x"])]
    assert format_table(results).splitlines()[-1] == (
        "3 series checked: 2 converted (4 frames), 1 not converted, 1 new validator errors, 0 round-trip "
        "differences, 1 series with something new wrong")
