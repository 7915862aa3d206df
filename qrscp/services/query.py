"""The C-FIND query service and the instance lookup of C-MOVE/C-GET, answered from the index alone.

``QueryService.find`` checks the request identifier, then returns a generator of response identifiers
that streams rows from the database (server-side cursor on PostgreSQL) and never builds the whole
answer. ``QueryService.locate`` lists the instances a C-MOVE/C-GET must send. Reading the request is in
:mod:`qrscp.services.query_request`, planning a C-FIND in :mod:`qrscp.services.find_plan`, its response
identifiers in :mod:`qrscp.services.find_response`, the SQL in :mod:`qrscp.index.queries`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pydicom.dataset import Dataset
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session, sessionmaker

from qrscp.config import Config
from qrscp.index import matching, queries
from qrscp.index.keys import KEYS_BY_KEYWORD, UNIQUE_KEY_FOR_LEVEL, depth, levels_of
from qrscp.index.values import sequence_from_json
from qrscp.services.find_plan import FindPlan, key_column, key_label, plan_find
from qrscp.services.find_response import build_response, encode_response
from qrscp.services.protocols import ViewEnsurer
from qrscp.services.query_request import QueryError, key_value, request_level
from qrscp.status import Status
from qrscp.uids import (
    COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_ROOT_MOVE,
    FIND_SOP_CLASSES,
    GET_SOP_CLASSES,
    MOVE_SOP_CLASSES,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    Level,
    View,
)

log = logging.getLogger(__name__)

COMPOSITE_INSTANCE_ROOT = (
    COMPOSITE_INSTANCE_ROOT_MOVE,
    COMPOSITE_INSTANCE_ROOT_GET,
    COMPOSITE_INSTANCE_RETRIEVE_WITHOUT_BULK_DATA_GET,
)
#: Rows fetched from the database at a time while streaming.
STREAM_BATCH = 256


@dataclass(frozen=True)
class InstanceLocation:
    """An instance a C-MOVE/C-GET sends: what it is and where its file is (relative to the store)."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    file_path: str
    file_size: int = 0


class FindResults:
    """The response identifiers of one C-FIND, and the requested keys that are not supported.

    Iterate it for the matches. `unsupported_keys` is known before the first match, so that the
    caller can answer Pending ``FF01`` instead of ``FF00`` (PS3.4 C.4.1.1.4) when it is not empty.
    """

    def __init__(self, matches: Iterator[Dataset] | Iterator[bytes], unsupported_keys: Iterable[str]) -> None:
        self._matches = matches
        self.unsupported_keys = tuple(unsupported_keys)

    def __iter__(self) -> Iterator[Dataset] | Iterator[bytes]:
        return self._matches


