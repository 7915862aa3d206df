"""Shared fixtures: a real qrscp archive (in process or as a ``qrscp serve`` subprocess), a storage SCP
to use as C-MOVE destination, a DICOM client, and factory files.

Fixture API (stable; other test packages rely on it)
----------------------------------------------------
``archive_config`` -> :class:`qrscp.config.Config`
    127.0.0.1, port 0, AE title QRSCP, SQLite index and store under ``tmp_path/archive``, fsync off.
    Change it before requesting ``archive`` (``archive_config.server.max_associations = 1``).
``archive`` -> :class:`qrscp.app.Archive` (started)
    ``.port``, ``.ae_title``, ``.data_dir``, ``.config``, ``.sessions`` (sessionmaker), ``.file_store``,
    ``.storage``, ``.query``, ``.retrieve``, ``.engine``; ``.config.peers`` may be changed while running.
``make_archive(configure=None)`` -> callable starting more archives (each in its own directory).
``archive_subprocess`` -> :class:`ServeProcess` (a ``python -m qrscp serve`` child, ready: a C-ECHO
    succeeded) with ``.port``, ``.ae_title``, ``.data_dir``, ``.process``, ``.log_path``,
    ``.terminate() -> int`` (SIGTERM, returns the exit code). ``serve_process(*extra_args)`` starts more.
``storage_scp`` -> callable ``storage_scp(ae_title="DEST", transfer_syntaxes=None)`` starting a pynetdicom
    storage SCP on 127.0.0.1 port 0 that records every instance in ``.received`` (list of
    :class:`ReceivedInstance`); ``transfer_syntaxes`` limits what it accepts (default: the uncompressed ones).
``add_peer(archive, scp)`` (in ``dicom_client``: ``client.add_peer``) registers a C-MOVE destination.
``dicom_client`` -> :class:`DicomClient` bound to ``archive`` (``echo``, ``store``, ``store_as_is``
    (file bytes unchanged, for malformed input), ``find``, ``get``, ``move``); ``DicomClient(host, port, ae_title)`` for other servers (``client_for(server)``).
``dicom_dir`` -> Path of a folder with a 4-slice factory CT series as Part 10 files.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification

from qrscp.config import Config

from qrscp.testing.network import (  # noqa: F401  (re-exported for the tests)
    ServeProcess,
    start_serve_process,
    ReceivedInstance,
    _recorder,
    StorageSCP,
    DicomClient,
    client_for,
    LOCALHOST,
)

# --- lanes ----------------------------------------------------------------------------------------

#: Fixtures that start a real server or open sockets to one: their tests are marked ``network``.
NETWORK_FIXTURES = frozenset({
    "archive", "make_archive", "serve_process", "archive_subprocess", "storage_scp", "dicom_client",
})
#: Fixtures that run DCMTK tools (storescu): their tests are marked ``dcmtk``.
DCMTK_FIXTURES = frozenset({"zzzb_archive"})
#: Marks left out of the fast lane (``pytest`` without arguments); ``pytest tests`` runs everything.
NOT_IN_FAST_LANE = ("slow", "postgres")
PATCHES_OFF_REASON = (
    "asserts behaviour of qrscp's pynetdicom patches, which QRSCP_PYNETDICOM_PATCHES=off turns off"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark network and DCMTK tests by their fixtures; the fast lane without slow/postgres; patch tests skipped with patches off."""
    from qrscp.net import pynetdicom_ext

    patches = pynetdicom_ext.wanted()
    fast_lane = config.args_source == pytest.Config.ArgsSource.TESTPATHS and not config.option.markexpr
    selected, deselected = [], []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if NETWORK_FIXTURES & fixtures:
            item.add_marker(pytest.mark.network)
        if DCMTK_FIXTURES & fixtures:
            item.add_marker(pytest.mark.dcmtk)
        if not patches and item.get_closest_marker("pynetdicom_patches"):
            item.add_marker(pytest.mark.skip(reason=PATCHES_OFF_REASON))
        if fast_lane and any(item.get_closest_marker(name) for name in NOT_IN_FAST_LANE):
            deselected.append(item)
        else:
            selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS and not config.option.markexpr:
        return "fast lane: slow and postgres tests deselected (run `pytest tests` or scripts/test.sh for all)"
    return None


