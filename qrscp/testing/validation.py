"""IOD validation of generated files with dicom3tools ``dciodvfy``, including syntaxes it cannot read."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from qrscp.testing.dcmtk import dciodvfy_errors


def iod_errors(source: str | os.PathLike | Dataset) -> list[str]:
    """Return dciodvfy's ``Error`` lines for a file or a dataset (an empty list means valid).

    dicom3tools cannot read Deflated Explicit VR Little Endian, so such a file is inflated into a temporary
    Explicit VR Little Endian copy first; a Dataset is written to a temporary Part 10 file.

    Raises
    ------
    FileNotFoundError
        When dciodvfy is not installed.
    """
    with tempfile.TemporaryDirectory(prefix="qrscp-iod-") as tmp:
        if isinstance(source, Dataset):
            path = Path(tmp) / "dataset.dcm"
            pydicom.dcmwrite(path, source, enforce_file_format=True)
        else:
            path = Path(source)
        header = pydicom.dcmread(path, stop_before_pixels=False)
        if header.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            inflated = Path(tmp) / "inflated.dcm"
            header.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            header.set_original_encoding(False, True, header.get("SpecificCharacterSet"))
            pydicom.dcmwrite(inflated, header, enforce_file_format=True)
            path = inflated
        return dciodvfy_errors(path)
