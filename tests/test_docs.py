"""The conformance statement (docs/conformance.md) against the code it describes.

Each test fails when the document and the code drift apart: SOP classes, transfer syntaxes, C-FIND keys
with their levels and types, status codes, the extended negotiation bytes, configuration keys and
defaults, limits. The tables checked here are delimited in the document by ``<!-- name -->`` and
``<!-- /name -->`` comments.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

import pytest
import tomllib

import qrscp
from qrscp.config import Config
from qrscp.index.keys import KEYS, LEVEL_ORDER
from qrscp.net import access, limits
from qrscp.net.contexts import (
    QUERY_TRANSFER_SYNTAXES,
    STORAGE_SOP_CLASSES,
    STORAGE_TRANSFER_SYNTAXES,
    supported_contexts,
)
from qrscp.net.negotiation import CONVERSION_BYTE, negotiate
from qrscp.services import retrieve
from qrscp.status import Status
from qrscp.dicom.structure import MAX_SEQUENCE_DEPTH

ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = ROOT / "docs" / "conformance.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
UID = re.compile(r"\b1\.2\.840\.10008(?:\.\d+)+\b")
#: Table columns that hold a negotiation byte (1-based byte i is column BYTE_COLUMNS[i - 1]).
BYTE_COLUMNS = (2, 3, 4, 5, 6)


def block(name: str, end: str | None = None) -> str:
    """The text between ``<!-- name -->`` and ``<!-- /end -->`` (end defaults to name)."""
    start_marker, end_marker = f"<!-- {name} -->", f"<!-- /{end or name} -->"
    assert DOC.count(start_marker) == 1, f"{start_marker} must appear once in {DOC_PATH.name}"
    start = DOC.index(start_marker) + len(start_marker)
    return DOC[start : DOC.index(end_marker, start)]


def rows(text: str) -> list[list[str]]:
    """Cells of each body row of the Markdown table in `text` (header and separator skipped)."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def code_values(cell: str) -> str:
    return cell.strip().strip("`")


# --- SOP classes and transfer syntaxes ---------------------------------------------------------------


def test_every_non_storage_sop_class_is_listed_with_its_roles():
    listed = {uid: row for row in rows(block("sop-classes")) for uid in UID.findall(row[1])}
    supported = {str(cx.abstract_syntax) for cx in supported_contexts()} - set(STORAGE_SOP_CLASSES)
    assert supported == set(listed), "SOP class table differs from qrscp.net.contexts.supported_contexts()"
    for uid in supported:
        assert listed[uid][2:4] == ["No", "Yes"], f"{uid}: qrscp is SCP only for this SOP class"


def test_every_storage_sop_class_is_in_appendix_a():
    listed = [uid for row in rows(block("storage-sop-classes")) for uid in UID.findall(row[1])]
    assert len(listed) == len(set(listed)), "a storage SOP class is listed twice"
    assert set(listed) == set(STORAGE_SOP_CLASSES)
    assert f"{len(STORAGE_SOP_CLASSES)} classes" in DOC


def test_storage_contexts_accept_both_roles():
    storage = [cx for cx in supported_contexts() if str(cx.abstract_syntax) in STORAGE_SOP_CLASSES]
    assert storage and all(cx.scu_role and cx.scp_role for cx in storage)
    assert "SCP/SCU Role Selection both ways" in DOC


def test_transfer_syntax_table_matches_the_contexts():
    table = rows(block("transfer-syntaxes"))
    query_row, storage_rows = table[0], table[1:]
    assert UID.findall(query_row[2]) == [str(uid) for uid in QUERY_TRANSFER_SYNTAXES]
    storage = [uid for row in storage_rows for uid in UID.findall(row[2])]
    assert storage == [str(uid) for uid in STORAGE_TRANSFER_SYNTAXES], "order and content of the storage syntaxes"
    for cx in supported_contexts():
        expected = STORAGE_TRANSFER_SYNTAXES if str(cx.abstract_syntax) in STORAGE_SOP_CLASSES else QUERY_TRANSFER_SYNTAXES
        assert list(cx.transfer_syntax) == [str(uid) for uid in expected]


