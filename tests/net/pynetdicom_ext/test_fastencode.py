"""The flat-dataset fast encoder writes exactly what pydicom writes, or defers to it."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pynetdicom.dimse_primitives import C_FIND, C_STORE
from pynetdicom.dimse_messages import C_FIND_RSP, C_STORE_RQ
from pynetdicom.dsutils import encode as pydicom_encode

from qrscp.net.pynetdicom_ext.fastencode import encode
from qrscp.testing.factory import make_series


def _identifier(**values) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Doe^John"
    ds.PatientID = "ABC123"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.SOPInstanceUID = "1.2.3"
    ds.InstanceNumber = "17"
    ds.ModalitiesInStudy = ["CT", "PR"]
    ds.NumberOfStudyRelatedInstances = 501
    ds.StudyDate = ""
    ds.RetrieveAETitle = "QRSCP"
    ds.InstanceAvailability = "ONLINE"
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


IDENTIFIERS = [
    _identifier(),
    _identifier(PatientName="O'Brien^Ann^^Dr", StudyDescription="odd"),
    _identifier(SpecificCharacterSet="ISO_IR 100", PatientName="Müller^Jörg"),  # non-ASCII: pydicom path
    _identifier(SpecificCharacterSet="ISO 2022 IR 87"),  # escape-sequence charset: pydicom path
]


@pytest.mark.parametrize("identifier", IDENTIFIERS)
@pytest.mark.parametrize("implicit", [True, False])
def test_identifiers_encode_like_pydicom(identifier, implicit):
    assert encode(identifier, implicit, True) == pydicom_encode(identifier, implicit, True)


@pytest.mark.parametrize("implicit", [True, False])
def test_factory_headers_encode_like_pydicom(implicit):
    for ds in make_series("MR", slices=2, seed=3, invalid_values=True):
        header = Dataset({tag: ds.get_item(tag) for tag in ds.keys() if tag.group < 0x7FE0})
        assert encode(header, implicit, True) == pydicom_encode(header, implicit, True)


def test_command_sets_encode_like_pydicom():
    find = C_FIND()
    find.MessageIDBeingRespondedTo = 7
    find.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.2.2.1"
    find.Status = 0xFF00
    message = C_FIND_RSP()
    message.primitive_to_message(find)
    store = C_STORE()
    store.MessageID = 3
    store.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    store.AffectedSOPInstanceUID = "1.2.3.4.5"
    store.Priority = 2
    store.MoveOriginatorApplicationEntityTitle = "WS1"
    store.MoveOriginatorMessageID = 9
    store_message = C_STORE_RQ()
    store_message.primitive_to_message(store)
    for command in (message.command_set, store_message.command_set):
        assert encode(command, True, True) == pydicom_encode(command, True, True)


def test_big_endian_and_sequences_go_to_pydicom():
    ds = _identifier()
    ds.ReferencedSeriesSequence = [Dataset()]
    ds.ReferencedSeriesSequence[0].SeriesInstanceUID = "1.2.3"
    assert encode(ds, False, True) == pydicom_encode(ds, False, True)
    assert encode(_identifier(), False, False) == pydicom_encode(_identifier(), False, False)


def test_flat_datasets_take_the_fast_path():
    from qrscp.dicom.flat import encode_flat

    assert encode_flat(_identifier(), True) == pydicom_encode(_identifier(), True, True)
    for ds in make_series("CT", slices=1, seed=4, invalid_values=True):
        flat = Dataset({
            tag: ds.get_item(tag) for tag in ds.keys()
            if ds[tag].VR in ("AE", "AS", "CS", "DA", "DS", "IS", "LO", "PN", "SH", "TM", "UI", "US", "UL")
            and not tag.is_private and ds[tag].value is not None and str(ds[tag].value).isascii()
        })
        assert len(flat) > 20
        for implicit in (True, False):
            assert encode_flat(flat, implicit) == pydicom_encode(flat, implicit, True)

