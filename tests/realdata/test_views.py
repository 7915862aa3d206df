"""The whole real-data corpus in a running archive: per patient and per view, no served object refers to
an object the view replaced (issue 17; the rule of ``tests/views/test_integrity.py`` on real data)."""

from __future__ import annotations

import warnings
from collections import defaultdict

import pytest
from pydicom.dataset import Dataset

from qrscp.convert import read_source
from qrscp.uids import STUDY_ROOT_FIND, STUDY_ROOT_GET
from tests.realdata.conftest import corpus_files
from tests.views.conftest import view_negotiation
from tests.views.test_integrity import reference_items

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

VIEWS = ("CLASSIC", "ENHANCED")
#: Every transfer syntax of the corpus and of the converted objects.
SYNTAXES = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.50",
            "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
            "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90",
            "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.5"]
CONVERTED_CLASSES = ["1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.128",
                     "1.2.840.10008.5.1.4.1.1.2.2", "1.2.840.10008.5.1.4.1.1.4.4", "1.2.840.10008.5.1.4.1.1.128.1",
                     "1.2.840.10008.5.1.4.1.1.11.1"]


@pytest.fixture
def corpus_archive(corpus, archive, dicom_client):
    """The archive holding every file of the corpus (bytes as they are); (study -> patient, SOP classes)."""
    files = corpus_files()
    statuses = dicom_client.store_as_is(files)
    assert all(int(s.Status) in (0x0000, 0xB000, 0xB007, 0xB006) for s in statuses), [hex(s.Status) for s in statuses]
    classes, patients = set(CONVERTED_CLASSES), {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in files:
            ds = read_source(path)
            classes.add(str(ds.SOPClassUID))
            patients[str(ds.StudyInstanceUID)] = str(ds.get("PatientID", "") or "")
    return patients, sorted(classes)


def _study_view(client, study_uid: str, view: str, classes: list[str]) -> list[Dataset]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    identifier.QueryRetrieveView = view
    result = client.get(identifier, STUDY_ROOT_GET, storage=[(c, SYNTAXES) for c in classes],
                        ext_neg=view_negotiation(STUDY_ROOT_GET))
    assert result.code in (0x0000, 0xB000), (view, study_uid, result.status)
    return [r.dataset() for r in result.received]


def test_no_served_object_refers_to_an_object_its_view_replaced(corpus_archive, dicom_client):
    patients, classes = corpus_archive
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = ""
    status, matches = dicom_client.find(identifier, STUDY_ROOT_FIND)
    assert status.Status == 0
    studies_of: dict[str, list[str]] = defaultdict(list)
    for match in matches:
        studies_of[patients[str(match.StudyInstanceUID)]].append(str(match.StudyInstanceUID))
    assert sorted(s for studies in studies_of.values() for s in studies) == sorted(patients)
    replacing = {view: 0 for view in VIEWS}  # patients whose view replaced something: the check is not vacuous
    for patient, studies in sorted(studies_of.items()):
        stored = {str(ds.SOPInstanceUID) for ds in _served(dicom_client, studies, None, classes)}
        for view in VIEWS:
            served = _served(dicom_client, studies, view, classes)
            uids = {str(ds.SOPInstanceUID) for ds in served}
            replaced = stored - uids
            replacing[view] += bool(replaced)
            for ds in served:
                for target, _frames in reference_items(ds):
                    assert target not in replaced, (
                        f"patient {patient!r}, {view}: {ds.SOPClassUID} {ds.SOPInstanceUID} refers to {target}, "
                        "which the view replaced")
    assert all(replacing.values()), replacing


def _served(client, studies: list[str], view: str | None, classes: list[str]) -> list[Dataset]:
    served = []
    for study in studies:
        if view is None:
            identifier = Dataset()
            identifier.QueryRetrieveLevel = "STUDY"
            identifier.StudyInstanceUID = study
            result = client.get(identifier, STUDY_ROOT_GET, storage=[(c, SYNTAXES) for c in classes])
            assert result.code in (0x0000, 0xB000), result.status
            served += [r.dataset() for r in result.received]
        else:
            served += _study_view(client, study, view, classes)
    return served
