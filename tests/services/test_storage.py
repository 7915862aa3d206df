"""StorageService: bit-preserving, atomic, policy-driven storage of C-STORE data sets.

The network layer is not involved: the service gets the bytes that pynetdicom hands over
(``event.encoded_dataset(include_meta=False)``); DCMTK/pynetdicom round trips are NET's tests.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from sqlalchemy import func, select

from qrscp.config import Config
from qrscp.index import registry
from qrscp.index.database import create_engine_for, init_schema, session_factory
from qrscp.index.models import Instance
from qrscp.services.storage import StorageService, StoreAction, encode_dataset
from qrscp.status import Status
from qrscp.store.filestore import TEMPORARY_DIRECTORY, FileStore
from qrscp.dicom.part10 import split_part10
from qrscp.testing.factory import (
    available_transfer_syntaxes,
    make_series,
    write_datasets,
)
from qrscp.uids import View


EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


class Archive:
    """A storage service on a real SQLite index and a real file store under one directory."""

    def __init__(
        self, data_dir: Path, *, store_dir: Path | None = None, database_url: str = "", **storage: object
    ) -> None:
        self.config = Config()
        self.config.storage.data_dir = data_dir
        self.config.storage.database_url = database_url
        for key, value in storage.items():
            setattr(self.config.storage, key, value)
        self.engine = create_engine_for(self.config.storage.resolved_database_url)
        init_schema(self.engine)
        self.sessions = session_factory(self.engine)
        self.file_store = FileStore(store_dir or self.config.storage.store_dir, fsync=self.config.storage.fsync)
        self.service = StorageService(self.config, self.sessions, self.file_store)

    def store(self, dataset_bytes: bytes, transfer_syntax: str = EXPLICIT_LE, **command: str):
        header = command.pop("header", None)
        return self.service.store(
            dataset_bytes,
            transfer_syntax_uid=transfer_syntax,
            affected_sop_class_uid=command.get("sop_class", header.SOPClassUID if header else None),
            affected_sop_instance_uid=command.get("sop_instance", header.SOPInstanceUID if header else None),
            calling_ae_title=command.get("ae", "MODALITY"),
            peer="127.0.0.1:40000",
        )

    def rows(self) -> list[tuple[str, str, int]]:
        with self.sessions() as session:
            return [
                (i.sop_instance_uid, i.file_path, i.file_size)
                for i in session.scalars(select(Instance).order_by(Instance.sop_instance_uid))
            ]

    def files(self) -> list[str]:
        root = self.file_store.root
        return sorted(
            str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and TEMPORARY_DIRECTORY not in p.parts
        )

    def temporaries(self) -> list[str]:
        return os.listdir(self.file_store.root / TEMPORARY_DIRECTORY)

    def consistent(self) -> bool:
        """Every row has its file and every file its row; nothing in flight."""
        return sorted(path for _, path, _ in self.rows()) == self.files() and self.temporaries() == []


@pytest.fixture
def archive(tmp_path) -> Archive:
    return Archive(tmp_path / "data")


@pytest.fixture(scope="module")
def postgres_cluster():
    """INDEX's throwaway PostgreSQL cluster (tests/index/pgcluster.py); skipped without the binaries."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "index"))
    import pgcluster

    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.PG_BIN}")
    return pgcluster.shared_cluster()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """The index database of the archive: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres_cluster").create_database()


def _crash(pending) -> None:
    """What the death of the owning process does to a write in flight: its lock goes, nothing else."""
    os.close(pending._lock_fd)
    pending._lock_fd = -1


def encoded(ds: Dataset, transfer_syntax: str, tmp_path: Path) -> bytes:
    """The data set bytes as an independent encoder (pydicom's dcmwrite, via the factory) produces them."""
    (path,) = write_datasets([ds], tmp_path / f"enc-{transfer_syntax}", transfer_syntax=transfer_syntax)
    return split_part10(path.read_bytes())[1]


def one_slice(modality: str = "CT", seed: int = 0, **variants: object) -> Dataset:
    return make_series(modality, slices=1, rows=64, columns=64, seed=seed, **variants)[0]


# -- bit preservation --------------------------------------------------------------------------------------
@pytest.mark.parametrize("transfer_syntax", available_transfer_syntaxes())
def test_stored_file_holds_the_received_bytes(archive, tmp_path, transfer_syntax):
    # The factory encodes each slice in `transfer_syntax` (8-bit pixels for JPEG Baseline).
    ds = make_series("CT", slices=1, seed=0, transfer_syntax=transfer_syntax, private_block_bytes=4096)[0]
    data = encoded(ds, transfer_syntax, tmp_path)
    outcome = archive.store(data, transfer_syntax, header=ds)
    assert outcome.status == Status.SUCCESS, outcome.error_comment
    header, stored = split_part10(archive.file_store.read_bytes(outcome.file_path))
    assert stored == data
    assert header.file_meta.TransferSyntaxUID == transfer_syntax
    assert header.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert header.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert header.file_meta.SourceApplicationEntityTitle == "MODALITY"
    assert archive.rows() == [(ds.SOPInstanceUID, outcome.file_path, archive.file_store.absolute(outcome.file_path).stat().st_size)]
    assert archive.consistent()


@pytest.mark.parametrize("modality", ["CT", "MR", "PET"])
def test_every_modality_keeps_private_blocks_and_invalid_values(archive, tmp_path, modality):
    ds = one_slice(modality, private_block_bytes=70000, invalid_values=True)
    data = encoded(ds, EXPLICIT_LE, tmp_path)
    outcome = archive.store(data, header=ds)
    assert outcome.status == Status.SUCCESS, outcome.error_comment
    assert split_part10(archive.file_store.read_bytes(outcome.file_path))[1] == data


@pytest.mark.parametrize(
    "name", ["MR_small_bigendian.dcm", "image_dfl.dcm", "emri_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm", "JPEG2000.dcm"]
)
def test_real_world_files_round_trip(archive, name):
    header, data = split_part10(Path(get_testdata_file(name)).read_bytes())
    meta = header.file_meta
    outcome = archive.service.store(
        data,
        transfer_syntax_uid=meta.TransferSyntaxUID,
        affected_sop_class_uid=meta.MediaStorageSOPClassUID,
        affected_sop_instance_uid=meta.MediaStorageSOPInstanceUID,
        calling_ae_title="PYDICOM",
    )
    assert outcome.status == Status.SUCCESS, outcome.error_comment
    assert split_part10(archive.file_store.read_bytes(outcome.file_path))[1] == data


def test_leading_zero_uid_components_are_accepted(archive, tmp_path):
    ds = one_slice()
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.2.0123.7"
    outcome = archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds)
    assert outcome.status == Status.SUCCESS and archive.rows()[0][0] == ds.SOPInstanceUID


