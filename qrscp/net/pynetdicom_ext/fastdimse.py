"""DIMSE messages of the hot paths sent without pynetdicom's message objects.

For every message pynetdicom builds a full command-set Dataset (every element of the message type,
then deletes the unused ones), encodes it twice for its group length, and sends the command and the
data set in separate PDUs, each through the DUL state machine. On a 500-match C-FIND or a 500-instance
C-GET that was more than half of the server's time (py-spy). Here the command set is written directly
(:func:`command_set`). The command PDV goes in its own P-DATA-TF PDU and the data set in the following
ones, as pynetdicom and DCMTK send them. PS3.8 9.3.5 also allows the command PDV and the first data set
fragment in one PDU, which saves a PDU per message, but GDCM (gdcmscu and the viewers built on it) then
loses the data set; that packing is only used on an AE with :data:`COMBINED_ATTRIBUTE` set (the
``[server] command_and_data_in_one_pdu`` option).

Fast messages: C-STORE-RQ (the sub-operations of C-MOVE/C-GET, data set from a stored file or bytes),
C-STORE-RSP, Pending C-FIND-RSP, Pending C-GET-RSP and C-MOVE-RSP. Everything else (final responses, which qrscp may
amend in ``EVT_DIMSE_SENT``; other messages; a value this encoder does not write; pynetdicom's
standard DIMSE logging) goes through pynetdicom unchanged. The fast path does not trigger
``EVT_DIMSE_SENT``. ``tests/net/pynetdicom_ext/test_fastdimse.py`` checks the PDVs are those pynetdicom would send.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pynetdicom import _config as pynetdicom_config
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dimse_messages import _COMMAND_SET_KEYWORDS, _MESSAGE_TYPES
from pynetdicom.dimse_primitives import C_FIND, C_GET, C_MOVE, C_STORE
from pynetdicom.pdu_primitives import P_DATA

from qrscp.net.pynetdicom_ext.direct_send import hold

_original_send_msg = DIMSEServiceProvider.send_msg

#: Attribute of a pynetdicom AE: True to put a command and the start of its data set in one PDU.
COMBINED_ATTRIBUTE = "_qrscp_command_and_data_in_one_pdu"

PENDING_STATUSES = frozenset({0xFF00, 0xFF01})
#: Command Data Set Type (PS3.7 E.1): a data set follows, or none.
DATA_SET_PRESENT = 0x0001
NO_DATA_SET = 0x0101
#: PDV item header: 4-byte length, presentation context ID, message control header.
PDV_HEADER = 6
#: Message control headers (PS3.8 E.2): command/data set, last fragment or not.
COMMAND_LAST, DATA_MORE, DATA_LAST = b"\x03", b"\x00", b"\x02"
_COMMAND_FIELD = {name: field for field, (name, *_rest) in _MESSAGE_TYPES.items()}
_PADDING = {"UI": b"\x00", "AE": b" ", "LO": b" ", "SH": b" "}


def _keywords(message: str) -> list[tuple[str, int, str]]:
    """(keyword, tag, VR) of the command elements of `message`, in tag order."""
    elements = [(keyword, tag_for_keyword(keyword)) for keyword in _COMMAND_SET_KEYWORDS[message]]
    return sorted((keyword, tag, dictionary_VR(tag)) for keyword, tag in elements if tag)


_ELEMENTS = {message: _keywords(message) for message in ("C-STORE-RQ", "C-STORE-RSP", "C-FIND-RSP", "C-GET-RSP", "C-MOVE-RSP")}
_ELEMENTS = {message: sorted(elements, key=lambda e: e[1]) for message, elements in _ELEMENTS.items()}


class _NotFast(Exception):
    """The message needs pynetdicom's encoder."""


def _value(vr: str, value: Any) -> bytes:
    if vr == "US":
        return struct.pack("<H", value)
    if vr == "UL":
        return struct.pack("<I", value)
    if vr in _PADDING and isinstance(value, str) and value.isascii():
        data = value.encode("ascii")
        return data + _PADDING[vr] if len(data) % 2 else data
    raise _NotFast