def test_the_peers_transfer_syntax_preference_wins():
    from pydicom.uid import JPEG2000, ExplicitVRLittleEndian
    from pynetdicom import build_context

    from qrscp.net.contexts import in_peer_order

    ct = "1.2.840.10008.5.1.4.1.1.2"
    ordered = in_peer_order([build_context(ct, [JPEG2000, ExplicitVRLittleEndian])], supported_contexts())
    assert [str(cx.abstract_syntax) for cx in ordered] == [ct]
    assert ordered[0].transfer_syntax[:2] == [JPEG2000, ExplicitVRLittleEndian]
    assert "**peer's** first proposed transfer syntax" in DOC


# --- C-FIND keys -----------------------------------------------------------------------------------


def _key_type(key) -> str:
    return "U" if key.unique else "R" if key.required else "O"


@pytest.mark.parametrize("level", LEVEL_ORDER, ids=lambda level: level.value)
def test_key_table_of_each_level_lists_exactly_the_keys(level):
    documented = {row[2]: row for row in rows(block(f"keys:{level.value}", "keys"))}
    expected = {key.keyword: key for key in KEYS if key.level is level}
    assert set(documented) == set(expected), f"{level.value} key table differs from qrscp.index.keys.KEYS"
    for keyword, key in expected.items():
        row = documented[keyword]
        tag = f"({key.tag >> 16:04X},{key.tag & 0xFFFF:04X})"
        assert (row[1], row[3], row[4]) == (tag, key.vr, _key_type(key)), keyword
        if not key.matched:
            assert "never matched" in row[5], keyword


def test_key_rows_are_unique_over_levels():
    keywords = [row[2] for level in LEVEL_ORDER for row in rows(block(f"keys:{level.value}", "keys"))]
    assert len(keywords) == len(set(keywords)) == len(KEYS)


# --- Status codes --------------------------------------------------------------------------------


def referenced_statuses() -> dict[str, Status]:
    """Status members named as ``Status.NAME`` by the server's code (status.py and testing/ excluded)."""
    found: dict[str, Status] = {}
    for path in sorted((ROOT / "qrscp").rglob("*.py")):
        relative = path.relative_to(ROOT / "qrscp")
        if relative.parts[0] == "testing" or relative == Path("status.py"):
            continue
        for name in re.findall(r"\bStatus\.([A-Z][A-Z_]+)\b", path.read_text(encoding="utf-8")):
            found[name] = Status[name]
    return found


def test_every_status_the_code_sends_is_documented():
    statuses = referenced_statuses()
    assert {"SUCCESS", "PENDING", "CANCEL", "REFUSED_MOVE_DESTINATION_UNKNOWN"} <= set(statuses)
    missing = {name: f"{int(status):04X}" for name, status in statuses.items() if f"`{int(status):04X}`" not in DOC}
    assert not missing, f"status codes used by qrscp but absent from {DOC_PATH.name}: {missing}"


@pytest.mark.parametrize("code", ["B000", "A702", "FE00"])
def test_sub_operation_statuses_of_pynetdicom_are_documented(code):
    """Final statuses that pynetdicom's C-MOVE/C-GET service classes send for qrscp's sub-operations."""
    assert f"`{code}`" in block("sub-operation-statuses")


# --- Extended negotiation ------------------------------------------------------------------------


def negotiation_rows() -> dict[str, list[str]]:
    table = rows(block("negotiation"))
    return {UID.findall(row[1])[0]: row for row in table}


def test_negotiation_table_names_the_conversion_byte_of_every_query_retrieve_sop_class():
    documented = {uid: int(row[-1]) for uid, row in negotiation_rows().items()}
    assert documented == {uid: index + 1 for uid, index in CONVERSION_BYTE.items()}


def test_negotiation_table_says_which_bytes_are_accepted():
    """Offer 1 in every byte the table shows; the reply's 1s are exactly the cells saying "accepted"."""
    for uid, row in negotiation_rows().items():
        cells = [row[column] for column in BYTE_COLUMNS]
        offered = [cell for cell in cells if cell != "—"]
        reply, options = negotiate({uid: b"\x01" * len(offered)}, views_enabled=True)
        assert len(reply[uid]) == len(offered)
        for byte, cell in enumerate(offered):
            assert (reply[uid][byte] == 1) == ("accepted" in cell), f"{uid} byte {byte + 1}: {cell!r}"
        assert options.views(uid)
        disabled, _ = negotiate({uid: b"\x01" * len(offered)}, views_enabled=False)
        assert disabled[uid][CONVERSION_BYTE[uid]] == 0, "[views] enabled = false must refuse the option"


