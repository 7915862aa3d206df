"""C-FIND Pending responses sent as one P-DATA-TF PDU, without pynetdicom's DIMSE message objects.

For every Pending response pynetdicom builds a full command-set Dataset (all C-FIND-RSP elements, then
deletes the unused ones), encodes it twice for its group length, and sends the command and the
identifier as two PDUs, each through the DUL state machine. On a 500-match IMAGE query that was more
than half of the server's time (py-spy). Pending responses of one request differ only in the
identifier, so :func:`pending_command` encodes the command set once per (SOP Class, Message ID,
status) and :func:`send_msg` sends the command PDV and the identifier PDV together in one P-DATA-TF
PDU (PS3.8 9.3.5: a PDU carries one or more PDV items; command and data set stay in separate PDVs).

Anything else (final responses, other messages, an identifier that does not fit in one PDU of the
peer's maximum length, or pynetdicom's standard DIMSE logging) goes through pynetdicom unchanged. The
fast path does not trigger ``EVT_DIMSE_SENT``; qrscp binds that event only for C-MOVE/C-GET responses.
``tests/net/test_fastfind.py`` checks that the bytes are those pynetdicom would send.
"""

from __future__ import annotations

import functools
import struct
from typing import Any

from pynetdicom import _config as pynetdicom_config
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dimse_primitives import C_FIND
from pynetdicom.pdu_primitives import P_DATA

_original_send_msg = DIMSEServiceProvider.send_msg

#: C-FIND-RSP Command Field (PS3.7 9.3.2.2).
C_FIND_RSP_COMMAND = 0x8020
#: Command Data Set Type: a data set follows.
DATA_SET_PRESENT = 0x0001
PENDING_STATUSES = frozenset({0xFF00, 0xFF01})
#: PDV item header: 4-byte length, presentation context ID, message control header.
PDV_HEADER = 6


def _element(tag: int, value: bytes) -> bytes:
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value)) + value


@functools.lru_cache(maxsize=256)
def pending_command(sop_class_uid: str, message_id: int, status: int) -> bytes:
    """The implicit VR little endian command set of a C-FIND-RSP with an identifier.

    Parameters
    ----------
    sop_class_uid : str
        Affected SOP Class UID.
    message_id : int
        Message ID Being Responded To.
    status : int
        ``0xFF00`` or ``0xFF01``.

    Returns
    -------
    bytes
        The command set, group length first, as pynetdicom encodes it.
    """
    uid = sop_class_uid.encode("ascii")
    if len(uid) % 2:
        uid += b"\x00"
    body = (
        _element(0x00000002, uid)
        + _element(0x00000100, struct.pack("<H", C_FIND_RSP_COMMAND))
        + _element(0x00000120, struct.pack("<H", message_id))
        + _element(0x00000800, struct.pack("<H", DATA_SET_PRESENT))
        + _element(0x00000900, struct.pack("<H", status))
    )
    return _element(0x00000000, struct.pack("<I", len(body))) + body


def _fast_pdata(primitive: Any, context_id: int, max_pdu_length: int) -> P_DATA | None:
    """The one P-DATA of a Pending C-FIND-RSP, or None when pynetdicom must send `primitive`."""
    if not isinstance(primitive, C_FIND) or primitive.MessageIDBeingRespondedTo is None:
        return None
    status = primitive.Status
    identifier = primitive.Identifier
    if status not in PENDING_STATUSES or identifier is None or primitive.AffectedSOPClassUID is None:
        return None
    data = identifier.getvalue()
    if not data:
        return None
    command = pending_command(str(primitive.AffectedSOPClassUID), int(primitive.MessageIDBeingRespondedTo),
                              int(status))
    if max_pdu_length and len(command) + len(data) + 2 * PDV_HEADER > max_pdu_length:
        return None
    pdata = P_DATA()
    pdata.presentation_data_value_list = [[context_id, b"\x03" + command], [context_id, b"\x02" + data]]
    return pdata


def send_msg(self: DIMSEServiceProvider, primitive: Any, context_id: int) -> None:
    """Drop-in for :meth:`pynetdicom.dimse.DIMSEServiceProvider.send_msg` with the Pending C-FIND fast path."""
    if pynetdicom_config.LOG_HANDLER_LEVEL == "none":
        pdata = _fast_pdata(primitive, context_id, self.maximum_pdu_size)
        if pdata is not None:
            self.dul.send_pdu(pdata)
            return
    _original_send_msg(self, primitive, context_id)


def install() -> None:
    """Give pynetdicom's DIMSE provider the fast path (idempotent)."""
    DIMSEServiceProvider.send_msg = send_msg  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore pynetdicom's own ``send_msg``."""
    DIMSEServiceProvider.send_msg = _original_send_msg  # type: ignore[method-assign]
