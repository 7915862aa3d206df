"""Hostile and malformed upper-layer and DIMSE input (issue 6, point 2).

Every input gets an A-ABORT, an A-ASSOCIATE-RJ, a failure status or a closed connection; afterwards the
server answers a C-ECHO, has no association thread left (the thread count is back where it was) and its
index is unchanged. Raw bytes go over loopback TCP (``rawpeer.RawPeer``); the peer half-closes after
sending so that the server sees the end of the input at once instead of waiting for its timers.
"""

from __future__ import annotations

import logging
import random
import struct
import time
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from rawpeer import (
    A_ABORT,
    A_ASSOCIATE_RJ,
    LOCALHOST,
    P_DATA_TF,
    RawPeer,
    association_request,
    health,
    instance_count,
    pdu,
    pdv,
    settled,
)

from qrscp.config import Config
from qrscp.net.limits import ABORT_INVALID_PDU_PARAMETER_VALUE, MAX_CONTROL_PDU
from qrscp.status import Status
from qrscp.testing.network import client_for

pytestmark = pytest.mark.timeout(120)

MAX_PDU = 16384
FUZZ_CASES = 300
#: What the server may answer to hostile upper-layer input (besides closing the connection).
REFUSALS = {A_ABORT, A_ASSOCIATE_RJ}


def hostile_config(directory: Path) -> Config:
    """Loopback, port 0, small maximum PDU and short timers (fsync off: disposable data)."""
    config = Config()
    config.server.bind_address = LOCALHOST
    config.server.port = 0
    config.server.max_pdu = MAX_PDU
    config.server.artim_timeout = 3.0
    config.server.acse_timeout = 5.0
    config.server.network_timeout = 5.0
    config.storage.data_dir = directory
    config.storage.fsync = False
    return config


@pytest.fixture(scope="module")
def stocked(tmp_path_factory):
    """One archive for the module, with a 4-slice CT series: hostile input must leave it unchanged."""
    from qrscp.app import Archive
    from qrscp.testing.factory import make_series, write_datasets

    root = tmp_path_factory.mktemp("hostile")
    archive = Archive(hostile_config(root / "archive"))
    archive.start()
    try:
        files = write_datasets(make_series("CT", slices=4, seed=11), root / "dicom")
        statuses = client_for(archive).store(files)
        assert all(int(s.Status) == Status.SUCCESS for s in statuses)
        yield archive
    finally:
        archive.stop(drain_timeout=10)


def _request() -> bytes:
    return association_request(called="QRSCP")


def _truncated(cut: int) -> bytes:
    return _request()[:cut]


def _bit_flipped(bit: int) -> bytes:
    data = bytearray(_request())
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


PRE_ASSOCIATION = {
    "random-bytes": random.Random(1).randbytes(300),
    "one-byte": b"\x01",
    "unknown-pdu-type": pdu(0x42, b"\x00" * 16),
    "truncated-header": _truncated(4),
    "truncated-request": _truncated(60),
    "request-one-byte-short": _truncated(len(_request()) - 1),
    "flipped-length": _bit_flipped(5 * 8 + 3),
    "flipped-item-type": _bit_flipped(74 * 8),
    "flipped-protocol": _bit_flipped(7 * 8),
    "request-length-0": pdu(0x01, b"", length=0),
    "request-length-1": pdu(0x01, b"\x00", length=1),
    "request-length-2^31-1": pdu(0x01, b"\x00" * 64, length=2**31 - 1),
    "request-length-2^32-1": pdu(0x01, b"\x00" * 64, length=2**32 - 1),
    "p-data-before-request": pdu(P_DATA_TF, pdv(1, 0x03, b"\x00" * 8)),
    "release-before-request": pdu(0x05, b"\x00" * 4),
    "request-items-beyond-pdu": _request()[:6] + struct.pack(">H", 1) + _request()[8:74] + b"\x10\x00\xff\xff",
}


def _assert_refused(peer: RawPeer) -> None:
    reply = peer.finish()
    assert reply.closed
    assert set(reply.pdu_types) <= REFUSALS, reply


def _warnings_about(caplog, port: int) -> list[str]:
    """Our WARNING (or worse) lines that name the peer at local port `port`."""
    return [
        r.getMessage() for r in caplog.records
        if r.name.startswith("qrscp") and r.levelno >= logging.WARNING and f"127.0.0.1:{port}" in r.getMessage()
    ]


@pytest.mark.parametrize("payload", PRE_ASSOCIATION.values(), ids=PRE_ASSOCIATION.keys())
def test_malformed_input_before_association_is_refused(stocked, payload, caplog):
    caplog.set_level(logging.WARNING, logger="qrscp.net")
    before = health(stocked)
    peer = RawPeer(stocked.port)
    port = peer.sock.getsockname()[1]
    peer.send(payload)
    _assert_refused(peer)
    assert settled(stocked, before), "association threads left behind"
    assert len(_warnings_about(caplog, port)) == 1, _warnings_about(caplog, port)
    assert client_for(stocked).echo() == Status.SUCCESS
    assert instance_count(stocked) == before.instances


