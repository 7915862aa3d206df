"""The C-FIND query service and C-MOVE/C-GET lookup, on SQLite and on a real PostgreSQL.

One corpus of three patients is indexed once per database; the matching table runs against both.
"""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom.dsutils import decode, encode
from sqlalchemy import update

sys.path.append(str(Path(__file__).parents[1] / "index"))  # pgcluster, indexdata
import pgcluster
from indexdata import instance_dataset, register

from qrscp.config import Config
from qrscp.index.database import create_engine_for, init_schema, session_factory
from qrscp.index.models import Instance
from qrscp.services.query import InstanceLocation, QueryError, QueryService
from qrscp.status import Status
from qrscp.uids import (
    COMPOSITE_INSTANCE_ROOT_GET,
    CT_IMAGE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    MR_IMAGE_STORAGE,
    PATIENT_ROOT_FIND,
    PATIENT_ROOT_MOVE,
    PET_IMAGE_STORAGE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
    View,
)

BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
# Request values such as "S*" for a CS key or "" are valid queries, not valid attribute values.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR")


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _request(scheduled_step: str) -> Dataset:
    item = Dataset()
    item.ScheduledProcedureStepID = scheduled_step
    item.RequestedProcedureID = "RP-" + scheduled_step
    return item


def corpus() -> list[Dataset]:
    """Three patients, four studies, six series, ten instances, with awkward values on purpose."""
    pat1 = {"PatientName": "Doe^John", "PatientBirthDate": "19700101", "PatientSex": "M"}
    pat2 = {"PatientName": "doe^jane", "PatientBirthDate": "19851231", "PatientSex": "F"}
    pat3 = {"PatientName": "Müller^Jürgen", "PatientSex": "0000", "SpecificCharacterSet": "ISO_IR 100"}
    study11 = {"StudyDate": "20200105", "StudyTime": "101500", "AccessionNumber": "ACC1", "StudyID": "S1",
                   "StudyDescription": "CT CHEST", "ReferringPhysicianName": "Smith^Ann"}
    study12 = {"StudyDate": "20210310", "StudyTime": "083000", "AccessionNumber": "ACC2", "StudyID": "S2",
                   "StudyDescription": "MR BRAIN", "ReferringPhysicianName": "Jones^Bob"}
    study21 = {"TimezoneOffsetFromUTC": "+0100", "StudyDate": "20200131", "StudyTime": "235959", "AccessionNumber": "ACC_3%", "StudyID": "S3",
                   "StudyDescription": "100% done_x"}
    study31 = {"AccessionNumber": "", "StudyID": "S4", "StudyDescription": "Übersicht"}  # no date/time: unknown
    datasets = []
    for i, image_type in enumerate((["ORIGINAL", "PRIMARY", "AXIAL"],) * 2 + (["ORIGINAL", "PRIMARY", "LOCALIZER"],)):
        datasets.append(instance_dataset("PAT1", "1.1", "1.1.1", f"1.1.1.{i + 1}", **pat1, **study11, Modality="CT",
                                         SeriesNumber=1, SeriesDescription="AXIAL 5mm", InstanceNumber=i + 1,
                                         ImageType=image_type, RequestAttributesSequence=[_request("SPS11")]))
    datasets.append(instance_dataset("PAT1", "1.1", "1.1.2", "1.1.2.1", sop_class_uid=BASIC_TEXT_SR, **pat1, **study11,
                                     Modality="SR", SeriesNumber=2, SeriesDescription="Report", InstanceNumber=1, CompletionFlag="COMPLETE",
                                     ConceptNameCodeSequence=[_code("121060", "DCM", "History")]))
    for i in range(2):
        datasets.append(instance_dataset("PAT1", "1.2", "1.2.1", f"1.2.1.{i + 1}", sop_class_uid=MR_IMAGE_STORAGE,
                                         **pat1, **study12, Modality="MR", SeriesNumber=1, InstanceNumber=i + 1,
                                         RequestAttributesSequence=[_request("SPS12")]))
    datasets.append(instance_dataset("PAT2", "2.1", "2.1.1", "2.1.1.1", sop_class_uid=PET_IMAGE_STORAGE, **pat2, **study21,
                                     Modality="PT", SeriesNumber=1, InstanceNumber=1))
    datasets.append(instance_dataset("PAT3", "3.1", "3.1.1", "3.1.1.1", **pat3, **study31, Modality="CT",
                                     SeriesNumber=7, InstanceNumber=1))
    return datasets


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def indexed(request, tmp_path_factory):
    """Session factory of an index holding :func:`corpus` (read-only: tests must not change it)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('query') / 'index.sqlite'}"
    else:
        if not pgcluster.available():
            pytest.skip("PostgreSQL binaries not found")
        try:
            url = pgcluster.shared_cluster().create_database()
        except subprocess.CalledProcessError as exc:
            pytest.fail(f"cannot start PostgreSQL: {exc.stderr}")
    engine = create_engine_for(url)
    init_schema(engine)
    sessions = session_factory(engine)
    register(sessions, corpus())
    yield sessions
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh(request, tmp_path):
    """An empty index of each kind, for tests that change data."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    else:
        if not pgcluster.available():
            pytest.skip("PostgreSQL binaries not found")
        url = pgcluster.shared_cluster().create_database()
    engine = create_engine_for(url)
    init_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def _service(sessions, **query) -> QueryService:
    config = Config()
    config.server.ae_title = "ARCHIVE"
    for name, value in query.items():
        setattr(config.query, name, value)
    return QueryService(config, sessions)


