"""The C-FIND keys of the Patient Root and Study Root information models (PS3.4 C.6.1.1, C.6.2.1).

One table, read by the registry (what to extract from a dataset), the query service (what to match and
return) and the tests. Levels are those of the Patient Root model; in the Study Root model the patient
level keys belong to the study level (C.6.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import dictionary_VR, tag_for_keyword

from qrscp.index.models import Base, Instance, Patient, Series, Study
from qrscp.uids import PATIENT_ROOT_FIND, PATIENT_ROOT_GET, PATIENT_ROOT_MOVE, Level

#: Levels from the top down (Patient Root).
LEVEL_ORDER = (Level.PATIENT, Level.STUDY, Level.SERIES, Level.IMAGE)
#: The table of each level.
MODEL_FOR_LEVEL: dict[Level, type[Base]] = {
    Level.PATIENT: Patient,
    Level.STUDY: Study,
    Level.SERIES: Series,
    Level.IMAGE: Instance,
}
#: The Unique Key of each level.
UNIQUE_KEY_FOR_LEVEL = {
    Level.PATIENT: "PatientID",
    Level.STUDY: "StudyInstanceUID",
    Level.SERIES: "SeriesInstanceUID",
    Level.IMAGE: "SOPInstanceUID",
}
#: Keys that are never matched and answered by the service itself, not the index.
SERVICE_KEYWORDS = frozenset(
    {
        "QueryRetrieveLevel",
        "SpecificCharacterSet",
        "RetrieveAETitle",
        "InstanceAvailability",
        "QueryRetrieveView",
        "StorageMediaFileSetID",
        "StorageMediaFileSetUID",
    }
)


@dataclass(frozen=True)
class Key:
    """One C-FIND key.

    Attributes
    ----------
    keyword : str
        The DICOM keyword.
    level : Level
        Its level in the Patient Root model.
    vr : str
        Its Value Representation.
    column : str or None
        The ORM attribute on the level's model; None for computed aggregates.
    unique : bool
        Unique Key (U) of its level.
    required : bool
        Required Key (R); other keys are Optional keys supported for existence and matching.
    multiple : bool
        May hold several values (kept joined with a backslash).
    matched : bool
        False for keys that are answered but never matched (Timezone Offset From UTC, C.2.2.2).
    """

    keyword: str
    level: Level
    vr: str
    column: str | None
    unique: bool = False
    required: bool = False
    multiple: bool = False
    matched: bool = True

    @property
    def tag(self) -> int:
        return int(tag_for_keyword(self.keyword))

    @property
    def model(self) -> type[Base]:
        return MODEL_FOR_LEVEL[self.level]

    @property
    def ci_column(self) -> str | None:
        """The lower-case sibling column of a Person Name key."""
        return f"{self.column}_ci" if self.vr == "PN" and self.column else None

    @property
    def computed(self) -> bool:
        return self.column is None


def _key(keyword: str, level: Level, column: str | None, **flags: bool) -> Key:
    return Key(keyword, level, dictionary_VR(keyword), column, **flags)


P, ST, SE, IM = Level.PATIENT, Level.STUDY, Level.SERIES, Level.IMAGE

KEYS: tuple[Key, ...] = (
    # Patient level (C.6.1.1.2)
    _key("PatientName", P, "patient_name", required=True),
    _key("PatientID", P, "patient_id", unique=True),
    _key("IssuerOfPatientID", P, "issuer_of_patient_id"),
    _key("IssuerOfPatientIDQualifiersSequence", P, "issuer_of_patient_id_qualifiers_sequence"),
    _key("TypeOfPatientID", P, "type_of_patient_id"),
    _key("ReferencedPatientSequence", P, "referenced_patient_sequence"),
    _key("PatientBirthDate", P, "patient_birth_date"),
    _key("PatientBirthTime", P, "patient_birth_time"),
    _key("PatientSex", P, "patient_sex"),
    _key("OtherPatientIDsSequence", P, "other_patient_ids_sequence"),
    _key("OtherPatientNames", P, "other_patient_names", multiple=True),
    _key("EthnicGroup", P, "ethnic_group"),
    _key("PatientComments", P, "patient_comments"),
    _key("PatientSpeciesDescription", P, "patient_species_description"),
    _key("PatientBreedDescription", P, "patient_breed_description"),
    _key("ResponsiblePerson", P, "responsible_person"),
    _key("ResponsibleOrganization", P, "responsible_organization"),
    _key("PatientIdentityRemoved", P, "patient_identity_removed"),
    _key("NumberOfPatientRelatedStudies", P, None),
    _key("NumberOfPatientRelatedSeries", P, None),
    _key("NumberOfPatientRelatedInstances", P, None),
    # Study level (C.6.1.1.3)
    _key("StudyDate", ST, "study_date", required=True),
    _key("StudyTime", ST, "study_time", required=True),
    _key("AccessionNumber", ST, "accession_number", required=True),
    _key("IssuerOfAccessionNumberSequence", ST, "issuer_of_accession_number_sequence"),
    _key("StudyID", ST, "study_id", required=True),
    _key("StudyInstanceUID", ST, "study_instance_uid", unique=True),
    _key("ReferringPhysicianName", ST, "referring_physician_name"),
    _key("StudyDescription", ST, "study_description"),
    _key("ProcedureCodeSequence", ST, "procedure_code_sequence"),
    _key("NameOfPhysiciansReadingStudy", ST, "name_of_physicians_reading_study", multiple=True),
    _key("PhysiciansOfRecord", ST, "physicians_of_record", multiple=True),
    _key("AdmittingDiagnosesDescription", ST, "admitting_diagnoses_description", multiple=True),
    _key("ReferencedStudySequence", ST, "referenced_study_sequence"),
    _key("PatientAge", ST, "patient_age"),
    _key("PatientSize", ST, "patient_size"),
    _key("PatientWeight", ST, "patient_weight"),
    _key("Occupation", ST, "occupation"),
    _key("AdditionalPatientHistory", ST, "additional_patient_history"),
    _key("MedicalAlerts", ST, "medical_alerts", multiple=True),
    _key("Allergies", ST, "allergies", multiple=True),
    _key("OtherStudyNumbers", ST, "other_study_numbers", multiple=True),
    _key("TimezoneOffsetFromUTC", ST, "timezone_offset_from_utc", matched=False),
    _key("NumberOfStudyRelatedSeries", ST, None),
    _key("NumberOfStudyRelatedInstances", ST, None),
    _key("ModalitiesInStudy", ST, None, multiple=True),
    _key("SOPClassesInStudy", ST, None, multiple=True),
    # Series level (C.6.1.1.4)
    _key("Modality", SE, "modality", required=True),
    _key("SeriesNumber", SE, "series_number", required=True),
    _key("SeriesInstanceUID", SE, "series_instance_uid", unique=True),
    _key("SeriesDescription", SE, "series_description"),
    _key("SeriesDate", SE, "series_date"),
    _key("SeriesTime", SE, "series_time"),
    _key("BodyPartExamined", SE, "body_part_examined"),
    _key("Laterality", SE, "laterality"),
    _key("ProtocolName", SE, "protocol_name"),
    _key("OperatorsName", SE, "operators_name", multiple=True),
    _key("PerformingPhysicianName", SE, "performing_physician_name", multiple=True),
    _key("PerformedProcedureStepStartDate", SE, "performed_procedure_step_start_date"),
    _key("PerformedProcedureStepStartTime", SE, "performed_procedure_step_start_time"),
    _key("PerformedProcedureStepID", SE, "performed_procedure_step_id"),
    _key("PerformedProcedureStepDescription", SE, "performed_procedure_step_description"),
    _key("RequestAttributesSequence", SE, "request_attributes_sequence"),
    _key("Manufacturer", SE, "manufacturer"),
    _key("ManufacturerModelName", SE, "manufacturer_model_name"),
    _key("StationName", SE, "station_name"),
    _key("InstitutionName", SE, "institution_name"),
    _key("InstitutionalDepartmentName", SE, "institutional_department_name"),
    _key("DeviceSerialNumber", SE, "device_serial_number"),
    _key("SoftwareVersions", SE, "software_versions", multiple=True),
    _key("FrameOfReferenceUID", SE, "frame_of_reference_uid"),
    _key("PatientPosition", SE, "patient_position"),
    _key("SeriesType", SE, "series_type", multiple=True),
    _key("NumberOfSeriesRelatedInstances", SE, None),
    # Composite object instance level (C.6.1.1.5)
    _key("InstanceNumber", IM, "instance_number", required=True),
    _key("SOPInstanceUID", IM, "sop_instance_uid", unique=True),
    _key("SOPClassUID", IM, "sop_class_uid"),
    _key("AvailableTransferSyntaxUID", IM, "transfer_syntax_uid"),
    _key("RelatedGeneralSOPClassUID", IM, "related_general_sop_class_uid", multiple=True),
    _key("InstanceCreationDate", IM, "instance_creation_date"),
    _key("InstanceCreationTime", IM, "instance_creation_time"),
    _key("ContentDate", IM, "content_date"),
    _key("ContentTime", IM, "content_time"),
    _key("AcquisitionNumber", IM, "acquisition_number"),
    _key("AcquisitionDate", IM, "acquisition_date"),
    _key("AcquisitionTime", IM, "acquisition_time"),
    _key("AcquisitionDateTime", IM, "acquisition_date_time"),
    _key("ImageType", IM, "image_type", multiple=True),
    _key("ImageComments", IM, "image_comments"),
    _key("BurnedInAnnotation", IM, "burned_in_annotation"),
    _key("LossyImageCompression", IM, "lossy_image_compression"),
    _key("Rows", IM, "rows"),
    _key("Columns", IM, "columns"),
    _key("BitsAllocated", IM, "bits_allocated"),
    _key("NumberOfFrames", IM, "number_of_frames"),
    _key("ConceptNameCodeSequence", IM, "concept_name_code_sequence"),
    _key("ContentTemplateSequence", IM, "content_template_sequence"),
    _key("CompletionFlag", IM, "completion_flag"),
    _key("VerificationFlag", IM, "verification_flag"),
    _key("ContentLabel", IM, "content_label"),
    _key("ContentDescription", IM, "content_description"),
    _key("PresentationCreationDate", IM, "presentation_creation_date"),
    _key("PresentationCreationTime", IM, "presentation_creation_time"),
    _key("ContentCreatorName", IM, "content_creator_name"),
    _key("ContainerIdentifier", IM, "container_identifier"),
)

KEYS_BY_KEYWORD: dict[str, Key] = {key.keyword: key for key in KEYS}
KEYS_BY_TAG: dict[int, Key] = {key.tag: key for key in KEYS}


def is_patient_root(information_model: str) -> bool:
    """Return True for the Patient Root FIND/MOVE/GET SOP Classes."""
    return information_model in (PATIENT_ROOT_FIND, PATIENT_ROOT_MOVE, PATIENT_ROOT_GET)


def levels_of(information_model: str) -> tuple[Level, ...]:
    """The Query/Retrieve Levels of an information model, from the top down."""
    return LEVEL_ORDER if is_patient_root(information_model) else LEVEL_ORDER[1:]


def model_level(key: Key, information_model: str) -> Level:
    """The level of `key` in `information_model`: Study Root puts patient keys at the study level."""
    if key.level is Level.PATIENT and not is_patient_root(information_model):
        return Level.STUDY
    return key.level


def depth(level: Level) -> int:
    """0 for PATIENT ... 3 for IMAGE."""
    return LEVEL_ORDER.index(level)