def command_set(message: str, primitive: Any, has_data_set: bool) -> bytes:
    """The implicit VR little endian command set of `primitive` as the DIMSE `message`.

    Parameters
    ----------
    message : str
        ``"C-STORE-RQ"``, ``"C-STORE-RSP"``, ``"C-FIND-RSP"``, ``"C-GET-RSP"`` or ``"C-MOVE-RSP"``.
    primitive : pynetdicom.dimse_primitives.DIMSEPrimitive
        Its parameters give the element values; those that are None are left out, as pynetdicom does.
    has_data_set : bool
        Command Data Set Type says whether a data set follows.

    Returns
    -------
    bytes
        Group length first, elements in tag order.

    Raises
    ------
    _NotFast
        For a value this encoder does not write (e.g. an Offending Element).
    """
    body = bytearray()
    for keyword, tag, vr in _ELEMENTS[message]:
        if keyword == "CommandGroupLength":
            continue
        if keyword == "CommandField":
            value: Any = _COMMAND_FIELD[message]
        elif keyword == "CommandDataSetType":
            value = DATA_SET_PRESENT if has_data_set else NO_DATA_SET
        else:
            value = getattr(primitive, keyword, None)
            if value is None:
                continue
        data = _value(vr, value)
        body += struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(data)) + data
    return struct.pack("<HHII", 0, 0, 4, len(body)) + bytes(body)


class StoreRequest:
    """The parameters of a C-STORE-RQ whose data set is read from a file, as :func:`command_set` reads them.

    Built without pynetdicom's :class:`~pynetdicom.dimse_primitives.C_STORE`, whose setters validate
    every UID again (a tenth of a C-GET's time); the values come from the index.
    """

    MessageIDBeingRespondedTo = None
    DataSet = None

    def __init__(self, *, message_id: int, priority: int, sop_class_uid: str, sop_instance_uid: str,
                 originator_aet: str | None, originator_id: int | None, dataset_path: tuple[Any, int] | None,
                 data_set: bytes | None = None) -> None:
        self.MessageID = message_id
        self.Priority = priority
        self.AffectedSOPClassUID = str(sop_class_uid)
        self.AffectedSOPInstanceUID = str(sop_instance_uid)
        self.MoveOriginatorApplicationEntityTitle = originator_aet.strip() if originator_aet else None
        self.MoveOriginatorMessageID = originator_id
        self._dataset_path = dataset_path
        self.data_set = data_set  # the encoded data set when it is not read from `dataset_path`


def combined(assoc: Any) -> bool:
    """Whether messages on `assoc` put the command and the first data set fragment in one PDU."""
    return bool(getattr(getattr(assoc, "ae", None), COMBINED_ATTRIBUTE, False))


def store_request_messages(
    request: StoreRequest, context_id: int, max_pdu_length: int, combine: bool = False
) -> Iterator[P_DATA] | None:
    """The P-DATA primitives of `request`, or None when it must go through pynetdicom."""
    if pynetdicom_config.LOG_HANDLER_LEVEL != "none":
        return None
    title = request.MoveOriginatorApplicationEntityTitle
    if title is not None and not (len(title) <= 16 and title.isascii() and title.isprintable() and "\\" not in title):
        return None
    return pdata_messages(request, context_id, max_pdu_length, combine)


def _message_of(primitive: Any) -> tuple[str, bytes | tuple[Any, int] | None] | None:
    """The fast message name of `primitive` and its data set (bytes, or (path, offset)); None: not fast."""
    if isinstance(primitive, (C_STORE, StoreRequest)) and primitive.MessageIDBeingRespondedTo is None:
        path = getattr(primitive, "_dataset_path", None)
        if path is not None:
            return "C-STORE-RQ", path
        if isinstance(primitive, StoreRequest):
            data = primitive.data_set or b""
        else:
            data = primitive.DataSet.getvalue() if primitive.DataSet is not None else b""
        return ("C-STORE-RQ", data) if data else None
    if isinstance(primitive, C_STORE) and primitive.MessageIDBeingRespondedTo is not None:
        return "C-STORE-RSP", None  # every status: no data set, and qrscp amends none
    if primitive.MessageIDBeingRespondedTo is None or getattr(primitive, "Status", None) not in PENDING_STATUSES:
        return None
    if isinstance(primitive, C_FIND):
        data = primitive.Identifier.getvalue() if primitive.Identifier is not None else b""
        return ("C-FIND-RSP", data) if data else None
    if isinstance(primitive, (C_GET, C_MOVE)) and primitive.Identifier is None:
        return ("C-GET-RSP" if isinstance(primitive, C_GET) else "C-MOVE-RSP"), None
    return None


