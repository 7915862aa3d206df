"""Network test support: a DICOM client, a recording storage SCP, ``qrscp serve`` subprocesses.

Plain classes and functions shared by the test suite and the benchmarks (the pytest fixtures that wrap
them live in ``tests/conftest.py``). Loopback only.
"""


from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, build_role, evt
from pynetdicom.sop_class import Verification

from qrscp.config import Peer
from qrscp.net.pynetdicom_ext.transfer import enable_stored_sending
from qrscp.uids import STUDY_ROOT_FIND, STUDY_ROOT_GET, STUDY_ROOT_MOVE


#: The repository root (for ``PYTHONPATH`` of ``qrscp serve`` subprocesses started from a checkout).
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
LOCALHOST = "127.0.0.1"
#: Bounded waits (seconds) for a subprocess to answer; never used as synchronisation by sleeping.
SERVE_START_TIMEOUT = 60.0


def free_port() -> int:
    """Return a TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])



def echo_status(host: str, port: int, ae_title: str, *, timeout: float = 5.0) -> int | None:
    """Return the C-ECHO status of a server, or None when no association could be made."""
    ae = AE(ae_title="PYTEST")
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = timeout
    assoc = ae.associate(host, port, ae_title=ae_title)
    if not assoc.is_established:
        return None
    try:
        status = assoc.send_c_echo()
        return int(status.Status) if "Status" in status else None
    finally:
        assoc.release()



@dataclass
class ServeProcess:
    """A running ``qrscp serve`` subprocess."""

    process: subprocess.Popen
    port: int
    ae_title: str
    data_dir: Path
    log_path: Path

    def terminate(self, timeout: float = 60.0) -> int:
        """Send SIGTERM and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL the server and, with ``--workers``, every worker at once: a crash of the whole node."""
        import psutil

        try:
            workers = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            workers = []
        self.process.kill()
        for worker in workers:
            try:
                worker.kill()
            except psutil.NoSuchProcess:
                pass



def start_serve_process(directory: Path, *extra_args: str, ae_title: str = "QRSCP") -> ServeProcess:
    """Start ``python -m qrscp serve`` on a free port and wait (bounded) until a C-ECHO succeeds."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    data_dir = directory / "data"
    log_path = directory / "serve.log"
    args = [
        sys.executable, "-m", "qrscp", "serve",
        "--port", str(port), "--bind", LOCALHOST, "--ae-title", ae_title, "--data-dir", str(data_dir),
        *(() if "--http-port" in extra_args else ("--http-port", "0")),
        *extra_args,
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, cwd=directory, stdout=log, stderr=subprocess.STDOUT, env=env)
    serve = ServeProcess(process, port, ae_title, data_dir, log_path)
    deadline = time.monotonic() + SERVE_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"qrscp serve exited with {process.returncode}:\n{serve.log()}")
        if echo_status(LOCALHOST, port, ae_title, timeout=2.0) == 0:
            return serve
        # The server is still starting: the next echo attempt itself waits for the connection.
        threading.Event().wait(0.1)
    serve.terminate()
    raise RuntimeError(f"qrscp serve did not answer C-ECHO within {SERVE_START_TIMEOUT} s:\n{serve.log()}")



