"""Checks shared by the conversion tests: factory series, dciodvfy comparison, attribute equality."""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.datadict import DicomDictionary
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from qrscp.convert.attributes import PIXEL_TAGS, is_group_length
from qrscp.dicom.values import value_key
from qrscp.testing.dcmtk import dciodvfy_errors, dciodvfy_path

MODALITIES = ["CT", "MR", "PET"]
#: make_series keyword arguments of each acceptance variant (issue 4).
VARIANTS: dict[str, dict] = {
    "uncompressed": {},
    "implicit-vr": {"transfer_syntax": "1.2.840.10008.1.2"},
    "big-endian": {"transfer_syntax": "1.2.840.10008.1.2.2"},
    "deflated": {"transfer_syntax": "1.2.840.10008.1.2.1.99"},
    "jpeg-lossless": {"transfer_syntax": "1.2.840.10008.1.2.4.70"},
    "jpeg2000": {"transfer_syntax": "1.2.840.10008.1.2.4.90"},
    "rle": {"transfer_syntax": "1.2.840.10008.1.2.5"},
    "mixed-syntaxes": {"mixed_transfer_syntaxes": True},
    "overlay": {"overlay": True},
    "private": {"private_block_bytes": 2048},
    "window-rescale": {"per_slice_window": True, "per_slice_rescale": True},
    "two-orientations": {"two_orientations": True},
    "invalid-and-missing": {"invalid_values": True, "missing_type2": True},
    # nothing varies between frames: every frame's Unassigned Per-Frame item is empty
    "one-image": {"slices": 1},
}
SLICES = 4
SIZE = 32

needs_dciodvfy = pytest.mark.skipif(dciodvfy_path() is None, reason="dciodvfy (dicom3tools) not installed")

_NAME_TO_KEYWORD = {entry[2]: entry[4] for entry in DicomDictionary.values()}


@functools.cache
def series_for(modality: str, variant: str) -> tuple[Dataset, ...]:
    """A small factory series for (modality, variant), generated once per test session."""
    from qrscp.testing.factory import make_series

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arguments = {"slices": SLICES, "rows": SIZE, "columns": SIZE, "seed": 7, **VARIANTS[variant]}
        return tuple(make_series(modality, **arguments))


def error_subjects(path: str | Path) -> set[str]:
    """dciodvfy errors of a file, reduced to the attribute (keyword) they are about.

    Two messages about the same attribute ("Missing Type 2 Manufacturer" in the classic image, "Empty
    Type 1 Manufacturer" in the Enhanced General Equipment of the converted one) are the same defect
    of the source data, carried over as the issue requires.
    """
    subjects = set()
    for line in dciodvfy_errors(path):
        match = re.search(r"Element=<([^>]+)>", line) or re.search(r"attribute <([^>]+)>", line)
        match = match or re.search(r"\(0x[0-9a-f]{4},0x[0-9a-f]{4}\) [A-Z]{2} ([^-]+?) +[A-Z]{2} \[", line)
        match = match or re.search(r"Illegal root for UID .* in \(0x[0-9a-f]{4},0x[0-9a-f]{4}\) (.+)$", line)
        if match:
            name = match.group(1).strip()
            subjects.add(_NAME_TO_KEYWORD.get(name, name))
        elif "invalid data values for Value Representations" in line:
            subjects.add("<invalid VR values>")
        else:
            subjects.add(line)
    return subjects


def new_errors(output: str | Path, sources: list[str | Path]) -> set[str]:
    """dciodvfy errors of `output` about attributes that no source file already had an error about."""
    known: set[str] = set()
    for source in sources:
        known |= error_subjects(source)
    return error_subjects(output) - known


def attribute_differences(original: Dataset, recovered: Dataset) -> list[str]:
    """Attributes whose values differ (absent == empty, C.7.6.16.2.FG), pixel data excluded."""
    differences = []
    little = [(getattr(ds, "original_encoding", None) or (None, None))[1] is True for ds in (original, recovered)]
    for tag in sorted(set(original.keys()) | set(recovered.keys())):
        tag = Tag(tag)
        if is_group_length(tag) or tag in PIXEL_TAGS:
            continue
        if value_key(original, tag, little[0]) != value_key(recovered, tag, little[1]):
            differences.append(f"{tag} {original.get(tag)!r} != {recovered.get(tag)!r}")
    return differences


def frame_pixels(ds: Dataset) -> np.ndarray:
    """Pixel array of a dataset as frames x rows x columns (x samples)."""
    array = ds.pixel_array
    if int(ds.get("NumberOfFrames", 1) or 1) == 1:
        array = array[np.newaxis]
    return array


def reread(path: str | Path) -> Dataset:
    return pydicom.dcmread(str(path))