class QueryService:
    """C-FIND answers and C-MOVE/C-GET instance lists from the index.

    Parameters
    ----------
    config : Config
        Reads ``server.ae_title`` (Retrieve AE Title), ``query.case_insensitive_person_names`` and
        ``query.max_matches``.
    sessions : sessionmaker
        Sessions of the index.
    view_builder : qrscp.services.protocols.ViewEnsurer, optional
        Anything with ``ensure(session_or_none, identifier, view)``; called before a query or retrieve
        of the CLASSIC or ENHANCED view so that the view exists (we pass None: the builder commits with
        its own sessions before we read).
    """

    def __init__(
        self, config: Config, sessions: sessionmaker[Session], view_builder: ViewEnsurer | None = None
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.view_builder = view_builder
        self._dialect = sessions.kw["bind"].dialect.name if sessions.kw.get("bind") is not None else "sqlite"

    # -- C-FIND ------------------------------------------------------------------------------------

    def find(
        self,
        identifier: Dataset,
        *,
        information_model: str,
        relational: bool = False,
        view: View = View.DEFAULT,
        combined_datetime: bool = False,
        implicit_vr: bool | None = None,
    ) -> FindResults:
        """Check a C-FIND request and return the stream of its response identifiers.

        Parameters
        ----------
        identifier : pydicom.Dataset
            The request identifier (decoded with its Specific Character Set).
        information_model : str
            Patient Root or Study Root FIND SOP Class UID.
        relational : bool, optional
            Relational queries were negotiated (keys at any level, no unique keys above needed).
        view : View, optional
            The Query/Retrieve View; echoed in every response when not DEFAULT.
        combined_datetime : bool, optional
            Combined date-time matching was negotiated: DA/TM range pairs match as one DT.
        implicit_vr : bool, optional
            When given, iterate the identifiers already encoded (bytes), little endian with implicit
            (True) or explicit (False) VR, instead of data sets: what a C-FIND SCP sends.

        Returns
        -------
        FindResults
            Iterates one identifier per match: every requested key (empty when unknown), Specific
            Character Set, Query/Retrieve Level, Retrieve AE Title, Instance Availability "ONLINE";
            ``unsupported_keys`` names the requested keys that the index does not hold.

        Raises
        ------
        QueryError
            Before any result, for a request that cannot be answered.
        """
        if information_model not in FIND_SOP_CLASSES:
            raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "not a Patient/Study Root FIND SOP Class")
        view = View(view)
        plan = self._plan(identifier, information_model, relational, view, combined_datetime)
        self._ensure_view(identifier, view)
        statement = queries.find_entities(plan.level, [c.label(name) for name, c in plan.columns.items()], plan.clauses, view)
        max_matches = getattr(self.config.query, "max_matches", 0)
        if max_matches:
            with self.sessions() as session:
                count = queries.matches_count(session, statement)
            if count > max_matches:
                raise QueryError(Status.REFUSED_OUT_OF_RESOURCES, f"{count} matches, more than the {max_matches} allowed")
        return FindResults(self._stream(statement, plan, implicit_vr), plan.unsupported_keys)

    def search(self, identifier: Dataset, *, view: View = View.DEFAULT) -> FindResults:
        """A relational Study Root query, without any transport: what QIDO-RS and the browser ask.

        Same matching and answers as :meth:`find` (it is :meth:`find` with the Study Root model and
        relational queries): the identifier names the level, the keys to match and the keys to return.
        """
        return self.find(identifier, information_model=STUDY_ROOT_FIND, relational=True, view=view)

    def instances(self, identifier: Dataset, *, view: View = View.DEFAULT) -> list[InstanceLocation]:
        """The stored instances a relational Study Root retrieve of `identifier` names (WADO-RS)."""
        return self.locate(identifier, information_model=STUDY_ROOT_GET, relational=True, view=view)

    def _ensure_view(self, identifier: Dataset, view: View) -> None:
        if view is not View.DEFAULT and self.view_builder is not None:
            self.view_builder.ensure(None, identifier, view)

    def _plan(self, identifier: Dataset, model: str, relational: bool, view: View, combined: bool) -> FindPlan:
        return plan_find(
            identifier,
            model,
            relational,
            view,
            combined,
            case_insensitive_names=bool(getattr(self.config.query, "case_insensitive_person_names", True)),
            match_unknown=bool(self.config.query.match_unknown),
            dialect=self._dialect,
        )

    def _stream(self, statement, plan: FindPlan, implicit_vr: bool | None) -> Iterator[Dataset | bytes]:
        ci = bool(getattr(self.config.query, "case_insensitive_person_names", True))
        ae_title = self.config.server.ae_title
        with self.sessions() as session:
            result = session.execute(statement.execution_options(yield_per=STREAM_BATCH))
            for row in result:
                mapping = row._mapping
                if plan.item_filters and not self._items_match(plan, mapping, ci):
                    continue
                if plan.value_filters and not self._values_match(plan, mapping, ci):
                    continue
                if implicit_vr is None:
                    yield build_response(plan, mapping, ae_title)
                else:
                    yield encode_response(plan, mapping, ae_title, implicit_vr)

    @staticmethod
    def _values_match(plan: FindPlan, mapping, ci: bool) -> bool:
        for label, vr, value, unknown in plan.value_filters:
            stored = mapping[label] or ""
            if not (unknown and stored == "") and not matching.value_matches(vr, value, stored, case_insensitive_names=ci):
                return False
        return True

    @staticmethod
    def _items_match(plan: FindPlan, mapping, ci: bool) -> bool:
        for key, request_item in plan.item_filters:
            stored = sequence_from_json(mapping[key_label(key)])
            if not matching.any_item_matches(request_item, stored, case_insensitive_names=ci):
                return False
        return True

    # -- C-MOVE / C-GET ------------------------------------------------------------------------------

    def locate(
        self,
        identifier: Dataset,
        *,
        information_model: str,
        relational: bool = False,
        view: View = View.DEFAULT,
    ) -> list[InstanceLocation]:
        """The instances a C-MOVE or C-GET request names, in `view`.

        Parameters
        ----------
        identifier : pydicom.Dataset
            The request identifier: Query/Retrieve Level and unique keys (a UID list at the level of
            the retrieve; one value at each level above, unless `relational`).
        information_model : str
            A Patient Root, Study Root or Composite Instance Root MOVE/GET SOP Class UID.
        relational : bool, optional
            Relational retrieval was negotiated: unique keys of levels above are not needed.
        view : View, optional

        Returns
        -------
        list of InstanceLocation
            Ordered by series and Instance Number; empty when nothing matches.

        Raises
        ------
        QueryError
            Missing/unknown level or missing unique key (A900).
        """
        if information_model not in MOVE_SOP_CLASSES + GET_SOP_CLASSES:
            raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "not a MOVE/GET SOP Class")
        view = View(view)
        levels = levels_of(information_model)
        level = request_level(identifier, levels)
        composite = information_model in COMPOSITE_INSTANCE_ROOT
        clauses = _unique_key_clauses(identifier, levels, level, relational or composite, relational)
        self._ensure_view(identifier, view)
        with self.sessions() as session:
            return [
                InstanceLocation(i.sop_class_uid, i.sop_instance_uid, i.transfer_syntax_uid, i.file_path, i.file_size)
                for i in queries.instances_for_retrieve(session, clauses, level, view)
            ]


def _unique_key_clauses(
    identifier: Dataset, levels: tuple[Level, ...], level: Level, upper_optional: bool, relational: bool
) -> list[ColumnElement]:
    """The clauses of a retrieve's unique keys: a UID list at its level, one value at each level above
    (none needed when `upper_optional`: relational or Composite Instance Root; a list when `relational`)."""
    clauses: list[ColumnElement] = []
    for upper in levels:
        if depth(upper) > depth(level):
            break
        keyword = UNIQUE_KEY_FOR_LEVEL[upper]
        key = KEYS_BY_KEYWORD[keyword]
        values = matching.request_values(key_value(identifier, keyword))
        if upper is level:
            if not values:
                raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, f"{keyword} is missing at {level.value} level")
        elif not values:
            if not upper_optional:
                raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, f"{keyword} is missing (hierarchical)")
            continue
        elif len(values) != 1 and not relational:
            raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, f"{keyword} must be one value above {level.value}")
        # Unique keys match exactly, never by wild card (C.2.2.1.1, C.4.2.2.1).
        clauses.append(key_column(key).in_(values))
    return clauses


__all__ = ["InstanceLocation", "QueryError", "QueryService"]
