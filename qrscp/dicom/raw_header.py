"""The header of a stored multi-frame file read without parsing its per-frame items.

A 500-frame image carries 500 Per-Frame Functional Groups items (thousands of nested data sets): pydicom
parses them all when reading, which is most of the cost of extracting 10 frames. For Explicit VR Little
Endian and the encapsulated syntaxes, :func:`read_raw_header` slices the elements before the pixel data
out of the file with the fast reader of :mod:`qrscp.dicom.reader` (sequences stay raw bytes, parsed on
first access), and :func:`keep_items` then cuts a raw sequence down to the items of the kept frames by
walking item headers only, so pydicom parses just those.
"""

from __future__ import annotations

import functools
import os
import struct
import threading
from collections import OrderedDict

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset

from qrscp.dicom import reader
from qrscp.dicom.tags import ITEM as _ITEM
from qrscp.dicom.tags import SEQUENCE_END as _SEQUENCE_END
from qrscp.dicom.tags import UNDEFINED_LENGTH as _UNDEFINED

_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
#: First read of the head of the file; doubled until the elements before the pixel data fit.
_FIRST_READ = 1 << 20
#: Headers kept in memory (raw elements of recently read files; a 500-frame LCE's is about 0.4 MB).
CACHED_HEADERS = 8
_cache: OrderedDict[tuple, tuple[dict, dict, int, bytes]] = OrderedDict()
_cache_lock = threading.Lock()


def read_raw_header(path: str | os.PathLike) -> tuple[FileDataset, int] | None:
    """The data set before the pixel data (sequences raw) and the offset of the pixel data element.

    Returns None when the file is not Explicit VR Little Endian or encapsulated (or anything else the fast
    reader does not handle): the caller reads it with pydicom. The raw elements of the last
    :data:`CACHED_HEADERS` files read are kept (keyed by the file's identity: path, inode, size,
    modification time), so repeated requests on one source skip the parse; each call gets its own data set.
    """
    name = os.fspath(path)
    try:
        status = os.stat(name)
        key = (name, status.st_ino, status.st_size, status.st_mtime_ns)
        with _cache_lock:
            parsed = _cache.get(key)
            if parsed is not None:
                _cache.move_to_end(key)
        if parsed is None:
            parsed = _read_head(name)
            if parsed is None:
                return None
            with _cache_lock:
                _cache[key] = parsed
                while len(_cache) > CACHED_HEADERS:
                    _cache.popitem(last=False)
    except (reader._NotHandled, OSError, ValueError, struct.error, UnicodeDecodeError):
        return None
    meta, elements, stop, preamble = parsed
    dataset = reader.new_explicit_little_file_dataset(
        name, dict(elements), preamble=preamble, file_meta=reader.new_file_meta(dict(meta)),
        timestamp=status.st_mtime, character_set=reader._character_set(elements),
    )
    return dataset, stop


def _read_head(name: str) -> tuple[dict, dict, int, bytes] | None:
    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        buf = f.read(min(size, _FIRST_READ))
        while True:
            parsed = _parse_head(buf, size)
            if parsed is not None or len(buf) >= size:
                return parsed
            buf += f.read(len(buf))  # the header is longer than what was read: read as much again


def _parse_head(buf: bytes, size: int) -> tuple[dict, dict, int, bytes] | None:
    if len(buf) < 144 or buf[128:132] != b"DICM":
        raise reader._NotHandled("not a Part 10 file")
    meta, position = reader._parse(buf, 132, len(buf), None, meta_only=True, file_size=len(buf))
    syntax = meta.get(reader._TRANSFER_SYNTAX_UID)
    if syntax is None or not syntax.value:
        raise reader._NotHandled("no transfer syntax")
    if not reader._is_handled_syntax(syntax.value.rstrip(b"\x00 ").decode("ascii")):
        raise reader._NotHandled("not explicit VR little endian")
    try:
        elements, stop = reader._parse(buf, position, len(buf), None, meta_only=False, stop_at=_PIXEL_TAGS,
                                       file_size=len(buf))
    except reader._NotHandled:
        if len(buf) < size:
            return None  # an element reaches beyond what was read
        raise
    if stop >= len(buf) and len(buf) < size:
        return None
    return meta, elements, stop, buf[:128]


def keep_items(ds: Dataset, tag: int, kept: list[int]) -> bool:
    """Replace the raw sequence `tag` of `ds` by its items number `kept` (1-based); False if not raw.

    Only item headers are read (and the element headers inside undefined-length items); the kept items'
    bytes are joined into a defined-length raw sequence that pydicom parses on access.
    """
    if tag not in ds:
        return False
    raw = ds.get_item(tag)
    if not isinstance(raw, RawDataElement) or raw.VR != "SQ" or raw.value is None or raw.is_implicit_VR:
        return False
    spans = _item_spans(raw.value if isinstance(raw.value, bytes) else bytes(raw.value))
    if any(k > len(spans) for k in kept):
        return False
    value = b"".join(raw.value[spans[k - 1][0]:spans[k - 1][1]] for k in kept)
    ds[tag] = raw._replace(length=len(value), value=value)
    return True


@functools.lru_cache(maxsize=CACHED_HEADERS)
def _item_spans(value: bytes) -> tuple[tuple[int, int], ...]:
    """(start, end) of every item of a raw sequence value (item header to the end of the item)."""
    spans, position, end = [], 0, len(value)
    while position + 8 <= end:
        group, number, length = struct.unpack_from("<HHI", value, position)
        tag = group << 16 | number
        if tag == _SEQUENCE_END:
            break
        if tag != _ITEM:
            raise ValueError("not an item in a sequence")
        start, position = position, position + 8
        position = reader._skip_undefined_item(value, position, end) if length == _UNDEFINED else position + length
        spans.append((start, position))
    return tuple(spans)