def test_one_byte_offer_gets_one_byte_and_non_qr_classes_get_nothing():
    reply, _ = negotiate({"1.2.840.10008.5.1.4.1.2.2.1": b"\x01", "1.2.840.10008.5.1.4.1.1.2": b"\x01"})
    assert reply == {"1.2.840.10008.5.1.4.1.2.2.1": b"\x01"}
    assert "a one-byte offer gets a one-byte reply" in DOC


# --- Configuration, identification, limits -------------------------------------------------------


def config_rows() -> dict[str, str]:
    return {code_values(row[0]): row[1] for row in rows(block("config"))}


def test_every_configuration_key_is_documented_with_its_default():
    documented = config_rows()
    defaults = Config()
    expected = set()
    for section in dataclasses.fields(Config):
        value = getattr(defaults, section.name)
        if not dataclasses.is_dataclass(value):
            continue
        for item in dataclasses.fields(value):
            name = f"{section.name}.{item.name}"
            expected.add(name)
            assert name in documented, f"{name} missing from the configuration table"
            default = tomllib.loads(f"x = {code_values(documented[name])}")["x"]
            actual = getattr(value, item.name)
            assert (Path(default) if isinstance(actual, Path) else default) == actual, name
    extra = {name for name in documented if not name.startswith("peers.")} - expected
    assert not extra, f"documented keys that Config does not have: {extra}"


def test_implementation_identification_is_quoted():
    assert qrscp.IMPLEMENTATION_CLASS_UID in DOC
    assert qrscp.IMPLEMENTATION_VERSION_NAME in DOC
    assert qrscp.__version__ in DOC


def test_limits_are_quoted_with_their_values():
    mib = 1024 * 1024
    assert limits.MAX_CONTROL_PDU == mib and "longer than 1 MiB" in DOC
    assert limits.MAX_UNLIMITED_PDU == 64 * mib and "64 MiB" in DOC
    assert limits.PDU_SLACK == 16 and "`max_pdu` + 16 bytes" in DOC
    assert limits.DATA_SET_SLACK == 16 * mib and "`max_dataset_bytes` + 16 MiB" in DOC
    assert f"nesting deeper than {MAX_SEQUENCE_DEPTH}" in DOC


def test_a_abort_codes_are_quoted_with_their_values():
    assert f"service-provider ({limits.ABORT_SOURCE_SERVICE_PROVIDER})" in DOC
    assert f"unrecognized-PDU ({limits.ABORT_UNRECOGNIZED_PDU})" in DOC
    assert f"invalid-PDU-parameter-value ({limits.ABORT_INVALID_PDU_PARAMETER_VALUE})" in DOC
    assert f"reason not specified ({limits.ABORT_REASON_NOT_SPECIFIED})" in DOC


# --- Retrieve Without Bulk Data, association rejections, Error Comments --------------------------


def test_without_bulk_data_table_lists_every_removed_attribute():
    documented = {row[1] for row in rows(block("without-bulk-data"))}
    expected = {f"({tag.group:04X},{tag.element:04X})" for tag in retrieve.BULK_DATA_TAGS}
    expected |= {f"({group >> 8:02X}xx,{element:04X})" for group, element in retrieve.BULK_DATA_REPEATING}
    expected.add(f"({retrieve.WAVEFORM_DATA.group:04X},{retrieve.WAVEFORM_DATA.element:04X})")
    assert documented == expected


@pytest.mark.parametrize(
    "check, result, source, reason",
    [
        ("Called AE title differs", access.REJECTED_PERMANENT, access.SOURCE_SERVICE_USER,
         access.REASON_CALLED_AE_TITLE_NOT_RECOGNISED),
        ("allowed_calling_ae_titles", access.REJECTED_PERMANENT, access.SOURCE_SERVICE_USER,
         access.REASON_CALLING_AE_TITLE_NOT_RECOGNISED),
        ("allowed_addresses", access.REJECTED_PERMANENT, access.SOURCE_SERVICE_USER, access.REASON_NO_REASON_GIVEN),
        ("max_associations", access.REJECTED_TRANSIENT, access.SOURCE_SERVICE_PROVIDER_PRESENTATION,
         access.REASON_LOCAL_LIMIT_EXCEEDED),
        ("[access] bindings", access.REJECTED_PERMANENT, access.SOURCE_SERVICE_USER,
         access.REASON_CALLING_AE_TITLE_NOT_RECOGNISED),
    ],
)
def test_rejection_table_gives_the_codes_the_access_policy_sends(check, result, source, reason):
    matching = [row for row in rows(block("rejections")) if check in row[0]]
    assert len(matching) == 1, check
    row = matching[0]
    assert row[1].endswith(f"({result})") and row[2].endswith(f"({source})") and row[3].endswith(f"({reason})")


