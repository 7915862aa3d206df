"""The C-FIND query service and the instance lookup of C-MOVE/C-GET, answered from the index alone.

``QueryService.find`` checks the request identifier, then returns a generator of response identifiers
that streams rows from the database (server-side cursor on PostgreSQL) and never builds the whole
answer. ``QueryService.locate`` lists the instances a C-MOVE/C-GET must send.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pydicom.config import IGNORE
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from sqlalchemy import ColumnElement, Integer
from sqlalchemy.orm import Session, sessionmaker

from qrscp.config import Config
from qrscp.index import matching, queries
from qrscp.index.keys import (
    KEYS_BY_KEYWORD,
    SERVICE_KEYWORDS,
    UNIQUE_KEY_FOR_LEVEL,
    Key,
    depth,
    levels_of,
    model_level,
)
from qrscp.index.models import Instance, Patient, Study
from qrscp.index.values import VALUE_SEPARATOR, sequence_from_json
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
QUERY_RETRIEVE_LEVEL = 0x00080052
QUERY_RETRIEVE_VIEW = 0x00080053
SPECIFIC_CHARACTER_SET = 0x00080005
RETRIEVE_AE_TITLE = 0x00080054
INSTANCE_AVAILABILITY = 0x00080056
#: Rows fetched from the database at a time while streaming.
STREAM_BATCH = 256
#: Character sets kept in responses when every value can be encoded with them.
KEPT_CHARACTER_SETS = {"ISO_IR 100": "latin_1", "ISO_IR 192": "utf_8"}
#: Date/time pairs matched as one DT when combined date-time matching was negotiated (C.2.2.2.5.4).
COMBINED_PAIRS = (
    ("StudyDate", "StudyTime"),
    ("SeriesDate", "SeriesTime"),
    ("PatientBirthDate", "PatientBirthTime"),
    ("PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime"),
    ("ContentDate", "ContentTime"),
    ("AcquisitionDate", "AcquisitionTime"),
    ("InstanceCreationDate", "InstanceCreationTime"),
    ("PresentationCreationDate", "PresentationCreationTime"),
)


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


@dataclass(frozen=True)
class InstanceLocation:
    """An instance a C-MOVE/C-GET sends: what it is and where its file is (relative to the store)."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    file_path: str
    file_size: int = 0


@dataclass(frozen=True)
class _Answer:
    """How to answer one requested key: computed once per request, used for every match."""

    element: DataElement
    key: Key | None
    label: str | None  # the selected column's label; None when not answered from a column
    is_int: bool

    @classmethod
    def of(cls, element: DataElement, key: Key | None) -> _Answer:
        if key is None or key.computed:
            return cls(element, key, key.keyword if key else None, False)
        is_int = isinstance(key.model.__table__.c[key.column].type, Integer)
        return cls(element, key, _label(key), is_int)


@dataclass
class _Plan:
    """A checked C-FIND request."""

    level: Level
    information_model: str
    relational: bool
    view: View
    identifier: Dataset
    clauses: list[ColumnElement]
    item_filters: list[tuple[Key, Dataset]]
    columns: dict[str, ColumnElement]  # label -> column
    returned: list[_Answer]  # request elements in order, with how to answer them
    #: Multi-valued keys matched by wild card: SQL may match across values ("C*T" vs "CX\\YT"),
    #: so each row is checked again in Python: (label, VR, request value, unknown matches).
    value_filters: list[tuple[str, str, object, bool]] = field(default_factory=list)
    #: Keywords (or tags) of requested Optional Keys that the index does not hold: returned empty.
    unsupported_keys: list[str] = field(default_factory=list)


class FindResults:
    """The response identifiers of one C-FIND, and the requested keys that are not supported.

    Iterate it for the matches. `unsupported_keys` is known before the first match, so that the
    caller can answer Pending ``FF01`` instead of ``FF00`` (PS3.4 C.4.1.1.4) when it is not empty.
    """

    def __init__(self, matches: Iterator[Dataset], unsupported_keys: Sequence[str]) -> None:
        self._matches = matches
        self.unsupported_keys = tuple(unsupported_keys)

    def __iter__(self) -> Iterator[Dataset]:
        return self._matches


def _column(key: Key) -> ColumnElement:
    return getattr(key.model, key.column)


def _label(key: Key) -> str:
    return f"{key.model.__tablename__}_{key.column}"