# -- bad input ------------------------------------------------------------------------------------------------
def _without(keyword: str):
    def change(ds: Dataset) -> None:
        delattr(ds, keyword)

    return change


def _set(keyword: str, value: object):
    def change(ds: Dataset) -> None:
        setattr(ds, keyword, value)

    return change


#: name -> (change to the data set, expected status, Offending Element)
BAD_DATASETS = {
    "missing SOP Instance UID": (_without("SOPInstanceUID"), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x00080018),
    "missing SOP Class UID": (_without("SOPClassUID"), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x00080016),
    "missing Study Instance UID": (_without("StudyInstanceUID"), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x0020000D),
    "missing Series Instance UID": (_without("SeriesInstanceUID"), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x0020000E),
    "empty Study Instance UID": (_set("StudyInstanceUID", ""), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x0020000D),
    "letters in Series Instance UID": (
        _set("SeriesInstanceUID", "1.2.abc"), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x0020000E),
    "65-character Study Instance UID": (
        _set("StudyInstanceUID", "1." + "2" * 63), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x0020000D),
    "empty UID component": (_set("StudyInstanceUID", "1..2"), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x0020000D),
    "two Series Instance UIDs": (
        _set("SeriesInstanceUID", ["1.2.3", "1.2.4"]), Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, 0x0020000E),
}


