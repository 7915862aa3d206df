"""Part 10 files from generated datasets, and access to pydicom's own test files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.testing.classic import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME


def write_datasets(
    datasets: Iterable[Dataset], directory: str | os.PathLike, *, transfer_syntax: str | None = None
) -> list[Path]:
    """Write each dataset as a DICOM Part 10 file (preamble, ``DICM``, File Meta Information).

    Parameters
    ----------
    datasets
        Datasets from the factory (or any with SOPClassUID/SOPInstanceUID).
    directory
        Created if missing. Files are named ``<index>_<SOP Instance UID>.dcm``.
    transfer_syntax
        Transcode to this syntax first (``qrscp.testing.encoding.encode``); default: each dataset's own
        ``file_meta.TransferSyntaxUID`` (Explicit VR Little Endian when it has none).

    Returns
    -------
    list of Path
        The files, in the order of `datasets`.
    """
    from qrscp.testing.encoding import encode

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, ds in enumerate(datasets):
        if transfer_syntax is not None:
            ds = encode(_with_file_meta(ds), transfer_syntax)
        ds = _with_file_meta(ds)
        uid = str(ds.get("SOPInstanceUID", "") or "no-uid")
        path = target / f"{index:05d}_{uid}.dcm"
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths


def _with_file_meta(ds: Dataset) -> Dataset:
    """Return `ds` with complete File Meta (added on a shallow copy when missing or stale)."""
    meta = getattr(ds, "file_meta", None)
    sop_class = ds.get("SOPClassUID", "")
    sop_instance = ds.get("SOPInstanceUID", "")
    if (
        meta is not None
        and "TransferSyntaxUID" in meta
        and meta.get("MediaStorageSOPClassUID") == sop_class
        and meta.get("MediaStorageSOPInstanceUID") == sop_instance
    ):
        return ds
    new_meta = FileMetaDataset()
    new_meta.MediaStorageSOPClassUID = sop_class
    new_meta.MediaStorageSOPInstanceUID = sop_instance
    new_meta.TransferSyntaxUID = (meta or {}).get("TransferSyntaxUID", ExplicitVRLittleEndian)
    new_meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    new_meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    out = Dataset(ds)
    out.file_meta = new_meta
    return out


def testdata_file(name: str) -> Path:
    """Return the path of a pydicom / pydicom-data test file, e.g. ``testdata_file("CT_small.dcm")``.

    Raises
    ------
    FileNotFoundError
        When neither pydicom nor pydicom-data has it.
    """
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    if path is None:
        raise FileNotFoundError(f"pydicom test file {name!r} not available (pip install pydicom-data)")
    return Path(path)


def testdata_files(pattern: str = "*.dcm") -> list[Path]:
    """Paths of the pydicom and pydicom-data test files matching `pattern`, sorted.

    Unlike ``pydicom.data.get_testdata_files`` nothing is downloaded: without a network that function
    waits ~15 s for its downloads to fail.
    """
    from pydicom.data.data_manager import DATA_ROOT, DataTypes, external_data_sources

    files = {path for path in (Path(DATA_ROOT) / "test_files").glob(pattern) if path.suffix != ".py"}
    for source in external_data_sources().values():
        files.update(Path(path) for path in source.get_paths(pattern, DataTypes.DATASET))
    return sorted(files)
