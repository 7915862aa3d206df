"""Shared tag objects: one per tag value, found by identity in the element dicts of data sets read."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.tag import BaseTag, Tag

from qrscp.dicom.datasets import element_dict
from qrscp.dicom.reader import read_explicit_little_endian
from qrscp.dicom.tags import keyword_tag, shared_tag
from qrscp.testing.factory import make_series, write_datasets


@pytest.mark.parametrize("keyword", ["PatientName", "PixelData", "PerFrameFunctionalGroupsSequence"])
def test_keyword_tag_is_pydicoms_tag_shared(keyword: str) -> None:
    assert keyword_tag(keyword) == Tag(keyword)
    assert type(keyword_tag(keyword)) is BaseTag
    assert keyword_tag(keyword) is shared_tag(int(Tag(keyword)))


def test_keyword_tag_refuses_a_name_that_is_not_a_keyword() -> None:
    with pytest.raises(ValueError):
        keyword_tag("NotAKeyword")


def test_files_read_share_their_tag_objects(tmp_path: Path) -> None:
    paths = write_datasets(make_series("CT", slices=2, rows=8, columns=8, seed=5), tmp_path)
    first, second = (read_explicit_little_endian(path, defer_size=None) for path in paths)
    assert first is not None and second is not None
    for tag in element_dict(first):
        assert type(tag) is BaseTag
        assert next(t for t in element_dict(second) if t == tag) is tag  # the same object, found by identity
    assert keyword_tag("SOPInstanceUID") is shared_tag(0x00080018)
    assert keyword_tag("SOPInstanceUID") in element_dict(first)


def test_tags_beyond_the_shared_limit_are_new_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    from qrscp.dicom import tags

    monkeypatch.setattr(tags, "SHARED_TAGS", {})
    monkeypatch.setattr(tags, "_MAX_SHARED_TAGS", 2)
    kept = [shared_tag(0x00090010), shared_tag(0x00090011)]
    extra = shared_tag(0x00090012)
    assert [shared_tag(0x00090010), shared_tag(0x00090011)] == kept
    assert shared_tag(0x00090010) is kept[0]
    assert extra == 0x00090012 and shared_tag(0x00090012) is not extra
    assert len(tags.SHARED_TAGS) == 2
