"""The C-FIND key table: every key is stored, typed and placed at its PS3.4 level."""

from __future__ import annotations

import pytest
from pydicom.datadict import dictionary_VR
from sqlalchemy import Integer

from qrscp.index.keys import (
    KEYS,
    KEYS_BY_KEYWORD,
    LEVEL_ORDER,
    UNIQUE_KEY_FOR_LEVEL,
    levels_of,
    model_level,
)
from qrscp.uids import PATIENT_ROOT_FIND, STUDY_ROOT_FIND, Level

#: Unique and Required keys of PS3.4 C.6.1.1 (Patient Root), by level.
REQUIRED = {
    Level.PATIENT: {"PatientName", "PatientID"},
    Level.STUDY: {"StudyDate", "StudyTime", "AccessionNumber", "StudyID", "StudyInstanceUID"},
    Level.SERIES: {"Modality", "SeriesNumber", "SeriesInstanceUID"},
    Level.IMAGE: {"InstanceNumber", "SOPInstanceUID"},
}
ADDITIONAL = {  # C.3.4 additional query attributes
    "NumberOfPatientRelatedStudies": Level.PATIENT,
    "NumberOfPatientRelatedSeries": Level.PATIENT,
    "NumberOfPatientRelatedInstances": Level.PATIENT,
    "NumberOfStudyRelatedSeries": Level.STUDY,
    "NumberOfStudyRelatedInstances": Level.STUDY,
    "ModalitiesInStudy": Level.STUDY,
    "SOPClassesInStudy": Level.STUDY,
    "NumberOfSeriesRelatedInstances": Level.SERIES,
}


@pytest.mark.parametrize("level", LEVEL_ORDER)
def test_required_and_unique_keys_are_at_their_level(level):
    for keyword in REQUIRED[level]:
        key = KEYS_BY_KEYWORD[keyword]
        assert key.level is level
        assert key.unique == (keyword == UNIQUE_KEY_FOR_LEVEL[level])
        assert key.unique or key.required


@pytest.mark.parametrize("keyword, level", ADDITIONAL.items())
def test_additional_query_attributes_are_computed(keyword, level):
    key = KEYS_BY_KEYWORD[keyword]
    assert key.level is level and key.computed


@pytest.mark.parametrize("key", KEYS, ids=lambda key: key.keyword)
def test_every_stored_key_has_a_typed_column(key):
    assert key.vr == dictionary_VR(key.keyword)
    if key.computed:
        return
    column = key.model.__table__.c[key.column]
    assert not column.nullable or isinstance(column.type, Integer)
    if key.vr == "PN":
        assert key.ci_column in key.model.__table__.c


def test_study_root_puts_patient_keys_at_the_study_level():
    patient_name = KEYS_BY_KEYWORD["PatientName"]
    assert model_level(patient_name, PATIENT_ROOT_FIND) is Level.PATIENT
    assert model_level(patient_name, STUDY_ROOT_FIND) is Level.STUDY
    assert levels_of(STUDY_ROOT_FIND) == (Level.STUDY, Level.SERIES, Level.IMAGE)
    assert levels_of(PATIENT_ROOT_FIND) == LEVEL_ORDER