@dataclass
class ReceivedInstance:
    """One instance received by a storage SCP or by a C-GET: its dataset bytes as sent."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    dataset_bytes: bytes
    calling_ae_title: str = ""
    move_originator: str = ""

    def dataset(self) -> Dataset:
        """Decode the received bytes."""
        from pydicom.filebase import DicomBytesIO
        from pydicom.filereader import read_dataset

        syntax = UID(self.transfer_syntax_uid)
        data = self.dataset_bytes
        if syntax.is_deflated:
            import zlib

            data = zlib.decompress(data, -zlib.MAX_WBITS)
        ds = read_dataset(DicomBytesIO(data), syntax.is_implicit_VR, syntax.is_little_endian)
        ds.file_meta = Dataset()
        ds.file_meta.TransferSyntaxUID = syntax
        return ds



def _recorder(received: list[ReceivedInstance], lock: threading.Lock) -> Callable[[Any], int]:
    def handle_store(event: Any) -> int:
        instance = ReceivedInstance(
            str(event.request.AffectedSOPClassUID),
            str(event.request.AffectedSOPInstanceUID),
            str(event.context.transfer_syntax),
            event.encoded_dataset(include_meta=False),
            (event.assoc.requestor.ae_title or "").strip(),
            str(event.request.MoveOriginatorApplicationEntityTitle or "").strip(),
        )
        with lock:
            received.append(instance)
        return 0x0000

    return handle_store



@dataclass
class StorageSCP:
    """A pynetdicom storage SCP on 127.0.0.1 that records what it receives."""

    ae_title: str
    port: int
    server: Any
    received: list[ReceivedInstance] = field(default_factory=list)
    host: str = LOCALHOST



def add_peer(archive: Any, scp: Any) -> None:
    """Make `scp` (anything with .ae_title, .port and optional .host) a C-MOVE destination of `archive`."""
    archive.config.peers[scp.ae_title] = Peer(scp.ae_title, getattr(scp, "host", LOCALHOST), scp.port)



@dataclass
class RetrieveResult:
    """Responses of a C-GET/C-MOVE: the final status dataset, the pending ones, instances received."""

    status: Dataset
    pending: list[Dataset]
    received: list[ReceivedInstance]

    @property
    def code(self) -> int:
        return int(self.status.get("Status", -1))



def _as_dataset(item: Dataset | str | os.PathLike) -> Dataset:
    return item if isinstance(item, Dataset) else dcmread(os.fspath(item))



@dataclass
class _FileLocation:
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    file_path: str



class DicomClient:
    """A small pynetdicom SCU for tests: each call is one association.

    Parameters
    ----------
    host, port, ae_title
        The server; ``calling_ae_title`` is ours (default PYTEST).
    """

    def __init__(self, host: str, port: int, ae_title: str, calling_ae_title: str = "PYTEST") -> None:
        self.host = host
        self.port = port
        self.ae_title = ae_title
        self.calling_ae_title = calling_ae_title

    def _ae(self) -> AE:
        ae = AE(ae_title=self.calling_ae_title)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = 30
        ae.maximum_pdu_size = 0
        return ae

    def associate(self, ae: AE, **kwargs: Any) -> Any:
        assoc = ae.associate(self.host, self.port, ae_title=self.ae_title, **kwargs)
        if not assoc.is_established:
            raise AssertionError(f"association with {self.ae_title}@{self.host}:{self.port} failed")
        return assoc

    def echo(self) -> int:
        ae = self._ae()
        ae.add_requested_context(Verification)
        assoc = self.associate(ae)
        try:
            return int(assoc.send_c_echo().Status)
        finally:
            assoc.release()

    def store(self, items: Iterable[Dataset | str | os.PathLike]) -> list[Dataset]:
        """C-STORE each dataset (or file) in its own transfer syntax; return the response status datasets."""
        datasets = [_as_dataset(item) for item in items]
        ae = self._ae()
        pairs = dict.fromkeys((str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for ds in datasets)
        for sop_class, syntax in list(pairs)[:128]:
            ae.add_requested_context(sop_class, syntax)
        assoc = self.associate(ae)
        # pynetdicom's reactor may otherwise take a response (the test client guards, patched server or not).
        enable_stored_sending(assoc)
        try:
            return [assoc.send_c_store(ds) for ds in datasets]
        finally:
            assoc.release()

    def store_as_is(self, files: Iterable[str | os.PathLike]) -> list[Dataset]:
        """C-STORE Part 10 files sending their dataset bytes exactly as in the file (no re-encoding).

        The command's SOP Class/Instance UIDs and the context's transfer syntax come from each file's
        File Meta, so malformed datasets go out untouched. Returns the response status datasets.
        """
        from pynetdicom.dsutils import split_dataset

        from qrscp.services.retrieve import StoredInstance

        instances = []
        for path in files:
            meta, _offset = split_dataset(Path(path))
            location = _FileLocation(
                str(meta.MediaStorageSOPClassUID), str(meta.MediaStorageSOPInstanceUID),
                str(meta.TransferSyntaxUID), str(path),
            )
            instances.append(StoredInstance(location, Path(path)))
        ae = self._ae()
        for sop_class, syntax in list(dict.fromkeys(
            (str(i.SOPClassUID), str(i.file_meta.TransferSyntaxUID)) for i in instances
        ))[:128]:
            ae.add_requested_context(sop_class, syntax)
        assoc = self.associate(ae)
        enable_stored_sending(assoc)
        try:
            return [assoc.send_c_store(instance) for instance in instances]
        finally:
            assoc.release()

    def find(
        self, identifier: Dataset, model: str = STUDY_ROOT_FIND, *, ext_neg: list[Any] | None = None,
        cancel_after: int | None = None, pending_statuses: list[int] | None = None,
    ) -> tuple[Dataset, list[Dataset]]:
        """C-FIND; return (final status dataset, matched identifiers).

        `cancel_after` sends C-CANCEL after that many matches; `pending_statuses`, when given, receives
        the status of each pending response (FF00 or FF01).
        """
        ae = self._ae()
        ae.add_requested_context(model, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        assoc = self.associate(ae, ext_neg=ext_neg)
        matches: list[Dataset] = []
        final = Dataset()
        try:
            for status, ds in assoc.send_c_find(identifier, model):
                if "Status" not in status:
                    break
                if status.Status in (0xFF00, 0xFF01):
                    matches.append(ds)
                    if pending_statuses is not None:
                        pending_statuses.append(int(status.Status))
                    if cancel_after is not None and len(matches) == cancel_after:
                        assoc.send_c_cancel(1, query_model=model)
                else:
                    final = status
        finally:
            assoc.release()
        return final, matches

    def get(
        self,
        identifier: Dataset,
        model: str = STUDY_ROOT_GET,
        *,
        storage: Iterable[tuple[str, list[str]]] | None = None,
        ext_neg: list[Any] | None = None,
        cancel_after: int | None = None,
    ) -> RetrieveResult:
        """C-GET; `storage` lists (SOP class, transfer syntaxes) we accept as storage SCP.

        Default: CT/MR/PET Image Storage and Secondary Capture with the uncompressed syntaxes.
        """
        from pynetdicom.sop_class import CTImageStorage, MRImageStorage, PositronEmissionTomographyImageStorage

        if storage is None:
            uncompressed = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
            storage = [(uid, uncompressed) for uid in (CTImageStorage, MRImageStorage, PositronEmissionTomographyImageStorage)]
        ae = self._ae()
        ae.add_requested_context(model, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        roles = []
        for sop_class, syntaxes in storage:
            ae.add_requested_context(sop_class, syntaxes)
            roles.append(build_role(sop_class, scp_role=True))
        received: list[ReceivedInstance] = []
        handlers = [(evt.EVT_C_STORE, _recorder(received, threading.Lock()))]
        assoc = self.associate(ae, ext_neg=roles + list(ext_neg or []), evt_handlers=handlers)
        return self._retrieve(assoc, assoc.send_c_get(identifier, model), model, received, cancel_after)

    def move(
        self, identifier: Dataset, destination: str, model: str = STUDY_ROOT_MOVE, *,
        ext_neg: list[Any] | None = None, cancel_after: int | None = None,
    ) -> RetrieveResult:
        """C-MOVE to `destination`; received instances are those of the destination, not listed here."""
        ae = self._ae()
        ae.add_requested_context(model, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        assoc = self.associate(ae, ext_neg=ext_neg)
        return self._retrieve(assoc, assoc.send_c_move(identifier, destination, model), model, [], cancel_after)

    @staticmethod
    def _retrieve(assoc: Any, responses: Any, model: str, received: list, cancel_after: int | None) -> RetrieveResult:
        pending: list[Dataset] = []
        final = Dataset()
        try:
            for status, _identifier in responses:
                if "Status" not in status:
                    break
                if status.Status == 0xFF00:
                    pending.append(status)
                    if cancel_after is not None and len(pending) == cancel_after:
                        assoc.send_c_cancel(1, query_model=model)
                else:
                    final = status
                    if _identifier is not None:
                        final.FailedSOPInstanceUIDList = _identifier.get("FailedSOPInstanceUIDList", "")
        finally:
            assoc.release()
        return RetrieveResult(final, pending, received)

    def add_peer(self, archive: Any, scp: Any) -> None:
        add_peer(archive, scp)



def client_for(server: Any, calling_ae_title: str = "PYTEST") -> DicomClient:
    """A :class:`DicomClient` for anything with .port and .ae_title (archive, ServeProcess)."""
    return DicomClient(LOCALHOST, server.port, server.ae_title, calling_ae_title)


