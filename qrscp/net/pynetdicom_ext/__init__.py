"""Every patch qrscp applies to pynetdicom, in one package, installed by the composition root only.

Process-wide, by :func:`install` (undone by :func:`uninstall`):

* :mod:`.fastencode`: pynetdicom's ``encode`` of service classes and DIMSE messages, flat fast path;
* :mod:`.fastdimse`: ``DIMSEServiceProvider.send_msg``, hot-path messages written directly;
* :mod:`.wakeups`: the ``time`` of ``pynetdicom.dul``/``association``: the reactors wait for work, not poll;
* :mod:`.incomplete`: ``Association._serve_request``, an answer to every incomplete request.

Per association, bound as event handlers only while installed (:func:`server_handlers`,
:func:`sub_association_handlers`, :func:`enable_stored_sending`):

* :mod:`.pdu_guard`: ``_read_pdu_data`` and ``StateMachine.do_action`` of each DUL (PDU bounds);
* :mod:`.wakeups` ``make_event_driven``, :mod:`.direct_send` (P-DATA written by its maker's thread)
  and :mod:`.transfer` (``send_c_store`` of stored files);
* :mod:`.amendments`: the final C-MOVE/C-GET response rewritten in ``EVT_DIMSE_SENT``;
* :mod:`.shared_contexts`: the server's contexts shared instead of deep-copied per association.

:mod:`.touched` lists every private name used; the patches are installed only for the pynetdicom
versions in :data:`TESTED_VERSIONS`. Any other version, ``QRSCP_PYNETDICOM_PATCHES=off`` or
``[server] pynetdicom_patches = false`` runs plain pynetdicom (slower, and without the answers and
bounds the patches add; see docs/conformance.md), with a logged warning for an untested version.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pynetdicom
from pynetdicom import evt

from qrscp.net.pynetdicom_ext import amendments, fastdimse, fastencode, incomplete, pdu_guard, transfer, wakeups
from qrscp.net.pynetdicom_ext.shared_contexts import share_contexts

logger = logging.getLogger("qrscp.net")

#: pynetdicom versions the patches were tested with (the canary test and the whole suite).
TESTED_VERSIONS = ("3.0.4",)
#: Environment variable that turns the patches off (``off``, ``0``, ``false``, ``no``) or on.
ENV_VAR = "QRSCP_PYNETDICOM_PATCHES"
_OFF = frozenset({"off", "0", "false", "no"})
_ON = frozenset({"on", "1", "true", "yes"})

_active = False


def wanted(configured: bool = True) -> bool:
    """Whether the patches are asked for: :data:`ENV_VAR` when set, else `configured`."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    return configured


def version_tested(version: str | None = None) -> bool:
    """True when `version` (default: the installed pynetdicom's) is in :data:`TESTED_VERSIONS`."""
    return (version or pynetdicom.__version__) in TESTED_VERSIONS


def install(enabled: bool = True) -> bool:
    """Install the process-wide patches when `enabled` (see :func:`wanted`) and the version is tested.

    Idempotent. Returns whether the patches are active; when they are not, any installed earlier in
    this process are removed, so the server runs on plain pynetdicom.
    """
    global _active
    if enabled and not version_tested():
        logger.warning(
            "pynetdicom %s is not among the tested versions %s: running without qrscp's pynetdicom patches",
            pynetdicom.__version__, ", ".join(TESTED_VERSIONS),
        )
        enabled = False
    if not enabled:
        uninstall()
        return False
    fastencode.install()
    fastdimse.install()
    wakeups.install()
    incomplete.install()
    _active = True
    return True


def uninstall() -> None:
    """Give pynetdicom back its own functions (idempotent)."""
    global _active
    fastencode.uninstall()
    fastdimse.uninstall()
    wakeups.uninstall()
    incomplete.uninstall()
    _active = False


def active() -> bool:
    """True while the patches are installed in this process."""
    return _active


def server_handlers(limits: Any) -> list[Any]:
    """The (event, handler[, args]) bindings of the per-association patches of a server (none when off).

    `limits` is the server's :class:`qrscp.net.limits.ConnectionLimits`; bind these after its handlers.
    """
    if not _active:
        return []
    return [
        (evt.EVT_CONN_OPEN, pdu_guard.handle_connection_open, [limits]),
        (evt.EVT_CONN_OPEN, transfer.handle_connection_open),
        (evt.EVT_DIMSE_SENT, amendments.handle_dimse_sent),
    ]


def sub_association_handlers(move_originator: str) -> list[Any]:
    """Bindings of a C-MOVE sub-association: stored-file sending with the originator (none when off)."""
    if not _active:
        return []
    return [(evt.EVT_CONN_OPEN, transfer.handle_connection_open, [move_originator])]


def enable_stored_sending(assoc: Any) -> bool:
    """Let `assoc` send stored files as they are (C-GET); False when off (send decoded datasets)."""
    if not _active:
        return False
    transfer.enable_stored_sending(assoc)
    return True


def guard_requestor(assoc: Any) -> bool:
    """Keep the reactor of an SCU association off the C-STORE responses it awaits (:mod:`.transfer`).

    pynetdicom's reactor may take the response of a C-STORE sent right after another one (a stale pause
    flag) and drop it as unexpected; the sender then waits for its DIMSE timeout. Applied when the patches
    are wanted and the version is tested (installed or not: a client process installs nothing else).
    """
    if not (wanted() and version_tested()):
        return False
    transfer.enable_stored_sending(assoc)
    return True


def prepare_server(server: Any) -> None:
    """Per-server patches of a started ``AssociationServer`` (shared contexts); nothing when off."""
    if _active:
        share_contexts(server)
