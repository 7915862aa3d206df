"""Building the response identifiers of a C-FIND from the index rows: every requested key, its value as
stored, the Specific Character Set that fits, Query/Retrieve Level and View, Retrieve AE Title.
"""

from __future__ import annotations

import logging

from pydicom.config import IGNORE
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from qrscp.dicom.flat import NotFlat, encode_flat_values, encode_little_endian
from qrscp.index import queries
from qrscp.index.values import VALUE_SEPARATOR, sequence_from_json
from qrscp.services.find_plan import Answer, FindPlan
from qrscp.uids import Level, View

log = logging.getLogger(__name__)

QUERY_RETRIEVE_LEVEL = 0x00080052
QUERY_RETRIEVE_VIEW = 0x00080053
SPECIFIC_CHARACTER_SET = 0x00080005
RETRIEVE_AE_TITLE = 0x00080054
INSTANCE_AVAILABILITY = 0x00080056
#: Character sets kept in responses when every value can be encoded with them.
KEPT_CHARACTER_SETS = {"ISO_IR 100": "latin_1", "ISO_IR 192": "utf_8"}


def response_values(plan: FindPlan, mapping, retrieve_ae_title: str) -> dict[int, tuple[str, object]]:
    """Tag -> (VR, value) of the response identifier of one matching row (value None: empty)."""
    values: dict[int, tuple[str, object]] = {}
    texts: list[str] = []
    for answer in plan.returned:
        value = response_value(answer, mapping)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(v for v in value if isinstance(v, str))
        values[answer.element.tag] = (answer.element.VR, value)
    values[QUERY_RETRIEVE_LEVEL] = ("CS", plan.level.value)
    charset = character_set(plan.level, mapping, texts)
    if charset or SPECIFIC_CHARACTER_SET in plan.identifier:
        values[SPECIFIC_CHARACTER_SET] = ("CS", charset or None)
    values[RETRIEVE_AE_TITLE] = ("AE", retrieve_ae_title)
    values[INSTANCE_AVAILABILITY] = ("CS", "ONLINE")
    if plan.view is not View.DEFAULT:
        values[QUERY_RETRIEVE_VIEW] = ("CS", plan.view.value)
    elif QUERY_RETRIEVE_VIEW in plan.identifier:
        values[QUERY_RETRIEVE_VIEW] = ("CS", None)
    return values


def build_response(plan: FindPlan, mapping, retrieve_ae_title: str) -> Dataset:
    """The response identifier of one matching row."""
    return _dataset_of(response_values(plan, mapping, retrieve_ae_title))


def _dataset_of(values: dict[int, tuple[str, object]]) -> Dataset:
    response = Dataset()
    for tag, (vr, value) in values.items():
        set_element(response, tag, vr, value)
    return response


def encode_response(plan: FindPlan, mapping, retrieve_ae_title: str, implicit_vr: bool) -> bytes:
    """The response identifier of one matching row, encoded little endian (`implicit_vr` or explicit).

    The same bytes as :func:`build_response` encoded, written straight from the row when every value
    is short ASCII text (almost every match: a third of the cost of a C-FIND was building and encoding
    the data set); otherwise through :func:`build_response`.
    """
    values = response_values(plan, mapping, retrieve_ae_title)
    try:
        return encode_flat_values([(tag, vr, value) for tag, (vr, value) in sorted(values.items())], implicit_vr)
    except NotFlat:
        return encode_little_endian(_dataset_of(values), implicit_vr)


def character_set(level: Level, mapping, texts: list[str]) -> str:
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


def requested_items(element: DataElement, stored: DicomSequence) -> DicomSequence:
    """The stored items, reduced to the attributes of the request item when it names some."""
    request_item = element.value[0] if element.value else None
    if request_item is None or len(request_item) == 0:
        return stored
    reduced = DicomSequence()
    for item in stored:
        copy = Dataset()
        for request_element in request_item:
            if request_element.tag in item:
                copy.add(item[request_element.tag])
            else:
                copy.add(DataElement(request_element.tag, request_element.VR, None))
        reduced.append(copy)
    return reduced


def response_value(answer: Answer, mapping):
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
        return requested_items(answer.element, sequence_from_json(stored or ""))
    if stored is None:
        return None
    if answer.is_int:
        return str(stored)
    if key.multiple and VALUE_SEPARATOR in stored:
        return stored.split(VALUE_SEPARATOR)
    return stored


#: VRs whose single value pydicom keeps as the plain str (UI becomes a str subclass, equal to it).
_PLAIN_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UR", "UT"})


def set_element(response: Dataset, tag: int, vr: str, value) -> None:
    """Put `value` in `response`; empty when None or when pydicom cannot hold it (a stored IS "abc").

    Values come from the index, so they are not validated again: that costs more than the query.
    """
    if value is None and vr == "SQ":
        value = DicomSequence()
    if type(value) is str and vr in _PLAIN_TEXT_VRS:
        # A single text value is what pydicom would keep: skip its conversion (a third of a C-FIND).
        response.add(DataElement(tag, vr, value, already_converted=True, validation_mode=IGNORE))
        return
    try:
        response.add(DataElement(tag, vr, value, validation_mode=IGNORE))
    except Exception as exc:  # noqa: BLE001
        log.debug("answering %s empty: %s", tag, exc)
        response.add(DataElement(tag, vr, DicomSequence() if vr == "SQ" else None, validation_mode=IGNORE))

