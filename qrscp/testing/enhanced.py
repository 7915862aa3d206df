"""True Enhanced MR and Enhanced CT multi-frame images (PS3.3 A.36 / A.38) with shared and per-frame
functional groups, one stack of parallel frames.

These are what a modality that natively produces enhanced objects sends; the CLASSIC view must split them
into single-frame images.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.testing.classic import _add_seconds, _ds, _file_meta, _PixelPattern
from qrscp.testing.identity import PatientSpec, StudySpec, derive_uid
from qrscp.testing.references import code
from qrscp.uids import ENHANCED_CT_IMAGE_STORAGE, ENHANCED_MR_IMAGE_STORAGE

_FRAME_CONTENT = 0x00209111
_STACK_ID = 0x00209056
_IN_STACK_POSITION = 0x00209057


def make_enhanced_mr(
    *,
    frames: int = 8,
    rows: int = 64,
    columns: int = 64,
    patient: PatientSpec | None = None,
    study_uid: str | None = None,
    seed: int = 0,
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> Dataset:
    """Return a true Enhanced MR Image (one multi-frame instance, one axial stack).

    Parameters
    ----------
    frames, rows, columns
        Size; frames are parallel slices 5 mm apart.
    patient, study_uid, seed
        As for `make_series`.
    transfer_syntax
        Encoded with `qrscp.testing.encoding.encode` when not Explicit VR Little Endian.

    Returns
    -------
    pydicom.Dataset
        With Shared Functional Groups (Pixel Measures, Plane Orientation, MR Timing, FOV/Geometry, Echo,
        Modifier, Imaging Modifier, Receive/Transmit Coil, Averages, Frame Anatomy, Frame Type) and
        Per-frame Functional Groups (Frame Content with Stack ID / In-Stack Position, Plane Position),
        Multi-frame Dimension module indexing by stack position.
    """
    return _make_enhanced("MR", frames, rows, columns, patient, study_uid, seed, transfer_syntax)


def make_enhanced_ct(
    *,
    frames: int = 8,
    rows: int = 64,
    columns: int = 64,
    patient: PatientSpec | None = None,
    study_uid: str | None = None,
    seed: int = 0,
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> Dataset:
    """Return a true Enhanced CT Image (one multi-frame instance, one axial stack); see `make_enhanced_mr`."""
    return _make_enhanced("CT", frames, rows, columns, patient, study_uid, seed, transfer_syntax)


def _make_enhanced(
    modality: str,
    frames: int,
    rows: int,
    columns: int,
    patient: PatientSpec | None,
    study_uid: str | None,
    seed: int,
    transfer_syntax: str,
) -> Dataset:
    patient = patient or PatientSpec.from_seed(seed)
    study_uid = study_uid or derive_uid("study", patient.patient_id, seed)
    study = StudySpec.for_uid(study_uid)
    sop_class = ENHANCED_MR_IMAGE_STORAGE if modality == "MR" else ENHANCED_CT_IMAGE_STORAGE
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SeriesInstanceUID = derive_uid("enhanced", modality, "series", study_uid, seed)
    ds.SOPInstanceUID = derive_uid("enhanced", modality, "instance", ds.SeriesInstanceUID)
    ds.InstanceCreationDate = study.study_date
    ds.InstanceCreationTime = study.study_time
    _patient_study(ds, patient, study)
    ds.Modality = modality
    ds.SeriesNumber = 50 + seed % 40
    ds.SeriesDate = study.study_date
    ds.SeriesTime = _add_seconds(study.study_time, 120)
    ds.SeriesDescription = "t2_tse_tra enhanced" if modality == "MR" else "Thorax enhanced 1.0"
    ds.PatientPosition = "HFS"
    ds.FrameOfReferenceUID = derive_uid("enhanced", "for", study_uid, seed)
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "QRSCP Imaging"
    ds.ManufacturerModelName = f"Factory {modality} 4000"
    ds.DeviceSerialNumber = "ENH0001"
    ds.SoftwareVersions = ["VE11A"]
    ds.InstitutionName = "St. Elsewhere Hospital"
    ds.StationName = f"{modality}ENHANCED01"
    ds.InstanceNumber = 1
    ds.ContentDate = study.study_date
    ds.ContentTime = ds.SeriesTime
    ds.AcquisitionNumber = 1
    ds.AcquisitionDateTime = study.study_date + _add_seconds(ds.SeriesTime, 5)
    ds.AcquisitionDuration = 120.0
    ds.NumberOfFrames = frames
    ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
    ds.PixelPresentation = "MONOCHROME"
    ds.VolumetricProperties = "VOLUME"
    ds.VolumeBasedCalculationTechnique = "NONE"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.PresentationLUTShape = "IDENTITY"
    ds.ContentQualification = "PRODUCT"
    ds.ImageComments = "factory enhanced image"
    ds.AcquisitionContextSequence = Sequence()
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    spacing = 0.4296875 * 512 / columns if modality == "MR" else 0.68359375 * 512 / columns
    thickness = 5.0 if modality == "MR" else 1.0
    (_mr_image if modality == "MR" else _ct_image)(ds)
    ds.DimensionOrganizationType = "3D"
    organisation_uid = derive_uid("enhanced", "dimension", ds.SOPInstanceUID)
    ds.DimensionOrganizationSequence = Sequence([_item(DimensionOrganizationUID=organisation_uid)])
    ds.DimensionIndexSequence = Sequence(
        [
            _dimension(organisation_uid, _STACK_ID, "Stack ID"),
            _dimension(organisation_uid, _IN_STACK_POSITION, "In-Stack Position Number"),
        ]
    )
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence(
        [_item(PixelSpacing=[_ds(spacing), _ds(spacing)], SliceThickness=_ds(thickness),
               SpacingBetweenSlices=_ds(thickness))]
    )
    shared.PlaneOrientationSequence = Sequence([_item(ImageOrientationPatient=["1", "0", "0", "0", "1", "0"])])
    anatomy = _item(FrameLaterality="U")
    anatomy.AnatomicRegionSequence = Sequence(
        [code("12738006", "SCT", "Brain") if modality == "MR" else code("51185008", "SCT", "Thorax")]
    )
    shared.FrameAnatomySequence = Sequence([anatomy])
    shared_fill: Callable[[Dataset], None] = _mr_shared if modality == "MR" else _ct_shared
    shared_fill(shared)
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    pattern = _PixelPattern(rows, columns)
    half_x, half_y = spacing * columns / 2, spacing * rows / 2
    per_frame = []
    pixels = np.empty((frames, rows, columns), dtype=np.uint16)
    for index in range(frames):
        group = Dataset()
        frame_time = study.study_date + _add_seconds(ds.SeriesTime, 5 + index * 0.5)
        content = _item(
            FrameAcquisitionNumber=1,
            FrameReferenceDateTime=frame_time,
            FrameAcquisitionDateTime=frame_time,
            FrameAcquisitionDuration=500.0,
            StackID="1",
            InStackPositionNumber=index + 1,
            DimensionIndexValues=[1, index + 1],
        )
        group.FrameContentSequence = Sequence([content])
        group.PlanePositionSequence = Sequence(
            [_item(ImagePositionPatient=[_ds(-half_x), _ds(-half_y), _ds(-index * thickness)])]
        )
        if modality == "CT":
            table = -index * thickness
            centre = [0.0, 0.0, table]
            group.CTPositionSequence = Sequence(
                [_item(TablePosition=table, ReconstructionTargetCenterPatient=centre,
                       DataCollectionCenterPatient=centre)]
            )
        per_frame.append(group)
        if modality == "MR":
            values = pattern.values(index, frames, background=0.0, body=500.0 + 10 * index, lesion=1800.0)
        else:
            values = pattern.values(index, frames, background=-1000.0, body=40.0, lesion=700.0) + 1024.0
        pixels[index] = np.clip(np.rint(values), 0, 4095).astype(np.uint16)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.PixelData = pixels.tobytes()
    ds.file_meta = _file_meta(sop_class, ds.SOPInstanceUID, ExplicitVRLittleEndian)
    if transfer_syntax != ExplicitVRLittleEndian:
        from qrscp.testing.encoding import encode

        return encode(ds, transfer_syntax)
    return ds


def _item(**values: object) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _dimension(organisation_uid: str, pointer: int, label: str) -> Dataset:
    item = Dataset()
    item.DimensionOrganizationUID = organisation_uid
    item.DimensionIndexPointer = pointer
    item.FunctionalGroupPointer = _FRAME_CONTENT
    item.DimensionDescriptionLabel = label
    return item


def _patient_study(ds: Dataset, patient: PatientSpec, study: StudySpec) -> None:
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = patient.issuer
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.PatientAge = patient.age
    ds.PatientWeight = str(patient.weight_kg)
    ds.PatientSize = str(patient.size_m)
    ds.StudyInstanceUID = study.study_uid
    ds.StudyDate = study.study_date
    ds.StudyTime = study.study_time
    ds.ReferringPhysicianName = study.referring_physician
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession_number
    ds.StudyDescription = study.description


def _mr_image(ds: Dataset) -> None:
    """Enhanced MR Image and MR Pulse Sequence modules."""
    ds.ComplexImageComponent = "MAGNITUDE"
    ds.AcquisitionContrast = "T2"
    ds.ResonantNucleus = "1H"
    ds.KSpaceFiltering = "NONE"
    ds.MagneticFieldStrength = "3"
    ds.ApplicableSafetyStandardAgency = "IEC"
    ds.ImageComments = "factory enhanced MR"
    ds.PulseSequenceName = "tse2d1_15"
    ds.MRAcquisitionType = "2D"
    ds.EchoPulseSequence = "SPIN"
    ds.MultipleSpinEcho = "YES"
    ds.MultiPlanarExcitation = "NO"
    ds.PhaseContrast = "NO"
    ds.TimeOfFlightContrast = "NO"
    ds.SteadyStatePulseSequence = "NONE"
    ds.EchoPlanarPulseSequence = "NO"
    ds.SaturationRecovery = "NO"
    ds.SpectrallySelectedSuppression = "NONE"
    ds.OversamplingPhase = "NONE"
    ds.GeometryOfKSpaceTraversal = "RECTILINEAR"
    ds.RectilinearPhaseEncodeReordering = "LINEAR"
    ds.SegmentedKSpaceTraversal = "PARTIAL"
    ds.NumberOfKSpaceTrajectories = 1


def _ct_image(ds: Dataset) -> None:
    """Enhanced CT Image module."""
    ds.AcquisitionNumber = 1


def _mr_shared(shared: Dataset) -> None:
    shared.MRImageFrameTypeSequence = Sequence(
        [
            _item(
                FrameType=["ORIGINAL", "PRIMARY", "VOLUME", "NONE"],
                PixelPresentation="MONOCHROME",
                VolumetricProperties="VOLUME",
                VolumeBasedCalculationTechnique="NONE",
                ComplexImageComponent="MAGNITUDE",
                AcquisitionContrast="T2",
            )
        ]
    )
    timing = _item(
        RepetitionTime=4000.0,
        FlipAngle=150.0,
        EchoTrainLength=15,
        RFEchoTrainLength=15,
        GradientEchoTrainLength=0,
        GradientOutputType="DB_DT",
        GradientOutput=20.0,
    )
    timing.SpecificAbsorptionRateSequence = Sequence(
        [_item(SpecificAbsorptionRateDefinition="IEC_WHOLE_BODY", SpecificAbsorptionRateValue=1.2)]
    )
    timing.OperatingModeSequence = Sequence(
        [_item(OperatingModeType="STATIC FIELD", OperatingMode="IEC_NORMAL")]
    )
    shared.MRTimingAndRelatedParametersSequence = Sequence([timing])
    shared.MRFOVGeometrySequence = Sequence(
        [
            _item(
                InPlanePhaseEncodingDirection="ROW",
                MRAcquisitionFrequencyEncodingSteps=256,
                MRAcquisitionPhaseEncodingStepsInPlane=256,
                PercentSampling=100.0,
                PercentPhaseFieldOfView=100.0,
            )
        ]
    )
    shared.MREchoSequence = Sequence([_item(EffectiveEchoTime=95.0)])
    shared.MRModifierSequence = Sequence(
        [
            _item(
                InversionRecovery="NO",
                FlowCompensation="NONE",
                T2Preparation="NO",
                SpatialPresaturation="NONE",
                PartialFourier="NO",
                ParallelAcquisition="NO",
                SpectrallySelectedExcitation="NONE",
            )
        ]
    )
    shared.MRImagingModifierSequence = Sequence(
        [
            _item(
                MagnetizationTransfer="NONE",
                BloodSignalNulling="NO",
                Tagging="NONE",
                TransmitterFrequency=123.2,
                PixelBandwidth=220.0,
            )
        ]
    )
    shared.MRReceiveCoilSequence = Sequence(
        [
            _item(
                ReceiveCoilName="Head_32",
                ReceiveCoilManufacturerName="QRSCP Imaging",
                ReceiveCoilType="MULTICOIL",
                QuadratureReceiveCoil="NO",
            )
        ]
    )
    shared.MRReceiveCoilSequence[0].MultiCoilDefinitionSequence = Sequence(
        [_item(MultiCoilElementName="H1", MultiCoilElementUsed="YES")]
    )
    shared.MRReceiveCoilSequence[0].MultiCoilConfiguration = "HEAD32"
    shared.MRTransmitCoilSequence = Sequence(
        [_item(TransmitCoilName="Body", TransmitCoilManufacturerName="QRSCP Imaging", TransmitCoilType="BODY")]
    )
    shared.MRAveragesSequence = Sequence([_item(NumberOfAverages=2.0)])
    shared.FrameVOILUTSequence = Sequence([_item(WindowCenter="600", WindowWidth="1200")])
    shared.PixelValueTransformationSequence = Sequence(
        [_item(RescaleIntercept="0", RescaleSlope="1", RescaleType="US")]
    )


def _ct_shared(shared: Dataset) -> None:
    shared.CTImageFrameTypeSequence = Sequence(
        [
            _item(
                FrameType=["ORIGINAL", "PRIMARY", "VOLUME", "NONE"],
                PixelPresentation="MONOCHROME",
                VolumetricProperties="VOLUME",
                VolumeBasedCalculationTechnique="NONE",
            )
        ]
    )
    shared.CTAcquisitionTypeSequence = Sequence(
        [_item(AcquisitionType="SPIRAL", ConstantVolumeFlag="NO", FluoroscopyFlag="NO")]
    )
    shared.CTAcquisitionDetailsSequence = Sequence(
        [
            _item(
                DataCollectionDiameter=500.0,
                RotationDirection="CW",
                RevolutionTime=0.5,
                SingleCollimationWidth=0.6,
                TotalCollimationWidth=38.4,
                TableHeight=160.0,
                GantryDetectorTilt=0.0,
            )
        ]
    )
    shared.CTTableDynamicsSequence = Sequence(
        [_item(TableSpeed=46.0, TableFeedPerRotation=23.0, SpiralPitchFactor=0.6)]
    )
    shared.CTGeometrySequence = Sequence(
        [_item(DistanceSourceToDetector=1085.6, DistanceSourceToDataCollectionCenter=595.0)]
    )
    shared.CTReconstructionSequence = Sequence(
        [
            _item(
                ReconstructionAlgorithm="ITERATIVE",
                ConvolutionKernel=["B30f"],
                ConvolutionKernelGroup="SOFT_TISSUE",
                ReconstructionDiameter=350.0,
                ReconstructionPixelSpacing=[0.68359375, 0.68359375],
                ReconstructionAngle=360.0,
                ImageFilter="NONE",
            )
        ]
    )
    shared.CTExposureSequence = Sequence(
        [
            _item(
                ExposureTimeInms=500.0,
                XRayTubeCurrentInmA=200.0,
                ExposureInmAs=100.0,
                ExposureModulationType="NONE",
                CTDIvol=9.5,
            )
        ]
    )
    shared.CTExposureSequence[0].CTDIPhantomTypeCodeSequence = Sequence(
        [code("113691", "DCM", "IEC Body Dosimetry Phantom")]
    )
    shared.CTXRayDetailsSequence = Sequence(
        [_item(KVP=120.0, FocalSpots=[1.2], FilterType="BODY", FilterMaterial=["ALUMINUM"])]
    )
    shared.PixelValueTransformationSequence = Sequence(
        [_item(RescaleIntercept="-1024", RescaleSlope="1", RescaleType="HU")]
    )
    shared.IrradiationEventIdentificationSequence = Sequence(
        [_item(IrradiationEventUID=derive_uid("enhanced", "irradiation"))]
    )
    shared.FrameVOILUTSequence = Sequence([_item(WindowCenter="40", WindowWidth="400")])
