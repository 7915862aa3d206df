"""FrameService: the FRAME level request resolved in a view, the extracted instance and its cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from qrscp.convert.frame_lists import FrameRequestError
from qrscp.services import frames as frames_module
from qrscp.services.frames import FrameService
from qrscp.status import Status
from qrscp.testing.enhanced import make_enhanced_mr
from qrscp.testing.files import write_datasets
from qrscp.uids import View


@dataclass(frozen=True)
class _Location:
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    file_path: str


class _Store:
    def __init__(self, root: Path) -> None:
        self.root = root

    def absolute(self, relative_path: str) -> Path:
        return self.root / relative_path


@pytest.fixture
def source(tmp_path) -> tuple[Dataset, Path]:
    ds = make_enhanced_mr(frames=6, seed=3)
    [path] = write_datasets([ds], tmp_path / "store")
    return ds, path


def _service(tmp_path: Path, source: tuple[Dataset, Path], calls: list | None = None) -> FrameService:
    ds, path = source

    def locate(keys: Dataset, view: View) -> list[_Location]:
        if calls is not None:
            calls.append((keys, view))
        if keys.SOPInstanceUID != ds.SOPInstanceUID:
            return []
        return [_Location(ds.SOPClassUID, ds.SOPInstanceUID, ds.file_meta.TransferSyntaxUID, path.name)]

    return FrameService("secret", locate, _Store(path.parent), tmp_path / "frames")


def _keys(uid: str, **frame_range) -> Dataset:
    keys = Dataset()
    keys.QueryRetrieveLevel = "FRAME"
    keys.SOPInstanceUID = uid
    keys.StudyInstanceUID = "1.2.3"
    for keyword, value in frame_range.items():
        setattr(keys, keyword, value)
    return keys


def test_source_is_located_in_the_requested_view_and_extracted_once(tmp_path, source):
    calls: list = []
    service = _service(tmp_path, source, calls)
    [first] = service.locate(_keys(source[0].SOPInstanceUID, SimpleFrameList=[2, 4]), view=View.ENHANCED)
    keys, view = calls[0]
    assert view is View.ENHANCED and keys.QueryRetrieveLevel == "IMAGE" and keys.StudyInstanceUID == "1.2.3"
    assert "SimpleFrameList" not in keys
    assert first.frames == (2, 4) and first.source_sop_instance_uid == source[0].SOPInstanceUID
    assert pydicom.dcmread(first.file_path).SOPInstanceUID == first.sop_instance_uid
    written = os.stat(first.file_path).st_ino
    [again] = service.locate(_keys(source[0].SOPInstanceUID, SimpleFrameList=[2, 4]), view=View.ENHANCED)
    assert again == first and os.stat(again.file_path).st_ino == written  # served from the cache
    assert not [p for p in (tmp_path / "frames").iterdir() if p.suffix == ".part"]


def test_a_replaced_source_file_is_extracted_again(tmp_path, source):
    service = _service(tmp_path, source)
    [first] = service.locate(_keys(source[0].SOPInstanceUID, SimpleFrameList=[1]))
    ds, path = source
    os.utime(path, ns=(1, 1))  # another file under the same name
    [second] = service.locate(_keys(ds.SOPInstanceUID, SimpleFrameList=[1]))
    assert second.file_path != first.file_path and second.sop_instance_uid == first.sop_instance_uid


def test_unknown_instance_gives_no_instance(tmp_path, source):
    assert _service(tmp_path, source).locate(_keys("1.2.999", SimpleFrameList=[1])) == []


def test_identifier_errors_change_nothing(tmp_path, source):
    service = _service(tmp_path, source)
    keys = _keys(source[0].SOPInstanceUID, SimpleFrameList=[1])
    keys.SOPInstanceUID = [source[0].SOPInstanceUID, "1.2.4"]
    with pytest.raises(FrameRequestError) as caught:
        service.locate(keys)
    assert caught.value.status == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    with pytest.raises(FrameRequestError) as caught:
        service.locate(_keys(source[0].SOPInstanceUID, SimpleFrameList=[7]))
    assert caught.value.status == Status.NO_FRAMES_FOUND
    assert not (tmp_path / "frames").exists()


def test_cache_keeps_the_most_recently_used_files(tmp_path, source, monkeypatch):
    monkeypatch.setattr(frames_module, "MAX_CACHED_FILES", 3)
    service = _service(tmp_path, source)
    made = []
    for n in range(1, 6):
        [location] = service.locate(_keys(source[0].SOPInstanceUID, SimpleFrameList=[n]))
        if Path(location.file_path).exists():
            os.utime(location.file_path, ns=(n * 10**9, n * 10**9))  # distinct ages, oldest first
        made.append(Path(location.file_path).name)
    kept = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert kept == sorted(made[-3:])