#: Bytes of a stored file read at once (then cut into PDU fragments): a read is a system call that
#: gives up the GIL, and under load each one costs a wait to get it back.
READ_BLOCK = 4 * 1024 * 1024


def _file_fragments(f: BinaryIO, offset: int, first: int, size: int) -> Iterator[tuple[bytes, bytes]]:
    """(message control header, fragment) of a data set read from a file, first fragment `first` long
    (-1: the whole data set in one fragment)."""
    with f:
        f.seek(offset)
        if first < 0:
            yield DATA_LAST, f.read()
            return
        data, position, length = f.read(max(READ_BLOCK, first + 1)), 0, first
        while True:
            if len(data) - position <= length:  # whether more follows is known only with a byte beyond
                data, position = data[position:] + f.read(max(READ_BLOCK, length + 1)), 0
            chunk = data[position:position + length]
            position += len(chunk)
            last = position >= len(data)
            yield (DATA_LAST if last else DATA_MORE), chunk
            if last:
                return
            length = size


def _bytes_fragments(data: bytes, first: int, size: int) -> Iterator[tuple[bytes, bytes]]:
    start, end = 0, max(first, 1)
    while True:
        last = end >= len(data)
        yield (DATA_LAST if last else DATA_MORE), data[start:end]
        if last:
            return
        start, end = end, end + size


def _pdata(items: list[list[Any]]) -> P_DATA:
    pdata = P_DATA()
    pdata.presentation_data_value_list = items
    return pdata


def pdata_messages(
    primitive: Any, context_id: int, max_pdu_length: int, combine: bool = False
) -> Iterator[P_DATA] | None:
    """The P-DATA primitives of `primitive` (a generator), or None when pynetdicom must send it.

    The command PDV goes alone in the first PDU, or with `combine` together with the first data set
    fragment; every PDU is at most `max_pdu_length` bytes of PDV items (0: no limit). A file's data set
    is read a fragment at a time.
    """
    kind = _message_of(primitive)
    if kind is None:
        return None
    message, data_set = kind
    try:
        command = command_set(message, primitive, data_set is not None)
    except _NotFast:
        return None
    command_item = [context_id, COMMAND_LAST + command]
    if data_set is None:
        return iter([_pdata([command_item])])
    if max_pdu_length:
        size = max_pdu_length - PDV_HEADER
        first = size - PDV_HEADER - len(command) if combine else size
        if first <= 0:
            return None
    else:  # no limit from the peer: one fragment
        size = first = -1 if isinstance(data_set, tuple) else len(data_set)
    if isinstance(data_set, tuple):
        # Opened now: a file that cannot be read fails the send before any PDU has gone out.
        fragments = _file_fragments(open(data_set[0], "rb"), data_set[1], first, size)
    else:
        fragments = _bytes_fragments(data_set, first, size)

    def messages() -> Iterator[P_DATA]:
        if not combine:
            yield _pdata([command_item])
        for index, (control, fragment) in enumerate(fragments):
            item = [context_id, control + fragment]
            yield _pdata([command_item, item] if combine and index == 0 else [item])

    return messages()


def send_msg(self: DIMSEServiceProvider, primitive: Any, context_id: int) -> None:
    """Drop-in for :meth:`pynetdicom.dimse.DIMSEServiceProvider.send_msg` with the fast messages."""
    if pynetdicom_config.LOG_HANDLER_LEVEL == "none":
        messages = pdata_messages(primitive, context_id, self.maximum_pdu_size, combined(self.assoc))
        if messages is not None:
            pending = isinstance(primitive, (C_FIND, C_GET)) and primitive.MessageIDBeingRespondedTo is not None
            for pdata in messages:
                if not (pending and hold(self.dul, pdata)):
                    self.dul.send_pdu(pdata)
            return
    _original_send_msg(self, primitive, context_id)


def install() -> None:
    """Give pynetdicom's DIMSE provider the fast messages (idempotent)."""
    DIMSEServiceProvider.send_msg = send_msg  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore pynetdicom's own ``send_msg``."""
    DIMSEServiceProvider.send_msg = _original_send_msg  # type: ignore[method-assign]
