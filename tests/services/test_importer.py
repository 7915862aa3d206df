"""``qrscp import``: folders of real files, junk mixed in, bit-identical data sets in the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from sqlalchemy import select

from qrscp.cli import main
from qrscp.index.database import create_engine_for, session_factory
from qrscp.index.models import Instance
from qrscp.services.storage import encode_dataset
from qrscp.dicom.part10 import split_part10
from qrscp.testing.factory import make_series, write_datasets

EXPLICIT_LE = "1.2.840.10008.1.2.1"


def stored_rows(data_dir: Path) -> dict[str, tuple[str, str]]:
    engine = create_engine_for(f"sqlite:///{data_dir / 'index.sqlite'}")
    try:
        with session_factory(engine)() as session:
            return {
                i.sop_instance_uid: (i.file_path, i.transfer_syntax_uid) for i in session.scalars(select(Instance))
            }
    finally:
        engine.dispose()


@pytest.fixture
def folder(tmp_path) -> dict[str, object]:
    """A folder tree: DICOM in several transfer syntaxes, a bare data set, and junk."""
    root = tmp_path / "incoming"
    ct = write_datasets(make_series("CT", slices=3, seed=21), root / "ct")
    mr = write_datasets(make_series("MR", slices=2, seed=22), root / "deep" / "mr", transfer_syntax="1.2.840.10008.1.2.5")
    pet = write_datasets(make_series("PET", slices=2, seed=23), root / "pet", transfer_syntax="1.2.840.10008.1.2")
    big_endian = root / "MR_small_bigendian.dcm"
    big_endian.write_bytes(Path(get_testdata_file("MR_small_bigendian.dcm")).read_bytes())
    bare_ds = make_series("CT", slices=1, seed=24)[0]
    bare = root / "bare" / "IMG0001"
    bare.parent.mkdir(parents=True)
    bare.write_bytes(encode_dataset(bare_ds, EXPLICIT_LE))
    (root / "README.txt").write_text("not an image\n")
    (root / "deep" / "thumbs.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(300))
    (root / "empty").write_bytes(b"")
    (root / "notes.dcm").write_bytes(b"\0" * 64 + b"this file name lies")
    return {
        "root": root,
        "part10": ct + mr + pet + [big_endian],
        "bare": (bare, bare_ds.SOPInstanceUID),
        "junk": 4,
    }


def test_import_folder_with_junk(folder, tmp_path, capsys):
    data_dir = tmp_path / "data"
    code = main(["import", str(folder["root"]), "--data-dir", str(data_dir)])
    out = capsys.readouterr()
    assert code == 0, out
    part10 = folder["part10"]
    assert out.out.strip() == f"imported {len(part10) + 1}, duplicates 0, skipped non-DICOM {folder['junk']}, failed 0"
    assert "skipped" in out.err and "README.txt" in out.err
    rows = stored_rows(data_dir)
    assert len(rows) == len(part10) + 1
    store = data_dir / "store"
    for path in part10:
        original_header, original = split_part10(path.read_bytes())
        file_path, transfer_syntax = rows[original_header.file_meta.MediaStorageSOPInstanceUID]
        stored_header, stored = split_part10((store / file_path).read_bytes())
        assert stored == original
        assert transfer_syntax == stored_header.file_meta.TransferSyntaxUID == original_header.transfer_syntax_uid
    bare, bare_uid = folder["bare"]
    assert split_part10((store / rows[bare_uid][0]).read_bytes())[1] == bare.read_bytes()
    assert rows[bare_uid][1] == EXPLICIT_LE


def test_reimport_counts_duplicates(folder, tmp_path, capsys):
    data_dir = tmp_path / "data"
    assert main(["import", str(folder["root"]), "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    assert main(["import", str(folder["root"] / "ct"), str(folder["root"] / "pet"), "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out.strip() == "imported 0, duplicates 5, skipped non-DICOM 0, failed 0"


def test_failures_give_exit_code_1(tmp_path, capsys):
    ds = make_series("CT", slices=2, seed=25)
    del ds[1].StudyInstanceUID
    files = write_datasets(ds, tmp_path / "in")
    (tmp_path / "in" / "corrupt.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"garbage")
    code = main(["import", str(tmp_path / "in"), str(tmp_path / "missing"), "--data-dir", str(tmp_path / "data")])
    out = capsys.readouterr()
    assert code == 1
    assert out.out.strip() == "imported 1, duplicates 0, skipped non-DICOM 0, failed 3"
    assert f"{files[1].name}: status 0xA900, StudyInstanceUID missing" in out.err
    assert "corrupt.dcm: unreadable Part 10 header" in out.err
    assert len(stored_rows(tmp_path / "data")) == 1


def test_import_skips_its_own_store(tmp_path, capsys):
    data_dir = tmp_path / "data"
    write_datasets(make_series("CT", slices=2, seed=26), data_dir / "incoming")
    assert main(["import", str(data_dir), "--data-dir", str(data_dir)]) == 0
    assert main(["import", str(data_dir), "--data-dir", str(data_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "imported 2, duplicates 0, skipped non-DICOM 0, failed 0",
        "imported 0, duplicates 2, skipped non-DICOM 0, failed 0",
    ]


def test_qrscp_import_command(tmp_path):
    write_datasets(make_series("MR", slices=2, seed=27), tmp_path / "in")
    (tmp_path / "in" / "notes.txt").write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "qrscp", "import", str(tmp_path / "in"), "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported 2, duplicates 0, skipped non-DICOM 1, failed 0"
    assert len(stored_rows(tmp_path / "data")) == 2