@pytest.mark.parametrize("length", [MAX_PDU * 2, 2**31 - 1, 2**32 - 1])
def test_pdu_length_beyond_maximum_is_aborted_before_its_body(stocked, length, caplog):
    """pynetdicom 3 would read (and keep in memory) whatever a length field announces; we abort at once."""
    before = health(stocked)
    peer = RawPeer(stocked.port)
    peer.associate(_request())
    # Only the header: without the check the server would wait for the body instead of answering.
    with caplog.at_level(logging.WARNING, logger="qrscp.net"):
        peer.send(struct.pack(">BBL", P_DATA_TF, 0, length))
        answer = peer.read_pdu()
        assert answer is not None and answer[0] == A_ABORT
        assert answer[-1] == ABORT_INVALID_PDU_PARAMETER_VALUE
        assert peer.wait_closed()
        peer.close()
        assert settled(stocked, before)
    refusals = [r for r in caplog.records if "exceeds the maximum" in r.getMessage()]
    assert len(refusals) == 1 and "RAWPEER@127.0.0.1:" in refusals[0].getMessage()
    assert client_for(stocked).echo() == Status.SUCCESS


def test_control_pdu_beyond_its_maximum_is_aborted(stocked):
    peer = RawPeer(stocked.port)
    peer.send(struct.pack(">BBL", 0x01, 0, MAX_CONTROL_PDU + 1))
    answer = peer.read_pdu()
    assert answer is not None and answer[0] == A_ABORT
    peer.close()


ESTABLISHED = {
    "pdv-length-beyond-pdu": pdu(P_DATA_TF, pdv(1, 0x03, b"\x00" * 8, length=4096)),
    "pdv-length-zero": pdu(P_DATA_TF, pdv(1, 0x03, b"", length=0)),
    "unknown-context-id": pdu(P_DATA_TF, pdv(99, 0x03, b"\x00" * 16)),
    "garbage-command": pdu(P_DATA_TF, pdv(1, 0x03, random.Random(2).randbytes(200))),
    "command-element-length-beyond-end": pdu(
        P_DATA_TF, pdv(1, 0x03, struct.pack("<HHL", 0x0000, 0x0100, 0xFFFF) + b"\x30\x00")
    ),
    "data-without-command": pdu(P_DATA_TF, pdv(1, 0x02, b"\x08\x00\x16\x00" + b"\x00" * 12)),
    "garbage-p-data-pdu": pdu(P_DATA_TF, random.Random(3).randbytes(500)),
    "second-association-request": _request(),
    "a-associate-ac-from-requestor": pdu(0x02, b"\x00" * 68),
    "unknown-pdu-type": pdu(0x09, b"\x00" * 8),
}


@pytest.mark.parametrize("payload", ESTABLISHED.values(), ids=ESTABLISHED.keys())
def test_garbage_on_established_association_is_aborted(stocked, payload, caplog):
    caplog.set_level(logging.WARNING, logger="qrscp.net")
    before = health(stocked)
    peer = RawPeer(stocked.port)
    port = peer.sock.getsockname()[1]
    peer.associate(_request())
    peer.send(payload)
    _assert_refused(peer)
    assert settled(stocked, before)
    assert len(_warnings_about(caplog, port)) == 1, _warnings_about(caplog, port)
    assert client_for(stocked).echo() == Status.SUCCESS
    assert instance_count(stocked) == before.instances


def nested_sequence_bytes(depth: int) -> bytes:
    """Content Sequence (0040,A730) nested `depth` deep, Explicit VR Little Endian, undefined lengths.

    Written by hand: pydicom itself cannot write (or read) such depth without exceeding Python's
    recursion limit, which is the point.
    """
    sequence = struct.pack("<HH2sHL", 0x0040, 0xA730, b"SQ", 0, 0xFFFFFFFF)
    opening = sequence + struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    closing = struct.pack("<HHL", 0xFFFE, 0xE00D, 0) + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    return opening * depth + closing * depth


def test_huge_identifier_values_get_a_status(stocked):
    """A C-FIND identifier with a 4 MB value: a status and no match, not a crash."""
    client = client_for(stocked)
    before = health(stocked)
    huge = Dataset()
    huge.QueryRetrieveLevel = "STUDY"
    huge.PatientID = "X" * (4 * 1024 * 1024)
    huge.StudyInstanceUID = ""
    final, matches = client.find(huge)
    assert "Status" in final and matches == []
    assert settled(stocked, before)
    assert client.echo() == Status.SUCCESS


def _store_file(stocked, path: Path) -> int:
    statuses = client_for(stocked).store_as_is([path])
    return int(statuses[0].Status)


