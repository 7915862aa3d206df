"""dciodvfy (dicom3tools) errors of converted objects, and which of them the source images already had.

An error of a converted object "belongs to the source" when dciodvfy reports the same subject on some
source file (any slice, any nesting path): the same attribute (messages differ with the requirement type
of the new place: "Missing Type 2 Manufacturer" in a classic image is "Empty Type 1 Manufacturer" in the
Enhanced General Equipment of the converted one), the same invalid value (an invalid SOP Instance UID is
also invalid where the converted image references its source), or the same macro found incomplete
(a Real World Value Mapping item without its Type 1 attributes is reported in the source as an incomplete
item and, kept in an Unassigned item of the converted image, as an incomplete macro), or an attribute and
the functional group that carries it (an enhanced image without Plane Position has classic frames without
Image Position (Patient)).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable

from pydicom.datadict import DicomDictionary

_NAME_TO_KEYWORD = {entry[2]: entry[4] for entry in DicomDictionary.values()}
_ELEMENT = re.compile(r"Element=<([^>]+)>")
_ATTRIBUTE = re.compile(r"attribute <([^>]+)>")
_VALUE = re.compile(r"\(0x[0-9a-f]{4},0x[0-9a-f]{4}\) [A-Z]{2} ([^-]+?) +[A-Z]{2} \[")
_UID_ROOT = re.compile(r'Illegal root for UID - "([^"]*)"')
_MODULE = re.compile(r"Module=<([^>]+)>")
_EMPTY_OR_MISSING = re.compile(r"(Missing|Empty) attribute.* Type 1C? ")
_BAD_VALUE = re.compile(r"Value invalid for this VR - .* \[\d+\] = <([^>]*)>")


def dciodvfy_path() -> str | None:
    """The path of dicom3tools' ``dciodvfy``, or None when it is not installed."""
    return shutil.which("dciodvfy")


def dciodvfy_errors(path: str | os.PathLike) -> list[str]:
    """The ``Error`` lines of ``dciodvfy`` for one file (empty: valid)."""
    tool = dciodvfy_path()
    if tool is None:
        raise FileNotFoundError("dciodvfy not found (apt-get install dicom3tools)")
    out = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=300)
    return [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")]


def _module_family(module: str) -> str:
    return module.replace("ItemMacro", "Macro")


def error_subjects(errors: Iterable[str]) -> set[str]:
    """What each dciodvfy error is about: an attribute keyword, ``uid:<value>``, ``value:<value>`` for
    an invalid value, ``module:<name>`` for the macro of an attribute in error, or the message itself."""
    subjects = set()
    for line in errors:
        uid = _UID_ROOT.search(line)
        if uid:
            subjects.add(f"uid:{uid.group(1)}")
            continue
        value = _BAD_VALUE.search(line)
        if value:
            subjects.add(f"value:{value.group(1)}")
        match = _ELEMENT.search(line) or _ATTRIBUTE.search(line) or _VALUE.search(line)
        if match:
            name = match.group(1).strip()
            subjects.add(_NAME_TO_KEYWORD.get(name, name))
            module = _MODULE.search(line)
            if module:
                subjects.add(f"module:{_module_family(module.group(1))}")
        elif "invalid data values for Value Representations" in line:
            subjects.add("<invalid VR values>")
        else:
            subjects.add(line)
    return subjects


def _carriers() -> dict[str, set[str]]:
    """Classic keyword -> the enhanced attributes that carry it (its functional group macro and the
    functional group sequences), and each macro sequence -> the classic keywords it is made of."""
    from qrscp.convert.functional_groups import MACRO_ATTRIBUTES

    carriers: dict[str, set[str]] = {}
    groups = {"SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"}
    for macro, keywords in MACRO_ATTRIBUTES.items():
        for keyword in keywords:
            carriers.setdefault(keyword, set()).update({macro, *groups})
        carriers.setdefault(macro, set()).update(keywords)
    return carriers


def new_errors(output_errors: Iterable[str], source_errors: Iterable[str], *,
               empty_in_source: Iterable[str] = ()) -> list[str]:
    """The errors of a converted object that no source file already had (see the module docstring).

    `empty_in_source`: keywords every source sends with no value (Type 2); a missing or empty Type 1/1C
    error about one of them is the source's too (the converter does not invent values).
    """
    known = error_subjects(source_errors)
    carriers = _carriers()
    known |= {keyword for keyword, carried_by in carriers.items() if carried_by & known}
    empty = set(empty_in_source)
    new = []
    for line in output_errors:
        subjects = error_subjects([line])
        if _EMPTY_OR_MISSING.search(line) and subjects & empty:
            continue
        if {s for s in subjects if s.startswith("value:")} & known:
            continue  # the same invalid value, now where the converted object references it
        attribute_subjects = {s for s in subjects if not s.startswith(("module:", "value:"))}
        if attribute_subjects and attribute_subjects <= known:
            continue
        module = _MODULE.search(line)
        if module and line.startswith("Error - Missing attribute Type 1") and \
                f"module:{_module_family(module.group(1))}" in known:
            continue  # the source's macro is incomplete already
        new.append(line)
    return sorted(set(new))