def _identifier(level: str, **keys) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        if isinstance(value, RawDataElement):
            ds._dict[value.tag] = value
        else:
            setattr(ds, keyword, value)
    return ds


UNIQUE = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}


def _find(sessions, level, model=STUDY_ROOT_FIND, relational=False, **keys) -> list[Dataset]:
    unique = UNIQUE[level]
    keys.setdefault(unique, "")
    return list(_service(sessions).find(_identifier(level, **keys), information_model=model, relational=relational))


def _uids(responses, level) -> set[str]:
    return {str(r[UNIQUE[level]].value) for r in responses}


#: An Instance Number of "x" as it arrives over the network: a raw element pydicom cannot convert.
RAW_X = RawDataElement(0x00200013, "IS", 1, b"x", 0, True, True)
SQ_SR_HISTORY = [_code("121060", "DCM", "")]
SQ_ANY_SPS1 = [_request("SPS1*")]
del SQ_ANY_SPS1[0].RequestedProcedureID

# (level, keys, expected unique keys). Patient level uses Patient Root; the others Study Root, with the
# unique keys above the level given (hierarchical). Empty Study Date/Time of study 3.1 is "unknown" and
# matches any value (C.2.2.1.2), except for Empty Value Matching ("").
MATCHING = [
    ("PATIENT", {"PatientID": "PAT1"}, {"PAT1"}),
    ("PATIENT", {"PatientID": "PAT1\\PAT3"}, {"PAT1", "PAT3"}),
    ("PATIENT", {"PatientID": "PAT?"}, {"PAT1", "PAT2", "PAT3"}),
    ("PATIENT", {"PatientID": "*"}, {"PAT1", "PAT2", "PAT3"}),
    ("PATIENT", {"PatientID": "pat1"}, set()),
    ("PATIENT", {"PatientName": "Doe^John"}, {"PAT1"}),
    ("PATIENT", {"PatientName": "DOE^JOHN"}, {"PAT1"}),
    ("PATIENT", {"PatientName": "doe*"}, {"PAT1", "PAT2"}),
    ("PATIENT", {"PatientName": "*^J?hn"}, {"PAT1"}),
    ("PATIENT", {"PatientName": "müller^*"}, {"PAT3"}),
    ("PATIENT", {"PatientName": "MÜLLER^JÜRGEN"}, {"PAT3"}),
    ("PATIENT", {"PatientName": "Doe"}, set()),
    ("PATIENT", {"PatientSex": "0000"}, {"PAT3"}),
    ("PATIENT", {"PatientSex": "F"}, {"PAT2"}),
    ("PATIENT", {"PatientBirthDate": "19700101-19801231"}, {"PAT1", "PAT3"}),
    ("PATIENT", {"PatientBirthDate": "19850101-"}, {"PAT2", "PAT3"}),
    ("PATIENT", {"PatientBirthDate": '""'}, {"PAT3"}),
    ("STUDY", {"StudyDate": "20200101-20200131"}, {"1.1", "2.1", "3.1"}),
    ("STUDY", {"StudyDate": "-20200131"}, {"1.1", "2.1", "3.1"}),
    ("STUDY", {"StudyDate": "20210101-"}, {"1.2", "3.1"}),
    ("STUDY", {"StudyDate": "20200105"}, {"1.1", "3.1"}),
    ("STUDY", {"StudyDate": "2020.01.05"}, {"1.1", "3.1"}),
    ("STUDY", {"StudyDate": '""'}, {"3.1"}),
    ("STUDY", {"StudyTime": "1000-1100"}, {"1.1", "3.1"}),
    ("STUDY", {"StudyTime": "0830"}, {"1.2", "3.1"}),
    ("STUDY", {"StudyTime": "-2359"}, {"1.1", "1.2", "2.1", "3.1"}),
    ("STUDY", {"StudyTime": "2359-"}, {"2.1", "3.1"}),
    ("STUDY", {"AccessionNumber": "ACC_3%"}, {"2.1"}),
    ("STUDY", {"AccessionNumber": "ACC_*"}, {"2.1"}),
    ("STUDY", {"AccessionNumber": "ACC?"}, {"1.1", "1.2"}),
    ("STUDY", {"AccessionNumber": '""'}, {"3.1"}),
    ("STUDY", {"StudyDescription": "*%*"}, {"2.1"}),
    ("STUDY", {"StudyDescription": "*_x"}, {"2.1"}),
    ("STUDY", {"StudyDescription": "ct*"}, set()),
    ("STUDY", {"StudyDescription": "Über*"}, {"3.1"}),
    ("STUDY", {"StudyInstanceUID": "1.1\\2.1"}, {"1.1", "2.1"}),
    ("STUDY", {"StudyInstanceUID": "1.1*"}, set()),
    ("STUDY", {"ModalitiesInStudy": "MR"}, {"1.2"}),
    ("STUDY", {"ModalitiesInStudy": "CT\\PT"}, {"1.1", "2.1", "3.1"}),
    ("STUDY", {"ModalitiesInStudy": "S*"}, {"1.1"}),
    ("STUDY", {"SOPClassesInStudy": MR_IMAGE_STORAGE}, {"1.2"}),
    ("STUDY", {"ReferringPhysicianName": "smith^ann"}, {"1.1", "2.1", "3.1"}),
    ("STUDY", {"PatientName": "Doe*"}, {"1.1", "1.2", "2.1"}),
    ("STUDY", {"PatientID": "PAT2"}, {"2.1"}),
    ("SERIES", {"StudyInstanceUID": "1.1", "Modality": "CT"}, {"1.1.1"}),
    ("SERIES", {"StudyInstanceUID": "1.1", "Modality": "ct"}, set()),
    ("SERIES", {"StudyInstanceUID": "1.1", "SeriesDescription": "AXIAL*"}, {"1.1.1"}),
    ("SERIES", {"StudyInstanceUID": "1.1", "SeriesNumber": "2"}, {"1.1.2"}),
    ("SERIES", {"StudyInstanceUID": "1.1", "RequestAttributesSequence": SQ_ANY_SPS1}, {"1.1.1"}),
    ("SERIES", {"StudyInstanceUID": "1.2", "RequestAttributesSequence": SQ_ANY_SPS1}, {"1.2.1"}),
    ("SERIES", {"StudyInstanceUID": "1.2", "RequestAttributesSequence": [_request("SPS11")]}, set()),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1", "InstanceNumber": "2"}, {"1.1.1.2"}),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1", "InstanceNumber": RAW_X}, set()),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1", "ImageType": "AXIAL"}, {"1.1.1.1", "1.1.1.2"}),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1", "ImageType": "LOC*"}, {"1.1.1.3"}),
    # "*" never spans two values: ORIGINAL\PRIMARY\AXIAL has no single value "P*L".
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1", "ImageType": "P*L"}, set()),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1", "ImageType": "*XIAL"}, {"1.1.1.1", "1.1.1.2"}),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1", "ImageType": "ORIGINAL\\LOCALIZER"},
     {"1.1.1.1", "1.1.1.2", "1.1.1.3"}),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1", "SOPInstanceUID": "1.1.1.1\\1.1.1.3"},
     {"1.1.1.1", "1.1.1.3"}),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.2", "ConceptNameCodeSequence": SQ_SR_HISTORY},
     {"1.1.2.1"}),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.2",
               "ConceptNameCodeSequence": [_code("999", "DCM", "")]}, set()),
    ("IMAGE", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.2", "SOPClassUID": BASIC_TEXT_SR}, {"1.1.2.1"}),
]


