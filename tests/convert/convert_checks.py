"""Checks shared by the conversion tests: factory series, dciodvfy comparison, attribute equality."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from qrscp.convert.attributes import PIXEL_TAGS, is_group_length
from qrscp.dicom.values import value_key
from qrscp.services import validation
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


@functools.cache
def series_for(modality: str, variant: str) -> tuple[Dataset, ...]:
    """A small factory series for (modality, variant), generated once per test session."""
    from qrscp.testing.factory import make_series

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arguments = {"slices": SLICES, "rows": SIZE, "columns": SIZE, "seed": 7, **VARIANTS[variant]}
        return tuple(make_series(modality, **arguments))


def new_errors(output: str | Path, sources: list[str | Path]) -> set[str]:
    """Subjects (attribute keywords, ...) of the dciodvfy errors of `output` that no source file already
    had (:func:`qrscp.services.validation.new_errors`)."""
    known: list[str] = []
    for source in sources:
        known += dciodvfy_errors(source)
    lines = validation.new_errors(dciodvfy_errors(output), known)
    return {s for s in validation.error_subjects(lines) if not s.startswith("module:")}


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


