"""Adaptive polling: pynetdicom's 1 ms naps are shortened only while an association is busy."""

from __future__ import annotations

import pytest
from pynetdicom import association as pynetdicom_association
from pynetdicom import dul as pynetdicom_dul

from qrscp.net.pynetdicom_ext import pacing


@pytest.mark.parametrize(
    "seconds, busy_until, now, expected",
    [
        (0.001, 10.0, 9.99, pacing.BUSY_DELAY),  # a polling nap while busy
        (0.001, 10.0, 10.01, 0.001),  # idle: pynetdicom's own nap
        (0.0001, 10.0, 9.99, 0.0001),  # already short
        (0.01, 10.0, 9.99, 0.01),  # not a polling nap (e.g. waiting for the DUL to stop)
        (0.001, 0.0, 5.0, 0.001),  # not a reactor thread
    ],
)
def test_nap(seconds, busy_until, now, expected):
    assert pacing.nap(seconds, busy_until, now) == expected


@pytest.mark.pynetdicom_patches
def test_installed_for_the_reactors_of_the_server(archive, dicom_client):
    assert isinstance(pynetdicom_dul.time, pacing.PacedTime)
    assert isinstance(pynetdicom_association.time, pacing.PacedTime)
    assert pynetdicom_dul.time.monotonic is pacing.time.monotonic  # the rest of the module is time's
    seen = []
    original = pacing.mark_busy

    def record(dul):
        seen.append(dul)
        original(dul)

    pacing.mark_busy = record
    try:
        assert dicom_client.echo() == 0x0000
    finally:
        pacing.mark_busy = original
    # The server's DUL was marked busy on connection, on the PDUs received and on the responses sent.
    assert len(seen) >= 3
    assert all(getattr(dul, "_qrscp_tracked", False) for dul in seen)
