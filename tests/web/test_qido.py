"""QIDO-RS in every service root: dicomweb-client searches, the JSON read back with pydicom's
``Dataset.from_json``, and the answers compared with C-FIND's (one query path)."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from tests.web.conftest import ROOTS, c_find

VIEWS = list(ROOTS)
pytestmark = pytest.mark.network


def _uids(results: list[dict], keyword: str) -> list[str]:
    return sorted(str(Dataset.from_json(r)[keyword].value) for r in results)


@pytest.mark.parametrize("view", VIEWS)
def test_every_search_resource_answers_like_c_find(web, view):
    client = web.client(view)
    ct_study, mr_study = web.studies["ct"], web.studies["mr"]
    studies = client.search_for_studies()
    assert _uids(studies, "StudyInstanceUID") == sorted(web.studies.values())
    for study in studies:
        ds = Dataset.from_json(study)
        found = c_find(web, view, "STUDY", StudyInstanceUID=ds.StudyInstanceUID, NumberOfStudyRelatedInstances="",
                       NumberOfStudyRelatedSeries="", ModalitiesInStudy="")
        assert int(ds.NumberOfStudyRelatedInstances) == int(found[0].NumberOfStudyRelatedInstances)
        assert int(ds.NumberOfStudyRelatedSeries) == int(found[0].NumberOfStudyRelatedSeries)
        assert ds.RetrieveURL == web.url(view, f"/studies/{ds.StudyInstanceUID}")
    series = client.search_for_series(study_instance_uid=ct_study)
    find_series = c_find(web, view, "SERIES", StudyInstanceUID=ct_study, SeriesInstanceUID="", NumberOfSeriesRelatedInstances="")
    assert _uids(series, "SeriesInstanceUID") == sorted(str(s.SeriesInstanceUID) for s in find_series)
    all_series = client.search_for_series()
    assert len(all_series) >= len(web.studies)
    instances = client.search_for_instances(study_instance_uid=mr_study)
    find_instances = c_find(web, view, "IMAGE", StudyInstanceUID=mr_study, SOPInstanceUID="")
    assert _uids(instances, "SOPInstanceUID") == sorted(str(i.SOPInstanceUID) for i in find_instances)
    series_uid = str(Dataset.from_json(instances[0]).SeriesInstanceUID)
    in_series = client.search_for_instances(study_instance_uid=mr_study, series_instance_uid=series_uid)
    assert {str(Dataset.from_json(i).SeriesInstanceUID) for i in in_series} == {series_uid}
    everything = client.search_for_instances()
    assert set(_uids(instances, "SOPInstanceUID")) <= set(_uids(everything, "SOPInstanceUID"))


def test_views_differ_where_the_supplement_says(web):
    """The CT series is one multi-frame in ENHANCED, the Enhanced MR five single frames in CLASSIC."""
    ct_enhanced = web.client("enhanced").search_for_instances(study_instance_uid=web.studies["ct"])
    assert len(ct_enhanced) == 1
    assert Dataset.from_json(ct_enhanced[0]).SOPClassUID == "1.2.840.10008.5.1.4.1.1.2.2"
    mr_classic = web.client("classic").search_for_instances(study_instance_uid=web.studies["enhanced"])
    assert len(mr_classic) == 5
    assert {str(Dataset.from_json(i).SOPClassUID) for i in mr_classic} == {"1.2.840.10008.5.1.4.1.1.4"}
    default = web.client("default").search_for_instances(study_instance_uid=web.studies["ct"])
    assert _uids(default, "SOPInstanceUID") == sorted(web.instances["ct"])


def test_matching_includefield_limit_and_offset(web):
    client = web.client("default")
    ct = Dataset.from_json(client.search_for_studies(search_filters={"StudyInstanceUID": web.studies["ct"]})[0])
    family = str(ct.PatientName).split("^")[0]
    by_name = client.search_for_studies(search_filters={"PatientName": family[:3] + "*"})
    assert web.studies["ct"] in _uids(by_name, "StudyInstanceUID")
    by_tag = client.search_for_studies(search_filters={"00100020": str(ct.PatientID)})
    assert _uids(by_tag, "StudyInstanceUID") == [web.studies["ct"]]
    assert client.search_for_studies(search_filters={"PatientID": "NO-SUCH-PATIENT"}) == []
    with_all = client.search_for_studies(search_filters={"StudyInstanceUID": web.studies["ct"]}, fields=["all"])
    assert "PatientAge" in Dataset.from_json(with_all[0]) or "StudyDescription" in Dataset.from_json(with_all[0])
    assert "ProtocolName" not in Dataset.from_json(with_all[0])  # a series attribute
    with_field = client.search_for_series(search_filters={"StudyInstanceUID": web.studies["ct"]}, fields=["ProtocolName"])
    assert "ProtocolName" in Dataset.from_json(with_field[0])
    every = _uids(client.search_for_instances(), "SOPInstanceUID")
    pages = [client.search_for_instances(limit=3, offset=offset) for offset in range(0, len(every), 3)]
    assert all(len(page) <= 3 for page in pages)
    assert sorted(uid for page in pages for uid in _uids(page, "SOPInstanceUID")) == every


def test_json_of_person_names_and_numbers(web):
    with web.http() as http:
        response = http.get("/dicomweb/studies", params={"StudyInstanceUID": web.studies["ct"], "includefield": "all"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/dicom+json"
    (study,) = response.json()
    assert set(study["00100010"]["Value"][0]) <= {"Alphabetic", "Ideographic", "Phonetic"}
    assert isinstance(study["00201208"]["Value"][0], int)  # Number of Study Related Instances (IS)
    assert "00080052" not in study  # no Query/Retrieve Level in QIDO-RS answers
    ds = Dataset.from_json(study)
    assert ds.StudyInstanceUID == web.studies["ct"]


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"NoSuchKeyword": "x"}, {}, 400),
        ({"limit": "-1"}, {}, 400),
        ({"fuzzymatching": "maybe"}, {}, 400),
        ({"Rows": "many"}, {}, 400),
        ({}, {"Accept": "application/xml"}, 406),
    ],
)
def test_bad_searches_get_a_clear_status(web, params, headers, status):
    with web.http() as http:
        response = http.get("/dicomweb/studies", params=params, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    assert "Traceback" not in response.text and len(response.text.strip()) > 10


def test_fuzzy_matching_and_unsupported_keys_are_warned(web):
    with web.http() as http:
        response = http.get("/dicomweb/studies", params={"fuzzymatching": "true", "PatientName": "*"})
        assert response.status_code == 200
        assert "fuzzymatching" in response.headers["warning"]
        response = http.get("/dicomweb/studies", params={"includefield": "PatientMotherBirthName"})
        assert response.status_code == 200
        assert "PatientMotherBirthName" in response.headers["warning"]
