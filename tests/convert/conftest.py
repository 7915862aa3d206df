"""Fixtures of the conversion tests."""

from __future__ import annotations

import pytest

from qrscp.convert import UIDSource


@pytest.fixture
def uids() -> UIDSource:
    return UIDSource("test-secret")
