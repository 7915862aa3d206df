"""Frame extraction (PS3.4 Y.3.3): a new instance made of some frames of a stored multi-frame image.

:func:`extract_frames` is a pure function of the stored source file, the request's Frame Range Key and the
UID source: it writes a new Part 10 file and returns what it wrote. The new instance has the source's SOP
Class, Patient/Study/Series, a new SOP Instance UID derived from the secret, the source UID, the request
and the normalised Frame List (same request, same source: same UID and same bytes, in any process), and:

- the frames in source order: native frames sliced as stored, encapsulated frames copied as their
  fragments with a new Basic Offset Table (:mod:`qrscp.convert.frame_pixels`), never decoded;
- Number of Frames, the Per-Frame Functional Groups of the kept frames, their Dimension Index Values,
  In-Stack Position Numbers and Temporal Position Indices renumbered densely from 1 (order kept);
- per-frame vectors (Frame Increment Pointer targets, US/XA/NM vectors) reduced to the kept frames, Frame
  Time Vector and Frame Delay recomputed so each kept frame keeps its time; a Frame Time that no longer
  describes evenly spaced frames becomes a Frame Time Vector; Start/Stop Trim, Representative Frame
  Number, Frame Numbers of Interest and the Mask Subtraction items' Mask Frame Numbers and Applicable
  Frame Range renumbered (dropped when their frames are gone);
- the Frame Extraction Sequence with a new item from the request (appended to the source's items),
  a Contributing Equipment item (109105, DCM, "Frame Extracting Equipment");
- no Concatenation attributes, no Pixel Data Provider URL, no Extended Offset Table, and no top-level
  private attributes (Y.3.3 note: private attributes of unknown significance are not copied); private
  attributes inside functional group items stay with the frames they describe.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import pydicom
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.uid import UID

from qrscp.convert.frame_attributes import (
    frame_times,
    grid_frame_offsets,
    reduce_frame_vectors,
    renumber_frame_numbers,
    retime_frames,
)
from qrscp.convert.frame_lists import FrameRequest, frame_list
from qrscp.convert.frame_pixels import FrameSource, open_frames, write_pixel_data
from qrscp.convert.functional_groups import code_item
from qrscp.convert.uids import UIDSource
from qrscp.dicom.encoder import write_dataset_body
from qrscp.dicom.part10 import encode_header, make_file_meta
from qrscp.dicom.raw_header import keep_items
from qrscp.uids import FRAME_EXTRACTING_EQUIPMENT

#: Name space of extracted instances' UIDs (``UIDSource.derive(view, ...)``): the same in every view.
EXTRACTION_UID_SPACE = "FRAME"
#: Contribution Description of the equipment item.
FRAME_EXTRACTION_DESCRIPTION = "Frames extracted by a FRAME level retrieve"
#: Attributes a new instance never carries (Y.3.3: Concatenation, Pixel Data Provider URL; offset tables
#: of the source's fragments; trailing padding).
REMOVED_KEYWORDS = (
    "ConcatenationUID", "InConcatenationNumber", "InConcatenationTotalNumber", "ConcatenationFrameOffsetNumber",
    "SOPInstanceUIDOfConcatenationSource", "PixelDataProviderURL", "ExtendedOffsetTable",
    "ExtendedOffsetTableLengths", "DataSetTrailingPadding",
)
_FRAME_CONTENT_ORDINALS = ("TemporalPositionIndex",)
PER_FRAME_FUNCTIONAL_GROUPS = 0x52009230


@dataclass(frozen=True)
class ExtractedInstance:
    """What :func:`extract_frames` wrote."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    source_sop_instance_uid: str
    frames: tuple[int, ...]
    path: str


def extracted_uid(uids: UIDSource, source_uid: str, request: FrameRequest, frames: Sequence[int]) -> str:
    """SOP Instance UID of the instance made of `frames` of `source_uid` for `request`."""
    return uids.derive(EXTRACTION_UID_SPACE, "frames", [
        f"source={source_uid}", f"request={request.label()}", "frames=" + ",".join(map(str, frames)),
    ])


def plan_extraction(
    path: str | os.PathLike, request: FrameRequest, uids: UIDSource
) -> tuple[FrameSource, tuple[int, ...], str]:
    """Open the source, resolve the Frame List and derive the new UID (nothing written).

    Raises
    ------
    qrscp.convert.frame_lists.FrameRequestError
        The instance is not multi-frame, its frames cannot be located, or the request is invalid for it.
    """
    source = open_frames(path)
    header = source.header
    number_of_frames = int(header.NumberOfFrames)
    times = frame_times(header, number_of_frames) if request.key == "TimeRange" else None
    frames = frame_list(request, number_of_frames, times)
    return source, frames, extracted_uid(uids, str(header.SOPInstanceUID), request, frames)


def extract_frames(
    path: str | os.PathLike, request: FrameRequest, uids: UIDSource, out_path: str | os.PathLike
) -> ExtractedInstance:
    """Write the instance made of the requested frames of the stored file `path` to `out_path`."""
    source, frames, new_uid = plan_extraction(path, request, uids)
    return write_extraction(source, frames, request, new_uid, out_path)