@pytest.mark.parametrize("level, keys, expected", MATCHING, ids=[f"{m[0]}-{list(m[1].items())[-1]}" for m in MATCHING])
def test_matching(indexed, level, keys, expected):
    model = PATIENT_ROOT_FIND if level == "PATIENT" else STUDY_ROOT_FIND
    assert _uids(_find(indexed, level, model, **keys), level) == expected


def test_case_sensitive_person_names_when_configured(indexed):
    service = _service(indexed, case_insensitive_person_names=False)
    found = service.find(_identifier("PATIENT", PatientID="", PatientName="doe*"), information_model=PATIENT_ROOT_FIND)
    assert _uids(found, "PATIENT") == {"PAT2"}


def test_unknown_values_match_only_when_configured(indexed):
    service = _service(indexed, match_unknown=False)
    found = service.find(_identifier("STUDY", StudyInstanceUID="", StudyDate="20200105"), information_model=STUDY_ROOT_FIND)
    assert _uids(found, "STUDY") == {"1.1"}


def test_combined_date_time_range(indexed):
    identifier = _identifier("STUDY", StudyInstanceUID="", StudyDate="20200105-20210310", StudyTime="120000-090000")
    found = _service(indexed, match_unknown=False).find(identifier, information_model=STUDY_ROOT_FIND, combined_datetime=True)
    # 2020-01-05 10:15 is before 12:00 that day; 2020-01-31 23:59 and 2021-03-10 08:30 are inside.
    assert _uids(found, "STUDY") == {"2.1", "1.2"}


