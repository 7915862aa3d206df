"""``qrscp store``: files sent as they are (data set bytes unchanged) to a real archive on loopback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from sqlalchemy import select

from qrscp.cli import build_parser, main
from qrscp.cli.store import MAX_CONTEXTS, Outgoing, batches
from qrscp.index.models import Instance
from qrscp.dicom.part10 import split_part10
from qrscp.testing.factory import make_series, write_datasets

RLE = "1.2.840.10008.1.2.5"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
UNDEFINED_LENGTH = b"\xff\xff\xff\xff"


def stored_data_sets(archive) -> dict[str, bytes]:
    """SOP Instance UID -> data set bytes (after the File Meta) of every file the archive stored."""
    with archive.sessions() as session:
        rows = session.scalars(select(Instance)).all()
        return {
            row.sop_instance_uid: split_part10(archive.file_store.absolute(row.file_path).read_bytes())[1]
            for row in rows
        }


def sent_data_set(path: Path) -> tuple[str, bytes]:
    header, data_set = split_part10(path.read_bytes())
    return str(header.file_meta.MediaStorageSOPInstanceUID), data_set


def _store(archive, *paths: Path, extra: tuple[str, ...] = ()) -> int:
    args = ["store", *map(str, paths), "127.0.0.1", str(archive.port), "--aec", archive.ae_title, *extra]
    return main(args)


def _with_undefined_length_sequence(ds: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = ds.SOPInstanceUID + ".1"
    item.is_undefined_length_sequence_item = True
    ds.ReferencedImageSequence = [item]
    ds["ReferencedImageSequence"].is_undefined_length = True
    return ds


def _associations(caplog) -> int:
    return sum("association accepted" in record.getMessage() for record in caplog.records)


def test_arguments_paths_then_host_and_port():
    args = build_parser().parse_args(["store", "a", "b/", "host", "104", "--aet", "ME", "--aec", "YOU"])
    assert (args.paths, args.host, args.port, args.aet, args.aec) == (["a", "b/"], "host", 104, "ME", "YOU")


@pytest.mark.parametrize("syntax", [EXPLICIT_LE, "1.2.840.10008.1.2"])
def test_stored_bytes_equal_sent_bytes_undefined_lengths_kept(archive, tmp_path, syntax, capsys):
    series = [_with_undefined_length_sequence(ds) for ds in make_series("CT", slices=2, seed=31)]
    paths = write_datasets(series, tmp_path / "in", transfer_syntax=syntax)
    assert _store(archive, tmp_path / "in") == 0
    assert capsys.readouterr().out.splitlines()[0] == "sent 2 (with warning 0), failed 0, skipped 0"
    stored = stored_data_sets(archive)
    for path in paths:
        uid, data_set = sent_data_set(path)
        assert UNDEFINED_LENGTH in data_set
        assert stored[uid] == data_set


def test_mixed_compressed_folder_on_one_association(archive, tmp_path, capsys, caplog):
    folder = tmp_path / "mixed"
    paths = write_datasets(make_series("CT", slices=2, seed=32), folder / "rle", transfer_syntax=RLE)
    paths += write_datasets(make_series("MR", slices=2, seed=33), folder / "jls", transfer_syntax=JPEG_LS_LOSSLESS)
    paths += write_datasets(make_series("PET", slices=1, seed=34), folder / "deep" / "j2k",
                            transfer_syntax=JPEG_2000_LOSSLESS)
    paths += write_datasets(make_series("CT", slices=1, seed=35), folder / "plain", transfer_syntax=EXPLICIT_LE)
    with caplog.at_level(logging.INFO, logger="qrscp.net"):
        assert _store(archive, folder) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"sent {len(paths)} (with warning 0), failed 0, skipped 0"
    assert _associations(caplog) == 1
    stored = stored_data_sets(archive)
    for path in paths:
        uid, data_set = sent_data_set(path)
        assert stored[uid] == data_set
    with archive.sessions() as session:
        syntaxes = {row.transfer_syntax_uid for row in session.scalars(select(Instance))}
    assert syntaxes == {RLE, JPEG_LS_LOSSLESS, JPEG_2000_LOSSLESS, EXPLICIT_LE}


def test_non_dicom_files_are_skipped_with_a_warning(archive, tmp_path, capsys):
    paths = write_datasets(make_series("CT", slices=1, seed=36), tmp_path / "in")
    (tmp_path / "in" / "README.txt").write_text("not an image\n")
    (tmp_path / "in" / "empty").write_bytes(b"")
    assert _store(archive, tmp_path / "in") == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[0] == "sent 1 (with warning 0), failed 0, skipped 2"
    assert "skipped" in out.err and "README.txt" in out.err
    assert set(stored_data_sets(archive)) == {sent_data_set(paths[0])[0]}


def test_a_failure_status_is_reported_and_exits_non_zero(archive, tmp_path, capsys):
    archive.config.storage.duplicate_policy = "reject"
    [path] = write_datasets(make_series("CT", slices=1, seed=37), tmp_path / "in")
    assert _store(archive, path) == 0
    capsys.readouterr()
    assert _store(archive, path, tmp_path / "missing.dcm") == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "sent 0 (with warning 0), failed 2, skipped 0"
    assert any("status 0x" in line and "already stored" in line for line in out[1:]), out
    assert any("no such file or directory" in line for line in out[1:]), out


def test_no_association_exits_2(tmp_path, capsys):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    paths = write_datasets(make_series("CT", slices=1, seed=38), tmp_path / "in")
    assert main(["store", str(paths[0]), "127.0.0.1", str(port), "--timeout", "5"]) == 2
    assert "association not established" in capsys.readouterr().out


def test_more_pairs_than_one_association_carries_go_on_further_associations():
    files = [Outgoing(Path(f"f{i}"), f"1.2.3.{i}", EXPLICIT_LE) for i in range(MAX_CONTEXTS + 2)]
    files.append(Outgoing(Path("again"), "1.2.3.0", EXPLICIT_LE))
    planned = list(batches(files))
    assert [len(contexts) for contexts, _files in planned] == [MAX_CONTEXTS, 2]
    assert [len(batch) for _contexts, batch in planned] == [MAX_CONTEXTS + 1, 2]
    assert sorted(f.path for _c, batch in planned for f in batch) == sorted(f.path for f in files)
