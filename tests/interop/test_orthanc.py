"""Orthanc 1.10 (Debian ``orthanc``) against the archive: storing to it, querying every level, C-MOVE into
Orthanc for every stored transfer syntax. Orthanc runs with its own temporary configuration and is driven
through its REST API (``qrscp.testing.orthanc``)."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from qrscp.testing.encoding import available_transfer_syntaxes
from qrscp.testing.factory import make_series, write_datasets
from qrscp.testing.network import LOCALHOST, add_peer, client_for
from qrscp.testing.orthanc import Orthanc, orthanc_path, start_orthanc
from qrscp.uids import STUDY_ROOT_GET

LITTLE_ENDIAN = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)

pytestmark = [
    pytest.mark.interop,
    pytest.mark.network,
    pytest.mark.skipif(orthanc_path() is None, reason="Orthanc not installed (apt-get install orthanc)"),
]


@pytest.fixture(scope="module")
def orthanc(syntax_archive: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    archive = syntax_archive.archive
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"), {"qrscp": (archive.ae_title, LOCALHOST, archive.port)})
    add_peer(archive, server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sent_by_orthanc(orthanc: Orthanc, syntax_archive: Any, tmp_path_factory) -> list:
    """A CT series (Latin-1 patient name) uploaded to Orthanc, then sent by Orthanc to the archive."""
    series = make_series("CT", slices=3, seed=601)
    files = write_datasets(series, tmp_path_factory.mktemp("orthanc-upload"))
    ids = [orthanc.upload(path.read_bytes()) for path in files]
    job = orthanc.post("/modalities/qrscp/store", {"Resources": ids, "Synchronous": True})
    assert (job["InstancesCount"], job["FailedInstancesCount"]) == (3, 0), job
    return series


def test_orthanc_stores_into_the_archive(sent_by_orthanc, syntax_archive):
    archive = syntax_archive.archive
    keys = make_keys("IMAGE", sent_by_orthanc[0], SOPInstanceUID="")
    final, matches = client_for(archive).find(keys)
    assert final.Status == 0
    assert sorted(m.SOPInstanceUID for m in matches) == sorted(ds.SOPInstanceUID for ds in sent_by_orthanc)
    for ds in sent_by_orthanc:
        [location] = archive.retrieve.locate(make_keys("IMAGE", ds, SOPInstanceUID=ds.SOPInstanceUID),
                                             information_model=STUDY_ROOT_GET)
        stored = dcmread(archive.file_store.absolute(location.file_path))
        assert stored.PatientName == ds.PatientName
        np.testing.assert_array_equal(stored.pixel_array, ds.pixel_array)


def make_keys(level: str, ds, **extra) -> Dataset:
    keys = Dataset()
    keys.QueryRetrieveLevel = level
    keys.StudyInstanceUID = ds.StudyInstanceUID
    if level in ("SERIES", "IMAGE"):
        keys.SeriesInstanceUID = ds.SeriesInstanceUID
    for keyword, value in extra.items():
        setattr(keys, keyword, value)
    return keys


def _orthanc_queries(ds):
    """What Orthanc Explorer asks at each level (wildcards in a Latin-1 name, date ranges)."""
    family = str(ds.PatientName).split("^")[0]
    return {
        "Patient": ({"PatientName": family[:2] + "*", "PatientID": ds.PatientID, "PatientBirthDate": ""},
                    {"PatientID": ds.PatientID, "PatientName": str(ds.PatientName)}),
        "Study": ({"PatientID": ds.PatientID, "StudyDate": f"{ds.StudyDate}-", "StudyInstanceUID": "",
                   "StudyDescription": "", "AccessionNumber": "", "ModalitiesInStudy": ""},
                  {"StudyInstanceUID": ds.StudyInstanceUID, "StudyDescription": ds.StudyDescription,
                   "AccessionNumber": ds.AccessionNumber}),
        "Series": ({"StudyInstanceUID": ds.StudyInstanceUID, "SeriesInstanceUID": "", "Modality": "",
                    "SeriesNumber": "", "SeriesDescription": ""},
                   {"SeriesInstanceUID": ds.SeriesInstanceUID, "Modality": "CT"}),
        "Instance": ({"StudyInstanceUID": ds.StudyInstanceUID, "SeriesInstanceUID": ds.SeriesInstanceUID,
                      "SOPInstanceUID": "", "InstanceNumber": ""},
                     {"SeriesInstanceUID": ds.SeriesInstanceUID}),
    }


@pytest.mark.parametrize("level", ["Patient", "Study", "Series", "Instance"])
def test_orthanc_queries_every_level(orthanc, sent_by_orthanc, level):
    ds = sent_by_orthanc[0]
    query, expected = _orthanc_queries(ds)[level]
    answers = orthanc.query("qrscp", level, query)
    assert len(answers) == (3 if level == "Instance" else 1), answers
    for answer in answers:
        assert {key: answer.get(key) for key in expected} == expected
    if level == "Instance":
        assert sorted(a["SOPInstanceUID"] for a in answers) == sorted(d.SOPInstanceUID for d in sent_by_orthanc)


@pytest.mark.pynetdicom_patches  # transcoding on retrieve is part of the stored-file sender
@pytest.mark.parametrize("syntax", available_transfer_syntaxes(), ids=lambda uid: UID(uid).name)
def test_c_move_into_orthanc_delivers_every_stored_syntax(orthanc, syntax_archive, syntax):
    original = syntax_archive.originals[syntax]
    resource = {"StudyInstanceUID": original.StudyInstanceUID, "SeriesInstanceUID": original.SeriesInstanceUID,
                "SOPInstanceUID": original.SOPInstanceUID}
    orthanc.move("qrscp", "Instance", [resource])
    [instance_id] = orthanc.post("/tools/find", {"Level": "Instance", "Query": {"SOPInstanceUID": original.SOPInstanceUID}})
    received = dcmread(BytesIO(orthanc.get(f"/instances/{instance_id}/file")))
    stored = syntax_archive.stored(syntax)
    # Orthanc takes every stored syntax in its own context (the retired big endian one included); an
    # uncompressed one may also come in the uncompressed context, as Orthanc's preferred little endian.
    arrived = received.file_meta.TransferSyntaxUID
    assert arrived == syntax or (not UID(syntax).is_compressed and arrived in LITTLE_ENDIAN)
    assert received.SOPInstanceUID == original.SOPInstanceUID
    np.testing.assert_array_equal(received.pixel_array, stored.pixel_array)
