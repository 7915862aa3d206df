"""SQL statements of the query service: entities of a level, their aggregates, instances to retrieve.

Views are data: every statement restricts itself to the instances of the requested view through the
``in_default``/``in_classic``/``in_enhanced`` flags of the instance rows, so aggregates (Number of Study
Related Instances, Modalities in Study...) count each view's own instances and nothing twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence

from sqlalchemy import ColumnElement, Select, Table, exists, func, literal, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from qrscp.index.keys import LEVEL_ORDER, MODEL_FOR_LEVEL, depth
from qrscp.index.models import Base, Instance, Patient, Series, Study
from qrscp.uids import Level, View

#: Separator of values aggregated in SQL (never inside a modality or a UID).
AGGREGATE_SEPARATOR = ","
#: The parent foreign key of each level's table.
PARENT_LINK: dict[Level, tuple[InstrumentedAttribute, InstrumentedAttribute]] = {
    Level.STUDY: (Study.patient_fk, Patient.id),
    Level.SERIES: (Series.study_fk, Study.id),
    Level.IMAGE: (Instance.series_fk, Series.id),
}
#: Keywords of the aggregate keys (C.3.4) answered by :func:`aggregate_column`.
AGGREGATE_KEYWORDS = frozenset(
    {
        "NumberOfPatientRelatedStudies",
        "NumberOfPatientRelatedSeries",
        "NumberOfPatientRelatedInstances",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
        "NumberOfSeriesRelatedInstances",
        "ModalitiesInStudy",
        "SOPClassesInStudy",
    }
)


def view_flag(view: View) -> InstrumentedAttribute:
    """The instance column saying whether an instance is in `view`."""
    return {View.DEFAULT: Instance.in_default, View.CLASSIC: Instance.in_classic, View.ENHANCED: Instance.in_enhanced}[
        View(view)
    ]


def entity_select(level: Level, columns: Sequence[ColumnElement]) -> Select:
    """SELECT `columns` from the table of `level` joined to every table above it."""
    statement = select(*columns).select_from(MODEL_FOR_LEVEL[level])
    for lower in reversed(LEVEL_ORDER[1 : depth(level) + 1]):
        child_fk, parent_id = PARENT_LINK[lower]
        statement = statement.join(parent_id.class_, child_fk == parent_id)
    return statement


#: The column of each level's table that points at its parent.
PARENT_FK = {Level.STUDY: "patient_fk", Level.SERIES: "study_fk", Level.IMAGE: "series_fk"}
VIEW_FLAG_NAME = {View.DEFAULT: "in_default", View.CLASSIC: "in_classic", View.ENHANCED: "in_enhanced"}


def _instances_below(
    level: Level,
    view: View,
    clauses_by_level: Mapping[Level, Sequence[ColumnElement]] | None = None,
    *,
    isolated: bool = False,
) -> tuple[Select, dict[Level, Table]]:
    """SELECT 1 FROM the tables below `level` down to instance, correlated to `level`'s row.

    With `isolated`, the tables below are aliases, so that the subquery stays correct inside a query
    whose FROM already names them (an aggregate of the study returned at the series level).
    Returns the statement and the table (or alias) used for each level below.
    """
    below = LEVEL_ORDER[depth(level) + 1 :]
    # Core aliases, not ORM aliased(): adapting ORM columns costs milliseconds per query.
    tables = {lower: MODEL_FOR_LEVEL[lower].__table__.alias() if isolated else MODEL_FOR_LEVEL[lower].__table__ for lower in below}
    tables_all = {level: MODEL_FOR_LEVEL[level].__table__, **tables}
    statement = select(literal(1)).select_from(tables[Level.IMAGE])
    for lower in reversed(below[1:]):
        parent = LEVEL_ORDER[depth(lower) - 1]
        statement = statement.join(tables[parent], tables[lower].c[PARENT_FK[lower]] == tables[parent].c.id)
    top = below[0]
    conditions = [
        tables[top].c[PARENT_FK[top]] == MODEL_FOR_LEVEL[level].__table__.c.id,
        tables[Level.IMAGE].c[VIEW_FLAG_NAME[View(view)]] == True,
    ]
    for clauses in (clauses_by_level or {}).values():
        conditions.extend(clauses)
    return statement.where(*conditions), tables_all


@functools.cache
def in_view(level: Level, view: View) -> ColumnElement[bool]:
    """The entity of `level` has at least one instance in `view`."""
    if level is Level.IMAGE:
        return view_flag(view) == True
    return exists(_instances_below(level, view)[0])


def related_below(level: Level, view: View, clauses_by_level: Mapping[Level, Sequence[ColumnElement]]) -> ColumnElement[bool]:
    """Relational matching: an entity of a level below `level`, in `view`, satisfies its keys.

    The clauses name the real tables below `level`: they are not in the FROM of a query at `level`.
    """
    return exists(_instances_below(level, view, clauses_by_level)[0])


def _count(level: Level, view: View, counted: Level, *, distinct: bool) -> ColumnElement:
    statement, tables = _instances_below(level, view, isolated=True)
    column = tables[counted].c.id
    aggregate = func.count(column.distinct()) if distinct else func.count(column)
    return statement.with_only_columns(aggregate).scalar_subquery()


def distinct_values(column: ColumnElement, dialect: str) -> ColumnElement:
    """The distinct non-empty values of `column` joined with :data:`AGGREGATE_SEPARATOR`."""
    if dialect == "postgresql":
        return func.string_agg(column.distinct(), literal(AGGREGATE_SEPARATOR))
    return func.group_concat(column.distinct())  # SQLite: DISTINCT forbids a separator; "," is its default


@functools.cache
def aggregate_column(keyword: str, view: View, dialect: str) -> ColumnElement:
    """A correlated scalar subquery computing the aggregate key `keyword` for each row.

    Parameters
    ----------
    keyword : str
        One of :data:`AGGREGATE_KEYWORDS`.
    view : View
        Only instances of this view are counted.
    dialect : str
        ``sqlite`` or ``postgresql`` (string aggregation differs).
    """
    counts = {
        "NumberOfPatientRelatedStudies": (Level.PATIENT, Level.STUDY, True),
        "NumberOfPatientRelatedSeries": (Level.PATIENT, Level.SERIES, True),
        "NumberOfPatientRelatedInstances": (Level.PATIENT, Level.IMAGE, False),
        "NumberOfStudyRelatedSeries": (Level.STUDY, Level.SERIES, True),
        "NumberOfStudyRelatedInstances": (Level.STUDY, Level.IMAGE, False),
        "NumberOfSeriesRelatedInstances": (Level.SERIES, Level.IMAGE, False),
    }
    if keyword in counts:
        level, counted, distinct = counts[keyword]
        return _count(level, view, counted, distinct=distinct)
    if keyword == "ModalitiesInStudy":
        statement, tables = _instances_below(Level.STUDY, view, isolated=True)
        series = tables[Level.SERIES].c
        return statement.where(series.modality != "").with_only_columns(distinct_values(series.modality, dialect)).scalar_subquery()
    if keyword == "SOPClassesInStudy":
        statement, tables = _instances_below(Level.STUDY, view, isolated=True)
        instance = tables[Level.IMAGE].c
        return (
            statement.where(instance.sop_class_uid != "")
            .with_only_columns(distinct_values(instance.sop_class_uid, dialect))
            .scalar_subquery()
        )
    raise KeyError(keyword)


def modalities_in_study(view: View, matcher: Callable[[ColumnElement], ColumnElement[bool] | None]) -> ColumnElement[bool]:
    """Matching on Modalities in Study: a series of the study, in `view`, has a matching modality.

    `matcher` builds the clause on the modality column it is given (an alias of ``series.modality``).
    """
    statement, tables = _instances_below(Level.STUDY, view, isolated=True)
    clause = matcher(tables[Level.SERIES].c.modality)
    return exists(statement.where(clause)) if clause is not None else true()


def sop_classes_in_study(view: View, matcher: Callable[[ColumnElement], ColumnElement[bool] | None]) -> ColumnElement[bool]:
    """Matching on SOP Classes in Study: an instance of the study, in `view`, has a matching class."""
    statement, tables = _instances_below(Level.STUDY, view, isolated=True)
    clause = matcher(tables[Level.IMAGE].c.sop_class_uid)
    return exists(statement.where(clause)) if clause is not None else true()


def find_entities(
    level: Level,
    columns: Sequence[ColumnElement],
    clauses: Sequence[ColumnElement],
    view: View,
) -> Select:
    """The statement of a C-FIND at `level`: matching entities that have instances in `view`.

    Ordered by the entity's insertion (instances: by series, then Instance Number), so repeated
    queries stream in the same order.
    """
    model: type[Base] = MODEL_FOR_LEVEL[level]
    statement = entity_select(level, columns).where(in_view(level, view), *clauses)
    if level is Level.IMAGE:
        return statement.order_by(Instance.series_fk, Instance.instance_number, Instance.id)
    return statement.order_by(model.id)


def instances_for_retrieve(
    session: Session,
    clauses: Sequence[ColumnElement],
    level: Level = Level.IMAGE,
    view: View = View.DEFAULT,
) -> Iterator[Instance]:
    """The instances of `view` under the entities that satisfy `clauses` (C-MOVE/C-GET).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    clauses : sequence of ColumnElement
        Filters derived from the identifier (typically unique key matches from
        :mod:`qrscp.index.matching`); they may name the patient, study, series and instance tables.
    level : Level
        The retrieve level (documentation only: the clauses carry the restriction).
    view : View

    Yields
    ------
    Instance
        Ordered by series and Instance Number.
    """
    statement = entity_select(Level.IMAGE, [Instance]).where(view_flag(view) == True, *(clauses or [true()]))
    statement = statement.order_by(Instance.series_fk, Instance.instance_number, Instance.id)
    yield from session.scalars(statement.execution_options(yield_per=500))


def matches_count(session: Session, statement: Select) -> int:
    """The number of rows `statement` returns (for the configured maximum number of matches)."""
    return session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0


__all__ = [
    "AGGREGATE_KEYWORDS",
    "aggregate_column",
    "entity_select",
    "find_entities",
    "in_view",
    "instances_for_retrieve",
    "matches_count",
    "modalities_in_study",
    "related_below",
    "sop_classes_in_study",
    "view_flag",
]
