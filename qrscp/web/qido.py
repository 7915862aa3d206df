"""QIDO-RS (PS3.18 10.6): query parameters -> a query identifier -> the query service -> DICOM JSON.

Matching is the query service's (the same code as C-FIND): a relational Study Root query of the
level of the resource, with the UIDs of the path as keys. What this module adds is the translation:
``{attributeID}={value}`` (keyword or tag, one level of ``Sequence.Attribute``), ``includefield``
(``all`` too), ``limit``/``offset``, ``fuzzymatching``, and the default attributes of PS3.18
Table 10.6.3-3 per level.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from qrscp.index.keys import KEYS_BY_KEYWORD, depth, model_level
from qrscp.uids import STUDY_ROOT_FIND, Level
from qrscp.web.errors import WebError

#: PS3.18 Table 10.6.3-3 (and Study Description, which every study list shows).
DEFAULT_KEYS = {
    Level.STUDY: (
        "StudyDate", "StudyTime", "AccessionNumber", "ModalitiesInStudy", "ReferringPhysicianName",
        "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyID",
        "StudyDescription", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
    ),
    Level.SERIES: (
        "StudyInstanceUID", "Modality", "SeriesDescription", "SeriesInstanceUID", "SeriesNumber",
        "NumberOfSeriesRelatedInstances", "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
    ),
    Level.IMAGE: (
        "StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID", "SOPInstanceUID", "InstanceNumber",
        "Rows", "Columns", "BitsAllocated", "NumberOfFrames",
    ),
}
RESERVED_PARAMETERS = frozenset({"includefield", "limit", "offset", "fuzzymatching", "accept", "charset"})
_INTEGER_VRS = frozenset({"US", "UL", "SS", "SL", "UV", "SV"})
QUERY_RETRIEVE_LEVEL = 0x00080052
RETRIEVE_URL = 0x00081190


@dataclass
class Search:
    """A checked QIDO-RS request."""

    level: Level
    identifier: Dataset
    limit: int | None = None
    offset: int = 0
    warnings: list[str] = field(default_factory=list)


def _tag_of(name: str) -> int:
    """The tag of a keyword or ``GGGGEEEE``; 400 for anything else."""
    tag = tag_for_keyword(name)
    if tag is not None:
        return tag
    if len(name) == 8:
        try:
            return int(name, 16)
        except ValueError:
            pass
    raise WebError(400, f"unknown attribute {name!r} (a keyword or 8 hexadecimal digits)")


def _vr_of(tag: int) -> str:
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        raise WebError(400, f"attribute {tag:08X} is not in the data dictionary") from None
    return vr.split(" or ")[0]


def _element(tag: int, text: str | None) -> DataElement:
    vr = _vr_of(tag)
    if text is None or text == "":
        return DataElement(tag, vr, DicomSequence() if vr == "SQ" else None)
    if vr == "SQ":
        raise WebError(400, f"{keyword_for_tag(tag) or f'{tag:08X}'} is a sequence: match one of its attributes")
    if vr in _INTEGER_VRS:
        try:
            return DataElement(tag, vr, int(text))
        except ValueError:
            raise WebError(400, f"{keyword_for_tag(tag)} needs an integer, not {text!r}") from None
    if vr == "UI":
        text = text.replace(",", "\\")  # a UID list (PS3.18 8.3.4.1)
    return DataElement(tag, vr, text, validation_mode=0)


def _add(identifier: Dataset, path: str, text: str | None) -> None:
    names = path.split(".")
    if len(names) > 2:
        raise WebError(400, f"{path!r}: only one level of sequence matching is supported")
    if len(names) == 1:
        identifier.add(_element(_tag_of(names[0]), text))
        return
    sequence_tag, tag = _tag_of(names[0]), _tag_of(names[1])
    if _vr_of(sequence_tag) != "SQ":
        raise WebError(400, f"{names[0]!r} is not a sequence")
    if sequence_tag not in identifier or not identifier[sequence_tag].value:
        identifier.add(DataElement(sequence_tag, "SQ", DicomSequence([Dataset()])))
    identifier[sequence_tag].value[0].add(_element(tag, text))


def _non_negative(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise WebError(400, f"{name} must be a non-negative integer, not {text!r}")
    return int(text)


def _all_keys(level: Level) -> list[str]:
    """``includefield=all``: every indexed attribute of the level and the levels above."""
    return [
        keyword
        for keyword, key in KEYS_BY_KEYWORD.items()
        if depth(model_level(key, STUDY_ROOT_FIND)) <= depth(level)
    ]


def parse(params, level: Level, path_uids: Mapping[str, str]) -> Search:
    """Turn the query parameters of a QIDO-RS request into a :class:`Search`.

    Parameters
    ----------
    params : starlette.datastructures.QueryParams
        The query parameters (several values per name allowed for ``includefield`` only).
    level : Level
        STUDY, SERIES or IMAGE (the resource searched).
    path_uids : mapping
        ``StudyInstanceUID``/``SeriesInstanceUID`` from the resource path.
    """
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level.value
    search = Search(level, identifier, _non_negative(params, "limit"), _non_negative(params, "offset") or 0)
    returned = list(DEFAULT_KEYS[level])
    for value in params.getlist("includefield"):
        for name in filter(None, (v.strip() for v in value.split(","))):
            if name == "all":
                returned.extend(_all_keys(level))
            else:
                returned.append(keyword_for_tag(_tag_of(name.split(".")[0])) or name.split(".")[0])
    matched: set[str] = set()
    for name in params.keys():
        if name in RESERVED_PARAMETERS:
            continue
        values = params.getlist(name)
        if len(values) > 1:
            raise WebError(400, f"{name} is given {len(values)} times")
        _add(identifier, name, values[0])
        matched.add(name.split(".")[0])
    for keyword, uid in path_uids.items():
        if keyword in matched:
            raise WebError(400, f"{keyword} is already given by the resource path")
        identifier.add(_element(_tag_of(keyword), uid))
    for name in returned:
        tag = _tag_of(name)
        if tag not in identifier:
            identifier.add(_element(tag, None))
    fuzzy = params.get("fuzzymatching", "false").lower()
    if fuzzy not in ("true", "false"):
        raise WebError(400, f"fuzzymatching must be true or false, not {fuzzy!r}")
    if fuzzy == "true":
        search.warnings.append("fuzzymatching is not supported: names matched exactly or by wild card")
    return search


def run(query_service, search: Search, view) -> tuple[list[Dataset], list[str]]:
    """Run the search; return the page of matches (offset, limit) and the unsupported keys."""
    results = query_service.search(search.identifier, view=view)
    matches = iter(results)
    stop = None if search.limit is None else search.offset + search.limit
    try:
        page = list(itertools.islice(matches, search.offset, stop))
    finally:
        close = getattr(matches, "close", None)
        if close is not None:
            close()
    return page, list(results.unsupported_keys)


def answer(match: Dataset, retrieve_url: str) -> Dataset:
    """A match as QIDO-RS returns it: without Query/Retrieve Level, with Retrieve URL."""
    if QUERY_RETRIEVE_LEVEL in match:
        del match[QUERY_RETRIEVE_LEVEL]
    match.add(DataElement(RETRIEVE_URL, "UR", retrieve_url))
    return match