def test_element_length_beyond_the_end_gets_a_failure_status(stocked, tmp_path: Path):
    from qrscp.testing.factory import make_series, write_datasets

    before = health(stocked)
    (plain_path,) = write_datasets(make_series("CT", slices=1, seed=41), tmp_path / "plain")
    raw = bytearray(plain_path.read_bytes())
    # Patient's Name (0010,0010) length set far beyond the end of the (cut) data set.
    at = raw.find(b"\x10\x00\x10\x00PN")
    assert at > 0
    raw[at + 6 : at + 8] = struct.pack("<H", 0xFFF0)
    path = tmp_path / "beyond-end.dcm"
    path.write_bytes(bytes(raw[: at + 200]))
    assert _store_file(stocked, path) != Status.SUCCESS
    assert instance_count(stocked) == before.instances
    assert settled(stocked, before)
    assert client_for(stocked).echo() == Status.SUCCESS


@pytest.mark.parametrize("depth", [50, 5000])
def test_deeply_nested_sequences_get_a_status(stocked, tmp_path: Path, depth):
    """Nesting within Python's recursion limit is stored; beyond it the C-STORE fails, nothing indexed."""
    from qrscp.testing.factory import make_series, write_datasets

    before = health(stocked)
    (plain_path,) = write_datasets(make_series("CT", slices=1, seed=42), tmp_path / "plain")
    raw = plain_path.read_bytes()
    pixels = raw.rfind(b"\xe0\x7f\x10\x00")
    assert pixels > 0
    path = tmp_path / "nested.dcm"
    path.write_bytes(raw[:pixels] + nested_sequence_bytes(depth) + raw[pixels:])
    status = _store_file(stocked, path)
    if depth < 100:
        assert status == Status.SUCCESS
        assert instance_count(stocked) == before.instances + 1
    else:
        assert status != Status.SUCCESS
        assert instance_count(stocked) == before.instances
    assert settled(stocked, before)
    assert client_for(stocked).echo() == Status.SUCCESS


def _mutations(rng: random.Random, request: bytes) -> bytes:
    """One fuzz input: a mutated A-ASSOCIATE-RQ, or a mutated P-DATA after a valid request."""
    kind = rng.randrange(6)
    data = bytearray(request)
    if kind == 0:  # bit flips
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == 1:  # truncation
        return bytes(data[: rng.randrange(len(data))])
    if kind == 2:  # random bytes
        return rng.randbytes(rng.randint(1, 600))
    if kind == 3:  # absurd length field
        data[2:6] = struct.pack(">L", rng.choice([0, 1, 2, 5, 2**16, 2**31 - 1, 2**32 - 1, rng.getrandbits(32)]))
        return bytes(data)
    if kind == 4:  # random byte overwrites in the item area
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(10, len(data))] = rng.randrange(256)
        return bytes(data)
    # inserted or deleted bytes
    at = rng.randrange(len(data))
    if rng.random() < 0.5:
        return bytes(data[:at] + rng.randbytes(rng.randint(1, 40)) + data[at:])
    return bytes(data[:at] + data[at + rng.randint(1, 20) :])


def _p_data_mutation(rng: random.Random) -> bytes:
    body = pdv(1, rng.choice([0x00, 0x01, 0x02, 0x03, 0xFF]), rng.randbytes(rng.randint(0, 300)))
    body = bytearray(body)
    if rng.random() < 0.5:
        body[0:4] = struct.pack(">L", rng.getrandbits(32))
    return pdu(P_DATA_TF, bytes(body), length=rng.choice([None, None, 0, rng.getrandbits(32)]))


def test_seeded_fuzz_of_the_upper_layer(stocked, capsys):
    """300 seeded cases: mutated requests, and mutated P-DATA on established associations."""
    rng = random.Random(20261123)
    request = _request()
    before = health(stocked)
    started = time.monotonic()
    established = 0
    for _case in range(FUZZ_CASES):
        peer = RawPeer(stocked.port)
        if rng.random() < 0.3:
            answer_ok = peer.send(request) and (answer := peer.read_pdu()) is not None and answer[0] == 0x02
            if answer_ok:
                established += 1
            peer.send(_p_data_mutation(rng))
        else:
            peer.send(_mutations(rng, request))
        reply = peer.finish()
        # A mutation may still be a valid request (flipped padding): then an A-ASSOCIATE-AC is fine too.
        assert set(reply.pdu_types) <= REFUSALS | {0x02, 0x06}, reply
    fuzz_seconds = time.monotonic() - started
    recovered = time.monotonic()
    assert client_for(stocked).echo() == Status.SUCCESS
    answer_seconds = time.monotonic() - recovered
    assert settled(stocked, before), "association threads left behind after the fuzz run"
    assert instance_count(stocked) == before.instances
    with capsys.disabled():
        print(
            f"\nfuzz: {FUZZ_CASES} cases ({established} on established associations) in {fuzz_seconds:.1f} s; "
            f"C-ECHO answered {answer_seconds:.2f} s after the last case"
        )