def _request_level(identifier: Dataset, levels: tuple[Level, ...]) -> Level:
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


def _request_elements(identifier: Dataset) -> Iterator[tuple[DataElement, object]]:
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


def _key_value(identifier: Dataset, keyword: str) -> object:
    """The value of `keyword` in the request, None when absent; raw text when unconvertible."""
    for element, value in _request_elements(identifier):
        if element.keyword == keyword:
            return value
    return None


def _single_uid(value: object) -> str | None:
    values = matching.request_values(value)
    if not values or len(values) != 1 or matching.has_wildcard(values[0]):
        return None
    return values[0]


class QueryService:
    """C-FIND answers and C-MOVE/C-GET instance lists from the index.

    Parameters
    ----------
    config : Config
        Reads ``server.ae_title`` (Retrieve AE Title), ``query.case_insensitive_person_names`` and
        ``query.max_matches``.
    sessions : sessionmaker
        Sessions of the index.
    view_builder : object, optional
        Anything with ``ensure(session_or_none, identifier, view)``; called before a query or retrieve
        of the CLASSIC or ENHANCED view so that the view exists (we pass None: the builder commits with
        its own sessions before we read).
    """

    def __init__(self, config: Config, sessions: sessionmaker[Session], view_builder=None) -> None:
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
        return FindResults(self._stream(statement, plan), plan.unsupported_keys)

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

    def _plan(self, identifier: Dataset, model: str, relational: bool, view: View, combined: bool) -> _Plan:
        levels = levels_of(model)
        level = _request_level(identifier, levels)
        ci = bool(getattr(self.config.query, "case_insensitive_person_names", True))
        match_unknown = bool(self.config.query.match_unknown)
        plan = _Plan(level, model, relational, view, identifier, [], [], {}, [])
        lower_clauses: dict[Level, list[ColumnElement]] = {}
        combined_done: set[str] = set()
        if combined:
            self._combined_clauses(identifier, model, level, relational, plan, lower_clauses, combined_done)
        for element, value in _request_elements(identifier):
            keyword = keyword_for_tag(element.tag)
            if keyword in SERVICE_KEYWORDS:
                continue
            key = KEYS_BY_KEYWORD.get(keyword)
            plan.returned.append(_Answer.of(element, key))
            if key is None:
                # Not indexed: returned empty (C.2.2.1.3), and the matches are Pending FF01.
                plan.unsupported_keys.append(keyword or str(element.tag))
                continue
            key_level = model_level(key, model)
            below = depth(key_level) > depth(level)
            if below and not relational:
                raise QueryError(
                    Status.CANNOT_UNDERSTAND,
                    f"{keyword} is a {key_level.value} key, below {level.value} level",
                )
            if key.computed:
                self._computed_key(plan, key, value, below, view)
                continue
            if not below:
                plan.columns[_label(key)] = _column(key)
            if key.vr == "SQ":
                item = value[0] if value else None
                if item is not None and len(item) and not below:
                    plan.item_filters.append((key, item))
                continue
            if keyword in combined_done or not key.matched:
                continue
            clause = matching.clause(
                matching.Target(_column(key), key.vr, key.multiple, getattr(key.model, key.ci_column) if key.ci_column else None),
                value,
                case_insensitive_names=ci,
                match_unknown=match_unknown and not key.unique and keyword not in matching.NEVER_UNKNOWN,
            )
            if clause is None:
                continue
            (lower_clauses.setdefault(key_level, []) if below else plan.clauses).append(clause)
            if key.multiple and not below and any(matching.has_wildcard(v) for v in matching.request_values(value) or []):
                unknown = match_unknown and not key.unique and keyword not in matching.NEVER_UNKNOWN
                plan.value_filters.append((_label(key), key.vr, value, unknown))
        if lower_clauses:
            plan.clauses.append(queries.related_below(level, view, lower_clauses))
        if not relational:
            self._check_unique_keys_above(identifier, model, level)
        plan.columns["patient_specific_character_set"] = Patient.specific_character_set
        if depth(level) >= depth(Level.STUDY):
            plan.columns["study_specific_character_set"] = Study.specific_character_set
        if level is Level.IMAGE:
            plan.columns["instance_specific_character_set"] = Instance.specific_character_set
        return plan

    def _combined_clauses(self, identifier, model, level, relational, plan, lower_clauses, done) -> None:
        for date_keyword, time_keyword in COMBINED_PAIRS:
            if date_keyword not in identifier or time_keyword not in identifier:
                continue
            date_key, time_key = KEYS_BY_KEYWORD[date_keyword], KEYS_BY_KEYWORD[time_keyword]
            key_level = model_level(date_key, model)
            if depth(key_level) > depth(level) and not relational:
                continue  # reported as a key below the level by the main loop
            clause = matching.combined_datetime(
                _column(date_key), _column(time_key), identifier[date_keyword].value, identifier[time_keyword].value
            )
            if clause is None:
                continue
            done.update((date_keyword, time_keyword))
            if depth(key_level) > depth(level):
                lower_clauses.setdefault(key_level, []).append(clause)
            else:
                plan.clauses.append(clause)

    def _computed_key(self, plan: _Plan, key: Key, value: object, below: bool, view: View) -> None:
        if below:
            return
        plan.columns[key.keyword] = queries.aggregate_column(key.keyword, view, self._dialect)
        if matching.request_values(value) is None:
            return  # universal matching: only answered
        if key.keyword == "ModalitiesInStudy":
            matcher = lambda column: matching.clause(matching.Target(column, "CS"), value)
            plan.clauses.append(queries.modalities_in_study(view, matcher))
        elif key.keyword == "SOPClassesInStudy":
            matcher = lambda column: matching.clause(matching.Target(column, "UI"), value)
            plan.clauses.append(queries.sop_classes_in_study(view, matcher))

    @staticmethod
    def _check_unique_keys_above(identifier: Dataset, model: str, level: Level) -> None:
        """Hierarchical search (C.4.1.2.1): a single value of the unique key of each level above."""
        for upper in levels_of(model):
            if depth(upper) >= depth(level):
                break
            keyword = UNIQUE_KEY_FOR_LEVEL[upper]
            if _single_uid(_key_value(identifier, keyword)) is None:
                raise QueryError(
                    Status.CANNOT_UNDERSTAND,
                    f"{level.value} query needs one {keyword} (hierarchical)",
                )

    def _stream(self, statement, plan: _Plan) -> Iterator[Dataset]:
        ci = bool(getattr(self.config.query, "case_insensitive_person_names", True))
        with self.sessions() as session:
            result = session.execute(statement.execution_options(yield_per=STREAM_BATCH))
            for row in result:
                mapping = row._mapping
                if plan.item_filters and not self._items_match(plan, mapping, ci):
                    continue
                if plan.value_filters and not self._values_match(plan, mapping, ci):
                    continue
                yield self._response(plan, mapping)

    @staticmethod
    def _values_match(plan: _Plan, mapping, ci: bool) -> bool:
        for label, vr, value, unknown in plan.value_filters:
            stored = mapping[label] or ""
            if not (unknown and stored == "") and not matching.value_matches(vr, value, stored, case_insensitive_names=ci):
                return False
        return True

    @staticmethod
    def _items_match(plan: _Plan, mapping, ci: bool) -> bool:
        for key, request_item in plan.item_filters:
            stored = sequence_from_json(mapping[_label(key)])
            if not matching.any_item_matches(request_item, stored, case_insensitive_names=ci):
                return False
        return True

    def _response(self, plan: _Plan, mapping) -> Dataset:
        response = Dataset()
        texts: list[str] = []
        for answer in plan.returned:
            value = _response_value(answer, mapping)
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, list):
                texts.extend(v for v in value if isinstance(v, str))
            _set(response, answer.element.tag, answer.element.VR, value)
        _set(response, QUERY_RETRIEVE_LEVEL, "CS", plan.level.value)
        charset = self._character_set(plan.level, mapping, texts)
        if charset or SPECIFIC_CHARACTER_SET in plan.identifier:
            _set(response, SPECIFIC_CHARACTER_SET, "CS", charset or None)
        _set(response, RETRIEVE_AE_TITLE, "AE", self.config.server.ae_title)
        _set(response, INSTANCE_AVAILABILITY, "CS", "ONLINE")
        if plan.view is not View.DEFAULT:
            _set(response, QUERY_RETRIEVE_VIEW, "CS", plan.view.value)
        elif QUERY_RETRIEVE_VIEW in plan.identifier:
            _set(response, QUERY_RETRIEVE_VIEW, "CS", None)
        return response

    @staticmethod
    def _character_set(level: Level, mapping, texts: list[str]) -> str:
        """The Specific Character Set of a response: the stored one when it fits, else ISO_IR 192."""
        stored = ""
        for label in ("instance_specific_character_set", "study_specific_character_set", "patient_specific_character_set"):
            stored = mapping.get(label) or ""
            if stored:
                break
        stored = stored.split(VALUE_SEPARATOR)[-1].strip() if stored else ""
        if all(text.isascii() for text in texts):
            return stored if stored in KEPT_CHARACTER_SETS else ""
        codec = KEPT_CHARACTER_SETS.get(stored)
        if codec is not None:
            try:
                for text in texts:
                    text.encode(codec)
                return stored
            except UnicodeEncodeError:
                pass
        return "ISO_IR 192"

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
        level = _request_level(identifier, levels)
        composite = information_model in COMPOSITE_INSTANCE_ROOT
        clauses: list[ColumnElement] = []
        for upper in levels:
            if depth(upper) > depth(level):
                break
            keyword = UNIQUE_KEY_FOR_LEVEL[upper]
            key = KEYS_BY_KEYWORD[keyword]
            values = matching.request_values(_key_value(identifier, keyword))
            if upper is level:
                if not values:
                    raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, f"{keyword} is missing at {level.value} level")
            elif not values:
                if not relational and not composite:
                    raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, f"{keyword} is missing (hierarchical)")
                continue
            elif len(values) != 1 and not relational:
                raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, f"{keyword} must be one value above {level.value}")
            # Unique keys match exactly, never by wild card (C.2.2.1.1, C.4.2.2.1).
            clauses.append(_column(key).in_(values))
        self._ensure_view(identifier, view)
        with self.sessions() as session:
            return [
                InstanceLocation(i.sop_class_uid, i.sop_instance_uid, i.transfer_syntax_uid, i.file_path, i.file_size)
                for i in queries.instances_for_retrieve(session, clauses, level, view)
            ]


