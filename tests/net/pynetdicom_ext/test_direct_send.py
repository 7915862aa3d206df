"""P-DATA written by the thread that makes it; pending responses written together."""

from __future__ import annotations

import pytest
from pynetdicom.pdu import P_DATA_TF
from pynetdicom.pdu_primitives import P_DATA

from qrscp.net.pynetdicom_ext import direct_send


@pytest.mark.parametrize(
    "items",
    [
        [[1, b"\x03" + b"\x08\x00" * 10]],
        [[1, b"\x03abc"], [1, b"\x02" + bytes(range(256)) * 3]],
        [[255, b"\x00"]],
    ],
)
def test_p_data_tf_encodes_as_pynetdicom_encodes_it(items):
    primitive = P_DATA()
    primitive.presentation_data_value_list = items
    pdu = P_DATA_TF()
    pdu.from_primitive(primitive)
    assert direct_send.encode_p_data_tf(primitive) == pdu.encode()


@pytest.mark.pynetdicom_patches
def test_a_c_find_answers_every_match_once_before_the_final_response(archive, dicom_client):
    """Pending responses are held and written together: all arrive, each once, then the final one."""
    from pydicom.dataset import Dataset

    from qrscp.testing.factory import make_series

    series = make_series("CT", slices=120, rows=16, columns=16, seed=83)
    assert all(status.Status == 0x0000 for status in dicom_client.store(series))
    query = Dataset()
    query.QueryRetrieveLevel = "IMAGE"
    query.StudyInstanceUID = series[0].StudyInstanceUID
    query.SeriesInstanceUID = series[0].SeriesInstanceUID
    query.SOPInstanceUID = ""
    pending: list[int] = []
    final, matches = dicom_client.find(query, pending_statuses=pending)
    assert final.Status == 0x0000
    assert pending == [0xFF00] * len(series)
    assert sorted(m.SOPInstanceUID for m in matches) == sorted(ds.SOPInstanceUID for ds in series)
