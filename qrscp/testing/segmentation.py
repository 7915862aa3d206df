"""Segmentation (SEG) instances referencing classic or multi-frame source images, built with highdicom.

highdicom writes the per-frame Derivation Image Sequence > Source Image Sequence and the top-level
Referenced Series Sequence that the views must rewrite; the factory pins every clock-dependent attribute so
that output stays deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.testing.classic import _file_meta
from qrscp.testing.identity import derive_uid

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


def lesion_mask(rows: int, columns: int, frames: int) -> np.ndarray:
    """Return a (frames, rows, columns) boolean mask: a centred disc of radius min(rows, columns)/8."""
    y, x = np.mgrid[0:rows, 0:columns]
    disc = (y - rows / 2) ** 2 + (x - columns / 2) ** 2 <= (min(rows, columns) / 8) ** 2
    return np.repeat(disc[np.newaxis], frames, axis=0)


def make_seg(
    images_or_enhanced: SequenceABC[Dataset] | Dataset,
    *,
    seed: int = 0,
    series_number: int = 940,
) -> Dataset:
    """Return a binary SEG with one segment on every source frame.

    Parameters
    ----------
    images_or_enhanced
        Single-frame images of one series, or one multi-frame image (e.g. from `make_enhanced_mr`).
    seed
        Varies the UIDs.
    series_number
        Series Number of the segmentation.

    Returns
    -------
    pydicom.Dataset
        A Segmentation instance in the source study with ``file_meta`` set.
    """
    import highdicom as hd

    sources = [images_or_enhanced] if isinstance(images_or_enhanced, Dataset) else list(images_or_enhanced)
    first = sources[0]
    frames = int(first.get("NumberOfFrames", 1)) if len(sources) == 1 else len(sources)
    mask = lesion_mask(int(first.Rows), int(first.Columns), frames)
    referenced = sorted(source.SOPInstanceUID for source in sources)
    series_uid = derive_uid("seg", "series", first.StudyInstanceUID, seed)
    sop_uid = derive_uid("seg", "instance", first.StudyInstanceUID, seed, *referenced)
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="Lesion",
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Neoplasm,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        tracking_uid=derive_uid("seg", "tracking", sop_uid),
        tracking_id="lesion-1",
    )
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=series_uid,
        series_number=series_number,
        sop_instance_uid=sop_uid,
        instance_number=1,
        manufacturer="QRSCP Imaging",
        manufacturer_model_name="Factory Segmenter",
        software_versions="1.0",
        device_serial_number="SEG0001",
        content_label="LESION",
        omit_empty_frames=False,
    )
    _pin_clock(seg, first)
    out = Dataset(seg)
    out.file_meta = _file_meta(SEGMENTATION_STORAGE, sop_uid, ExplicitVRLittleEndian)
    return out


def _pin_clock(ds: Dataset, source: Dataset) -> None:
    """Replace the wall-clock dates and times highdicom writes by the study's own."""
    date, time = source.StudyDate or "20240101", source.StudyTime or "120000"
    for keyword, value in (
        ("ContentDate", date),
        ("ContentTime", time),
        ("SeriesDate", date),
        ("SeriesTime", time),
        ("InstanceCreationDate", date),
        ("InstanceCreationTime", time),
    ):
        if keyword in ds:
            setattr(ds, keyword, value)
    for item in ds.get("ContributingEquipmentSequence", []):
        if "ContributionDateTime" in item:
            item.ContributionDateTime = date + time
    if "DimensionOrganizationSequence" in ds:
        organisation_uid = derive_uid("seg", "dimension", ds.SOPInstanceUID)
        for item in ds.DimensionOrganizationSequence:
            item.DimensionOrganizationUID = organisation_uid
        for item in ds.get("DimensionIndexSequence", []):
            item.DimensionOrganizationUID = organisation_uid
