"""FileStore: layout, atomic writes, recovery markers and crash recovery."""

from __future__ import annotations

import os

import pytest
from pydicom import dcmread

from qrscp import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from qrscp.store.filestore import TEMPORARY_DIRECTORY, FileStore
from qrscp.dicom.part10 import make_file_meta, split_part10

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
LONG_UID = "1.2.826.0.1.3680043.8.498." + "1" * 38  # 64 characters


def _meta(uid: str = "1.2.3.4", ae: str = "MODALITY") -> object:
    return make_file_meta(sop_class_uid=CT, sop_instance_uid=uid, transfer_syntax_uid=EXPLICIT_LE, source_ae_title=ae)


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "store", fsync=True)


def _temporaries(store: FileStore) -> list[str]:
    return sorted(os.listdir(store.root / TEMPORARY_DIRECTORY))


def _crash(pending) -> None:
    """What the death of the owning process does to a write in flight: its lock goes, nothing else."""
    os.close(pending._lock_fd)
    pending._lock_fd = -1


def test_layout_is_short_and_deterministic(store):
    path = store.relative_path_for(LONG_UID, LONG_UID + "0"[:0], LONG_UID)
    assert path == store.relative_path_for(LONG_UID, LONG_UID, LONG_UID)
    parts = path.split("/")
    assert len(parts) == 4 and parts[0] == parts[1][:2] and parts[3] == f"{LONG_UID}.dcm"
    assert len(path) < 120
    assert store.relative_path_for("1.2", "1.3", "1.4") != store.relative_path_for("1.2", "1.5", "1.4")


def test_write_pending_then_keep_leaves_only_the_final_file(store):
    data = b"\x08\x00\x18\x00\x04\x00\x00\x001.2\x00"  # any bytes: the store does not interpret them
    pending = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=data)
    assert _temporaries(store) != []
    pending.keep()
    assert _temporaries(store) == []
    content = store.read_bytes(pending.relative_path)
    header, dataset_bytes = split_part10(content)
    assert dataset_bytes == data
    assert content[:128] == b"\0" * 128 and content[128:132] == b"DICM"
    assert header.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert header.file_meta.ImplementationVersionName == IMPLEMENTATION_VERSION_NAME
    assert header.file_meta.SourceApplicationEntityTitle == "MODALITY"
    assert header.file_meta.TransferSyntaxUID == EXPLICIT_LE
    assert pending.size == len(content)


def test_discard_removes_file_and_marker(store):
    pending = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"x" * 10)
    pending.discard()
    assert not store.absolute("aa/bb/cc/1.2.3.4.dcm").exists()
    assert _temporaries(store) == []


def test_existing_name_gets_a_variant_and_is_never_overwritten(store):
    first = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"first!")
    first.keep()
    second = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"second")
    second.keep()
    assert second.relative_path != first.relative_path
    assert second.relative_path.startswith("aa/bb/cc/1.2.3.4.r") and second.relative_path.endswith(".dcm")
    assert split_part10(store.read_bytes(first.relative_path))[1] == b"first!"
    assert split_part10(store.read_bytes(second.relative_path))[1] == b"second"


def test_invalid_source_ae_title_is_left_out():
    assert "SourceApplicationEntityTitle" not in make_file_meta(
        sop_class_uid=CT, sop_instance_uid="1.2", transfer_syntax_uid=EXPLICIT_LE, source_ae_title="BAD\\AE"
    )


def test_write_part10_is_readable_by_pydicom(store):
    from pydicom.data import get_testdata_file

    path = get_testdata_file("CT_small.dcm")
    header, dataset_bytes = split_part10(open(path, "rb").read())
    size = store.write_part10("x/y/z/ct.dcm", file_meta=_meta(header.file_meta.MediaStorageSOPInstanceUID),
                              dataset_bytes=dataset_bytes)
    assert size == store.absolute("x/y/z/ct.dcm").stat().st_size
    assert dcmread(store.absolute("x/y/z/ct.dcm")).PatientName == dcmread(path).PatientName
    assert _temporaries(store) == []


def test_write_error_leaves_nothing(store, monkeypatch):
    real_write = os.write

    def disk_full(fd, data):
        if len(data) > 100:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(OSError):
        store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"x" * 1000)
    monkeypatch.undo()
    assert _temporaries(store) == []
    assert not store.absolute("aa/bb/cc/1.2.3.4.dcm").exists()


def test_link_failure_leaves_nothing(store, monkeypatch):
    def broken_link(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "link", broken_link)
    with pytest.raises(OSError):
        store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"x" * 10)
    monkeypatch.undo()
    assert _temporaries(store) == []
    assert not store.absolute("aa/bb/cc/1.2.3.4.dcm").exists()


