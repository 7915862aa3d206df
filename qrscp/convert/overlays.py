"""Overlays removed from converted images move into Grayscale Softcopy Presentation States (C.3.5).

Frames whose overlay planes are byte-identical share one presentation state (the note in C.3.5 about
factoring out common overlays), which references exactly those frames of the enhanced image. Overlays
with separate Overlay Data (60xx,3000) are copied as they are. Overlays embedded in unused high bits of
uncompressed pixel data (retired, but still sent) are extracted into Overlay Data of the presentation
state and those bits are set to zero in the converted frames, as C.3.5 requires; embedded overlays in
compressed pixel data are left in the pixels (they would have to be decoded and re-encoded).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from qrscp.convert import attributes as attrs
from qrscp.convert.common import (
    LEGACY_FROM_CLASSIC,
    contributing_equipment,
    derived_timestamp,
    file_meta_for,
)
from qrscp.convert.model import OVERLAY_GSPS, Conversion, FrameSource
from qrscp.convert.uids import UIDSource
from qrscp.dicom.datasets import element_dict
from qrscp.dicom.values import encoded_without_tag, unsigned
from qrscp.uids import GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE

OVERLAY_LAYER = "OVERLAY"
_PATIENT_STUDY_KEYWORDS = (
    "SpecificCharacterSet", "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
    "StudyDescription",
)


_OVERLAY_GROUPS = tuple(range(0x6000, 0x6020, 2))


def _overlay_groups(ds: Dataset) -> set[int]:
    """Overlay groups present (by Overlay Rows or Overlay Data): 32 hashed look-ups, no scan of the data set."""
    elements = element_dict(ds)
    return {g for g in _OVERLAY_GROUPS if (g << 16 | 0x0010) in elements or (g << 16 | 0x3000) in elements}


def embedded_overlay_bits(ds: Dataset) -> dict[int, int]:
    """Overlay group -> bit position, for overlays embedded in unused high bits of native pixel data."""
    from pydicom.uid import UID

    from qrscp.convert.pixels import transfer_syntax_of

    groups = _overlay_groups(ds)
    if not groups or UID(transfer_syntax_of(ds)).is_compressed:
        return {}
    bits_allocated = unsigned(ds, "BitsAllocated", 16)
    high_bit = unsigned(ds, "HighBit", bits_allocated - 1)
    found = {}
    for group in sorted(groups):
        if (group << 16 | 0x3000) in element_dict(ds) or (group << 16 | 0x0102) not in element_dict(ds):
            continue
        try:
            position = int(ds[group << 16 | 0x0102].value)
        except (TypeError, ValueError):
            continue
        if high_bit < position < bits_allocated:
            found[group] = position
    return found


def _embedded_plane(ds: Dataset, frame: bytes, position: int) -> bytes:
    """Overlay Data (one bit per pixel, packed) of the overlay at bit `position` of a native frame."""
    import numpy as np
    from pydicom.pixels import pack_bits

    dtype = "<u2" if unsigned(ds, "BitsAllocated", 16) == 16 else "<u1"
    pixels = np.frombuffer(frame, dtype=dtype, count=unsigned(ds, "Rows") * unsigned(ds, "Columns"))
    return pack_bits(((pixels >> position) & 1).astype(np.uint8), pad=True)


def zero_embedded_bits(ds: Dataset, frame: bytes, positions: list[int]) -> bytes:
    """The frame with the embedded overlay bits cleared."""
    import numpy as np

    dtype = "<u2" if unsigned(ds, "BitsAllocated", 16) == 16 else "<u1"
    pixels = np.frombuffer(frame, dtype=dtype).copy()
    mask = 0
    for position in positions:
        mask |= 1 << position
    pixels &= np.array(~mask & (0xFFFF if dtype == "<u2" else 0xFF), dtype=dtype)
    return pixels.tobytes()


def overlay_elements(ds: Dataset, frame: bytes | None = None) -> list:
    """Overlay Plane elements (60xx) of `ds` as a presentation state carries them, in tag order.

    Overlays with Overlay Data are copied; embedded ones (given the native `frame`) get their bit plane
    as Overlay Data with Overlay Bits Allocated 1 and Overlay Bit Position 0.
    """
    groups = _overlay_groups(ds)
    with_data = {g for g in groups if (g << 16 | 0x3000) in element_dict(ds)}
    elements = [ds[t] for t in sorted(element_dict(ds)) if (t >> 16) in with_data]
    if frame is not None:
        for group, position in embedded_overlay_bits(ds).items():
            for t in sorted(element_dict(ds)):
                if t >> 16 == group and (t & 0xFFFF) not in (0x0100, 0x0102):
                    elements.append(ds[t])
            elements.append(DataElement(group << 16 | 0x0100, "US", 1))
            elements.append(DataElement(group << 16 | 0x0102, "US", 0))
            elements.append(DataElement(group << 16 | 0x3000, "OW", _embedded_plane(ds, frame, position)))
    return sorted(elements, key=lambda e: int(e.tag))


def _source_frame(ds: Dataset) -> bytes | None:
    if not embedded_overlay_bits(ds):
        return None
    from qrscp.convert.pixels import source_frames

    return bytes(source_frames(ds)[0].read())


def _overlay_key(elements: list) -> bytes:
    return b"".join(int(e.tag).to_bytes(4, "little") + encoded_without_tag(e) for e in elements)


def overlay_presentation_states(frames: Sequence[Dataset], enhanced: Conversion, *, uids: UIDSource,
                                view: str) -> list[Conversion]:
    """One GSPS per distinct set of overlays among `frames` (in frame order), referencing `enhanced`."""
    by_overlay: dict[bytes, list[int]] = {}
    elements_of: dict[bytes, list] = {}
    for number, ds in enumerate(frames, start=1):
        if not _overlay_groups(ds):
            continue
        elements = overlay_elements(ds, _source_frame(ds))
        key = _overlay_key(elements)
        if key:
            by_overlay.setdefault(key, []).append(number)
            elements_of[key] = elements
    states = []
    lce = enhanced.dataset
    series_uid = uids.derive(view, "overlay-series", [str(lce.SeriesInstanceUID)])
    for index, (numbers, key) in enumerate(sorted((n, k) for k, n in by_overlay.items()), start=1):
        sources = [frames[n - 1] for n in numbers]
        gsps = _presentation_state(sources, lce, numbers, index, series_uid, uids, view, elements_of[key])
        states.append(Conversion(
            dataset=gsps,
            sources=[FrameSource(str(ds.SOPInstanceUID), None, str(ds.SOPClassUID)) for ds in sources],
            frame_map={},
            kind=OVERLAY_GSPS,
        ))
    return states


def _presentation_state(sources: Sequence[Dataset], lce: Dataset, numbers: list[int], index: int,
                        series_uid: str, uids: UIDSource, view: str, overlays: list) -> Dataset:
    first = sources[0]
    ds = Dataset()
    for keyword in _PATIENT_STUDY_KEYWORDS:
        if keyword in first:
            ds.add(copy.deepcopy(first[keyword]))
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                    "ReferringPhysicianName", "StudyID", "AccessionNumber"):
        if keyword not in ds:
            setattr(ds, keyword, None)
    date, time = derived_timestamp(sources)
    ds.SOPClassUID = GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE
    ds.SOPInstanceUID = uids.derive(view, "overlay-gsps", [str(lce.SOPInstanceUID), *map(str, numbers)])
    ds.InstanceCreationDate, ds.InstanceCreationTime = date, time
    ds.Modality = "PR"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = None
    ds.InstanceNumber = str(index)
    ds.Manufacturer = None
    for keyword in ("BodyPartExamined", "Laterality"):
        if keyword in first:
            ds.add(copy.deepcopy(first[keyword]))
    if "Laterality" not in ds and "BodyPartExamined" not in ds:
        ds.Laterality = None  # dciodvfy: empty when the body part is unknown, absent when unpaired
    ds.QueryRetrieveView = view
    ds.ContentLabel = OVERLAY_LAYER
    ds.ContentDescription = "Overlays of converted classic images"
    ds.PresentationCreationDate, ds.PresentationCreationTime = date, time
    ds.ContentCreatorName = None
    ds.ContributingEquipmentSequence = contributing_equipment(sources, LEGACY_FROM_CLASSIC, (date, time))
    conversion_sources = []
    for source in sources:
        item = Dataset()
        item.ReferencedSOPClassUID = source.SOPClassUID
        item.ReferencedSOPInstanceUID = source.SOPInstanceUID
        conversion_sources.append(item)
    ds.ConversionSourceAttributesSequence = conversion_sources

    image = Dataset()
    image.ReferencedSOPClassUID = lce.SOPClassUID
    image.ReferencedSOPInstanceUID = lce.SOPInstanceUID
    image.ReferencedFrameNumber = [str(n) for n in numbers] if len(numbers) > 1 else str(numbers[0])
    series = Dataset()
    series.SeriesInstanceUID = lce.SeriesInstanceUID
    series.ReferencedImageSequence = [image]
    ds.ReferencedSeriesSequence = [series]

    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [1, 1]
    area.DisplayedAreaBottomRightHandCorner = [int(first.Columns), int(first.Rows)]
    area.PresentationSizeMode = "SCALE TO FIT"
    area.PresentationPixelAspectRatio = [1, 1]
    ds.DisplayedAreaSelectionSequence = [area]
    ds.PresentationLUTShape = "INVERSE" if str(first.get("PhotometricInterpretation")) == "MONOCHROME1" else "IDENTITY"

    layer = Dataset()
    layer.GraphicLayer = OVERLAY_LAYER
    layer.GraphicLayerOrder = 1
    ds.GraphicLayerSequence = [layer]
    for elem in overlays:
        ds.add(copy.deepcopy(elem))
    for group in sorted({e.tag.group for e in overlays}):
        ds.add_new(Tag(group, 0x1001), "CS", OVERLAY_LAYER)
    ds.file_meta = file_meta_for(ds)
    return ds


def restore_overlays(frames: list[Dataset], frame_numbers: list[int], lce_uid: str,
                     states: Sequence[Dataset]) -> None:
    """Copy the overlays of presentation states made by this module back into recovered classic images."""
    by_frame = dict(zip(frame_numbers, frames))
    for state in states:
        for series in state.get("ReferencedSeriesSequence") or []:
            for image in series.get("ReferencedImageSequence") or []:
                if str(image.get("ReferencedSOPInstanceUID", "")) != lce_uid:
                    continue
                numbers = image.get("ReferencedFrameNumber")
                numbers = [numbers] if isinstance(numbers, (int, str)) else list(numbers or [])
                for number in numbers:
                    target = by_frame.get(int(number))
                    if target is None:
                        continue
                    for elem in state:
                        if attrs.is_overlay(elem.tag) and elem.tag.element != 0x1001:
                            target.add(copy.deepcopy(elem))
