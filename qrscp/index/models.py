"""SQLAlchemy 2.0 ORM models of the archive index.

One row per patient, study, series and instance, holding every attribute that the C-FIND keys of
PS3.4 C.6.1.1 and C.6.2.1 name, so that C-FIND is answered without opening a file. View membership
(default, CLASSIC, ENHANCED) is data: an instance row says in which views it appears.

Conventions
-----------
- Attribute values are kept as the text received (decoded to Unicode with the dataset's Specific
  Character Set), multiple values joined with a backslash, empty string when absent: invalid values
  (Patient's Sex "0000") are kept, never refused.
- Every text column compares byte-wise (SQLite BINARY, PostgreSQL collation "C") so that ranges,
  wildcards and ordering give identical answers on both databases.
- Every Person Name column ``x`` has a sibling ``x_ci`` holding the value folded to lower case in
  Python, used for case-insensitive matching (the databases fold case differently outside ASCII).
- Sequence keys (VR SQ) are kept as the DICOM JSON model of their items (PS3.18 F.2).

The schema is created and upgraded by the Alembic migrations in ``qrscp/index/migrations``; a change
here needs a new migration (``tests/index/test_database.py`` compares the two).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Text compared byte-wise on every database (see the module docstring).
DicomText = Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")


def _text(*, index: bool = False) -> Mapped[str]:
    return mapped_column(DicomText, default="", server_default="", nullable=False, index=index)


def _flag(*, index: bool = False) -> Mapped[bool]:
    return mapped_column(Boolean, default=True, server_default=true(), nullable=False, index=index)


class Base(DeclarativeBase):
    """Declarative base of every index table."""


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("patient_id", "issuer_of_patient_id", name="uq_patient_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = _text(index=True)
    issuer_of_patient_id: Mapped[str] = _text()
    issuer_of_patient_id_qualifiers_sequence: Mapped[str] = _text()
    type_of_patient_id: Mapped[str] = _text()
    patient_name: Mapped[str] = _text()
    patient_name_ci: Mapped[str] = _text(index=True)
    patient_birth_date: Mapped[str] = _text()
    patient_birth_time: Mapped[str] = _text()
    patient_sex: Mapped[str] = _text()
    other_patient_ids_sequence: Mapped[str] = _text()
    other_patient_names: Mapped[str] = _text()
    other_patient_names_ci: Mapped[str] = _text()
    ethnic_group: Mapped[str] = _text()
    patient_comments: Mapped[str] = _text()
    referenced_patient_sequence: Mapped[str] = _text()
    patient_species_description: Mapped[str] = _text()
    patient_breed_description: Mapped[str] = _text()
    responsible_person: Mapped[str] = _text()
    responsible_person_ci: Mapped[str] = _text()
    responsible_organization: Mapped[str] = _text()
    patient_identity_removed: Mapped[str] = _text()
    specific_character_set: Mapped[str] = _text()

    studies: Mapped[list[Study]] = relationship(back_populates="patient", passive_deletes=True)


class Study(Base):
    __tablename__ = "study"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_fk: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    study_instance_uid: Mapped[str] = mapped_column(DicomText, unique=True, nullable=False)
    study_date: Mapped[str] = _text(index=True)
    study_time: Mapped[str] = _text()
    accession_number: Mapped[str] = _text(index=True)
    issuer_of_accession_number_sequence: Mapped[str] = _text()
    study_id: Mapped[str] = _text()
    referring_physician_name: Mapped[str] = _text()
    referring_physician_name_ci: Mapped[str] = _text()
    study_description: Mapped[str] = _text()
    procedure_code_sequence: Mapped[str] = _text()
    name_of_physicians_reading_study: Mapped[str] = _text()
    name_of_physicians_reading_study_ci: Mapped[str] = _text()
    physicians_of_record: Mapped[str] = _text()
    physicians_of_record_ci: Mapped[str] = _text()
    admitting_diagnoses_description: Mapped[str] = _text()
    referenced_study_sequence: Mapped[str] = _text()
    patient_age: Mapped[str] = _text()
    patient_size: Mapped[str] = _text()
    patient_weight: Mapped[str] = _text()
    occupation: Mapped[str] = _text()
    additional_patient_history: Mapped[str] = _text()
    medical_alerts: Mapped[str] = _text()
    allergies: Mapped[str] = _text()
    other_study_numbers: Mapped[str] = _text()
    timezone_offset_from_utc: Mapped[str] = _text()
    specific_character_set: Mapped[str] = _text()
    #: Time of the last instance received; the eager view builder waits for a quiet study.
    last_received: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    patient: Mapped[Patient] = relationship(back_populates="studies")
    series: Mapped[list[Series]] = relationship(back_populates="study", passive_deletes=True)


class Series(Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_fk: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    series_instance_uid: Mapped[str] = mapped_column(DicomText, unique=True, nullable=False)
    modality: Mapped[str] = _text(index=True)
    series_number: Mapped[str] = _text()
    series_description: Mapped[str] = _text()
    series_date: Mapped[str] = _text()
    series_time: Mapped[str] = _text()
    body_part_examined: Mapped[str] = _text()
    laterality: Mapped[str] = _text()
    protocol_name: Mapped[str] = _text()
    operators_name: Mapped[str] = _text()
    operators_name_ci: Mapped[str] = _text()
    performing_physician_name: Mapped[str] = _text()
    performing_physician_name_ci: Mapped[str] = _text()
    performed_procedure_step_start_date: Mapped[str] = _text()
    performed_procedure_step_start_time: Mapped[str] = _text()
    performed_procedure_step_id: Mapped[str] = _text()
    performed_procedure_step_description: Mapped[str] = _text()
    request_attributes_sequence: Mapped[str] = _text()
    manufacturer: Mapped[str] = _text()
    manufacturer_model_name: Mapped[str] = _text()
    station_name: Mapped[str] = _text()
    institution_name: Mapped[str] = _text()
    institutional_department_name: Mapped[str] = _text()
    device_serial_number: Mapped[str] = _text()
    software_versions: Mapped[str] = _text()
    frame_of_reference_uid: Mapped[str] = _text()
    patient_position: Mapped[str] = _text()
    series_type: Mapped[str] = _text()
    # View membership: a series is in a view when at least one of its instances is. Queries read the
    # instance flags (always exact); these are kept up to date by the registry for other readers.
    in_default: Mapped[bool] = _flag()
    in_classic: Mapped[bool] = _flag()
    in_enhanced: Mapped[bool] = _flag()

    study: Mapped[Study] = relationship(back_populates="series")
    instances: Mapped[list[Instance]] = relationship(back_populates="series", passive_deletes=True)


class Instance(Base):
    __tablename__ = "instance"
    __table_args__ = (Index("ix_instance_series_number", "series_fk", "instance_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_fk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    sop_instance_uid: Mapped[str] = mapped_column(DicomText, unique=True, nullable=False)
    sop_class_uid: Mapped[str] = _text(index=True)
    #: Integer for ordering and numeric matching; None when absent or not a number.
    instance_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    related_general_sop_class_uid: Mapped[str] = _text()
    instance_creation_date: Mapped[str] = _text()
    instance_creation_time: Mapped[str] = _text()
    content_date: Mapped[str] = _text()
    content_time: Mapped[str] = _text()
    acquisition_number: Mapped[str] = _text()
    acquisition_date: Mapped[str] = _text()
    acquisition_time: Mapped[str] = _text()
    acquisition_date_time: Mapped[str] = _text()
    image_type: Mapped[str] = _text()
    image_comments: Mapped[str] = _text()
    burned_in_annotation: Mapped[str] = _text()
    lossy_image_compression: Mapped[str] = _text()
    rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    columns: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bits_allocated: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number_of_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Structured reports and presentation states.
    concept_name_code_sequence: Mapped[str] = _text()
    content_template_sequence: Mapped[str] = _text()
    completion_flag: Mapped[str] = _text()
    verification_flag: Mapped[str] = _text()
    content_label: Mapped[str] = _text()
    content_description: Mapped[str] = _text()
    presentation_creation_date: Mapped[str] = _text()
    presentation_creation_time: Mapped[str] = _text()
    content_creator_name: Mapped[str] = _text()
    content_creator_name_ci: Mapped[str] = _text()
    container_identifier: Mapped[str] = _text()
    specific_character_set: Mapped[str] = _text()
    # Where and how the instance is kept.
    transfer_syntax_uid: Mapped[str] = _text()
    file_path: Mapped[str] = mapped_column(DicomText, nullable=False)  # relative to the store root
    file_size: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    received: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    source_ae_title: Mapped[str] = _text()
    # View membership (Supplement 157): DEFAULT = as received.
    in_default: Mapped[bool] = _flag()
    in_classic: Mapped[bool] = _flag()
    in_enhanced: Mapped[bool] = _flag()

    series: Mapped[Series] = relationship(back_populates="instances")


# --- Conversion records (VIEWS) ---
# The durable mapping of Supplement 157 ZZZA.6: which generated instance of which view was made from which
# sources (with frame numbers), and what became of every original instance in each view. Written only by
# qrscp.index.view_records (for qrscp.services.views); the schema is created by migration 0002.


class ViewBuild(Base):
    """One generation of the CLASSIC or ENHANCED view of a patient.

    Generation 1 covers the instances present at the first build; each later generation covers only the
    instances that arrived since (objects of earlier generations never change). ``conversion_datetime``
    is kept empty: the engine derives every date and time from the sources (no clock), which is what lets
    a lost file be regenerated byte for byte.
    """

    __tablename__ = "view_build"
    __table_args__ = (UniqueConstraint("patient_fk", "view", "generation", name="uq_view_build_generation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_fk: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    view: Mapped[str] = mapped_column(DicomText, nullable=False)
    generation: Mapped[int] = mapped_column(Integer, nullable=False)
    #: "building" while the generation is being written, "built" once it is visible in the view.
    state: Mapped[str] = mapped_column(DicomText, nullable=False, default="building")
    conversion_datetime: Mapped[str] = _text()
    started: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ViewMember(Base):
    """What an original instance (as received) is in one view: converted, rewritten or unchanged."""

    __tablename__ = "view_member"
    __table_args__ = (UniqueConstraint("view", "sop_instance_uid", name="uq_view_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_fk: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    view: Mapped[str] = mapped_column(DicomText, nullable=False)
    sop_instance_uid: Mapped[str] = mapped_column(DicomText, nullable=False)
    generation: Mapped[int] = mapped_column(Integer, nullable=False)
    #: "converted", "rewritten" or "unchanged".
    fate: Mapped[str] = mapped_column(DicomText, nullable=False)


class ConversionRecord(Base):
    """A generated instance of a view: its UIDs, kind (converted / rewritten) and sources."""

    __tablename__ = "conversion_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_fk: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    view: Mapped[str] = mapped_column(DicomText, nullable=False)
    generation: Mapped[int] = mapped_column(Integer, nullable=False)
    #: "converted" (image conversion, incl. overlay presentation states) or "rewritten" (references updated).
    kind: Mapped[str] = mapped_column(DicomText, nullable=False)
    #: The conversion engine's own kind (enhanced, classic, recovered, overlay-gsps, rewritten).
    engine_kind: Mapped[str] = _text()
    sop_instance_uid: Mapped[str] = mapped_column(DicomText, nullable=False, unique=True)
    sop_class_uid: Mapped[str] = _text()
    series_instance_uid: Mapped[str] = _text()
    study_instance_uid: Mapped[str] = _text()
    created: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    sources: Mapped[list[ConversionSource]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="ConversionSource.position"
    )


class ConversionSource(Base):
    """One source of a generated instance: a SOP Instance or one of its frames, and where it landed."""

    __tablename__ = "conversion_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_fk: Mapped[int] = mapped_column(ForeignKey("conversion_record.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    source_sop_instance_uid: Mapped[str] = mapped_column(DicomText, nullable=False, index=True)
    source_sop_class_uid: Mapped[str] = _text()
    #: Frame of the source (from 1), None for a whole single-frame instance.
    source_frame: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Frame of the generated instance holding it (from 1), None when the generated instance is single-frame.
    frame: Mapped[int | None] = mapped_column(Integer, nullable=True)

    record: Mapped[ConversionRecord] = relationship(back_populates="sources")