def write_extraction(source: FrameSource, frames: tuple[int, ...], request: FrameRequest, new_uid: str,
                     out_path: str | os.PathLike) -> ExtractedInstance:
    """Build the new header from `source` and write header and frames to `out_path`."""
    header = extraction_header(source.header, frames, request, new_uid, source.transfer_syntax_uid)
    syntax = UID(source.transfer_syntax_uid)
    with open(out_path, "wb") as out:
        if syntax.is_implicit_VR:
            pydicom.dcmwrite(out, header, enforce_file_format=True)
        else:  # Explicit VR Little Endian: raw elements written as read, without decoding
            out.write(encode_header(header.file_meta))
            write_dataset_body(out.write, header)
        write_pixel_data(out, source, frames, implicit_vr=syntax.is_implicit_VR)
    return ExtractedInstance(str(header.SOPClassUID), new_uid, str(syntax),
                             str(header.FrameExtractionSequence[-1].MultiFrameSourceSOPInstanceUID), frames,
                             os.fspath(out_path))


def extraction_header(source: Dataset, frames: tuple[int, ...], request: FrameRequest, new_uid: str,
                      transfer_syntax_uid: str) -> Dataset:
    """Return the new instance's data set without pixel data (`source` is consumed: items are moved)."""
    number_of_frames = int(source.NumberOfFrames)
    source_uid = str(source.SOPInstanceUID)  # the elements below are moved, then changed
    cut = keep_items(source, PER_FRAME_FUNCTIONAL_GROUPS, list(frames))  # parse only the kept items
    ds = Dataset()
    for tag in source.keys():  # raw elements are moved as they are (written back without decoding)
        if tag.is_private or keyword_for_tag(tag) in REMOVED_KEYWORDS:
            continue
        ds[tag] = source.get_item(tag)
    ds.SOPInstanceUID = new_uid
    ds.NumberOfFrames = len(frames)
    _per_frame_groups(ds, frames, cut)
    reduce_frame_vectors(ds, frames, number_of_frames)
    grid_frame_offsets(ds, frames, number_of_frames)
    retime_frames(ds, frames, number_of_frames)
    renumber_frame_numbers(ds, frames)
    _frame_extraction(ds, source_uid, request)
    _contributing_equipment(ds)
    ds.file_meta = make_file_meta(sop_class_uid=str(ds.SOPClassUID), sop_instance_uid=new_uid,
                                  transfer_syntax_uid=transfer_syntax_uid)
    syntax = UID(transfer_syntax_uid)
    ds.set_original_encoding(syntax.is_implicit_VR, True, source.get("SpecificCharacterSet"))
    return ds


def _per_frame_groups(ds: Dataset, frames: Sequence[int], cut: bool) -> None:
    """Per-Frame Functional Groups of the kept frames (already `cut` down by keep_items, or cut here)."""
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return
    items = list(ds.PerFrameFunctionalGroupsSequence)
    kept = items if cut else [items[f - 1] for f in frames if f <= len(items)]
    contents = [item.FrameContentSequence[0] for item in kept
                if "FrameContentSequence" in item and item.FrameContentSequence]
    _renumber_dimension_indices(contents)
    _renumber(contents, "InStackPositionNumber", group=lambda c: str(c.get("StackID", "")))
    for keyword in _FRAME_CONTENT_ORDINALS:
        _renumber(contents, keyword)
    ds.PerFrameFunctionalGroupsSequence = kept


def _dense(values: Sequence[int]) -> dict[int, int]:
    return {value: rank for rank, value in enumerate(sorted(set(values)), start=1)}


def _renumber(contents: Sequence[Dataset], keyword: str, group=lambda c: "") -> None:
    """Renumber an ordinal (1-based) attribute of the kept frames densely from 1, per group, order kept."""
    present = [c for c in contents if c.get(keyword) is not None]
    by_group: dict[str, list[Dataset]] = {}
    for content in present:
        by_group.setdefault(group(content), []).append(content)
    for members in by_group.values():
        ranks = _dense([int(c[keyword].value) for c in members])
        for content in members:
            content[keyword].value = ranks[int(content[keyword].value)]


def _renumber_dimension_indices(contents: Sequence[Dataset]) -> None:
    """Dimension Index Values: each dimension's kept index values renumbered densely from 1."""
    vectors = [c for c in contents if c.get("DimensionIndexValues") is not None]
    if not vectors:
        return
    rows = [list(c.DimensionIndexValues) if c["DimensionIndexValues"].VM > 1 else [c.DimensionIndexValues]
            for c in vectors]
    width = max(len(row) for row in rows)
    ranks = [_dense([row[i] for row in rows if len(row) > i]) for i in range(width)]
    for content, row in zip(vectors, rows):
        content.DimensionIndexValues = [ranks[i][value] for i, value in enumerate(row)]


def _frame_extraction(ds: Dataset, source_uid: str, request: FrameRequest) -> None:
    item = Dataset()
    item.MultiFrameSourceSOPInstanceUID = source_uid
    vr = "FD" if request.key == "TimeRange" else "UL"
    item[request.key] = pydicom.DataElement(pydicom.datadict.tag_for_keyword(request.key), vr, list(request.values))
    items = list(ds.get("FrameExtractionSequence") or [])
    ds.FrameExtractionSequence = [*items, item]


def _contributing_equipment(ds: Dataset) -> None:
    item = Dataset()
    item.Manufacturer = "qrscp"
    item.ManufacturerModelName = "qrscp frame extraction"
    item.ContributionDescription = FRAME_EXTRACTION_DESCRIPTION
    item.PurposeOfReferenceCodeSequence = [code_item(*FRAME_EXTRACTING_EQUIPMENT)]
    items = list(ds.get("ContributingEquipmentSequence") or [])
    ds.ContributingEquipmentSequence = [*items, item]
