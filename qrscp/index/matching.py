"""PS3.4 C.2.2.2 attribute matching translated to SQLAlchemy clauses.

Every rule gives the same answer on SQLite and PostgreSQL: text columns compare byte-wise (see
``models.DicomText``), LIKE is case-sensitive on both (SQLite's ``case_sensitive_like`` pragma), and
case-insensitive Person Name matching compares the ``_ci`` columns folded in Python.

Rules, by the value in the request:

=====================  ===============================================================================
value                  matching
=====================  ===============================================================================
zero length, ``*``     universal: no clause
``""``                 empty value matching: only entities whose value is empty
``A\\B`` (any VR)      list: any of the values (List of UID Matching for UI)
``*``/``?`` in value   wild card (AE CS LO LT PN SH ST UC UR UT): ``*`` any run, ``?`` one character
``a-b``, ``-b``, ``a-``  range (DA TM DT), inclusive; an upper bound includes its whole unit of time
DA/TM/DT single value  by meaning: TM "2230" matches "223000" and "223015.5"; DA exact
anything else          single value, exact (case-insensitive for PN when configured)
=====================  ===============================================================================

A stored value with several values (``ORIGINAL\\PRIMARY``) matches when any of its values matches
(C.2.2.3). A Required or Optional key whose stored value is empty matches any value (C.2.2.1.2:
"the value is considered unknown"), except Unique keys and Patient ID.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, and_, false, literal, or_
from sqlalchemy.orm import InstrumentedAttribute

from qrscp.index.values import VALUE_SEPARATOR, parse_int

WILDCARD_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
RANGE_VRS = frozenset({"DA", "TM", "DT"})
#: The request value of Empty Value Matching: two QUOTATION MARKs.
EMPTY_VALUE = '""'
#: Escape character of the LIKE patterns (not the backslash: that separates values).
LIKE_ESCAPE = "!"
#: Appended to an upper bound so that "1800" includes 18:00:59.999 (sorts after every digit, "+" and ".").
UNIT_END = "~"
#: Keys never matched as unknown when empty: identifiers, where "unknown" must not match everyone.
NEVER_UNKNOWN = frozenset({"PatientID", "AccessionNumber"})


@dataclass(frozen=True)
class Target:
    """What a key is matched against.

    Attributes
    ----------
    column : InstrumentedAttribute
        The stored value.
    vr : str
    multiple : bool
        The column may hold several values joined by backslashes.
    folded : InstrumentedAttribute or None
        The case-folded sibling of a Person Name column.
    """

    column: InstrumentedAttribute
    vr: str
    multiple: bool = False
    folded: InstrumentedAttribute | None = None


def request_values(value: object) -> list[str] | None:
    """The values of a request element, or None for universal matching.

    Parameters
    ----------
    value : object
        ``element.value`` of the request: str, PersonName, MultiValue, number or None.
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        items = [str(item) for item in value]
    else:
        items = str(value).split(VALUE_SEPARATOR)
    items = [item.strip(" \x00") for item in items]
    items = [item for item in items if item]
    if not items or all(set(item) == {"*"} for item in items):
        return None
    return items


def like_pattern(value: str) -> str:
    """A DICOM wild card value as a LIKE pattern escaped with :data:`LIKE_ESCAPE`."""
    escaped = value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return escaped.replace("*", "%").replace("?", "_")


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def _contains(column: ColumnElement, pattern: str) -> ColumnElement[bool]:
    """Any of the backslash-separated stored values matches the LIKE `pattern`."""
    sep = VALUE_SEPARATOR
    return (literal(sep) + column + literal(sep)).like(f"%{sep}{pattern}{sep}%", escape=LIKE_ESCAPE)


#: Sorts after every character (UTF-8 F4 8F BF BF): ``prefix + PREFIX_END`` bounds a prefix range.
PREFIX_END = "\U0010ffff"


def literal_prefix(value: str) -> str:
    """The text before the first wild card of `value`."""
    cut = min((i for i in (value.find("*"), value.find("?")) if i >= 0), default=len(value))
    return value[:cut]


def _text_match(column: ColumnElement, value: str, *, wildcard: bool, multiple: bool) -> ColumnElement[bool]:
    if wildcard:
        pattern = like_pattern(value)
        if multiple:
            return _contains(column, pattern)
        like = column.like(pattern, escape=LIKE_ESCAPE)
        prefix = literal_prefix(value)
        if not prefix:
            return like
        # A range on the literal prefix lets both databases use the column's index (byte order);
        # neither uses it for a LIKE with an ESCAPE clause and a bound pattern.
        return and_(column >= prefix, column < prefix + PREFIX_END, like)
    if multiple:
        return or_(column == value, _contains(column, like_pattern(value)))
    return column == value


def _normalise_temporal(vr: str, value: str) -> str:
    # ACR-NEMA style separators: "2020.01.31", "10:30:00".
    if vr == "DA":
        return value.replace(".", "") if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", value) else value
    if vr == "TM":
        return value.replace(":", "")
    return value


def _range(column: ColumnElement, vr: str, low: str, high: str) -> ColumnElement[bool]:
    low, high = _normalise_temporal(vr, low.strip()), _normalise_temporal(vr, high.strip())
    terms = [column != ""]
    if low:
        terms.append(column >= low)
    if high:
        terms.append(column <= (high if vr == "DA" else high + UNIT_END))
    return and_(*terms)