def _requested_items(element: DataElement, stored: Sequence) -> Sequence:
    """The stored items, reduced to the attributes of the request item when it names some."""
    request_item = element.value[0] if element.value else None
    if request_item is None or len(request_item) == 0:
        return stored
    reduced = Sequence()
    for item in stored:
        copy = Dataset()
        for request_element in request_item:
            if request_element.tag in item:
                copy.add(item[request_element.tag])
            else:
                copy.add(DataElement(request_element.tag, request_element.VR, None))
        reduced.append(copy)
    return reduced


def _response_value(answer: _Answer, mapping):
    """The value answering one requested key for one matching row (None: empty)."""
    key = answer.key
    if key is None:
        return None
    if key.computed:
        raw = mapping.get(key.keyword)
        if raw is None:
            return None
        if key.keyword in ("ModalitiesInStudy", "SOPClassesInStudy"):
            return sorted(v for v in str(raw).split(queries.AGGREGATE_SEPARATOR) if v)
        return int(raw)
    if answer.label not in mapping:
        return None  # a key of a level below the query level (relational)
    stored = mapping[answer.label]
    if key.vr == "SQ":
        return _requested_items(answer.element, sequence_from_json(stored or ""))
    if stored is None:
        return None
    if answer.is_int:
        return str(stored)
    if key.multiple and VALUE_SEPARATOR in stored:
        return stored.split(VALUE_SEPARATOR)
    return stored


#: VRs whose single value pydicom keeps as the plain str (UI becomes a str subclass, equal to it).
_PLAIN_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UR", "UT"})


def _set(response: Dataset, tag: int, vr: str, value) -> None:
    """Put `value` in `response`; empty when None or when pydicom cannot hold it (a stored IS "abc").

    Values come from the index, so they are not validated again: that costs more than the query.
    """
    if value is None and vr == "SQ":
        value = Sequence()
    if type(value) is str and vr in _PLAIN_TEXT_VRS:
        # A single text value is what pydicom would keep: skip its conversion (a third of a C-FIND).
        response.add(DataElement(tag, vr, value, already_converted=True, validation_mode=IGNORE))
        return
    try:
        response.add(DataElement(tag, vr, value, validation_mode=IGNORE))
    except Exception as exc:  # noqa: BLE001
        log.debug("answering %s empty: %s", tag, exc)
        response.add(DataElement(tag, vr, Sequence() if vr == "SQ" else None, validation_mode=IGNORE))


__all__ = ["InstanceLocation", "QueryError", "QueryService"]