@pytest.mark.parametrize("name", BAD_DATASETS)
def test_bad_data_sets_are_refused_and_store_nothing(archive, tmp_path, name):
    change, status, offending = BAD_DATASETS[name]
    good = one_slice(seed=1)
    assert archive.store(encoded(good, EXPLICIT_LE, tmp_path), header=good).ok
    before = (archive.rows(), archive.files())
    ds = one_slice(seed=2)
    command = {"sop_class": ds.SOPClassUID, "sop_instance": ds.SOPInstanceUID}
    change(ds)
    data = encode_dataset(ds, EXPLICIT_LE)
    outcome = archive.store(data, **command)
    assert (outcome.status, outcome.offending_element) == (status, offending)
    assert outcome.error_comment and len(outcome.to_dataset().ErrorComment) <= 64
    assert outcome.action == StoreAction.FAILED
    assert (archive.rows(), archive.files()) == before
    assert archive.consistent()


def _command_mismatch(tmp_path: Path, which: str):
    ds = one_slice(seed=3)
    data = encoded(ds, EXPLICIT_LE, tmp_path)
    if which == "instance":
        return data, {"sop_class": ds.SOPClassUID, "sop_instance": "1.2.3.4"}
    return data, {"sop_class": "1.2.840.10008.5.1.4.1.1.4", "sop_instance": ds.SOPInstanceUID}


@pytest.mark.parametrize(("which", "offending"), [("instance", 0x00080018), ("class", 0x00080016)])
def test_command_and_data_set_must_agree(archive, tmp_path, which, offending):
    data, command = _command_mismatch(tmp_path, which)
    outcome = archive.store(data, **command)
    assert (outcome.status, outcome.offending_element) == (Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, offending)
    assert "differs" in outcome.error_comment
    assert archive.rows() == [] and archive.files() == []


