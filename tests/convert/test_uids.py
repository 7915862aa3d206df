"""Deterministic UIDs (PS3.5 B.2 UUID-derived, C.3.5 note 1)."""

from __future__ import annotations

import re

from qrscp.convert import UIDSource


def test_uid_is_order_independent_and_valid():
    uids = UIDSource("secret")
    a = uids.derive("ENHANCED", "instance", ["1.2.3", "1.2.4"])
    assert a == uids.derive("ENHANCED", "instance", ["1.2.4", "1.2.3"])
    assert re.fullmatch(r"2\.25\.(0|[1-9][0-9]*)", a) and len(a) <= 64


def test_view_kind_sources_and_secret_all_matter():
    uids = UIDSource("secret")
    base = uids.derive("ENHANCED", "instance", ["1.2.3"])
    others = {
        uids.derive("CLASSIC", "instance", ["1.2.3"]),
        uids.derive("ENHANCED", "series", ["1.2.3"]),
        uids.derive("ENHANCED", "instance", ["1.2.3", "1.2.5"]),
        UIDSource("other").derive("ENHANCED", "instance", ["1.2.3"]),
    }
    assert base not in others and len(others) == 4


def test_new_uid_never_extends_a_source_uid():
    source = "1.2.840.113619.2.55.3.1"
    assert not UIDSource("s").derive("ENHANCED", "instance", [source]).startswith(source)
