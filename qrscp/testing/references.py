"""Objects that reference images by UID: GSPS, Comprehensive SR, Key Object Selection and RT Structure Set.

They are what the views must rewrite when images are converted (PS3.4 Y / Sup 157), so every reference
path the standard uses appears at least once: top-level Referenced Series Sequence (GSPS), Current Requested
Procedure Evidence Sequence (SR, KOS), IMAGE content items (SR, KOS), Referenced Frame of Reference /
RT Referenced Study / RT Referenced Series / Contour Image Sequences (RTSTRUCT).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as SequenceABC

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.testing.classic import _file_meta
from qrscp.testing.identity import StudySpec, derive_uid

GSPS_STORAGE = "1.2.840.10008.5.1.4.1.1.11.1"
COMPREHENSIVE_SR_STORAGE = "1.2.840.10008.5.1.4.1.1.88.33"
KEY_OBJECT_SELECTION_STORAGE = "1.2.840.10008.5.1.4.1.1.88.59"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
#: Referenced SOP Class of RT Referenced Study Sequence items, as treatment planning systems write it.
STUDY_COMPONENT_MANAGEMENT = "1.2.840.10008.3.1.2.3.2"

_PATIENT_KEYWORDS = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex")
_STUDY_KEYWORDS = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "StudyDescription",
)


def code(value: str, scheme: str, meaning: str) -> Dataset:
    """Return a Code Sequence item (Code Value, Coding Scheme Designator, Code Meaning)."""
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def series_groups(images: SequenceABC[Dataset]) -> dict[str, list[Dataset]]:
    """Group `images` by Series Instance UID, keeping first-seen order."""
    groups: dict[str, list[Dataset]] = {}
    for image in images:
        groups.setdefault(image.SeriesInstanceUID, []).append(image)
    return groups


def study_groups(images: SequenceABC[Dataset]) -> dict[str, dict[str, list[Dataset]]]:
    """Group `images` by Study then Series Instance UID, keeping first-seen order."""
    studies: dict[str, dict[str, list[Dataset]]] = {}
    for image in images:
        studies.setdefault(image.StudyInstanceUID, {}).setdefault(image.SeriesInstanceUID, []).append(image)
    return studies


def sop_reference(image: Dataset, frames: Mapping[str, SequenceABC[int]] | None = None) -> Dataset:
    """Return an item with Referenced SOP Class/Instance UID, and Referenced Frame Number when `frames`
    lists frames of this image (SOP Instance UID -> 1-based frame numbers)."""
    item = Dataset()
    item.ReferencedSOPClassUID = image.SOPClassUID
    item.ReferencedSOPInstanceUID = image.SOPInstanceUID
    numbers = list((frames or {}).get(image.SOPInstanceUID, ()))
    if numbers:
        item.ReferencedFrameNumber = numbers if len(numbers) > 1 else numbers[0]
    return item


def derived_header(
    images: SequenceABC[Dataset],
    *,
    kind: str,
    sop_class_uid: str,
    modality: str,
    seed: int,
    study_uid: str | None,
    series_number: int,
    series_description: str,
) -> Dataset:
    """Patient, General Study, General Series, General Equipment and SOP Common of a referencing object.

    The patient is the referenced images' patient; the study is theirs unless `study_uid` names another
    study of the same patient (a follow-up annotating prior images).
    """
    if not images:
        raise ValueError(f"{kind} needs at least one referenced image")
    first = images[0]
    ds = Dataset()
    ds.SpecificCharacterSet = first.get("SpecificCharacterSet", "ISO_IR 100")
    for keyword in _PATIENT_KEYWORDS:
        if keyword in first:
            ds[keyword] = first[keyword]
    if study_uid is None or study_uid == first.StudyInstanceUID:
        for keyword in _STUDY_KEYWORDS:
            ds[keyword] = first[keyword] if keyword in first else _empty(keyword)
    else:
        study = StudySpec.for_uid(study_uid)
        ds.StudyInstanceUID = study.study_uid
        ds.StudyDate = study.study_date
        ds.StudyTime = study.study_time
        ds.ReferringPhysicianName = study.referring_physician
        ds.StudyID = study.study_id
        ds.AccessionNumber = study.accession_number
        ds.StudyDescription = study.description
    referenced = sorted(image.SOPInstanceUID for image in images)
    ds.Modality = modality
    ds.SeriesInstanceUID = derive_uid(kind, "series", ds.StudyInstanceUID, seed)
    ds.SeriesNumber = series_number
    ds.SeriesDescription = series_description
    ds.SeriesDate = ds.StudyDate
    ds.SeriesTime = ds.StudyTime
    ds.Manufacturer = "QRSCP Imaging"
    ds.ManufacturerModelName = "Factory Workstation"
    ds.SoftwareVersions = ["1.0"]
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = derive_uid(kind, "instance", ds.StudyInstanceUID, seed, *referenced)
    ds.InstanceCreationDate = ds.StudyDate
    ds.InstanceCreationTime = ds.StudyTime
    ds.InstanceNumber = 1
    ds.file_meta = _file_meta(sop_class_uid, ds.SOPInstanceUID, ExplicitVRLittleEndian)
    return ds


def _empty(keyword: str) -> object:
    from pydicom.dataelem import DataElement
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    tag = tag_for_keyword(keyword)
    return DataElement(tag, dictionary_VR(tag), None)


def evidence_sequence(images: SequenceABC[Dataset]) -> Sequence:
    """Hierarchical SOP Instance Reference Macro items (study > series > SOP) for `images`."""
    items = []
    for study_uid, series in study_groups(images).items():
        study_item = Dataset()
        study_item.StudyInstanceUID = study_uid
        study_item.ReferencedSeriesSequence = Sequence()
        for series_uid, members in series.items():
            series_item = Dataset()
            series_item.SeriesInstanceUID = series_uid
            series_item.ReferencedSOPSequence = Sequence([sop_reference(image) for image in members])
            study_item.ReferencedSeriesSequence.append(series_item)
        items.append(study_item)
    return Sequence(items)


# --- Grayscale Softcopy Presentation State -----------------------------------------------------------------


def make_gsps(
    images: SequenceABC[Dataset],
    *,
    seed: int = 0,
    study_uid: str | None = None,
    series_number: int = 900,
    label: str = "ANNOTATION",
    frames: Mapping[str, SequenceABC[int]] | None = None,
) -> Dataset:
    """Return a Grayscale Softcopy Presentation State annotating `images`.

    Parameters
    ----------
    images
        Referenced images (one or more series of one patient; Rows/Columns taken from the first).
    seed
        Varies the UIDs.
    study_uid
        Study of the presentation state; default the images' study. Another study of the same patient
        gives a cross-study reference.
    series_number, label
        Series Number and Content Label.
    frames
        SOP Instance UID -> frame numbers, to reference frames of multi-frame images.

    Returns
    -------
    pydicom.Dataset
        With Referenced Series Sequence > Referenced Image Sequence, a graphic layer with a text and a
        polyline per image, a Softcopy VOI LUT and Displayed Area per image.
    """
    ds = derived_header(
        images,
        kind="gsps",
        sop_class_uid=GSPS_STORAGE,
        modality="PR",
        seed=seed,
        study_uid=study_uid,
        series_number=series_number,
        series_description="Presentation states",
    )
    # dciodvfy requires Laterality (Type 2C) in a presentation series; empty means unknown.
    ds.Laterality = ""
    ds.ContentLabel = label
    ds.ContentDescription = "Factory annotation"
    ds.ContentCreatorName = "Reader^Rachel"
    ds.PresentationCreationDate = ds.StudyDate
    ds.PresentationCreationTime = ds.StudyTime
    ds.ReferencedSeriesSequence = Sequence()
    for series_uid, members in series_groups(images).items():
        item = Dataset()
        item.SeriesInstanceUID = series_uid
        item.ReferencedImageSequence = Sequence([sop_reference(image, frames) for image in members])
        ds.ReferencedSeriesSequence.append(item)
    ds.GraphicLayerSequence = Sequence([_graphic_layer()])
    ds.GraphicAnnotationSequence = Sequence(
        [_annotation(image, index, frames) for index, image in enumerate(images)]
    )
    ds.DisplayedAreaSelectionSequence = Sequence([_displayed_area(image, frames) for image in images])
    ds.SoftcopyVOILUTSequence = Sequence([_softcopy_voi(image, frames) for image in images])
    ds.ImageRotation = 0
    ds.ImageHorizontalFlip = "N"
    _modality_lut(ds, images)
    ds.PresentationLUTShape = "IDENTITY"
    return ds


def _graphic_layer() -> Dataset:
    layer = Dataset()
    layer.GraphicLayer = "FINDINGS"
    layer.GraphicLayerOrder = 1
    layer.GraphicLayerDescription = "Reader findings"
    return layer


def _annotation(image: Dataset, index: int, frames: Mapping[str, SequenceABC[int]] | None) -> Dataset:
    rows, columns = int(image.Rows), int(image.Columns)
    item = Dataset()
    item.ReferencedImageSequence = Sequence([sop_reference(image, frames)])
    item.GraphicLayer = "FINDINGS"
    text = Dataset()
    text.UnformattedTextValue = f"Finding {index + 1}"
    text.AnchorPointAnnotationUnits = "PIXEL"
    text.AnchorPoint = [columns / 4, rows / 4]
    text.AnchorPointVisibility = "N"
    text.BoundingBoxAnnotationUnits = "PIXEL"
    text.BoundingBoxTopLeftHandCorner = [2.0, 2.0]
    text.BoundingBoxBottomRightHandCorner = [columns / 2, rows / 8]
    text.BoundingBoxTextHorizontalJustification = "LEFT"
    item.TextObjectSequence = Sequence([text])
    polyline = Dataset()
    polyline.GraphicAnnotationUnits = "PIXEL"
    polyline.GraphicDimensions = 2
    corners = [(columns * 0.3, rows * 0.3), (columns * 0.7, rows * 0.3), (columns * 0.7, rows * 0.7),
               (columns * 0.3, rows * 0.7), (columns * 0.3, rows * 0.3)]
    polyline.NumberOfGraphicPoints = len(corners)
    polyline.GraphicData = [float(v) for point in corners for v in point]
    polyline.GraphicType = "POLYLINE"
    polyline.GraphicFilled = "N"
    item.GraphicObjectSequence = Sequence([polyline])
    return item


def _displayed_area(image: Dataset, frames: Mapping[str, SequenceABC[int]] | None) -> Dataset:
    item = Dataset()
    item.ReferencedImageSequence = Sequence([sop_reference(image, frames)])
    item.DisplayedAreaTopLeftHandCorner = [1, 1]
    item.DisplayedAreaBottomRightHandCorner = [int(image.Columns), int(image.Rows)]
    item.PresentationSizeMode = "SCALE TO FIT"
    item.PresentationPixelSpacing = list(image.get("PixelSpacing", ["1", "1"]))
    return item


def _softcopy_voi(image: Dataset, frames: Mapping[str, SequenceABC[int]] | None) -> Dataset:
    item = Dataset()
    item.ReferencedImageSequence = Sequence([sop_reference(image, frames)])
    centre = image.get("WindowCenter", "128")
    width = image.get("WindowWidth", "256")
    item.WindowCenter = centre[0] if not isinstance(centre, (str, float, int)) else centre
    item.WindowWidth = width[0] if not isinstance(width, (str, float, int)) else width
    return item


def _modality_lut(ds: Dataset, images: SequenceABC[Dataset]) -> None:
    """Copy Rescale Slope/Intercept when every referenced image shares them (a GSPS has one Modality LUT)."""
    pairs = {(str(i.get("RescaleIntercept", "")), str(i.get("RescaleSlope", ""))) for i in images}
    if len(pairs) != 1 or ("", "") in pairs:
        return
    intercept, slope = pairs.pop()
    ds.RescaleIntercept = intercept
    ds.RescaleSlope = slope
    ds.RescaleType = "HU" if images[0].get("Modality") == "CT" else "US"


# --- Structured reports and Key Object Selection ------------------------------------------------------------


def _sr_document_general(ds: Dataset, images: SequenceABC[Dataset]) -> None:
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = ds.StudyTime
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.CurrentRequestedProcedureEvidenceSequence = evidence_sequence(images)


def _image_item(
    image: Dataset, relationship: str = "CONTAINS", frames: Mapping[str, SequenceABC[int]] | None = None
) -> Dataset:
    item = Dataset()
    item.RelationshipType = relationship
    item.ValueType = "IMAGE"
    item.ReferencedSOPSequence = Sequence([sop_reference(image, frames)])
    return item


def make_sr(
    images: SequenceABC[Dataset],
    *,
    seed: int = 0,
    study_uid: str | None = None,
    series_number: int = 910,
    frames: Mapping[str, SequenceABC[int]] | None = None,
) -> Dataset:
    """Return a Comprehensive SR report whose findings cite `images` by IMAGE content items.

    Parameters
    ----------
    images
        Cited images; each appears in an IMAGE content item and in the Current Requested Procedure
        Evidence Sequence.
    seed, study_uid, series_number, frames
        As for `make_gsps`.
    """
    ds = derived_header(
        images,
        kind="sr",
        sop_class_uid=COMPREHENSIVE_SR_STORAGE,
        modality="SR",
        seed=seed,
        study_uid=study_uid,
        series_number=series_number,
        series_description="Reports",
    )
    _sr_document_general(ds, images)
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.PerformedProcedureCodeSequence = Sequence()
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code("18748-4", "LN", "Diagnostic imaging report")])
    ds.ContinuityOfContent = "SEPARATE"
    finding = Dataset()
    finding.RelationshipType = "CONTAINS"
    finding.ValueType = "TEXT"
    finding.ConceptNameCodeSequence = Sequence([code("121071", "DCM", "Finding")])
    finding.TextValue = "Round lesion moving across the slices; see cited images."
    finding.ContentSequence = Sequence([_image_item(image, "INFERRED FROM", frames) for image in images])
    ds.ContentSequence = Sequence([finding])
    return ds


def make_kos(
    images: SequenceABC[Dataset],
    *,
    seed: int = 0,
    study_uid: str | None = None,
    series_number: int = 920,
    title: tuple[str, str, str] = ("113000", "DCM", "Of Interest"),
    frames: Mapping[str, SequenceABC[int]] | None = None,
) -> Dataset:
    """Return a Key Object Selection Document (TID 2010) flagging `images`.

    Parameters
    ----------
    images
        Selected images (IMAGE content items and Current Requested Procedure Evidence Sequence).
    seed, study_uid, series_number, frames
        As for `make_gsps`.
    title
        Document Title code (CID 7010), default "Of Interest".
    """
    ds = derived_header(
        images,
        kind="kos",
        sop_class_uid=KEY_OBJECT_SELECTION_STORAGE,
        modality="KO",
        seed=seed,
        study_uid=study_uid,
        series_number=series_number,
        series_description="Key images",
    )
    _sr_document_general(ds, images)
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code(*title)])
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "2010"
    ds.ContentTemplateSequence = Sequence([template])
    description = Dataset()
    description.RelationshipType = "CONTAINS"
    description.ValueType = "TEXT"
    description.ConceptNameCodeSequence = Sequence([code("113012", "DCM", "Key Object Description")])
    description.TextValue = "Key images selected by the factory"
    ds.ContentSequence = Sequence([description, *(_image_item(image, frames=frames) for image in images)])
    return ds


# --- RT Structure Set ----------------------------------------------------------------------------------------


def make_rtstruct(
    images: SequenceABC[Dataset],
    *,
    seed: int = 0,
    study_uid: str | None = None,
    series_number: int = 930,
    roi_name: str = "LESION",
) -> Dataset:
    """Return an RT Structure Set with one ROI contoured on every image of `images`.

    Parameters
    ----------
    images
        Images of one Frame of Reference (usually one series). Each gets a closed planar contour around
        the factory's moving disc, in patient coordinates computed from its Image Plane module.
    seed, study_uid, series_number
        As for `make_gsps`.
    roi_name
        ROI Name.
    """
    ds = derived_header(
        images,
        kind="rtstruct",
        sop_class_uid=RT_STRUCTURE_SET_STORAGE,
        modality="RTSTRUCT",
        seed=seed,
        study_uid=study_uid,
        series_number=series_number,
        series_description="Structures",
    )
    ds.OperatorsName = "Planner^Paul"
    ds.StructureSetLabel = "FACTORY"
    ds.StructureSetName = "Factory structures"
    ds.StructureSetDate = ds.StudyDate
    ds.StructureSetTime = ds.StudyTime
    frame_of_reference_uid = images[0].FrameOfReferenceUID
    ds.FrameOfReferenceUID = frame_of_reference_uid
    ds.PositionReferenceIndicator = images[0].get("PositionReferenceIndicator", "")
    ds.ReferencedFrameOfReferenceSequence = Sequence([_referenced_frame_of_reference(images)])
    roi = Dataset()
    roi.ROINumber = 1
    roi.ReferencedFrameOfReferenceUID = frame_of_reference_uid
    roi.ROIName = roi_name
    roi.ROIGenerationAlgorithm = "MANUAL"
    ds.StructureSetROISequence = Sequence([roi])
    contours = Dataset()
    contours.ReferencedROINumber = 1
    contours.ROIDisplayColor = [255, 0, 0]
    contours.ContourSequence = Sequence(
        [_contour(image, number) for number, image in enumerate(images, start=1)]
    )
    ds.ROIContourSequence = Sequence([contours])
    observation = Dataset()
    observation.ObservationNumber = 1
    observation.ReferencedROINumber = 1
    observation.RTROIInterpretedType = "GTV"
    observation.ROIInterpreter = "Planner^Paul"
    ds.RTROIObservationsSequence = Sequence([observation])
    ds.ApprovalStatus = "UNAPPROVED"
    return ds


def _referenced_frame_of_reference(images: SequenceABC[Dataset]) -> Dataset:
    item = Dataset()
    item.FrameOfReferenceUID = images[0].FrameOfReferenceUID
    item.RTReferencedStudySequence = Sequence()
    for study_uid, series in study_groups(images).items():
        study_item = Dataset()
        study_item.ReferencedSOPClassUID = STUDY_COMPONENT_MANAGEMENT
        study_item.ReferencedSOPInstanceUID = study_uid
        study_item.RTReferencedSeriesSequence = Sequence()
        for series_uid, members in series.items():
            series_item = Dataset()
            series_item.SeriesInstanceUID = series_uid
            series_item.ContourImageSequence = Sequence([sop_reference(image) for image in members])
            study_item.RTReferencedSeriesSequence.append(series_item)
        item.RTReferencedStudySequence.append(study_item)
    return item


def _contour(image: Dataset, number: int, points: int = 16) -> Dataset:
    rows, columns = int(image.Rows), int(image.Columns)
    angles = np.linspace(0, 2 * np.pi, points, endpoint=False)
    centre_row, centre_column = rows / 2, columns / 2
    radius = min(rows, columns) / 8
    pixel_rows = centre_row + radius * np.sin(angles)
    pixel_columns = centre_column + radius * np.cos(angles)
    contour = Dataset()
    contour.ContourImageSequence = Sequence([sop_reference(image)])
    contour.ContourGeometricType = "CLOSED_PLANAR"
    contour.NumberOfContourPoints = points
    contour.ContourNumber = number
    contour.ContourData = [
        _ds_text(value) for row, col in zip(pixel_rows, pixel_columns) for value in patient_point(image, row, col)
    ]
    return contour


def patient_point(image: Dataset, row: float, column: float) -> tuple[float, float, float]:
    """Return the patient coordinates (mm) of pixel (`row`, `column`) of a single-frame image (PS3.3 C.7.6.2.1.1)."""
    position = np.array([float(v) for v in image.ImagePositionPatient])
    orientation = [float(v) for v in image.ImageOrientationPatient]
    row_direction, column_direction = np.array(orientation[:3]), np.array(orientation[3:])
    row_spacing, column_spacing = (float(v) for v in image.PixelSpacing)
    point = position + row_direction * column_spacing * column + column_direction * row_spacing * row
    return tuple(float(v) for v in point)  # type: ignore[return-value]


def _ds_text(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
