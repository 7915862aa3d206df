"""The retrieve service without the network: instance-root validation, what each sub-operation sends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.config import Config
from qrscp.services.retrieve import (
    RetrieveError,
    RetrieveService,
    StoredInstance,
    without_bulk_data,
)
from qrscp.status import Status
from qrscp.testing.factory import make_series, write_datasets
from qrscp.uids import (
    COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
    View,
)


@dataclass
class Location:
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    file_path: str


class RecordingQuery:
    """Stands in for QueryService.locate and records how it was called."""

    def __init__(self, locations=()):
        self.calls: list[tuple[Dataset, dict]] = []
        self.locations = list(locations)

    def locate(self, identifier, **kwargs):
        self.calls.append((identifier, kwargs))
        return iter(self.locations)


class FlatStore:
    def __init__(self, root: Path):
        self.root = root

    def absolute(self, relative_path: str) -> Path:
        return self.root / relative_path


def _keys(level: str, **values) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize("model", [COMPOSITE_INSTANCE_ROOT_GET, COMPOSITE_INSTANCE_ROOT_MOVE,
                                   COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET])
def test_instance_root_is_resolved_as_relational_image_level(tmp_path, model):
    query = RecordingQuery()
    service = RetrieveService(Config(), query, FlatStore(tmp_path))
    service.locate(_keys("IMAGE", SOPInstanceUID=["1.2.3", "1.2.4"], PatientName="X*"), information_model=model,
                   view=View.ENHANCED)
    [(identifier, kwargs)] = query.calls
    assert kwargs["relational"] is True and kwargs["view"] is View.ENHANCED
    assert kwargs["information_model"] == (STUDY_ROOT_MOVE if model == COMPOSITE_INSTANCE_ROOT_MOVE else STUDY_ROOT_GET)
    assert list(identifier.SOPInstanceUID) == ["1.2.3", "1.2.4"]
    assert "PatientName" not in identifier  # only the instance keys of Y.4.2.1.3 are used


@pytest.mark.parametrize(
    "keys, status",
    [
        (_keys("SERIES", SOPInstanceUID="1.2.3"), Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS),
        (_keys("IMAGE"), Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS),
        (_keys("FRAME", SOPInstanceUID="1.2.3"), Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS),  # no Frame Range Key
    ],
)
def test_bad_instance_root_requests(tmp_path, keys, status):
    service = RetrieveService(Config(), RecordingQuery(), FlatStore(tmp_path))
    with pytest.raises(RetrieveError) as caught:
        service.locate(keys, information_model=COMPOSITE_INSTANCE_ROOT_GET)
    assert caught.value.status == status and caught.value.comment


def test_hierarchical_models_pass_through(tmp_path):
    query = RecordingQuery()
    service = RetrieveService(Config(), query, FlatStore(tmp_path))
    keys = _keys("STUDY", StudyInstanceUID="1.2")
    service.locate(keys, information_model=STUDY_ROOT_GET, relational=False)
    assert query.calls == [(keys, {"information_model": STUDY_ROOT_GET, "relational": False, "view": View.DEFAULT})]


@pytest.fixture
def stored_files(tmp_path) -> list[Path]:
    return write_datasets(make_series("CT", slices=2, seed=3, overlay=True), tmp_path / "files")


def test_stored_instance_carries_identity_and_path(tmp_path, stored_files):
    ds = dcmread(stored_files[0])
    location = Location(ds.SOPClassUID, ds.SOPInstanceUID, ExplicitVRLittleEndian, stored_files[0].name)
    service = RetrieveService(Config(), RecordingQuery(), FlatStore(stored_files[0].parent))
    sent = service.dataset_for(location, information_model=STUDY_ROOT_GET)
    assert isinstance(sent, StoredInstance)
    assert (sent.SOPClassUID, sent.SOPInstanceUID) == (ds.SOPClassUID, ds.SOPInstanceUID)
    assert sent.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert sent.stored_path == stored_files[0]
    assert "PixelData" not in sent  # nothing is decoded


def test_without_bulk_data_strips_annex_z_attributes(stored_files):
    original = dcmread(stored_files[0])
    original.WaveformSequence = [Dataset()]
    original.WaveformSequence[0].WaveformBitsAllocated = 16
    original.WaveformSequence[0].WaveformData = b"\x00\x01" * 8
    original.WaveformSequence[0].NumberOfWaveformChannels = 1
    original.EncapsulatedDocument = b"%PDF"
    original.save_as(stored_files[0])
    assert any(t.group == 0x6000 and t.element == 0x3000 for t in original.keys()), "factory overlay expected"
    stripped = without_bulk_data(stored_files[0])
    for keyword in ("PixelData", "EncapsulatedDocument"):
        assert keyword not in stripped
    assert not [t for t in stripped.keys() if 0x6000 <= t.group <= 0x60FF and t.element == 0x3000]
    assert "WaveformData" not in stripped.WaveformSequence[0]
    assert stripped.WaveformSequence[0].NumberOfWaveformChannels == 1
    assert stripped.PatientID == original.PatientID
    assert (0x6000, 0x0010) in stripped  # overlay rows: only the Overlay Data is bulk
