"""Query/Retrieve View request rules over the network: negotiation required, known values only, and a view
consistent with the requested unique keys (PS3.4 C.4.1.1.3.1, C.4.2.2.2.2 note 3)."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from qrscp.status import Status, is_failure
from qrscp.uids import (
    COMPOSITE_INSTANCE_ROOT_GET,
    CT_IMAGE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
)
from tests.views.conftest import (
    ZZZ_FIRST_SLICE_UID,
    ZZZ_SERIES_UID,
    ZZZ_STUDY_UID,
    view_negotiation,
)

UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
STORAGE = [(CT_IMAGE_STORAGE, UNCOMPRESSED), (LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, UNCOMPRESSED)]


def _identifier(level: str, view: str | None, **keys: str) -> Dataset:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level
    identifier.StudyInstanceUID = ZZZ_STUDY_UID
    for keyword, value in keys.items():
        setattr(identifier, keyword, value)
    if view is not None:
        identifier.QueryRetrieveView = view
    return identifier


def _assert_failure(status: Dataset, fragment: str) -> None:
    assert is_failure(int(status.Status)), status
    assert int(status.Status) == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert fragment in str(status.get("ErrorComment", ""))


@pytest.mark.pynetdicom_patches
def test_view_without_negotiation_fails_for_find_get_and_move(zzzb_archive, dicom_client, storage_scp):
    status, matches = dicom_client.find(_identifier("STUDY", "ENHANCED"), STUDY_ROOT_FIND)
    assert matches == []
    _assert_failure(status, "not negotiated")
    result = dicom_client.get(_identifier("STUDY", "CLASSIC"), STUDY_ROOT_GET, storage=STORAGE)
    assert result.received == []
    _assert_failure(result.status, "not negotiated")
    scp = storage_scp("RULESDEST")
    dicom_client.add_peer(zzzb_archive, scp)
    result = dicom_client.move(_identifier("STUDY", "CLASSIC"), "RULESDEST", STUDY_ROOT_MOVE)
    _assert_failure(result.status, "not negotiated")
    assert scp.received == []


def test_view_negotiated_for_another_sop_class_only_fails(zzzb_archive, dicom_client):
    # The option was accepted for C-GET, but this C-FIND's SOP Class did not negotiate it.
    status, _ = dicom_client.find(
        _identifier("STUDY", "ENHANCED"), STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_GET)
    )
    _assert_failure(status, "not negotiated")


@pytest.mark.parametrize("value", ["MULTIFRAME", "DEFAULT"])
def test_unknown_view_fails(zzzb_archive, dicom_client, value):
    status, matches = dicom_client.find(
        _identifier("STUDY", value), STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_FIND)
    )
    assert matches == []
    _assert_failure(status, "not CLASSIC or ENHANCED")


def test_instance_of_another_view_is_inconsistent(zzzb_archive, dicom_client):
    # The first classic slice is not in the ENHANCED view: it was converted into the LCE image.
    identifier = _identifier("IMAGE", "ENHANCED", SeriesInstanceUID=ZZZ_SERIES_UID, SOPInstanceUID=ZZZ_FIRST_SLICE_UID)
    result = dicom_client.get(identifier, STUDY_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(STUDY_ROOT_GET))
    assert result.received == []
    _assert_failure(result.status, "not in the ENHANCED view")
    status, matches = dicom_client.find(identifier, STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_FIND))
    assert matches == []
    _assert_failure(status, "not in the ENHANCED view")
    # Composite Instance Root honours the view too.
    composite = Dataset()
    composite.QueryRetrieveLevel = "IMAGE"
    composite.SOPInstanceUID = ZZZ_FIRST_SLICE_UID
    composite.QueryRetrieveView = "ENHANCED"
    result = dicom_client.get(
        composite, COMPOSITE_INSTANCE_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(COMPOSITE_INSTANCE_ROOT_GET)
    )
    assert result.received == []
    _assert_failure(result.status, "not in the ENHANCED view")


def test_converted_instance_is_inconsistent_with_the_classic_view(zzzb_archive, dicom_client):
    status, matches = dicom_client.find(
        _identifier("IMAGE", "ENHANCED", SeriesInstanceUID="", SOPInstanceUID="", SOPClassUID=""),
        STUDY_ROOT_FIND,
        ext_neg=view_negotiation(STUDY_ROOT_FIND),
    )
    assert status.Status == 0
    lce = next(m for m in matches if m.SOPClassUID == LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE)
    # In its own view the converted instance is retrievable by its UID (Composite Instance Root)...
    composite = Dataset()
    composite.QueryRetrieveLevel = "IMAGE"
    composite.SOPInstanceUID = lce.SOPInstanceUID
    composite.QueryRetrieveView = "ENHANCED"
    result = dicom_client.get(
        composite, COMPOSITE_INSTANCE_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(COMPOSITE_INSTANCE_ROOT_GET)
    )
    assert result.code == 0 and [r.sop_instance_uid for r in result.received] == [lce.SOPInstanceUID]
    # ... but naming it (or its series) in the CLASSIC view is a failure.
    composite.QueryRetrieveView = "CLASSIC"
    result = dicom_client.get(
        composite, COMPOSITE_INSTANCE_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(COMPOSITE_INSTANCE_ROOT_GET)
    )
    _assert_failure(result.status, "not in the CLASSIC view")
    series = _identifier("SERIES", "CLASSIC", SeriesInstanceUID=lce.SeriesInstanceUID)
    status, _ = dicom_client.find(series, STUDY_ROOT_FIND, ext_neg=view_negotiation(STUDY_ROOT_FIND))
    _assert_failure(status, "not in the CLASSIC view")
