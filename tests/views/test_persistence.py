"""Determinism and persistence of the views (ZZZA.6): same UIDs and bytes after a restart and after the cached
files are deleted; concurrent first requests convert once (in one process and across builders)."""

from __future__ import annotations

import threading

from pydicom.dataset import Dataset
from sqlalchemy import func, select

from qrscp.index.models import ConversionRecord, Instance, ViewBuild
from qrscp.services.views import ViewBuilder
from qrscp.testing.factory import PatientSpec, derive_uid, make_enhanced_mr, make_gsps, make_series, write_datasets
from qrscp.uids import (
    CT_IMAGE_STORAGE,
    ENHANCED_MR_IMAGE_STORAGE,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    MR_IMAGE_STORAGE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    View,
)
from qrscp.testing.network import client_for
from tests.views.conftest import view_negotiation

UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
STORAGE = [
    (uid, UNCOMPRESSED)
    for uid in (
        CT_IMAGE_STORAGE,
        LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
        MR_IMAGE_STORAGE,
        ENHANCED_MR_IMAGE_STORAGE,
        GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    )
]


def _patient_datasets() -> tuple[str, list[Dataset]]:
    """One study with a classic CT series + GSPS (ENHANCED converts) and an Enhanced MR + GSPS (CLASSIC splits)."""
    patient = PatientSpec.from_seed(31)
    study = derive_uid("views-persistence", "study")
    ct = make_series("CT", slices=5, rows=16, columns=16, patient=patient, study_uid=study, seed=31)
    mr = make_enhanced_mr(frames=4, rows=16, columns=16, patient=patient, study_uid=study, seed=31)
    return study, [*ct, make_gsps(ct[:2], seed=31), mr, make_gsps([mr], seed=32)]


def _get(client, study: str, view: str) -> dict[str, bytes]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study
    identifier.QueryRetrieveView = view
    result = client.get(identifier, STUDY_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(STUDY_ROOT_GET))
    assert result.code == 0x0000, result.status
    return {r.sop_instance_uid: r.dataset_bytes for r in result.received}


def _find_images(client, study: str, view: str) -> list[tuple[str, str, str]]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "IMAGE"
    identifier.StudyInstanceUID = study
    identifier.SeriesInstanceUID = ""
    identifier.SOPInstanceUID = ""
    identifier.SOPClassUID = ""
    identifier.QueryRetrieveView = view
    status, matches = client.find(identifier, STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_FIND))
    assert status.Status == 0
    return sorted((str(m.SeriesInstanceUID), str(m.SOPInstanceUID), str(m.SOPClassUID)) for m in matches)


def _generated_files(server) -> dict[str, str]:
    with server.sessions() as session:
        rows = session.execute(
            select(Instance.sop_instance_uid, Instance.file_path).join(
                ConversionRecord, ConversionRecord.sop_instance_uid == Instance.sop_instance_uid
            )
        ).all()
    return {uid: path for uid, path in rows}


def test_restart_and_deleted_cache_give_the_same_uids_and_bytes(archive_config, tmp_path):
    from qrscp.app import Archive

    study, datasets = _patient_datasets()
    server = Archive(archive_config)
    server.start()
    try:
        client = client_for(server)
        assert all(int(s.Status) == 0 for s in client.store(write_datasets(datasets, tmp_path / "in")))
        first = {view: _get(client, study, view) for view in ("ENHANCED", "CLASSIC")}
        queried = {view: _find_images(client, study, view) for view in ("ENHANCED", "CLASSIC")}
        generated = _generated_files(server)
        stored_bytes = {uid: server.file_store.absolute(path).read_bytes() for uid, path in generated.items()}
        assert generated and set(generated) <= set(first["ENHANCED"]) | set(first["CLASSIC"])
    finally:
        server.stop()

    # Restart: same answers, nothing converted again.
    server = Archive(archive_config)
    server.start()
    try:
        client = client_for(server)
        assert {view: _find_images(client, study, view) for view in ("ENHANCED", "CLASSIC")} == queried
        assert {view: _get(client, study, view) for view in ("ENHANCED", "CLASSIC")} == first
        assert server.view_builder.generations_built == 0
    finally:
        server.stop()

    # Lose every cached file of the views, restart: the files come back byte for byte.
    for path in generated.values():
        server.file_store.absolute(path).unlink()
    server = Archive(archive_config)
    server.start()
    try:
        client = client_for(server)
        assert {view: _get(client, study, view) for view in ("ENHANCED", "CLASSIC")} == first
        assert server.view_builder.generations_built == 0
        for uid, path in generated.items():
            assert server.file_store.absolute(path).read_bytes() == stored_bytes[uid]
    finally:
        server.stop()


def _counts(server) -> tuple[int, int]:
    with server.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(ViewBuild)),
            session.scalar(select(func.count()).select_from(ConversionRecord)),
        )


def test_concurrent_first_requests_convert_once(archive, tmp_path):
    study, datasets = _patient_datasets()
    client = client_for(archive)
    assert all(int(s.Status) == 0 for s in client.store(write_datasets(datasets, tmp_path / "in")))
    barrier = threading.Barrier(3)
    answers: list[list] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            barrier.wait()
            answers.append(_find_images(client_for(archive), study, "ENHANCED"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(answers) == 3 and answers[0] == answers[1] == answers[2]
    assert archive.view_builder.generations_built == 1
    builds, records = _counts(archive)
    originals = {str(ds.SOPInstanceUID) for ds in datasets}
    generated = [uid for _, uid, _ in answers[0] if uid not in originals]
    assert builds == 1 and records == len(generated) == 2  # the LCE CT and the rewritten GSPS


def test_two_builders_on_one_index_convert_once(archive, tmp_path):
    """Two builders (as two processes would have) sharing the index: the view_build row lets one convert."""
    study, datasets = _patient_datasets()
    client = client_for(archive)
    assert all(int(s.Status) == 0 for s in client.store(write_datasets(datasets, tmp_path / "in")))
    builders = [
        ViewBuilder(archive.config, archive.sessions, archive.file_store, archive.storage) for _ in range(2)
    ]
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def build(builder: ViewBuilder) -> None:
        try:
            barrier.wait()
            builder.ensure(None, identifier, View.CLASSIC)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(b,)) for b in builders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(b.generations_built for b in builders) == 1
    assert _counts(archive)[0] == 1


def test_a_cached_file_deleted_while_running_comes_back(archive, tmp_path):
    study, datasets = _patient_datasets()
    client = client_for(archive)
    assert all(int(s.Status) == 0 for s in client.store(write_datasets(datasets, tmp_path / "in")))
    first = _get(client, study, "CLASSIC")
    generated = _generated_files(archive)
    assert generated
    for path in generated.values():
        archive.file_store.absolute(path).unlink()
    assert _get(client, study, "CLASSIC") == first
    assert all(archive.file_store.absolute(path).exists() for path in generated.values())
