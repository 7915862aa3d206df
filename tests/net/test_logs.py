"""Log lines: one per association (peer, accepted contexts) and one per DIMSE request."""

from __future__ import annotations

import logging
import re

from pydicom.dataset import Dataset

from qrscp.testing.factory import make_series


def _messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("qrscp.net")]


def test_association_and_request_lines(archive, dicom_client, caplog):
    caplog.set_level(logging.INFO, logger="qrscp.net")
    series = make_series("CT", slices=2, seed=61)
    dicom_client.store(series)
    keys = Dataset()
    keys.QueryRetrieveLevel = "STUDY"
    keys.StudyInstanceUID = series[0].StudyInstanceUID
    dicom_client.find(keys)
    dicom_client.get(keys)
    lines = _messages(caplog)
    accepted = [line for line in lines if "association accepted" in line]
    assert len(accepted) == 3
    assert all(re.match(r"PYTEST@127\.0\.0\.1:\d+: association accepted, called AE QRSCP, \d+ presentation", line)
               for line in accepted)
    stores = [line for line in lines if ": C-STORE " in line]
    assert len(stores) == 2 and all("status 0x0000" in line and " ms" in line for line in stores)
    assert any(re.search(r"C-FIND STUDY: 1 matches, status 0x0000, [\d.]+ ms", line) for line in lines)
    assert any(re.search(r"C-GET STUDY: 2 sub-operations, status 0x0000, [\d.]+ ms", line) for line in lines)
    assert sum("association released" in line for line in lines) == 3


def test_rejections_are_logged_with_the_reason(archive, caplog):
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    caplog.set_level(logging.INFO, logger="qrscp.net")
    ae = AE(ae_title="INTRUDER")
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", archive.port, ae_title="NOTQRSCP")
    assert assoc.is_rejected
    assert any("INTRUDER@127.0.0.1" in line and "called AE title 'NOTQRSCP'" in line for line in _messages(caplog))