def _bad_bytes(tmp_path: Path) -> dict[str, tuple[bytes, str, int]]:
    ds = one_slice(seed=4)
    data = encoded(ds, EXPLICIT_LE, tmp_path)
    deflated = encoded(ds, DEFLATED, tmp_path)
    return {
        "truncated in pixel data": (data[:-3], EXPLICIT_LE, Status.CANNOT_UNDERSTAND),
        "truncated in header": (data[:200], EXPLICIT_LE, Status.CANNOT_UNDERSTAND),
        "random bytes": (os.urandom(64) + b"\x00" * 7, EXPLICIT_LE, Status.CANNOT_UNDERSTAND),
        "empty": (b"", EXPLICIT_LE, Status.CANNOT_UNDERSTAND),
        "explicit bytes, implicit syntax": (data, IMPLICIT_LE, Status.CANNOT_UNDERSTAND),
        "little endian bytes, big endian syntax": (data, EXPLICIT_BE, Status.CANNOT_UNDERSTAND),
        "plain bytes, deflated syntax": (data, DEFLATED, Status.CANNOT_UNDERSTAND),
        "truncated deflate stream": (deflated[: len(deflated) // 2], DEFLATED, Status.CANNOT_UNDERSTAND),
    }


@pytest.mark.parametrize(
    "name",
    [
        "truncated in pixel data",
        "truncated in header",
        "random bytes",
        "empty",
        "explicit bytes, implicit syntax",
        "little endian bytes, big endian syntax",
        "plain bytes, deflated syntax",
        "truncated deflate stream",
    ],
)
def test_unparseable_bytes_are_refused(archive, tmp_path, name):
    data, transfer_syntax, status = _bad_bytes(tmp_path)[name]
    outcome = archive.store(data, transfer_syntax, sop_class=CT_IMAGE_STORAGE, sop_instance="1.2.3")
    assert outcome.status == status
    assert outcome.error_comment.startswith("cannot parse") or "encoding" in outcome.error_comment
    assert archive.rows() == [] and archive.files() == [] and archive.temporaries() == []


def _malformed_variants():
    try:
        from qrscp.testing.malformed import malformed_variants
    except ImportError:
        return []
    return malformed_variants()


MALFORMED = {variant.name: variant for variant in _malformed_variants()}


@pytest.mark.skipif(not MALFORMED, reason="factory has no malformed_variants() yet")
@pytest.mark.parametrize("name", sorted(MALFORMED) or ["none"])
def test_factory_bad_input_table(archive, tmp_path, name):
    from qrscp.testing import malformed

    variant = MALFORMED[name]
    control = one_slice(seed=99)
    assert archive.store(encoded(control, EXPLICIT_LE, tmp_path), header=control).ok
    before = (archive.rows(), archive.files())
    outcome = archive.store(
        variant.dataset_bytes,
        variant.transfer_syntax_uid,
        sop_class=variant.affected_sop_class_uid,
        sop_instance=variant.affected_sop_instance_uid,
    )
    if variant.expected == malformed.STORED:
        assert outcome.ok, outcome.error_comment
        assert split_part10(archive.file_store.read_bytes(outcome.file_path))[1] == variant.dataset_bytes
        assert len(archive.rows()) == 2
    elif variant.expected == malformed.REJECTED:
        assert outcome.action == StoreAction.FAILED and outcome.error_comment, outcome
        assert (archive.rows(), archive.files()) == before
    assert archive.consistent()


@pytest.mark.parametrize("transfer_syntax", [EXPLICIT_LE, IMPLICIT_LE, DEFLATED])
def test_file_meta_elements_in_the_data_set_are_discarded(archive, tmp_path, transfer_syntax):
    from pydicom import dcmread

    from qrscp.dicom.structure import deflate, inflate

    ds = one_slice(seed=13)
    data = encoded(ds, transfer_syntax, tmp_path)
    plain = inflate(data, max_bytes=1 << 30) if transfer_syntax == DEFLATED else data
    # A sloppy SCU sends (0002,0010) Transfer Syntax UID inside the data set: a reader of the stored file
    # would take it for the File Meta's and decode the data set wrongly.
    liar = Dataset()
    liar.add_new(0x00020010, "UI", EXPLICIT_BE)
    prefix = encode_dataset(liar, transfer_syntax)
    prefix = inflate(prefix, max_bytes=1 << 20) if transfer_syntax == DEFLATED else prefix
    sent = prefix + plain
    outcome = archive.store(deflate(sent) if transfer_syntax == DEFLATED else sent, transfer_syntax, header=ds)
    assert outcome.status == Status.ELEMENTS_DISCARDED and outcome.ok and "0002" in outcome.error_comment
    stored = split_part10(archive.file_store.read_bytes(outcome.file_path))[1]
    assert (inflate(stored, max_bytes=1 << 30) if transfer_syntax == DEFLATED else stored) == plain
    reread = dcmread(archive.file_store.absolute(outcome.file_path))
    assert reread.file_meta.TransferSyntaxUID == transfer_syntax and reread.PixelData == ds.PixelData
    assert archive.consistent()


def test_mutated_bytes_never_raise_and_never_store_half(archive, tmp_path):
    """Seeded fuzz: bit flips, truncations, insertions and length-field damage on valid data sets."""
    import random

    rng = random.Random(157)
    sources = [(encoded(ds, ts, tmp_path), ts, ds) for ds, ts in (
        (one_slice("CT", seed=20), EXPLICIT_LE), (one_slice("MR", seed=21), IMPLICIT_LE),
        (one_slice("PET", seed=22), EXPLICIT_BE), (one_slice("CT", seed=23), DEFLATED),
    )]
    stored = 0
    for case in range(160):
        data, transfer_syntax, ds = sources[case % len(sources)]
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(min(len(mutated), 2000))  # mostly the header, where structure lives
            kind = rng.choice(["flip", "truncate", "insert", "length"])
            if kind == "flip":
                mutated[position] ^= 1 << rng.randrange(8)
            elif kind == "truncate":
                del mutated[rng.randrange(len(mutated) // 2, len(mutated)):]
            elif kind == "insert":
                mutated[position:position] = rng.randbytes(rng.randint(1, 12))
            elif position + 4 <= len(mutated):
                mutated[position:position + 4] = rng.choice([b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f", b"\0\0\0\0"])
        outcome = archive.store(bytes(mutated), transfer_syntax, header=ds)
        assert isinstance(outcome.status, int)
        if outcome.ok and outcome.action == StoreAction.STORED:
            stored += 1
            if outcome.status == Status.SUCCESS:
                assert split_part10(archive.file_store.read_bytes(outcome.file_path))[1] == bytes(mutated)
            # Start the next case from an empty archive for this instance.
            with archive.sessions() as session:
                registry.remove_instance(session, registry.get_instance(session, ds.SOPInstanceUID))
                session.commit()
            archive.file_store.remove(outcome.file_path)
        elif not outcome.ok:
            assert outcome.error_comment
        assert archive.consistent()
    assert stored < 160


def test_too_large_is_refused_before_parsing(tmp_path):
    archive = Archive(tmp_path / "data", max_dataset_bytes=1000)
    ds = one_slice()
    outcome = archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds)
    assert outcome.status == Status.REFUSED_OUT_OF_RESOURCES and "exceeds" in outcome.error_comment
    assert archive.rows() == [] and archive.files() == []


def test_status_data_set_for_the_response():
    from qrscp.services.storage import StoreOutcome

    ds = StoreOutcome(0xA900, "x" * 100, 0x0020000D).to_dataset()
    assert ds.Status == 0xA900 and len(ds.ErrorComment) == 64 and ds.OffendingElement == 0x0020000D


# -- atomicity --------------------------------------------------------------------------------------------------
def test_failed_index_commit_leaves_no_file(tmp_path, database_url, monkeypatch):
    archive = Archive(tmp_path / "data", database_url=database_url)
    ds = one_slice()

    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(registry, "register_instance", broken)
    outcome = archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds)
    assert outcome.status == Status.PROCESSING_FAILURE
    assert archive.rows() == [] and archive.files() == [] and archive.temporaries() == []
    monkeypatch.undo()
    assert archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds).ok
    assert archive.consistent() and len(archive.rows()) == 1


def test_locked_index_gives_a700_and_no_file(archive, tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    def locked(self):
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(Session, "commit", locked)
    ds = one_slice()
    outcome = archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds)
    assert outcome.status == Status.REFUSED_OUT_OF_RESOURCES and "index" in outcome.error_comment
    monkeypatch.undo()
    assert archive.rows() == [] and archive.files() == [] and archive.temporaries() == []


@pytest.mark.parametrize("seam", ["write", "fsync", "link"])
def test_write_errors_give_a700_and_leave_the_index_unchanged(archive, tmp_path, monkeypatch, seam):
    first = one_slice(seed=1)
    assert archive.store(encoded(first, EXPLICIT_LE, tmp_path), header=first).ok
    before = (archive.rows(), archive.files())
    real = getattr(os, seam)
    codes = {"write": errno.ENOSPC, "fsync": errno.EIO, "link": errno.EACCES}

    def failing(*args, **kwargs):
        raise OSError(codes[seam], os.strerror(codes[seam]))

    monkeypatch.setattr(os, seam, failing)
    ds = one_slice(seed=2)
    outcome = archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds)
    monkeypatch.setattr(os, seam, real)
    assert outcome.status == Status.REFUSED_OUT_OF_RESOURCES
    assert os.strerror(codes[seam]) in outcome.error_comment
    assert (archive.rows(), archive.files()) == before and archive.temporaries() == []
    assert archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds).ok


@contextlib.contextmanager
def small_file_system(directory: Path, size: str):
    """A tmpfs of `size` mounted at `directory` (needs root); skips the test when mounting is refused."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {mounted.stderr.decode(errors='replace')}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def test_disk_full_gives_a700_then_recovers_when_space_returns(tmp_path):
    with small_file_system(tmp_path / "small", "512k") as small:
        archive = Archive(tmp_path / "data", store_dir=small / "store")
        blocker = small / "blocker"
        blocker.write_bytes(b"\0" * (300 * 1024))
        series = make_series("CT", slices=12, rows=128, columns=128, seed=7)  # ~33 KB per slice
        outcomes = [archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds) for ds in series]
        statuses = [o.status for o in outcomes]
        assert Status.SUCCESS in statuses and Status.REFUSED_OUT_OF_RESOURCES in statuses
        full = [o for o in outcomes if o.status == Status.REFUSED_OUT_OF_RESOURCES]
        assert all("No space left" in o.error_comment for o in full)
        stored = {o.sop_instance_uid for o in outcomes if o.ok}
        assert {uid for uid, _, _ in archive.rows()} == stored
        assert archive.consistent()
        blocker.unlink()
        retried = [archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds) for ds in series]
        assert all(o.ok for o in retried)
        assert len(archive.rows()) == len(series) and archive.consistent()


# -- duplicates -------------------------------------------------------------------------------------------------
def _two_versions(tmp_path: Path) -> tuple[Dataset, bytes, bytes]:
    ds = one_slice(seed=5)
    first = encoded(ds, EXPLICIT_LE, tmp_path)
    ds.SeriesDescription = "resent with a correction"
    second = encode_dataset(ds, EXPLICIT_LE)
    assert first != second
    return ds, first, second


@pytest.mark.parametrize(
    ("policy", "status", "action", "kept"),
    [
        ("keep-first", Status.SUCCESS, StoreAction.DUPLICATE_KEPT, "first"),
        ("replace", Status.SUCCESS, StoreAction.REPLACED, "second"),
        ("reject", Status.DUPLICATE_SOP_INSTANCE, StoreAction.DUPLICATE_REJECTED, "first"),
    ],
)
def test_duplicate_policy(tmp_path, database_url, policy, status, action, kept):
    archive = Archive(tmp_path / "data", database_url=database_url, duplicate_policy=policy)
    ds, first, second = _two_versions(tmp_path)
    assert archive.store(first, header=ds).action == StoreAction.STORED
    outcome = archive.store(second, header=ds)
    assert (outcome.status, outcome.action) == (status, action)
    ((uid, path, size),) = archive.rows()
    assert split_part10(archive.file_store.read_bytes(path))[1] == {"first": first, "second": second}[kept]
    assert archive.files() == [path] and archive.consistent()


def test_replace_keeps_the_old_instance_when_the_commit_fails(tmp_path, database_url, monkeypatch):
    archive = Archive(tmp_path / "data", database_url=database_url, duplicate_policy="replace")
    ds, first, second = _two_versions(tmp_path)
    assert archive.store(first, header=ds).ok
    monkeypatch.setattr(registry, "register_instance", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    assert not archive.store(second, header=ds).ok
    monkeypatch.undo()
    ((uid, path, size),) = archive.rows()
    assert split_part10(archive.file_store.read_bytes(path))[1] == first
    assert archive.consistent()


@pytest.mark.parametrize("policy", ["keep-first", "replace", "reject"])
def test_concurrent_stores_of_one_instance(tmp_path, database_url, policy):
    archive = Archive(tmp_path / "data", database_url=database_url, duplicate_policy=policy)
    ds = one_slice(seed=6)
    data = encoded(ds, EXPLICIT_LE, tmp_path)
    barrier = threading.Barrier(6)
    outcomes = []

    def send():
        barrier.wait()
        outcomes.append(archive.store(data, header=ds))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(archive.rows()) == 1 and len(archive.files()) == 1 and archive.consistent()
    assert sum(o.action == StoreAction.STORED for o in outcomes) == 1
    if policy == "reject":
        assert sum(o.status == Status.DUPLICATE_SOP_INSTANCE for o in outcomes) == 5
    else:
        assert all(o.ok for o in outcomes)


def test_concurrent_stores_of_one_new_series(tmp_path, database_url):
    archive = Archive(tmp_path / "data", database_url=database_url)
    series = make_series("MR", slices=8, rows=16, columns=16, seed=8)
    payloads = [(encoded(ds, EXPLICIT_LE, tmp_path), ds) for ds in series]
    barrier = threading.Barrier(len(payloads))
    outcomes = []

    def send(data, ds):
        barrier.wait()
        outcomes.append(archive.store(data, header=ds))

    threads = [threading.Thread(target=send, args=payload) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(o.ok for o in outcomes), [o.error_comment for o in outcomes]
    assert len(archive.rows()) == len(series) and archive.consistent()


# -- generated instances and recovery ---------------------------------------------------------------------------
@pytest.mark.parametrize("transfer_syntax", [None, IMPLICIT_LE, DEFLATED])
def test_store_dataset_of_a_generated_instance(tmp_path, database_url, transfer_syntax):
    archive = Archive(tmp_path / "data", database_url=database_url)
    ds = one_slice(seed=9)
    outcome = archive.service.store_dataset(
        ds, views=frozenset({View.ENHANCED}), transfer_syntax_uid=transfer_syntax
    )
    assert outcome.ok, outcome.error_comment
    header, data = split_part10(archive.file_store.read_bytes(outcome.file_path))
    assert header.file_meta.TransferSyntaxUID == (transfer_syntax or ds.file_meta.TransferSyntaxUID)
    assert header.file_meta.SourceApplicationEntityTitle == "QRSCP"
    from pydicom import dcmread

    stored = dcmread(archive.file_store.absolute(outcome.file_path))
    assert stored.SOPInstanceUID == ds.SOPInstanceUID and stored.PixelData == ds.PixelData
    with archive.sessions() as session:
        row = registry.get_instance(session, ds.SOPInstanceUID)
        assert (row.in_default, row.in_classic, row.in_enhanced) == (False, False, True)


def test_store_dataset_refuses_a_data_set_without_uids(archive):
    ds = one_slice()
    del ds.StudyInstanceUID
    outcome = archive.service.store_dataset(ds, views=frozenset({View.ENHANCED}))
    assert outcome.status == Status.DATASET_DOES_NOT_MATCH_SOP_CLASS and archive.files() == []


def test_recover_resolves_writes_interrupted_before_and_after_the_commit(tmp_path, monkeypatch):
    archive = Archive(tmp_path / "data")
    committed, lost = one_slice(seed=10), one_slice(seed=11)
    pendings = []
    real_write_pending = archive.file_store.write_pending

    def crash_after_commit(*args, **kwargs):
        pending = real_write_pending(*args, **kwargs)
        pending.keep = lambda: _crash(pending)  # the process dies before dropping the marker
        pendings.append(pending)
        return pending

    monkeypatch.setattr(archive.file_store, "write_pending", crash_after_commit)
    assert archive.store(encoded(committed, EXPLICIT_LE, tmp_path), header=committed).ok
    # A write whose commit never happened: file linked, marker present, no row.
    lost_path = archive.file_store.relative_path_for(lost.StudyInstanceUID, lost.SeriesInstanceUID, lost.SOPInstanceUID)
    from qrscp.dicom.part10 import make_file_meta

    _crash(real_write_pending(lost_path, file_meta=make_file_meta(sop_class_uid=lost.SOPClassUID,
           sop_instance_uid=lost.SOPInstanceUID, transfer_syntax_uid=EXPLICIT_LE),
           dataset_bytes=encoded(lost, EXPLICIT_LE, tmp_path)))
    assert len(archive.temporaries()) == 2
    restarted = Archive(tmp_path / "data")
    restarted.file_store.created_ns = float("inf")  # everything in flight belongs to the dead process
    assert restarted.service.recover() == 3  # lost file + two markers
    assert restarted.files() == [pendings[0].relative_path] and restarted.consistent()


def test_index_row_count_is_exact_after_many_stores(archive, tmp_path):
    series = make_series("CT", slices=20, rows=16, columns=16, seed=12)
    for ds in series:
        assert archive.store(encoded(ds, EXPLICIT_LE, tmp_path), header=ds).ok
    with archive.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 20
    assert archive.consistent()