@pytest.mark.parametrize("indexed", [True, False])
def test_recovery_of_a_write_pending_its_index_commit(tmp_path, indexed):
    store = FileStore(tmp_path / "store")
    pending = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"x" * 10)
    _crash(pending)  # the process dies here (no keep/discard); a new process starts on the same store
    restarted = FileStore(tmp_path / "store")
    seen = []

    def is_indexed(path):
        seen.append(path)
        return indexed

    removed = restarted.remove_temporaries(is_indexed, older_than=float("inf"))
    assert seen == [pending.relative_path]
    assert store.absolute(pending.relative_path).exists() is indexed
    assert _temporaries(restarted) == []
    assert removed == (1 if indexed else 2)


def test_recovery_of_an_incomplete_write(tmp_path):
    store = FileStore(tmp_path / "store")
    (store.root / TEMPORARY_DIRECTORY / "aa+bb+cc+1.2.dcm~0123456789ab").write_bytes(b"half a file")
    (store.root / TEMPORARY_DIRECTORY / "junk").write_bytes(b"?")
    assert store.remove_temporaries(older_than=float("inf")) == 2
    assert _temporaries(store) == []


def test_recovery_leaves_writes_of_a_live_process_alone(tmp_path):
    store = FileStore(tmp_path / "store")
    pending = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"x" * 10)
    # Default limit: this FileStore's creation time; the pending write is newer.
    assert store.remove_temporaries(lambda path: False) == 0
    assert store.absolute(pending.relative_path).exists()
    pending.keep()


def test_recovery_leaves_locked_writes_of_a_live_process_alone(tmp_path):
    store = FileStore(tmp_path / "store")
    old = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"old")
    old.keep()
    pending = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"new")
    removal = store.mark_for_removal(old.relative_path)
    # Another process starting now sees old entries (older_than in the future) but they are locked.
    other = FileStore(tmp_path / "store")
    assert other.remove_temporaries(lambda path: False, older_than=float("inf")) == 0
    assert len(_temporaries(store)) == 2 and store.absolute(pending.relative_path).exists()
    assert store.absolute(old.relative_path).exists()
    removal.cancel()
    pending.keep()
    assert _temporaries(store) == []


def test_recovery_without_index_check_keeps_pending_finals(tmp_path):
    store = FileStore(tmp_path / "store")
    pending = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"x" * 10)
    _crash(pending)
    assert store.remove_temporaries(older_than=float("inf")) == 0
    assert store.absolute(pending.relative_path).exists()
    assert len(_temporaries(store)) == 1


@pytest.mark.parametrize("committed", [True, False])
def test_marked_removal_survives_a_crash(tmp_path, committed):
    store = FileStore(tmp_path / "store")
    old = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"old")
    old.keep()
    _crash(store.mark_for_removal(old.relative_path))
    # Crash: the replacing index commit happened (row no longer references the old file) or not.
    FileStore(tmp_path / "store").remove_temporaries(lambda path: not committed, older_than=float("inf"))
    assert store.absolute(old.relative_path).exists() is not committed
    assert _temporaries(store) == []


def test_marked_removal_complete_and_cancel(store):
    a = store.write_pending("aa/bb/cc/1.dcm", file_meta=_meta("1"), dataset_bytes=b"a")
    a.keep()
    b = store.write_pending("aa/bb/cc/2.dcm", file_meta=_meta("2"), dataset_bytes=b"b")
    b.keep()
    store.mark_for_removal(a.relative_path).complete()
    store.mark_for_removal(b.relative_path).cancel()
    assert not store.absolute(a.relative_path).exists()
    assert store.absolute(b.relative_path).exists()
    assert _temporaries(store) == []


def test_directory_of_temporaries_is_recreated(store):
    os.rmdir(store.root / TEMPORARY_DIRECTORY)
    store.write_pending("aa/bb/cc/1.dcm", file_meta=_meta("1"), dataset_bytes=b"a").keep()
    assert store.absolute("aa/bb/cc/1.dcm").exists() and _temporaries(store) == []


def test_a_temporary_removed_before_its_lock_is_written_again(tmp_path, monkeypatch, caplog):
    """A process starting on the store may lock a new temporary in the instant between its creation
    and its owner's lock, take it for a crash's and remove it: the write is done again, not refused."""
    store = FileStore(tmp_path / "store")
    other = FileStore(tmp_path / "store")
    write_temporary = store._write_temporary
    taken = []

    def created_then_taken(relative_path, file_meta, dataset_bytes):
        tmp, fd, size = write_temporary(relative_path, file_meta, dataset_bytes)
        if not taken:  # what the other process's recovery does in that instant
            os.close(fd)
            taken.append(other.remove_temporaries(lambda path: False, older_than=float("inf")))
            fd = os.open(os.devnull, os.O_RDONLY)  # the owner still holds a descriptor of its own
        return tmp, fd, size

    monkeypatch.setattr(store, "_write_temporary", created_then_taken)
    with caplog.at_level("WARNING"):
        pending = store.write_pending("aa/bb/cc/1.2.3.4.dcm", file_meta=_meta(), dataset_bytes=b"data")
    assert taken == [1]
    assert "written again" in caplog.text
    pending.keep()
    assert split_part10(store.read_bytes(pending.relative_path))[1] == b"data"
    assert _temporaries(store) == []