# --- archive in process --------------------------------------------------------------------------



def _test_config(directory: Path) -> Config:
    config = Config()
    config.server.bind_address = LOCALHOST
    config.server.port = 0
    config.server.acse_timeout = 10.0
    config.server.dimse_timeout = 30.0
    config.server.network_timeout = 30.0
    config.storage.data_dir = directory
    config.storage.fsync = False
    return config



@pytest.fixture
def archive_config(tmp_path: Path) -> Config:
    """Configuration of the ``archive`` fixture; adjust it before requesting ``archive``."""
    return _test_config(tmp_path / "archive")



@pytest.fixture
def archive(archive_config: Config) -> Iterator[Any]:
    """A started in-process archive on 127.0.0.1 (port 0, SQLite file, fsync off)."""
    from qrscp.app import Archive

    server = Archive(archive_config)
    server.start()
    try:
        yield server
    finally:
        server.stop(drain_timeout=10)



@pytest.fixture
def make_archive(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start extra archives: ``make_archive(configure=lambda config: ...)``; all stopped at teardown."""
    from qrscp.app import Archive

    started: list[Any] = []

    def _make(configure: Callable[[Config], None] | None = None) -> Any:
        config = _test_config(tmp_path / f"archive{len(started) + 1}")
        if configure is not None:
            configure(config)
        server = Archive(config)
        server.start()
        started.append(server)
        return server

    yield _make
    for server in started:
        server.stop(drain_timeout=10)



# --- archive as a subprocess ---------------------------------------------------------------------



@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start ``qrscp serve`` subprocesses with extra arguments; all terminated at teardown."""
    started: list[ServeProcess] = []

    def _start(*extra_args: str, ae_title: str = "QRSCP") -> ServeProcess:
        serve = start_serve_process(tmp_path / f"serve{len(started) + 1}", *extra_args, ae_title=ae_title)
        started.append(serve)
        return serve

    yield _start
    for serve in started:
        if serve.process.poll() is None:
            serve.process.kill()
            serve.process.wait(timeout=30)



@pytest.fixture
def archive_subprocess(serve_process: Callable[..., ServeProcess]) -> ServeProcess:
    """A ``qrscp serve`` subprocess on a free port with its own data dir, ready for associations."""
    return serve_process()



# --- a storage SCP (C-MOVE destination) ----------------------------------------------------------



@pytest.fixture
def storage_scp() -> Iterator[Callable[..., StorageSCP]]:
    """Start storage SCPs: ``storage_scp(ae_title="DEST", transfer_syntaxes=None)``."""
    from pynetdicom import AllStoragePresentationContexts

    started: list[Any] = []

    def _start(ae_title: str = "DEST", transfer_syntaxes: Iterable[str] | None = None) -> StorageSCP:
        syntaxes = list(transfer_syntaxes or [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        ae = AE(ae_title=ae_title)
        ae.maximum_pdu_size = 0
        for cx in AllStoragePresentationContexts:
            ae.add_supported_context(cx.abstract_syntax, syntaxes)
        ae.add_supported_context(Verification)
        received: list[ReceivedInstance] = []
        server = ae.start_server(
            (LOCALHOST, 0), block=False, evt_handlers=[(evt.EVT_C_STORE, _recorder(received, threading.Lock()))]
        )
        started.append(ae)
        return StorageSCP(ae_title, int(server.server_address[1]), server, received)

    yield _start
    for ae in started:
        ae.shutdown()



# --- a DICOM client ------------------------------------------------------------------------------



@pytest.fixture
def dicom_client(archive: Any) -> DicomClient:
    """A :class:`DicomClient` talking to the ``archive`` fixture."""
    return client_for(archive)



@pytest.fixture
def dicom_dir(tmp_path: Path) -> Path:
    """A folder with a 4-slice factory CT series (Explicit VR Little Endian Part 10 files)."""
    from qrscp.testing.factory import make_series, write_datasets

    directory = tmp_path / "dicom"
    write_datasets(make_series("CT", slices=4, seed=11), directory)
    return directory
