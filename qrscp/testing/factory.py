"""Test data factory: realistic CT/MR/PET series, cross-referencing objects, bad inputs and Part 10 files.

This module is the one import for tests and benchmarks; the generators live in small modules next to it:
``identity`` (UIDs, patients, studies), ``classic`` (single-frame series), ``encoding`` (transfer syntaxes),
``files`` (Part 10 writing). Everything is deterministic for a seed.
"""

from __future__ import annotations

from qrscp.testing.classic import MISSING_TYPE2_KEYWORDS, PRIVATE_CREATOR, PRIVATE_GROUP, make_series
from qrscp.testing.encoding import (
    TRANSFER_SYNTAXES,
    TransferSyntaxInfo,
    TransferSyntaxUnavailable,
    available_transfer_syntaxes,
    encode,
    is_available,
)
from qrscp.testing.files import testdata_file, write_datasets
from qrscp.testing.identity import PatientSpec, StudySpec, derive_uid

__all__ = [
    "MISSING_TYPE2_KEYWORDS",
    "PRIVATE_CREATOR",
    "PRIVATE_GROUP",
    "TRANSFER_SYNTAXES",
    "PatientSpec",
    "StudySpec",
    "TransferSyntaxInfo",
    "TransferSyntaxUnavailable",
    "available_transfer_syntaxes",
    "derive_uid",
    "encode",
    "is_available",
    "make_series",
    "testdata_file",
    "write_datasets",
]
