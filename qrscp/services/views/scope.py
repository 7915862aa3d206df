"""Which patients a request touches and whether its unique keys are consistent with the view
(C.4.2.2.2.2 note 3). The SQL is in :mod:`qrscp.index.view_scope`.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from sqlalchemy.orm import Session, sessionmaker

from qrscp.index.view_scope import instance_outside_view, series_outside_view
from qrscp.services.query import QueryError
from qrscp.status import Status
from qrscp.uids import View


class ViewError(QueryError):
    """A request is inconsistent with its view (C.4.2.2.2.2 note 3): failure `status` with `comment`."""


def explicit_uids(identifier: Dataset | None, keyword: str) -> list[str]:
    """Values of a unique key given as a single value or a list of UIDs (no wildcard, not universal)."""
    if identifier is None or keyword not in identifier:
        return []
    value = identifier[keyword].value
    if value is None or value == "":
        return []
    values = [value] if isinstance(value, str) else list(value)
    values = [str(v).strip() for v in values if str(v).strip()]
    if any("*" in v or "?" in v for v in values):
        return []
    return values


#: Unique keys that choose the patients of a request, most specific first.
SCOPE_KEYS = ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "PatientID")


def scope_of(identifier: Dataset | None) -> tuple[str | None, list[str]]:
    """The most specific unique key given as single value or list, and its values (None: every patient)."""
    for keyword in SCOPE_KEYS:
        values = explicit_uids(identifier, keyword)
        if values and (keyword != "PatientID" or len(values) == 1):
            return keyword, values
    return None, []


def check_consistency(sessions: sessionmaker[Session], identifier: Dataset | None, view: View) -> None:
    """Refuse a request whose SOP Instance or Series Instance UID names an entity outside `view`.

    Parameters
    ----------
    sessions : sqlalchemy.orm.sessionmaker
    identifier : pydicom.dataset.Dataset or None
    view : View
        CLASSIC or ENHANCED (C.4.2.2.2.2 note 3: "It is not permitted to specify a view that is
        inconsistent with the requested unique key(s)"). Unknown UIDs are no error: they match nothing.

    Raises
    ------
    ViewError
        Status A900 with an Error Comment naming the view.
    """
    sop_uids = explicit_uids(identifier, "SOPInstanceUID")
    series_uids = explicit_uids(identifier, "SeriesInstanceUID")
    if not sop_uids and not series_uids:
        return
    with sessions() as session:
        if sop_uids and instance_outside_view(session, sop_uids, view) is not None:
            raise ViewError(
                Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
                f"SOP Instance UID not in the {view.value} view",
            )
        if series_uids and series_outside_view(session, series_uids, view) is not None:
            raise ViewError(
                Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
                f"Series Instance UID not in the {view.value} view",
            )
