"""Matching rules (PS3.4 C.2.2.2) as SQL: the same answers as their Python twin, on both databases."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from qrscp.index.matching import (
    Target,
    clause,
    combined_datetime,
    like_pattern,
    request_values,
    value_matches,
)
from qrscp.index.models import Patient, Study


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("*", None),
        ("**", None),
        ("A\\B", ["A", "B"]),
        (["1.2", "1.3"], ["1.2", "1.3"]),
        (" X ", ["X"]),
        ('""', ['""']),
    ],
)
def test_request_values(value, expected):
    assert request_values(value) == expected


@pytest.mark.parametrize(
    "value, pattern",
    [("A*", "A%"), ("?B", "_B"), ("50%", "50!%"), ("a_b", "a!_b"), ("x!y*", "x!!y%"), ("back\\slash", "back\\slash")],
)
def test_like_patterns_escape_sql_specials(value, pattern):
    assert like_pattern(value) == pattern


@pytest.mark.parametrize(
    "vr, value, stored, expected",
    [
        ("LO", "AB*", "ABC", True),
        ("LO", "ab*", "ABC", False),
        ("PN", "doe*", "DOE^J", False),
        ("DA", "20200101-20200131", "20200115", True),
        ("DA", "-20200131", "20200201", False),
        ("TM", "10-11", "115959", True),
        ("TM", "1030", "103015", True),
        ("CS", "AXIAL", "ORIGINAL\\PRIMARY\\AXIAL", True),
        ("LO", '""', "", True),
        ("LO", '""', "x", False),
    ],
)
def test_python_twin(vr, value, stored, expected):
    assert value_matches(vr, value, stored) is expected


def test_combined_date_time_needs_two_ranges():
    assert combined_datetime(Study.study_date, Study.study_time, "20200101-", "1000") is None
    assert combined_datetime(Study.study_date, Study.study_time, "20200101-", "1000-") is not None


# Stored and requested text built from the characters that break naive translations to LIKE.
TRICKY = st.text(alphabet="ab%_!\\*?Ü", min_size=0, max_size=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=st.lists(st.text(alphabet="ab%_!Ü", max_size=4), min_size=1, max_size=6, unique=True), pattern=TRICKY)
def test_sql_wildcards_agree_with_python(sessions, stored, pattern):
    """LIKE translation with escapes gives exactly the DICOM wild card semantics on this database."""
    with sessions() as session:
        session.execute(delete(Patient))
        session.execute(insert(Patient), [{"patient_id": f"P{i}", "patient_comments": text} for i, text in enumerate(stored)])
        where = clause(Target(Patient.patient_comments, "LT"), pattern)
        found = set(session.scalars(select(Patient.patient_comments).where(*([where] if where is not None else []))))
        session.rollback()
    expected = {text for text in stored if value_matches("LT", pattern, text)}
    assert found == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stored=st.lists(st.lists(st.sampled_from(["CT", "MR", "C_", "A%"]), min_size=1, max_size=3), min_size=1, max_size=5),
    pattern=st.sampled_from(["CT", "C?", "C*", "*R", "A%", "C_", "MR\\CT", "X"]),
)
def test_multiple_values_agree_with_python(sessions, stored, pattern):
    texts = sorted({"\\".join(values) for values in stored})
    with sessions() as session:
        session.execute(delete(Patient))
        session.execute(insert(Patient), [{"patient_id": f"P{i}", "other_patient_names": text} for i, text in enumerate(texts)])
        where = clause(Target(Patient.other_patient_names, "CS", multiple=True), pattern)
        found = set(session.scalars(select(Patient.other_patient_names).where(where)))
        session.rollback()
    assert found == {text for text in texts if value_matches("CS", pattern, text)}