def _temporal(column: ColumnElement, vr: str, value: str) -> ColumnElement[bool]:
    if "-" in value:
        low, _, high = value.partition("-")
        return _range(column, vr, low, high)
    value = _normalise_temporal(vr, value)
    if vr == "DA":
        return column == value
    return _range(column, vr, value, value)


def _int_match(column: ColumnElement, values: list[str]) -> ColumnElement[bool]:
    numbers = [n for n in (parse_int(v) for v in values) if n is not None]
    return column.in_(numbers) if numbers else false()


def clause(
    target: Target,
    value: object,
    *,
    case_insensitive_names: bool = False,
    match_unknown: bool = False,
) -> ColumnElement[bool] | None:
    """The SQL clause matching `value` (a request element's value) against `target`.

    Parameters
    ----------
    target : Target
    value : object
        The request element's value.
    case_insensitive_names : bool
        Match PN case-insensitively (through the folded column).
    match_unknown : bool
        Also match entities whose stored value is empty (C.2.2.1.2).

    Returns
    -------
    ColumnElement or None
        None for universal matching.
    """
    values = request_values(value)
    if values is None:
        return None
    column = target.column
    is_int = isinstance(column.type, Integer)
    empty = column.is_(None) if is_int else column == ""
    if values == [EMPTY_VALUE]:
        return empty
    values = [v for v in values if v != EMPTY_VALUE] or values
    if is_int:
        matched = _int_match(column, values)
    elif target.vr == "UI":
        matched = column.in_(values) if not target.multiple else or_(*(_text_match(column, v, wildcard=False, multiple=True) for v in values))
    elif target.vr in RANGE_VRS:
        matched = or_(*(_temporal(column, target.vr, v) for v in values))
    else:
        if target.vr == "PN" and case_insensitive_names and target.folded is not None:
            column = target.folded
            values = [v.lower() for v in values]
            empty = column == ""  # the folded column is the indexed one
        wildcard_vr = target.vr in WILDCARD_VRS
        matched = or_(
            *(_text_match(column, v, wildcard=wildcard_vr and has_wildcard(v), multiple=target.multiple) for v in values)
        )
    if match_unknown:
        return or_(matched, empty)
    return matched


def combined_datetime(
    date_column: ColumnElement, time_column: ColumnElement, date_value: object, time_value: object
) -> ColumnElement[bool] | None:
    """Combined date-time range matching (C.2.2.2.5.4) of a DA/TM pair, or None when not applicable.

    Applies when both values are single ranges of the same form ("a-b", "a-" or "-b").
    """
    dates, times = request_values(date_value), request_values(time_value)
    if not dates or not times or len(dates) != 1 or len(times) != 1:
        return None
    date, time = dates[0], times[0]
    if "-" not in date or "-" not in time:
        return None
    d1, _, d2 = (part.strip() for part in date.partition("-"))
    t1, _, t2 = (_normalise_temporal("TM", part.strip()) for part in time.partition("-"))
    d1, d2 = _normalise_temporal("DA", d1), _normalise_temporal("DA", d2)
    if bool(d1) != bool(t1) or bool(d2) != bool(t2):
        return None
    terms = [date_column != ""]
    if d1:
        terms.append(or_(date_column > d1, and_(date_column == d1, time_column >= t1)))
    if d2:
        terms.append(or_(date_column < d2, and_(date_column == d2, time_column <= t2 + UNIT_END)))
    return and_(*terms)


# --- The same rules in Python, for values kept as JSON (sequence matching) ---


def _python_wildcard(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def value_matches(vr: str, value: object, stored: str, *, case_insensitive_names: bool = False) -> bool:
    """Python twin of :func:`clause` for one stored text value (used inside sequence items)."""
    values = request_values(value)
    if values is None:
        return True
    if values == [EMPTY_VALUE]:
        return stored == ""
    stored_values = stored.split(VALUE_SEPARATOR) if stored else [""]
    if vr == "PN" and case_insensitive_names:
        values = [v.lower() for v in values]
        stored_values = [s.lower() for s in stored_values]
    for v in values:
        for s in stored_values:
            if vr in RANGE_VRS and "-" in v:
                low, _, high = v.partition("-")
                if s and (not low or s >= low.strip()) and (not high or s <= high.strip() + ("" if vr == "DA" else UNIT_END)):
                    return True
            elif vr in RANGE_VRS and vr != "DA":
                if s.startswith(v):
                    return True
            elif vr in WILDCARD_VRS and has_wildcard(v):
                if _python_wildcard(v, s):
                    return True
            elif v == s:
                return True
    return False


def item_matches(request_item, stored_item, *, case_insensitive_names: bool = False) -> bool:
    """Sequence matching (C.2.2.2.6): every key of the request item matches the stored item."""
    for element in request_item:
        if element.VR == "SQ":
            if not element.value or len(element.value[0]) == 0:
                continue
            stored_items = stored_item.get(element.tag).value if element.tag in stored_item else []
            if not any(item_matches(element.value[0], s, case_insensitive_names=case_insensitive_names) for s in stored_items):
                return False
            continue
        stored = stored_item.get(element.tag)
        stored_text = "" if stored is None else VALUE_SEPARATOR.join(str(v) for v in stored.value) if stored.VM > 1 else str(stored.value if stored.value is not None else "")
        if not value_matches(element.VR, element.value, stored_text, case_insensitive_names=case_insensitive_names):
            return False
    return True


def any_item_matches(request_item, stored_items: Iterable, **kwargs) -> bool:
    """True when at least one stored item matches the request item."""
    return any(item_matches(request_item, item, **kwargs) for item in stored_items)