def test_relational_query_matches_keys_of_lower_levels(indexed):
    found = _find(indexed, "STUDY", relational=True, Modality="MR", SeriesDescription="")
    assert _uids(found, "STUDY") == {"1.2"}
    assert all(not r.SeriesDescription for r in found)  # a lower-level key has no single study value
    series = _find(indexed, "SERIES", relational=True, Modality="CT")  # no Study Instance UID needed
    assert _uids(series, "SERIES") == {"1.1.1", "3.1.1"}
    assert _uids(_find(indexed, "PATIENT", PATIENT_ROOT_FIND, relational=True, InstanceNumber="2"), "PATIENT") == {"PAT1"}


def test_responses_hold_every_requested_key(indexed):
    keys = {"PatientID": "PAT1", "PatientName": "", "PatientBirthDate": "", "StudyDate": "", "StudyDescription": "",
                "AccessionNumber": "", "IssuerOfAccessionNumberSequence": [], "PatientComments": "", "QueryRetrieveView": ""}
    keys[0x00091010] = None  # a private key nobody indexes
    identifier = _identifier("STUDY")
    identifier.StudyInstanceUID = "1.1"
    for keyword, value in keys.items():
        if isinstance(keyword, int):
            identifier.add_new(keyword, "LO", value)
        else:
            setattr(identifier, keyword, value)
    (response,) = _service(indexed).find(identifier, information_model=STUDY_ROOT_FIND)
    for element in identifier:
        assert element.tag in response, element.keyword
    assert response.PatientName == "Doe^John"
    assert response.StudyDate == "20200105"
    assert response.PatientComments == ""
    assert response[0x00091010].value in (None, "")
    assert response.RetrieveAETitle == "ARCHIVE"
    assert response.InstanceAvailability == "ONLINE"
    assert response.QueryRetrieveLevel == "STUDY"
    assert response["QueryRetrieveView"].value in (None, "")
    assert "SpecificCharacterSet" not in response  # all ASCII, nothing stored


