"""Reading the identifier of a C-FIND/C-MOVE/C-GET request: its level, its elements, its unique keys,
and the failure a request is refused with before any result.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from qrscp.index import matching
from qrscp.status import Status
from qrscp.uids import Level


class QueryError(Exception):
    """A C-FIND/C-MOVE/C-GET request the service refuses before any result.

    Attributes
    ----------
    status : int
        The DIMSE failure status (A900 identifier does not match SOP class, C000 cannot understand,
        A700 out of resources).
    comment : str
        The Error Comment (0000,0902), at most 64 characters of plain text.
    """

    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = int(status)
        self.comment = comment[:64]


def request_level(identifier: Dataset, levels: tuple[Level, ...]) -> Level:
    """The Query/Retrieve Level of the request, one of `levels`; QueryError (A900) otherwise."""
    try:
        text = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
    except Exception:  # noqa: BLE001
        text = ""
    if not text:
        raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "Query/Retrieve Level (0008,0052) is missing")
    try:
        level = Level(text)
    except ValueError:
        level = None
    if level not in levels:
        names = "/".join(level.value for level in levels)
        raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, f"Query/Retrieve Level {text!r} is not {names}")
    return level


def request_elements(identifier: Dataset) -> Iterator[tuple[DataElement, object]]:
    """Each request element with the value to match; a value pydicom cannot convert is matched as
    the raw text received (and answered empty), never a failure of the whole request."""
    for tag in list(identifier.keys()):
        try:
            element = identifier[tag]
        except Exception:  # noqa: BLE001
            raw = identifier.get_item(tag)
            vr = getattr(raw, "VR", None) or "UN"
            text = raw.value.decode("latin-1", errors="replace") if isinstance(raw.value, bytes) else str(raw.value or "")
            yield DataElement(tag, vr, None), text.strip(" \x00")
            continue
        yield element, element.value


def key_value(identifier: Dataset, keyword: str) -> object:
    """The value of `keyword` in the request, None when absent; raw text when unconvertible."""
    for element, value in request_elements(identifier):
        if element.keyword == keyword:
            return value
    return None


def single_uid(value: object) -> str | None:
    """The one UID of a unique key's value; None when empty, a list or a wild card."""
    values = matching.request_values(value)
    if not values or len(values) != 1 or matching.has_wildcard(values[0]):
        return None
    return values[0]
