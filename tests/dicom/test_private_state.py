"""pydicom's private state is touched by the codec package only (issue 13): every other module of the
product uses the named functions of :mod:`qrscp.dicom` instead, so that a pydicom release that changes
its internals is met in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import qrscp

PACKAGE = Path(qrscp.__file__).resolve().parent
CODEC = PACKAGE / "dicom"
#: What only the codec may write: a data set's element dict, pydicom's private File Meta reader, objects
#: made without their constructor.
PRIVATE = re.compile(r"\._dict\b|_read_file_meta_info|object\.__new__")


def _outside_codec() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if CODEC not in path.parents)


def test_the_product_code_is_found() -> None:
    paths = _outside_codec()
    assert PACKAGE / "convert" / "enhanced.py" in paths and PACKAGE / "index" / "values.py" in paths
    assert not any(CODEC in path.parents for path in paths)


@pytest.mark.parametrize("path", _outside_codec(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_private_pydicom_state_outside_the_codec(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    found = [f"{number}: {line.strip()}" for number, line in enumerate(source.splitlines(), start=1)
             if PRIVATE.search(line)]
    assert found == [], "use qrscp.dicom (element_dict, set_element_dict, new_dataset, part10) instead"
    private_imports = [
        f"{node.lineno}: from {node.module} import {alias.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pydicom"
        for alias in node.names if alias.name.startswith("_")
    ]
    assert private_imports == []


def test_the_check_finds_what_it_forbids() -> None:
    for line in ("ds._dict[tag] = elem", "from pydicom.filereader import _read_file_meta_info",
                 "instance = object.__new__(Dataset)"):
        assert PRIVATE.search(line), line
    assert not PRIVATE.search("element_dict(ds)[tag] = elem")