def test_timezone_offset_is_answered_never_matched(indexed):
    found = _find(indexed, "STUDY", StudyInstanceUID="1.1\\2.1", TimezoneOffsetFromUTC="-0500")
    assert {r.StudyInstanceUID: r.TimezoneOffsetFromUTC or None for r in found} == {"1.1": None, "2.1": "+0100"}


def test_sequence_keys_return_requested_item_attributes(indexed):
    request_item = Dataset()
    request_item.ScheduledProcedureStepID = ""
    (response,) = _find(indexed, "SERIES", StudyInstanceUID="1.1", SeriesInstanceUID="1.1.1",
                        RequestAttributesSequence=[request_item])
    (item,) = response.RequestAttributesSequence
    assert item.ScheduledProcedureStepID == "SPS11"
    assert "RequestedProcedureID" not in item


AGGREGATES = [
    ("PATIENT", {"PatientID": "PAT1"}, {"NumberOfPatientRelatedStudies": 2, "NumberOfPatientRelatedSeries": 3,
                                        "NumberOfPatientRelatedInstances": 6}),
    ("STUDY", {"StudyInstanceUID": "1.1"}, {"NumberOfStudyRelatedSeries": 2, "NumberOfStudyRelatedInstances": 4,
                                            "ModalitiesInStudy": ["CT", "SR"],
                                            "SOPClassesInStudy": sorted([CT_IMAGE_STORAGE, BASIC_TEXT_SR])}),
    ("STUDY", {"StudyInstanceUID": "1.2"}, {"ModalitiesInStudy": "MR", "SOPClassesInStudy": MR_IMAGE_STORAGE}),
    ("SERIES", {"StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1"}, {"NumberOfSeriesRelatedInstances": 3}),
    # An aggregate of the level above answered at the series level (relational).
    ("SERIES", {"SeriesInstanceUID": "1.2.1"}, {"NumberOfStudyRelatedInstances": 2, "NumberOfSeriesRelatedInstances": 2}),
]


@pytest.mark.parametrize("level, keys, expected", AGGREGATES)
def test_aggregates(indexed, level, keys, expected):
    model = PATIENT_ROOT_FIND if level == "PATIENT" else STUDY_ROOT_FIND
    (response,) = _find(indexed, level, model, relational=True, **keys, **{k: "" for k in expected})
    for keyword, value in expected.items():
        assert response[keyword].value == value, keyword


def test_aggregates_and_matches_follow_the_view(fresh):
    """Classic slices are hidden from ENHANCED, where one converted instance stands for them."""
    register(fresh, [instance_dataset("P", "9", "9.1", f"9.1.{i}", Modality="CT", InstanceNumber=i) for i in (1, 2, 3)])
    register(fresh, [instance_dataset("P", "9", "9.2", "9.2.1", Modality="CT",
                                      sop_class_uid=LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE)],
             views=frozenset({View.ENHANCED}))
    with fresh() as session:
        session.execute(update(Instance).where(Instance.series_fk == 1).values(in_enhanced=False))
        session.commit()
    keys = {"StudyInstanceUID": "9", "NumberOfStudyRelatedInstances": "", "NumberOfStudyRelatedSeries": "", "SOPClassesInStudy": ""}
    expected = {View.DEFAULT: (3, 1, CT_IMAGE_STORAGE), View.CLASSIC: (3, 1, CT_IMAGE_STORAGE),
                View.ENHANCED: (1, 1, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE)}
    for view, (instances, series, sop_class) in expected.items():
        (study,) = _service(fresh).find(_identifier("STUDY", **keys), information_model=STUDY_ROOT_FIND, view=view)
        assert (study.NumberOfStudyRelatedInstances, study.NumberOfStudyRelatedSeries) == (instances, series)
        assert study.SOPClassesInStudy == sop_class
        assert study.get("QueryRetrieveView", "") == view.value
        series_found = _find_view(fresh, view)
        assert len(series_found) == series
        located = _service(fresh).locate(_identifier("STUDY", StudyInstanceUID="9"), information_model=STUDY_ROOT_MOVE, view=view)
        assert len(located) == instances


