"""Realistic classic single-frame CT, MR and PET images (one Dataset per slice).

The header of a series is built once (``_series_template``), then each slice gets a deep copy with its own
geometry, timing, windowing and pixel data; pixel arrays are computed with numpy from shared grids so that a
500-slice 512x512 CT takes seconds.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels.utils import pack_bits
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

from qrscp.testing.identity import PatientSpec, StudySpec, derive_int, derive_uid
from qrscp.uids import CT_IMAGE_STORAGE, MR_IMAGE_STORAGE, PET_IMAGE_STORAGE

#: Implementation Class UID written in the File Meta of generated files.
IMPLEMENTATION_CLASS_UID = PYDICOM_IMPLEMENTATION_UID
IMPLEMENTATION_VERSION_NAME = "QRSCP_FACTORY"

#: Private creator of the simulated vendor block.
PRIVATE_CREATOR = "QRSCP FACTORY VENDOR 1.0"
PRIVATE_GROUP = 0x0029

SOP_CLASS_FOR_MODALITY = {"CT": CT_IMAGE_STORAGE, "MR": MR_IMAGE_STORAGE, "PT": PET_IMAGE_STORAGE}

_SERIES_VARIANTS = frozenset(
    {
        "private_block_bytes",
        "invalid_values",
        "overlay",
        "two_orientations",
        "per_slice_window",
        "per_slice_rescale",
        "missing_type2",
        "mixed_transfer_syntaxes",
        "series_number",
        "series_description",
        "frame_of_reference_uid",
        "bits_allocated",
        "charset",
        "acquisitions",
        "contrast",
    }
)

#: Type 2 attributes that ``missing_type2=True`` removes (as sloppy modalities do).
MISSING_TYPE2_KEYWORDS = (
    "ReferringPhysicianName",
    "AccessionNumber",
    "StudyID",
    "PatientBirthDate",
    "PositionReferenceIndicator",
    "Manufacturer",
    "SliceThickness",
)

#: An LO value longer than the 64 characters allowed (``invalid_values=True``).
INVALID_LONG_INSTITUTION_NAME = (
    "St. Elsewhere Hospital Department of Diagnostic and Interventional Radiology, Annex B"
)

_AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
_CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


@dataclass(frozen=True)
class _ModalityProfile:
    """What differs between CT, MR and PET: geometry, pixel range and modality-specific modules."""

    modality: str
    pixel_spacing: float  # at 512 columns; scaled to keep the field of view
    slice_spacing: float
    bits_stored: int
    pixel_representation: int
    fill_modules: Callable[[Dataset, int], None]
    series_description: str
    body_part: str


def normalise_modality(modality: str) -> str:
    """Return the Modality value ("CT", "MR", "PT") for CT/MR/PET/PT (any case)."""
    value = modality.upper()
    value = "PT" if value == "PET" else value
    if value not in SOP_CLASS_FOR_MODALITY:
        raise ValueError(f"unsupported modality {modality!r}: expected CT, MR or PET")
    return value


def _fill_ct(ds: Dataset, seed: int) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.KVP = "120"
    ds.ScanOptions = "HELICAL MODE"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = "350"
    ds.DistanceSourceToDetector = "1085.6"
    ds.DistanceSourceToPatient = "595"
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = "160"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "500"
    ds.XRayTubeCurrent = 200 + derive_int("mA", seed, modulo=200)
    ds.Exposure = 150
    ds.FilterType = "BODY FILTER"
    ds.GeneratorPower = 24
    ds.FocalSpots = ["1.2"]
    ds.ConvolutionKernel = ["B30f"]
    ds.RevolutionTime = 0.5
    ds.SingleCollimationWidth = 0.6
    ds.TotalCollimationWidth = 38.4
    ds.TableSpeed = 46.0
    ds.TableFeedPerRotation = 23.0
    ds.SpiralPitchFactor = 0.6
    ds.CTDIvol = 9.5
    ds.CTDIPhantomTypeCodeSequence = Sequence([_code("113691", "DCM", "IEC Body Dosimetry Phantom")])
    ds.WindowCenter = ["40", "-600"]
    ds.WindowWidth = ["400", "1500"]
    ds.WindowCenterWidthExplanation = ["ABDOMEN", "LUNG"]


def _fill_mr(ds: Dataset, seed: int) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.ScanningSequence = ["SE"]
    ds.SequenceVariant = ["SK", "SP"]
    ds.ScanOptions = ["PFP"]
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = "*tse2d1_15"
    ds.AngioFlag = "N"
    ds.RepetitionTime = "4000"
    ds.EchoTime = str(90 + derive_int("TE", seed, modulo=20))
    ds.EchoTrainLength = 15
    ds.NumberOfAverages = "2"
    ds.ImagingFrequency = "123.2"
    ds.ImagedNucleus = "1H"
    ds.EchoNumbers = [1]
    ds.MagneticFieldStrength = "3"
    ds.NumberOfPhaseEncodingSteps = 256
    ds.PercentSampling = "100"
    ds.PercentPhaseFieldOfView = "100"
    ds.PixelBandwidth = "220"
    ds.ReceiveCoilName = "Head_32"
    ds.TransmitCoilName = "Body"
    ds.AcquisitionMatrix = [0, 256, 256, 0]
    ds.InPlanePhaseEncodingDirection = "ROW"
    ds.FlipAngle = "150"
    ds.VariableFlipAngleFlag = "N"
    ds.SAR = "1.2"
    ds.dBdt = "0"
    ds.WindowCenter = "600"
    ds.WindowWidth = "1200"


def _fill_pet(ds: Dataset, seed: int) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    # PET Series module
    ds.Units = "BQML"
    ds.CountsSource = "EMISSION"
    ds.SeriesType = ["WHOLE BODY", "IMAGE"]
    ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
    ds.RandomsCorrectionMethod = "DLYD"
    ds.AttenuationCorrectionMethod = "CT-based"
    ds.ScatterCorrectionMethod = "Model-based"
    ds.DecayCorrection = "START"
    ds.ReconstructionDiameter = "700"
    ds.ConvolutionKernel = ["Gaussian 5.0"]
    ds.ReconstructionMethod = "OSEM 3i21s"
    ds.CollimatorType = "NONE"
    ds.AxialAcceptance = "38"
    ds.AxialMash = [5, 6]
    ds.TransverseMash = 1
    ds.CoincidenceWindowWidth = "4.5"
    ds.SecondaryCountsType = ["DLYD"]
    ds.AcquisitionStartCondition = "MANU"
    # PET Isotope module
    radiopharmaceutical = Dataset()
    radiopharmaceutical.Radiopharmaceutical = "Fluorodeoxyglucose"
    radiopharmaceutical.RadiopharmaceuticalRoute = "Intravenous route"
    radiopharmaceutical.RadiopharmaceuticalStartTime = "070000"
    radiopharmaceutical.RadionuclideTotalDose = str(300000000 + derive_int("dose", seed, modulo=10**8))
    radiopharmaceutical.RadionuclideHalfLife = "6586.2"
    radiopharmaceutical.RadionuclidePositronFraction = "0.97"
    radiopharmaceutical.RadionuclideCodeSequence = Sequence([_code("77004003", "SCT", "^18^Fluorine")])
    radiopharmaceutical.RadiopharmaceuticalCodeSequence = Sequence(
        [_code("35321007", "SCT", "Fluorodeoxyglucose F^18^")]
    )
    ds.RadiopharmaceuticalInformationSequence = Sequence([radiopharmaceutical])
    # NM/PET Patient Orientation module
    ds.PatientOrientationCodeSequence = Sequence([_code("102538003", "SCT", "recumbent")])
    ds.PatientOrientationCodeSequence[0].PatientOrientationModifierCodeSequence = Sequence(
        [_code("40199007", "SCT", "supine")]
    )
    ds.PatientGantryRelationshipCodeSequence = Sequence([_code("102540008", "SCT", "headfirst")])
    # PET Image module (per-slice parts are set in _fill_slice)
    ds.ActualFrameDuration = 180000
    ds.DecayFactor = "1.0735"
    ds.DoseCalibrationFactor = "1"
    ds.ScatterFractionFactor = "0.3"
    ds.DeadTimeFactor = "1.01"
    ds.WindowCenter = "5000"
    ds.WindowWidth = "10000"


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


_PROFILES = {
    "CT": _ModalityProfile("CT", 0.68359375, 2.5, 12, 0, _fill_ct, "Abdomen 2.5 B30f", "ABDOMEN"),
    "MR": _ModalityProfile("MR", 0.4296875, 5.0, 12, 0, _fill_mr, "t2_tse_tra", "HEAD"),
    "PT": _ModalityProfile("PT", 1.3671875, 3.27, 16, 1, _fill_pet, "PET WB AC", "WHOLEBODY"),
}


def _series_template(
    profile: _ModalityProfile,
    *,
    patient: PatientSpec,
    study: StudySpec,
    series_uid: str,
    frame_of_reference_uid: str,
    series_number: int,
    series_description: str,
    rows: int,
    columns: int,
    slices: int,
    seed: int,
    charset: str,
    transfer_syntax: str,
) -> Dataset:
    """Return the header shared by every slice of a series (no per-slice values, no pixel data)."""
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = SOP_CLASS_FOR_MODALITY[profile.modality]
    ds.InstanceCreationDate = study.study_date
    ds.InstanceCreationTime = study.study_time
    ds.InstanceCreatorUID = derive_uid("factory-creator")
    # Patient
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = patient.issuer
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.PatientAge = patient.age
    ds.PatientWeight = str(patient.weight_kg)
    ds.PatientSize = str(patient.size_m)
    # General Study
    ds.StudyInstanceUID = study.study_uid
    ds.StudyDate = study.study_date
    ds.StudyTime = study.study_time
    ds.ReferringPhysicianName = study.referring_physician
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession_number
    ds.StudyDescription = study.description
    # General Series
    ds.Modality = profile.modality
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = series_number
    ds.SeriesDate = study.study_date
    ds.SeriesTime = _add_seconds(study.study_time, 60 * series_number)
    ds.SeriesDescription = series_description
    ds.ProtocolName = series_description
    ds.BodyPartExamined = profile.body_part
    if profile.modality != "PT":
        # PET carries the position as codes (NM/PET Patient Orientation); both together are an error.
        ds.PatientPosition = "HFS"
    ds.OperatorsName = "Tech^Terry"
    # Frame of Reference
    ds.FrameOfReferenceUID = frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    # General Equipment
    ds.Manufacturer = "QRSCP Imaging"
    ds.InstitutionName = "St. Elsewhere Hospital"
    ds.StationName = f"{profile.modality}SCANNER01"
    ds.ManufacturerModelName = f"Factory {profile.modality} 3000"
    ds.DeviceSerialNumber = f"{derive_int('serial', profile.modality, modulo=10**6):06d}"
    ds.SoftwareVersions = ["VA10A"]
    # General Image / Acquisition (per-slice values are filled later)
    ds.AcquisitionNumber = 1
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    # Image Plane (per-slice position later)
    spacing = round(profile.pixel_spacing * 512 / columns, 6)
    ds.PixelSpacing = [f"{spacing:g}", f"{spacing:g}"]
    ds.SliceThickness = f"{profile.slice_spacing:g}"
    if profile.modality == "MR":
        ds.SpacingBetweenSlices = f"{profile.slice_spacing:g}"
    # Image Pixel
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    ds.BitsStored = profile.bits_stored
    ds.HighBit = profile.bits_stored - 1
    ds.PixelRepresentation = profile.pixel_representation
    profile.fill_modules(ds, seed)
    if profile.modality == "PT":
        ds.NumberOfSlices = slices
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1"
    ds.file_meta = _file_meta(ds.SOPClassUID, "", transfer_syntax)
    return ds


def _file_meta(sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta


def file_meta_for(ds: Dataset, transfer_syntax: str) -> FileMetaDataset:
    """Return a File Meta Information group for `ds` encoded in `transfer_syntax`."""
    return _file_meta(ds.SOPClassUID, ds.SOPInstanceUID, transfer_syntax)


def _add_seconds(hhmmss: str, seconds: float) -> str:
    total = int(hhmmss[:2]) * 3600 + int(hhmmss[2:4]) * 60 + float(hhmmss[4:] or 0) + seconds
    total %= 24 * 3600
    whole = int(total)
    fraction = round(total - whole, 3)
    text = f"{whole // 3600:02d}{whole // 60 % 60:02d}{whole % 60:02d}"
    return text + (f"{fraction:.3f}"[1:] if fraction else "")


class _PixelPattern:
    """Per-slice pixel arrays: a body ellipse, a disc whose radius and position follow the slice index, and
    a bar whose length encodes the slice index (visible in any viewer and checkable by tests)."""

    def __init__(self, rows: int, columns: int) -> None:
        y, x = np.mgrid[0:rows, 0:columns].astype(np.float32)
        self.rows, self.columns = rows, columns
        self.y = (y - rows / 2) / (rows / 2)
        self.x = (x - columns / 2) / (columns / 2)
        self.body = (self.x / 0.85) ** 2 + (self.y / 0.65) ** 2 <= 1.0
        self.gradient = (self.x + 1.0) * 0.5

    def values(self, index: int, slices: int, background: float, body: float, lesion: float) -> np.ndarray:
        """Return float32 modality values for slice `index` of `slices`."""
        phase = index / max(1, slices - 1)
        image = np.where(self.body, np.float32(body), np.float32(background))
        image = image + self.body * self.gradient * np.float32((body - background) * 0.1)
        centre_x = -0.4 + 0.8 * phase
        radius = 0.1 + 0.15 * np.sin(np.pi * phase)
        disc = (self.x - centre_x) ** 2 + self.y**2 <= radius**2
        image[disc] = lesion
        bar_length = max(1, int(round(self.columns * 0.8 * (index + 1) / slices)))
        bar_top = max(0, int(self.rows * 0.85))
        image[bar_top : bar_top + max(1, self.rows // 32), : bar_length] = lesion
        return image


def _overlay(ds: Dataset, rows: int, columns: int, index: int) -> None:
    """Overlay Plane module (group 6000): a frame around the image and a tick mark per slice index."""
    plane = np.zeros((rows, columns), dtype=np.uint8)
    plane[0, :] = plane[-1, :] = plane[:, 0] = plane[:, -1] = 1
    plane[2:6, 2 : 2 + min(columns - 4, index + 1)] = 1
    ds.add_new(0x60000010, "US", rows)
    ds.add_new(0x60000011, "US", columns)
    ds.add_new(0x60000022, "LO", "Factory frame")
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", pack_bits(plane, pad=True))


def _private_block(ds: Dataset, size: int, seed: int, index: int) -> None:
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x01, "LO", "FACTORY PROTOCOL")
    block.add_new(0x02, "DS", f"{1.5 + index * 0.01:.2f}")
    block.add_new(0x03, "US", index)
    if size > 0:
        rng = np.random.default_rng([seed, index, size])
        # OB values have even length on the wire; a trailing pad would change the value on round trip.
        block.add_new(0x10, "OB", rng.integers(0, 256, size + (size % 2), dtype=np.uint8).tobytes())


def make_series(
    modality: str = "CT",
    *,
    slices: int = 8,
    rows: int = 64,
    columns: int = 64,
    patient: PatientSpec | None = None,
    study_uid: str | None = None,
    transfer_syntax: str = ExplicitVRLittleEndian,
    seed: int = 0,
    **variants: object,
) -> list[Dataset]:
    """Return a classic single-frame CT, MR or PET series, one Dataset per slice.

    Parameters
    ----------
    modality
        "CT", "MR", "PET" (or "PT").
    slices, rows, columns
        Series size.
    patient
        Patient module values; default ``PatientSpec.from_seed(seed)``.
    study_uid
        Study Instance UID; the study attributes are derived from it so that several series of one study
        agree. Default: derived from the patient.
    transfer_syntax
        Transfer Syntax UID of every slice (see ``qrscp.testing.encoding.TRANSFER_SYNTAXES``).
    seed
        Every UID and value is a pure function of the arguments and `seed`.
    **variants
        ``private_block_bytes`` (int, default 256), ``invalid_values`` (Patient's Sex "0000", birth date
        "00000000", over-long LO), ``overlay``, ``two_orientations`` (second half coronal),
        ``per_slice_window``, ``per_slice_rescale``, ``missing_type2``, ``mixed_transfer_syntaxes``
        (slices cycle through the available syntaxes), ``series_number``, ``series_description``,
        ``frame_of_reference_uid``, ``charset`` ("ISO_IR 100" default, or "ISO_IR 192"),
        ``contrast`` (Contrast/Bolus module), ``bits_allocated`` (8 gives 8-bit pixels; the default for
        JPEG Baseline), ``acquisitions`` (number of acquisitions the slices are split into).
        ``charset`` defaults to "ISO_IR 192" when the patient's name is not Latin-1.

    Returns
    -------
    list of pydicom.Dataset
        Slices in acquisition order, each with ``file_meta`` set for its transfer syntax.
    """
    unknown = set(variants) - _SERIES_VARIANTS
    if unknown:
        raise TypeError(f"unknown make_series variants: {sorted(unknown)}")
    profile = _PROFILES[normalise_modality(modality)]
    patient = patient or PatientSpec.from_seed(seed)
    study_uid = study_uid or derive_uid("study", patient.patient_id, seed)
    study = StudySpec.for_uid(study_uid)
    series_number = int(variants.get("series_number") or (1 + derive_int("series", seed, profile.modality, modulo=20)))
    series_uid = derive_uid("series", study_uid, profile.modality, seed, series_number)
    frame_of_reference_uid = str(variants.get("frame_of_reference_uid") or derive_uid("for", study_uid, seed))
    template = _series_template(
        profile,
        patient=patient,
        study=study,
        series_uid=series_uid,
        frame_of_reference_uid=frame_of_reference_uid,
        series_number=series_number,
        series_description=str(variants.get("series_description") or profile.series_description),
        rows=rows,
        columns=columns,
        slices=slices,
        seed=seed,
        charset=str(variants.get("charset") or _default_charset(patient)),
        transfer_syntax=ExplicitVRLittleEndian,
    )
    bits_allocated = int(variants.get("bits_allocated") or _default_bits_allocated(transfer_syntax))
    if bits_allocated == 8:
        template.BitsAllocated, template.BitsStored, template.HighBit = 8, 8, 7
        template.PixelRepresentation = 0
    if variants.get("contrast"):
        _add_contrast(template)
    if variants.get("invalid_values"):
        _add_invalid_values(template)
    if variants.get("missing_type2"):
        for keyword in MISSING_TYPE2_KEYWORDS:
            if keyword in template:
                delattr(template, keyword)
    pattern = _PixelPattern(rows, columns)
    private_bytes = int(variants.get("private_block_bytes", 256))  # type: ignore[arg-type]
    acquisitions = max(1, int(variants.get("acquisitions") or 1))
    datasets = []
    for index in range(slices):
        ds = _clone(template)
        _fill_slice(ds, profile, pattern, index, slices, seed, study, variants, acquisitions)
        _private_block(ds, private_bytes, seed, index)
        if variants.get("overlay"):
            _overlay(ds, rows, columns, index)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        datasets.append(ds)
    return _apply_transfer_syntaxes(datasets, transfer_syntax, bool(variants.get("mixed_transfer_syntaxes")))


def _add_contrast(ds: Dataset) -> None:
    """Contrast/Bolus module: an iodinated agent given intravenously before the acquisition."""
    ds.ContrastBolusAgent = "Omnipaque 350"
    ds.ContrastBolusAgentSequence = Sequence([_code("109223002", "SCT", "Iohexol")])
    ds.ContrastBolusRoute = "IV"
    ds.ContrastBolusVolume = "80"
    ds.ContrastBolusStartTime = ds.SeriesTime
    ds.ContrastBolusTotalDose = "80"
    ds.ContrastFlowRate = ["3"]
    ds.ContrastFlowDuration = ["27"]
    ds.ContrastBolusIngredient = "IODINE"
    ds.ContrastBolusIngredientConcentration = "350"


def _clone(template: Dataset) -> Dataset:
    """Copy of the series header: new element objects sharing immutable values, deep-copied sequences.

    A deep copy of the whole header dominated generation time; per-slice code only ever rebinds values,
    so sharing the value objects is safe.
    """
    ds = Dataset()
    for element in template.values():
        ds.add(copy.deepcopy(element) if element.VR == "SQ" else copy.copy(element))
    ds.file_meta = copy.deepcopy(template.file_meta)
    return ds


def _default_charset(patient: PatientSpec) -> str:
    try:
        patient.name.encode("latin-1")
    except UnicodeEncodeError:
        return "ISO_IR 192"
    return "ISO_IR 100"


def _default_bits_allocated(transfer_syntax: str) -> int:
    """8 for syntaxes that cannot hold more (JPEG Baseline), so that every syntax works without flags; such
    images are outside the CT/MR/PET IODs (which require 16 bits) and dciodvfy says so."""
    from qrscp.testing.encoding import TRANSFER_SYNTAXES

    info = TRANSFER_SYNTAXES.get(transfer_syntax)
    return 8 if info is not None and info.max_bits_stored == 8 else 16


def _add_invalid_values(ds: Dataset) -> None:
    """Values that real scanners send although they are invalid (they must be stored, not rejected)."""
    with warnings.catch_warnings():
        # pydicom warns about each invalid value; here they are the point.
        warnings.simplefilter("ignore")
        ds.PatientSex = "0000"
        ds.PatientBirthDate = "00000000"
        ds.InstitutionName = INVALID_LONG_INSTITUTION_NAME
        ds.PatientAge = "45"


def _fill_slice(
    ds: Dataset,
    profile: _ModalityProfile,
    pattern: _PixelPattern,
    index: int,
    slices: int,
    seed: int,
    study: StudySpec,
    variants: dict,
    acquisitions: int,
) -> None:
    ds.SOPInstanceUID = derive_uid("instance", ds.SeriesInstanceUID, index)
    ds.InstanceNumber = index + 1
    acquisition = 1 + index * acquisitions // slices
    ds.AcquisitionNumber = acquisition
    acquisition_time = _add_seconds(ds.SeriesTime, 10 + 0.5 * index)
    ds.AcquisitionDate = study.study_date
    ds.AcquisitionTime = acquisition_time
    ds.ContentDate = study.study_date
    ds.ContentTime = acquisition_time
    orientation = _AXIAL
    spacing = float(ds.PixelSpacing[0])
    half_x = spacing * ds.Columns / 2
    half_y = spacing * ds.Rows / 2
    position = index
    if variants.get("two_orientations") and index >= slices // 2:
        orientation = _CORONAL
        position = index - slices // 2
    offset = -position * profile.slice_spacing
    if orientation == _AXIAL:
        ipp = (-half_x, -half_y, offset)
    else:
        # Image Type is left as is, so that orientation is the only thing that differs in the series.
        ipp = (-half_x, offset, half_y)
    ds.ImagePositionPatient = [_ds(v) for v in ipp]
    ds.ImageOrientationPatient = [_ds(v) for v in orientation]
    ds.SliceLocation = _ds(offset)
    intercept, slope = _rescale(profile, ds, index, variants)
    if profile.modality == "PT":
        ds.ImageIndex = index + 1
        ds.FrameReferenceTime = f"{90000 + index * 10:g}"
        ds.SliceSensitivityFactor = "1"
        ds.PrimaryPromptsCountsAccumulated = 1000000 + 997 * index
    if variants.get("per_slice_window"):
        _vary_window(ds, index)
    ds.PixelData = _pixel_bytes(ds, profile, pattern, index, slices, intercept, slope)


def _rescale(profile: _ModalityProfile, ds: Dataset, index: int, variants: dict) -> tuple[float, float]:
    """Return (intercept, slope) of the slice; PET slopes always vary per slice as real scanners do."""
    if profile.modality == "CT":
        intercept = -1024.0
        if variants.get("per_slice_rescale"):
            intercept = (-1024.0, -1000.0, -1100.0)[index % 3]
        ds.RescaleIntercept = _ds(intercept)
        return intercept, 1.0
    if profile.modality == "PT":
        slope = 0.1 + 0.003 * index + (0.05 * (index % 3) if variants.get("per_slice_rescale") else 0.0)
        ds.RescaleSlope = _ds(round(slope, 6))
        return 0.0, round(slope, 6)
    # MR Image has no Modality LUT module: per_slice_rescale does not apply to MR.
    return 0.0, 1.0


def _vary_window(ds: Dataset, index: int) -> None:
    centres = [float(v) for v in (ds.WindowCenter if ds["WindowCenter"].VM > 1 else [ds.WindowCenter])]
    widths = [float(v) for v in (ds.WindowWidth if ds["WindowWidth"].VM > 1 else [ds.WindowWidth])]
    centres = [_ds(c + 5 * index) for c in centres]
    widths = [_ds(w + 10 * index) for w in widths]
    ds.WindowCenter = centres if len(centres) > 1 else centres[0]
    ds.WindowWidth = widths if len(widths) > 1 else widths[0]


def _pixel_bytes(
    ds: Dataset,
    profile: _ModalityProfile,
    pattern: _PixelPattern,
    index: int,
    slices: int,
    intercept: float,
    slope: float,
) -> bytes:
    if profile.modality == "CT":
        values = pattern.values(index, slices, background=-1000.0, body=40.0, lesion=700.0)
    elif profile.modality == "MR":
        values = pattern.values(index, slices, background=0.0, body=500.0 + 10 * index, lesion=1800.0)
    else:
        values = pattern.values(index, slices, background=0.0, body=2000.0, lesion=3000.0 + 100 * index)
    stored = np.rint((values - intercept) / slope)
    maximum = (1 << ds.BitsStored) - 1 if ds.PixelRepresentation == 0 else (1 << (ds.BitsStored - 1)) - 1
    minimum = 0 if ds.PixelRepresentation == 0 else -(1 << (ds.BitsStored - 1))
    if ds.BitsAllocated == 8:
        stored = stored * 255.0 / max(1.0, float(stored.max()))
        return np.clip(stored, 0, 255).astype(np.uint8).tobytes()
    dtype = np.uint16 if ds.PixelRepresentation == 0 else np.int16
    return np.clip(stored, minimum, maximum).astype(dtype).tobytes()


def _ds(value: float) -> str:
    """Format a float as a DS of at most 16 characters, without a spurious '-0'."""
    value = 0.0 if abs(value) < 1e-9 else float(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text[:16]


def _apply_transfer_syntaxes(datasets: list[Dataset], transfer_syntax: str, mixed: bool) -> list[Dataset]:
    from qrscp.testing.encoding import encode, mixed_series_transfer_syntaxes

    if mixed:
        cycle = mixed_series_transfer_syntaxes()
        return [encode(ds, cycle[index % len(cycle)]) for index, ds in enumerate(datasets)]
    if transfer_syntax == ExplicitVRLittleEndian:
        return datasets
    return [encode(ds, transfer_syntax) for ds in datasets]
