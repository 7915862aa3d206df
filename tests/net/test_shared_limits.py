"""The association count shared by worker processes (qrscp.net.shared_limits)."""

from __future__ import annotations

import subprocess
import sys

from qrscp.net.shared_limits import SharedAssociationCount
from qrscp.testing.network import REPO_ROOT

CHILD = """
import sys
from qrscp.net.shared_limits import SharedAssociationCount
shared = SharedAssociationCount(int(sys.argv[1]), 3, slot=int(sys.argv[2]))
with shared.locked():
    print(shared.others())
    shared.set(shared.slot, 5)
"""


def test_slots_written_by_another_process_count_and_a_dead_workers_slot_is_cleared():
    shared = SharedAssociationCount.create(3)
    try:
        with shared.locked():
            shared.set(0, 2)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(shared.fd), "1"], pass_fds=[shared.fd], capture_output=True,
            text=True, check=True, env={"PYTHONPATH": str(REPO_ROOT)},
        )
        assert child.stdout.strip() == "2"  # the child sees slot 0 (ours) as other workers' associations
        assert shared.total() == 7
        assert shared.clear(1) == 5  # what the dead worker held
        assert shared.total() == 2
    finally:
        shared.close()


def test_the_lock_excludes_another_process():
    shared = SharedAssociationCount.create(2)
    try:
        with shared.locked():
            waiting = subprocess.Popen(
                [sys.executable, "-c", CHILD.replace("3, slot", "2, slot"), str(shared.fd), "1"],
                pass_fds=[shared.fd], stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(REPO_ROOT)},
            )
            try:
                waiting.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
            assert waiting.poll() is None  # blocked on our lock
            shared.set(0, 4)
        assert waiting.communicate(timeout=60)[0].strip() == "4"
        assert shared.total() == 9
    finally:
        shared.close()