@functools.lru_cache(maxsize=1)
def _source_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "qrscp").rglob("*.py")))


#: Error Comments quoted verbatim in the document; each must still be sent by the code.
QUOTED_ERROR_COMMENTS = (
    "Query/Retrieve Level (0008,0052) is missing",
    "Query/Retrieve View present but view option not negotiated",
    "frame-level retrieve is not supported",
    "SOP Instance UID is required",
    "SOP Instance UID already stored (policy reject)",
    "File Meta elements (0002,xxxx) removed from the data set",
    "SOP Instance UID differs from Affected SOP Instance UID",
    "is not CLASSIC or ENHANCED",
    " view option not negotiated",
    "cannot write file: ",
    "index unavailable: ",
    "cannot parse data set: ",
    "unable to process: ",
    "processing failure: ",
)


@pytest.mark.parametrize("comment", QUOTED_ERROR_COMMENTS)
def test_quoted_error_comments_are_what_the_code_sends(comment):
    assert comment in DOC
    assert comment in _source_text()


# --- Regenerating the generated tables -------------------------------------------------------------

LEVEL_TITLES = {
    "PATIENT": "Patient level (Patient Root; these keys are Study level keys in Study Root)",
    "STUDY": "Study level",
    "SERIES": "Series level",
    "IMAGE": "Composite Object Instance (IMAGE) level",
}


def _matching_summary(key) -> str:
    from sqlalchemy import Integer

    from qrscp.index.matching import RANGE_VRS, WILDCARD_VRS

    if key.computed:
        if key.keyword.startswith("Number"):
            return "returned (computed in the view); not matched"
        if key.vr == "UI":
            return "computed in the view; single value, list (any of the study's SOP classes)"
        return "computed in the view; single value, wild card, list (any of the study's modalities)"
    if not key.matched:
        text = "returned; never matched (universal)"
    elif key.vr == "SQ":
        text = "sequence matching (C.2.2.2.6), items returned"
    elif key.vr == "UI":
        text = "single value, list of UIDs (unique key: no wild card)" if key.unique else "single value, list of UIDs"
    elif key.vr in RANGE_VRS:
        text = "single value, range, list"
    elif key.vr in WILDCARD_VRS:
        text = "single value, wild card, list" + (", case-insensitive when configured" if key.vr == "PN" else "")
    elif isinstance(key.model.__table__.c[key.column].type, Integer):
        text = "single value, list (compared as numbers)"
    else:
        text = "single value, list (exact text)"
    return text + ("; stored multi-valued: any value matches" if key.multiple else "")


def generated_key_tables() -> str:
    """The Markdown of section 4.2.3, from ``qrscp.index.keys.KEYS``."""
    from pydicom.datadict import dictionary_description

    out: list[str] = []
    for level in LEVEL_ORDER:
        out += [f"##### {LEVEL_TITLES[level.value]}", "", f"<!-- keys:{level.value} -->"]
        out += ["| Attribute | Tag | Keyword | VR | Type | Matching supported |", "|---|---|---|---|---|---|"]
        for key in (k for k in KEYS if k.level is level):
            tag = f"({key.tag >> 16:04X},{key.tag & 0xFFFF:04X})"
            out.append(
                f"| {dictionary_description(key.keyword)} | {tag} | {key.keyword} | {key.vr} | {_key_type(key)} "
                f"| {_matching_summary(key)} |"
            )
        out += ["<!-- /keys -->", ""]
    return "\n".join(out)


def generated_storage_table() -> str:
    """The Markdown of Appendix A, from ``qrscp.net.contexts.STORAGE_SOP_CLASSES``."""
    from pydicom.uid import UID as PydicomUID

    out = ["<!-- storage-sop-classes -->", "| SOP Class | SOP Class UID |", "|---|---|"]
    out += [f"| {PydicomUID(uid).name} | {uid} |" for uid in STORAGE_SOP_CLASSES]
    return "\n".join([*out, "<!-- /storage-sop-classes -->"])


def test_generated_tables_are_in_the_document():
    """Regenerate with ``python tests/test_docs.py`` and paste when KEYS or the storage classes change."""
    assert generated_key_tables() in DOC
    assert generated_storage_table() in DOC


if __name__ == "__main__":
    print(generated_key_tables())
    print(generated_storage_table())
