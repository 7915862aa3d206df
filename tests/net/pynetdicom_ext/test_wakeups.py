"""Event-driven reactors: a nap of pynetdicom's polling loops ends as soon as there is work."""

from __future__ import annotations

import threading
import time

import pytest
from pynetdicom import association as pynetdicom_association
from pynetdicom import dul as pynetdicom_dul

from qrscp.net.pynetdicom_ext import wakeups


def test_wakeup_fd_is_readable_once_signalled_until_drained():
    import select

    wakeup = wakeups.WakeupFd()
    try:
        assert select.select([wakeup.fd], [], [], 0)[0] == []
        wakeup.signal()
        wakeup.signal()
        assert select.select([wakeup.fd], [], [], 0)[0] == [wakeup.fd]
        wakeup.drain()
        assert select.select([wakeup.fd], [], [], 0)[0] == []
    finally:
        wakeup.close()
    wakeup.signal()  # closed: nothing happens, nothing raises
    wakeup.drain()
    assert wakeup.closed


def test_a_put_signals_after_the_item_is_in_the_queue():
    import queue

    q = queue.Queue()
    seen = []
    wakeups._signal_on_put(q, lambda: seen.append(q.qsize()))
    q.put("a")
    q.put("b", block=False)
    assert seen == [1, 2]
    assert q.get(block=True, timeout=1) == "a"  # getters use the same queue


class _Reactor:
    """Just what the acceptor's wait reads of an association."""

    def __init__(self) -> None:
        import queue

        self._kill = False
        self._qrscp_wakeup = threading.Event()
        self._reactor_checkpoint = threading.Event()
        self._reactor_checkpoint.set()
        self.dimse = type("Dimse", (), {"msg_queue": queue.Queue()})()
        self.dul = type("Dul", (), {"to_user_queue": queue.Queue()})()
        wakeups._signal_on_put(self.dimse.msg_queue, self._qrscp_wakeup.set)


def test_reactor_wait_ends_when_a_message_arrives():
    reactor = _Reactor()
    timer = threading.Timer(0.02, reactor.dimse.msg_queue.put, args=[(1, "msg")])
    started = time.monotonic()
    timer.start()
    wakeups.wait_for_reactor_work(reactor, 0.001)
    waited = time.monotonic() - started
    timer.join()
    assert reactor.dimse.msg_queue.qsize() == 1
    assert waited < wakeups.IDLE_WAIT * 20  # ended by the message, not a lost wake-up (loose: a loaded CI)


def test_reactor_wait_returns_at_once_with_work_queued():
    reactor = _Reactor()
    reactor.dimse.msg_queue.put((1, "msg"))
    reactor._qrscp_wakeup.clear()  # a stale flag must not matter: the queue is looked at
    started = time.monotonic()
    wakeups.wait_for_reactor_work(reactor, 0.001)
    assert time.monotonic() - started < wakeups.IDLE_WAIT


def test_reactor_wait_ends_after_the_idle_wait_without_work():
    reactor = _Reactor()
    started = time.monotonic()
    wakeups.wait_for_reactor_work(reactor, 0.001)
    assert time.monotonic() - started >= wakeups.IDLE_WAIT * 0.9


@pytest.mark.pynetdicom_patches
def test_installed_for_the_reactors_of_the_server(archive, dicom_client):
    assert isinstance(pynetdicom_dul.time, wakeups.WakingTime)
    assert isinstance(pynetdicom_association.time, wakeups.WakingTime)
    assert pynetdicom_dul.time.monotonic is wakeups.time.monotonic  # the rest of the module is time's
    seen = []
    original = wakeups.make_event_driven

    def record(assoc):
        original(assoc)
        seen.append(assoc)

    wakeups.make_event_driven = record
    try:
        from qrscp.net.pynetdicom_ext import transfer

        transfer.make_event_driven = record
        assert dicom_client.echo() == 0x0000
        assert dicom_client.echo() == 0x0000
    finally:
        wakeups.make_event_driven = original
        transfer.make_event_driven = original
    assert len(seen) == 2
    for assoc in seen:
        assert isinstance(assoc._qrscp_wakeup, threading.Event)
        assert assoc.dul._qrscp_wakeup.closed  # released with its connection


def test_reactor_wait_ends_when_a_sender_asks_it_to_pause():
    """send_c_store (a C-MOVE's sub-operations), release and abort clear the checkpoint and wait for
    the reactor to reach it: the reactor must not finish an idle wait first."""
    from pynetdicom import AE
    from pynetdicom.association import Association

    ae = AE()
    assoc = Association(ae, "requestor")
    wakeups.make_event_driven(assoc)
    try:
        assoc._qrscp_wakeup.clear()
        assoc._reactor_checkpoint.clear()
        assert assoc._qrscp_wakeup.is_set()
        waiter = threading.Thread(target=wakeups.wait_for_reactor_work, args=(assoc, 0.001))
        original = wakeups.IDLE_WAIT
        wakeups.IDLE_WAIT = 3600  # a lost wake-up would hang the waiter
        try:
            waiter.start()
            waiter.join(timeout=30)
        finally:
            wakeups.IDLE_WAIT = original
        assert not waiter.is_alive()
    finally:
        assoc._reactor_checkpoint.set()
        assoc.dul._qrscp_wakeup.close()