def _find_view(sessions, view):
    identifier = _identifier("SERIES", StudyInstanceUID="9", SeriesInstanceUID="")
    return list(_service(sessions).find(identifier, information_model=STUDY_ROOT_FIND, view=view))


def test_view_builder_is_asked_before_a_converted_view(fresh):
    calls = []

    class Builder:
        def ensure(self, session, identifier, view):
            calls.append((session, identifier.QueryRetrieveLevel, view))

    service = QueryService(Config(), fresh, view_builder=Builder())
    list(service.find(_identifier("STUDY", StudyInstanceUID=""), information_model=STUDY_ROOT_FIND))
    assert calls == []
    list(service.find(_identifier("STUDY", StudyInstanceUID=""), information_model=STUDY_ROOT_FIND, view=View.ENHANCED))
    service.locate(_identifier("STUDY", StudyInstanceUID="1"), information_model=STUDY_ROOT_GET, view=View.CLASSIC)
    assert calls == [(None, "STUDY", View.ENHANCED), (None, "STUDY", View.CLASSIC)]


@pytest.mark.parametrize(
    "patient, charset, name",
    [
        ("PAT3", "ISO_IR 100", "Müller^Jürgen"),  # stored ISO_IR 100: answered in it
        ("PAT1", None, "Doe^John"),  # ASCII, no character set stored: none answered
    ],
)
def test_specific_character_set_of_responses(indexed, patient, charset, name):
    identifier = _identifier("PATIENT", PatientID=patient, PatientName="", SpecificCharacterSet="ISO_IR 192")
    (response,) = _service(indexed).find(identifier, information_model=PATIENT_ROOT_FIND)
    assert response.PatientName == name
    assert response.get("SpecificCharacterSet", None) in ((charset,) if charset else ("", None))
    encoded = encode(response, True, True)
    assert name.encode("latin-1" if charset else "ascii") in encoded


@pytest.mark.parametrize("charset", ["ISO_IR 100", "ISO_IR 192"])
def test_request_encoded_in_a_character_set_matches_decoded_names(indexed, charset):
    """A request as it arrives: bytes in its Specific Character Set, decoded on access."""
    identifier = _identifier("PATIENT", SpecificCharacterSet=charset, PatientID="", PatientName="Müller*")
    encoded = encode(identifier, True, True)
    assert ("Müller".encode("latin-1") if charset == "ISO_IR 100" else "Müller".encode()) in encoded
    received = decode(io.BytesIO(encoded), True, True)
    (response,) = _service(indexed).find(received, information_model=PATIENT_ROOT_FIND)
    assert response.PatientID == "PAT3"


def test_names_outside_the_stored_character_set_are_answered_in_utf8(fresh):
    register(fresh, [instance_dataset("P", "9", "9.1", "9.1.1", PatientName="王^小東", SpecificCharacterSet="ISO_IR 100")])
    (response,) = _service(fresh).find(_identifier("PATIENT", PatientID="P", PatientName=""), information_model=PATIENT_ROOT_FIND)
    assert response.SpecificCharacterSet == "ISO_IR 192"
    assert "王^小東".encode() in encode(response, True, True)


