"""pydicom data sets made without their constructors' attribute-by-attribute set-up.

``Dataset()`` sets a dozen instance attributes, each through ``Dataset.__setattr__``, which looks the name
up in the keyword dictionary first: ~11 us, more than all the other work of filling a functional group
item. A conversion makes several per frame and three per source file read (``FileDataset``,
``FileMetaDataset``), ~20 ms for a 200-slice series. The functions here make the same objects by copying
the instance state of one made by pydicom's own constructor when this module is imported, so they follow
the installed pydicom (the tests compare ``vars()`` of both).
"""

from __future__ import annotations

from typing import Any

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.tag import BaseTag

_Elements = dict[BaseTag, DataElement | RawDataElement]


def _state_of(instance: Dataset) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The instance state of `instance` and the names of its mutable (per-instance) values."""
    state = dict(vars(instance))
    return state, tuple(name for name, value in state.items() if isinstance(value, dict | list))


_DATASET_STATE, _DATASET_MUTABLE = _state_of(Dataset())


def _read_file_meta() -> FileMetaDataset:
    file_meta = FileMetaDataset()
    file_meta.set_original_encoding(False, True, file_meta._parent_encoding)  # as pydicom's reader does
    return file_meta


_FILE_META_STATE, _FILE_META_MUTABLE = _state_of(_read_file_meta())


def _explicit_little_file_dataset() -> FileDataset:
    dataset = FileDataset("", Dataset(), b"", FileMetaDataset(), is_implicit_VR=False, is_little_endian=True)
    dataset.set_original_encoding(False, True, dataset._parent_encoding)
    return dataset


_FILE_STATE, _FILE_MUTABLE = _state_of(_explicit_little_file_dataset())
_new = object.__new__


def _made(cls: type, state: dict[str, Any], mutable: tuple[str, ...], elements: _Elements | None) -> Any:
    instance = _new(cls)
    own = instance.__dict__
    own.update(state)
    for name in mutable:
        own[name] = state[name].copy()
    if elements is not None:
        own["_dict"] = elements
    return instance


def new_dataset(elements: _Elements | None = None) -> Dataset:
    """``Dataset(elements)``: a data set holding the dict `elements` itself (not a copy), or empty.

    Parameters
    ----------
    elements : dict, optional
        Tag -> element, in any order (pydicom sorts on iteration).

    Returns
    -------
    pydicom.dataset.Dataset
    """
    return _made(Dataset, _DATASET_STATE, _DATASET_MUTABLE, elements)


def new_file_meta(elements: _Elements) -> FileMetaDataset:
    """The File Meta Information as pydicom's reader leaves it: ``FileMetaDataset(elements)``, read as
    Explicit VR Little Endian, for `elements` that the caller knows are all of group 0002.

    Parameters
    ----------
    elements : dict
        Tag -> element of the File Meta Information.

    Returns
    -------
    pydicom.dataset.FileMetaDataset
    """
    return _made(FileMetaDataset, _FILE_META_STATE, _FILE_META_MUTABLE, elements)


def new_explicit_little_file_dataset(filename: str, elements: _Elements, *, preamble: bytes,
                                     file_meta: FileMetaDataset, timestamp: float | None,
                                     character_set: str | list[str]) -> FileDataset:
    """What ``dcmread`` makes of an Explicit VR Little Endian file: ``FileDataset(filename, elements,
    preamble, file_meta, is_implicit_VR=False, is_little_endian=True)`` with its original encoding set.

    Parameters
    ----------
    filename : str
        The file's path.
    elements : dict
        Tag -> element of the data set (held, not copied).
    preamble : bytes
        The 128-byte preamble.
    file_meta : pydicom.dataset.FileMetaDataset
        The File Meta Information.
    timestamp : float or None
        The file's modification time (``os.stat(filename).st_mtime``), as pydicom records it.
    character_set : str or list of str
        The Python encodings of the data set's Specific Character Set (``original_character_set``).

    Returns
    -------
    pydicom.dataset.FileDataset
    """
    dataset = _made(FileDataset, _FILE_STATE, _FILE_MUTABLE, elements)
    own = dataset.__dict__
    own["filename"], own["timestamp"], own["preamble"] = filename, timestamp, preamble
    own["file_meta"], own["_read_charset"] = file_meta, character_set
    return dataset


def element_dict(ds: Dataset) -> _Elements:
    """The elements of `ds`, tag -> element, as the data set holds them (pydicom's ``Dataset._dict``).

    Raw elements stay raw: nothing is decoded, unlike ``ds[tag]``, and a look-up with a shared tag
    (:func:`~qrscp.dicom.tags.shared_tag`) or a plain ``int`` stays in C, unlike ``tag in ds``, which
    converts its key to a ``Tag`` first. Writing to it bypasses ``Dataset.__setitem__`` (no validation, no
    labelling of private elements with their creator): for elements read or made by this package.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset

    Returns
    -------
    dict
        The data set's own dict (not a copy), in insertion order.
    """
    return ds._dict


def set_element_dict(ds: Dataset, elements: _Elements) -> None:
    """Make the dict `elements` (held, not copied) the elements of `ds`, replacing all it had.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
    elements : dict
        Tag -> element.
    """
    ds._dict = elements
