"""The eager policy: views of a patient whose studies are quiet are built in the background."""

from __future__ import annotations

import threading

from pydicom.dataset import Dataset
from sqlalchemy import select

from qrscp.index.models import ViewBuild
from qrscp.testing.factory import PatientSpec, derive_uid, make_gsps, make_series, write_datasets
from qrscp.uids import STUDY_ROOT_FIND, View
from tests.views.conftest import view_negotiation

#: Upper bound for the background build of a tiny study (an event ends the wait as soon as it is done).
BUILD_TIMEOUT = 120.0


def _store_study(client, tmp_path, seed: int) -> str:
    patient = PatientSpec.from_seed(seed)
    study = derive_uid("views-eager", seed)
    ct = make_series("CT", slices=3, rows=16, columns=16, patient=patient, study_uid=study, seed=seed)
    assert all(int(s.Status) == 0 for s in client.store(write_datasets([*ct, make_gsps(ct[:1], seed=seed)], tmp_path / str(seed))))
    return study


def test_quiet_patients_respects_quiet_seconds(archive, dicom_client, tmp_path):
    _store_study(dicom_client, tmp_path, 61)
    builder = archive.view_builder
    archive.config.views.quiet_seconds = 3600.0
    assert builder.quiet_patients() == set()
    archive.config.views.quiet_seconds = 0.0
    (patient,) = builder.quiet_patients()
    builder.build_patient(patient, View.ENHANCED)
    builder.build_patient(patient, View.CLASSIC)
    assert builder.quiet_patients() == set()  # nothing left to build


def test_eager_builder_builds_both_views_without_a_request(archive, dicom_client, tmp_path):
    study = _store_study(dicom_client, tmp_path, 62)
    builder = archive.view_builder
    done = threading.Event()
    built: set[View] = set()

    def on_generation(patient_fk: int, view: View, generation: int) -> None:
        built.add(view)
        if built == {View.ENHANCED, View.CLASSIC}:
            done.set()

    builder.listeners.append(on_generation)
    archive.config.views.build_policy = "eager"
    archive.config.views.quiet_seconds = 0.0
    builder.start()
    try:
        assert done.wait(BUILD_TIMEOUT), "the background builder did not build the views"
    finally:
        builder.stop()
    with archive.sessions() as session:
        states = {(row.view, row.state) for row in session.scalars(select(ViewBuild))}
    assert states == {("ENHANCED", "built"), ("CLASSIC", "built")}
    generations = builder.generations_built
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = study
    identifier.QueryRetrieveView = "ENHANCED"
    identifier.NumberOfSeriesRelatedInstances = None
    status, matches = dicom_client.find(identifier, STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_FIND))
    assert status.Status == 0 and sorted(int(m.NumberOfSeriesRelatedInstances) for m in matches) == [1, 1]
    assert builder.generations_built == generations  # the request found the view already built


def test_archive_started_with_the_eager_policy_builds_in_the_background(make_archive, tmp_path):
    from qrscp.testing.network import client_for

    def eager(config) -> None:
        config.views.build_policy = "eager"
        config.views.quiet_seconds = 0.5

    archive = make_archive(eager)
    done = threading.Event()
    built: set[View] = set()

    def on_generation(patient_fk: int, view: View, generation: int) -> None:
        built.add(view)
        if built == {View.ENHANCED, View.CLASSIC}:
            done.set()

    archive.view_builder.listeners.append(on_generation)
    client = client_for(archive)
    study = _store_study(client, tmp_path, 63)
    assert done.wait(BUILD_TIMEOUT), "qrscp serve with build_policy eager built nothing"
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = study
    identifier.QueryRetrieveView = "ENHANCED"
    identifier.NumberOfSeriesRelatedInstances = None
    status, matches = client.find(identifier, STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_FIND))
    assert status.Status == 0 and sorted(int(m.NumberOfSeriesRelatedInstances) for m in matches) == [1, 1]