def test_find_streams_from_an_open_cursor(fresh):
    register(fresh, [instance_dataset("P", "9", "9.1", f"9.1.{i}", InstanceNumber=i) for i in range(1, 601)])
    engine = fresh.kw["bind"]
    identifier = _identifier("IMAGE", StudyInstanceUID="9", SeriesInstanceUID="9.1", SOPInstanceUID="", InstanceNumber="")
    results = _service(fresh).find(identifier, information_model=STUDY_ROOT_FIND)
    assert results.unsupported_keys == ()
    responses = iter(results)
    assert inspect.isgenerator(responses)
    first = next(responses)
    assert first.InstanceNumber == 1
    assert engine.pool.checkedout() == 1  # the query is still open, the rest not yet read
    responses.close()  # C-CANCEL
    assert engine.pool.checkedout() == 0
    numbers = [r.InstanceNumber for r in _service(fresh).find(identifier, information_model=STUDY_ROOT_FIND)]
    assert numbers == list(range(1, 601))


def test_max_matches_refuses_larger_answers(indexed):
    service = _service(indexed, max_matches=2)
    with pytest.raises(QueryError) as caught:
        service.find(_identifier("STUDY", StudyInstanceUID=""), information_model=STUDY_ROOT_FIND)
    assert caught.value.status == Status.REFUSED_OUT_OF_RESOURCES
    assert len(list(service.find(_identifier("STUDY", StudyInstanceUID="1.1\\1.2"), information_model=STUDY_ROOT_FIND))) == 2


