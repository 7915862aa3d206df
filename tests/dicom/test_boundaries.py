"""The codec's boundaries (issue 13): pydicom's private state is touched by :mod:`qrscp.dicom` only, every
other module of the product uses its named functions instead, so that a pydicom release that changes its
internals is met in one place; the codec imports no other part of qrscp, and storage no conversion."""

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


def _qrscp_imports(path: Path) -> set[str]:
    """The qrscp modules `path` imports (anywhere in it, functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "qrscp":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "qrscp")
    return found


@pytest.mark.parametrize("path", sorted(CODEC.glob("*.py")), ids=lambda path: path.name)
def test_the_codec_imports_no_other_layer(path: Path) -> None:
    outside = {name for name in _qrscp_imports(path) if name != "qrscp" and not name.startswith("qrscp.dicom")}
    assert outside == set()


@pytest.mark.parametrize("path", [*sorted((PACKAGE / "store").glob("*.py")), PACKAGE / "services" / "storage.py",
                                  PACKAGE / "services" / "storage_checks.py", PACKAGE / "services" / "importer.py",
                                  PACKAGE / "index" / "values.py"],
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_storage_and_index_read_dicom_through_the_codec_not_the_conversion(path: Path) -> None:
    assert {name for name in _qrscp_imports(path) if name.startswith("qrscp.convert")} == set()
