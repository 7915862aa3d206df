"""A view asked of several workers at the same moment is built once and served identically (issue 14, point 1).

``qrscp serve --workers 2`` on SQLite; six associations ask for the ENHANCED view of a CT series at once
(C-GET with the Enhanced Multi-Frame Image Conversion option, started together behind a barrier). The
``view_build`` row claimed in the index lets one builder convert; the others wait for it and serve the
published objects: one "building generation" line in the log of all workers, six identical answers.
"""

from __future__ import annotations

import re
import threading

import pytest
from pydicom.dataset import Dataset

from qrscp.testing.factory import make_series
from qrscp.testing.network import client_for
from qrscp.uids import CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, STUDY_ROOT_GET
from tests.views.conftest import view_negotiation

pytestmark = [pytest.mark.slow, pytest.mark.network, pytest.mark.timeout(300)]

ASKERS = 6
STORAGE = [(uid, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]) for uid in (CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE)]


def _enhanced(client, study_uid: str) -> dict[str, bytes]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    identifier.QueryRetrieveView = "ENHANCED"
    result = client.get(identifier, STUDY_ROOT_GET, storage=STORAGE, ext_neg=view_negotiation(STUDY_ROOT_GET))
    assert result.code == 0x0000, result.status
    return {r.sop_instance_uid: r.dataset_bytes for r in result.received}


def test_a_view_asked_of_every_worker_at_once_is_built_once(serve_process):
    serve = serve_process("--workers", "2")
    series = make_series("CT", slices=30, rows=64, columns=64, seed=91)
    assert all(int(s.Status) == 0 for s in client_for(serve).store(series))
    study_uid = str(series[0].StudyInstanceUID)
    barrier = threading.Barrier(ASKERS)
    answers: list[dict[str, bytes]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def ask(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            answer = _enhanced(client_for(serve, calling_ae_title=f"VIEW{index}"), study_uid)
            with lock:
                answers.append(answer)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(ASKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors
    assert len(answers) == ASKERS and answers[0]
    assert all(answer == answers[0] for answer in answers)
    log = serve.log()
    assert len(re.findall(r"building generation", log)) == 1, log[-3000:]
    askers_by_worker = set(re.findall(r"\[(worker \d+) pid \d+\] qrscp.net: VIEW\d@\S+ association accepted", log))
    print(f"\n[workers] ENHANCED view asked {ASKERS} times at once of {sorted(askers_by_worker)}: built once, "
          f"{len(answers[0])} object(s), identical answers")
    assert serve.terminate() == 0