ERRORS = [
    # (service, model, identifier keys, relational, status, words in the comment)
    ("find", STUDY_ROOT_FIND, {"StudyInstanceUID": ""}, False, Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "missing"),
    ("find", STUDY_ROOT_FIND, {"QueryRetrieveLevel": "FOO"}, False, Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "FOO"),
    ("find", STUDY_ROOT_FIND, {"QueryRetrieveLevel": "PATIENT", "PatientID": ""}, False,
     Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "PATIENT"),
    ("find", PATIENT_ROOT_FIND, {"QueryRetrieveLevel": "PATIENT", "PatientID": "", "StudyDate": ""}, False,
     Status.CANNOT_UNDERSTAND, "StudyDate"),
    ("find", STUDY_ROOT_FIND, {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": "", "Modality": "CT"}, False,
     Status.CANNOT_UNDERSTAND, "Modality"),
    ("find", STUDY_ROOT_FIND, {"QueryRetrieveLevel": "SERIES", "SeriesInstanceUID": ""}, False,
     Status.CANNOT_UNDERSTAND, "StudyInstanceUID"),
    ("find", STUDY_ROOT_FIND, {"QueryRetrieveLevel": "SERIES", "StudyInstanceUID": "1.1\\1.2", "SeriesInstanceUID": ""},
     False, Status.CANNOT_UNDERSTAND, "StudyInstanceUID"),
    ("find", PATIENT_ROOT_FIND, {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": ""}, False,
     Status.CANNOT_UNDERSTAND, "PatientID"),
    ("find", STUDY_ROOT_MOVE, {"QueryRetrieveLevel": "STUDY"}, False, Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "FIND"),
    ("locate", STUDY_ROOT_MOVE, {"QueryRetrieveLevel": "SERIES", "StudyInstanceUID": "1.1"}, False,
     Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "SeriesInstanceUID"),
    ("locate", STUDY_ROOT_MOVE, {"QueryRetrieveLevel": "SERIES", "SeriesInstanceUID": "1.1.1"}, False,
     Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "StudyInstanceUID"),
    ("locate", PATIENT_ROOT_MOVE, {"QueryRetrieveLevel": "PATIENT"}, False,
     Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "PatientID"),
    ("locate", STUDY_ROOT_MOVE, {}, False, Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "missing"),
    ("locate", STUDY_ROOT_FIND, {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": "1.1"}, False,
     Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "MOVE"),
]


@pytest.mark.parametrize("service_name, model, keys, relational, status, words", ERRORS)
def test_bad_requests(indexed, service_name, model, keys, relational, status, words):
    identifier = Dataset()
    for keyword, value in keys.items():
        setattr(identifier, keyword, value)
    call = getattr(_service(indexed), service_name)
    with pytest.raises(QueryError) as caught:
        call(identifier, information_model=model, relational=relational)  # raised before iterating
    assert caught.value.status == status
    assert words in caught.value.comment
    assert len(caught.value.comment) <= 64


LOCATE = [
    (PATIENT_ROOT_MOVE, {"QueryRetrieveLevel": "PATIENT", "PatientID": "PAT1"}, False, 6),
    (STUDY_ROOT_MOVE, {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": "1.1\\2.1"}, False, 5),
    (STUDY_ROOT_GET, {"QueryRetrieveLevel": "SERIES", "StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1"}, False, 3),
    (STUDY_ROOT_GET, {"QueryRetrieveLevel": "SERIES", "StudyInstanceUID": "2.1", "SeriesInstanceUID": "1.1.1"}, False, 0),
    (STUDY_ROOT_GET, {"QueryRetrieveLevel": "IMAGE", "StudyInstanceUID": "1.1", "SeriesInstanceUID": "1.1.1",
                      "SOPInstanceUID": "1.1.1.1\\1.1.1.3"}, False, 2),
    (STUDY_ROOT_GET, {"QueryRetrieveLevel": "IMAGE", "SOPInstanceUID": "2.1.1.1\\3.1.1.1"}, True, 2),
    (COMPOSITE_INSTANCE_ROOT_GET, {"QueryRetrieveLevel": "IMAGE", "SOPInstanceUID": "1.2.1.2"}, False, 1),
    (STUDY_ROOT_MOVE, {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": "1.*"}, False, 0),  # no wild cards
]


@pytest.mark.parametrize("model, keys, relational, count", LOCATE)
def test_locate(indexed, model, keys, relational, count):
    identifier = Dataset()
    for keyword, value in keys.items():
        setattr(identifier, keyword, value)
    located = _service(indexed).locate(identifier, information_model=model, relational=relational)
    assert len(located) == count
    assert all(isinstance(location, InstanceLocation) for location in located)
    for location in located:
        assert location.file_path.endswith(f"/{location.sop_instance_uid}.dcm")
        assert location.transfer_syntax_uid == ExplicitVRLittleEndian
        assert location.sop_class_uid


def _pydicom_bytes(ds: Dataset, implicit_vr: bool) -> bytes:
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = implicit_vr, True
    write_dataset(fp, ds)
    return fp.getvalue()


@pytest.mark.parametrize("implicit_vr", [True, False], ids=["implicit", "explicit"])
@pytest.mark.parametrize(
    "level, model, keys",
    [
        ("PATIENT", PATIENT_ROOT_FIND, {"PatientName": "", "PatientBirthDate": "", "PatientSex": "",
                                        "NumberOfPatientRelatedInstances": "", "SpecificCharacterSet": ""}),
        ("STUDY", STUDY_ROOT_FIND, {"StudyDate": "", "StudyTime": "", "AccessionNumber": "", "StudyDescription": "",
                                    "ModalitiesInStudy": "", "NumberOfStudyRelatedSeries": "", "QueryRetrieveView": "",
                                    "IssuerOfAccessionNumberSequence": []}),
        ("SERIES", STUDY_ROOT_FIND, {"Modality": "", "SeriesNumber": "", "SeriesDescription": "",
                                     "NumberOfSeriesRelatedInstances": "", "RetrieveAETitle": ""}),
        ("IMAGE", STUDY_ROOT_FIND, {"InstanceNumber": "", "SOPClassUID": "", "ImageType": "",
                                    "ConceptNameCodeSequence": [], "QueryRetrieveLevel": "IMAGE"}),
    ],
)
def test_encoded_responses_are_the_bytes_of_the_response_data_sets(indexed, level, model, keys, implicit_vr):
    """The identifiers a C-FIND SCP sends, encoded from the rows, equal the data sets pydicom would write
    (ASCII and non-ASCII rows, sequences, aggregates, numbers, multi-valued, empty)."""
    relational = level != "PATIENT"
    identifier = _identifier(level, **{UNIQUE[level]: "", **keys})
    datasets = list(_service(indexed).find(identifier, information_model=model, relational=relational))
    encoded = list(_service(indexed).find(identifier, information_model=model, relational=relational,
                                          implicit_vr=implicit_vr))
    assert len(encoded) == len(datasets) > 0
    assert encoded == [_pydicom_bytes(ds, implicit_vr) for ds in datasets]
