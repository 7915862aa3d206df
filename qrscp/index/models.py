"""SQLAlchemy 2.0 ORM models of the archive index.

One row per patient, study, series and instance, holding every attribute that the C-FIND keys of
PS3.4 C.6.1.1 and C.6.2.1 name, so that C-FIND is answered without opening a file. View membership
(default, CLASSIC, ENHANCED) is data: an instance row says in which views it appears.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

UID = String(64)


class Base(DeclarativeBase):
    """Declarative base of every index table."""


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("patient_id", "issuer_of_patient_id", name="uq_patient_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True, default="")
    issuer_of_patient_id: Mapped[str] = mapped_column(String(64), default="")
    patient_name: Mapped[str] = mapped_column(String(324), index=True, default="")
    patient_birth_date: Mapped[str] = mapped_column(String(18), default="")
    patient_birth_time: Mapped[str] = mapped_column(String(28), default="")
    patient_sex: Mapped[str] = mapped_column(String(16), default="")
    other_patient_names: Mapped[str] = mapped_column(Text, default="")
    ethnic_group: Mapped[str] = mapped_column(String(16), default="")
    patient_comments: Mapped[str] = mapped_column(Text, default="")
    specific_character_set: Mapped[str] = mapped_column(String(128), default="")

    studies: Mapped[list[Study]] = relationship(back_populates="patient", cascade="all, delete-orphan")


class Study(Base):
    __tablename__ = "study"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_fk: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    study_instance_uid: Mapped[str] = mapped_column(UID, unique=True)
    study_date: Mapped[str] = mapped_column(String(18), index=True, default="")
    study_time: Mapped[str] = mapped_column(String(28), default="")
    accession_number: Mapped[str] = mapped_column(String(64), index=True, default="")
    study_id: Mapped[str] = mapped_column(String(16), default="")
    referring_physician_name: Mapped[str] = mapped_column(String(324), default="")
    study_description: Mapped[str] = mapped_column(String(128), default="")
    name_of_physicians_reading_study: Mapped[str] = mapped_column(Text, default="")
    admitting_diagnoses_description: Mapped[str] = mapped_column(Text, default="")
    patient_age: Mapped[str] = mapped_column(String(16), default="")
    patient_size: Mapped[str] = mapped_column(String(16), default="")
    patient_weight: Mapped[str] = mapped_column(String(16), default="")
    occupation: Mapped[str] = mapped_column(String(64), default="")
    additional_patient_history: Mapped[str] = mapped_column(Text, default="")
    other_study_numbers: Mapped[str] = mapped_column(Text, default="")
    specific_character_set: Mapped[str] = mapped_column(String(128), default="")
    #: Time of the last instance received; the eager view builder waits for a quiet study.
    last_received: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    patient: Mapped[Patient] = relationship(back_populates="studies")
    series: Mapped[list[Series]] = relationship(back_populates="study", cascade="all, delete-orphan")


class Series(Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_fk: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    series_instance_uid: Mapped[str] = mapped_column(UID, unique=True)
    modality: Mapped[str] = mapped_column(String(16), index=True, default="")
    series_number: Mapped[str] = mapped_column(String(12), default="")
    series_description: Mapped[str] = mapped_column(String(128), default="")
    series_date: Mapped[str] = mapped_column(String(18), default="")
    series_time: Mapped[str] = mapped_column(String(28), default="")
    body_part_examined: Mapped[str] = mapped_column(String(16), default="")
    performed_procedure_step_start_date: Mapped[str] = mapped_column(String(18), default="")
    performed_procedure_step_start_time: Mapped[str] = mapped_column(String(28), default="")
    station_name: Mapped[str] = mapped_column(String(16), default="")
    institution_name: Mapped[str] = mapped_column(String(64), default="")
    frame_of_reference_uid: Mapped[str] = mapped_column(UID, default="")
    # View membership: a series is in a view when at least one of its instances is.
    in_default: Mapped[bool] = mapped_column(Boolean, default=True)
    in_classic: Mapped[bool] = mapped_column(Boolean, default=True)
    in_enhanced: Mapped[bool] = mapped_column(Boolean, default=True)

    study: Mapped[Study] = relationship(back_populates="series")
    instances: Mapped[list[Instance]] = relationship(back_populates="series", cascade="all, delete-orphan")


class Instance(Base):
    __tablename__ = "instance"
    __table_args__ = (Index("ix_instance_series_number", "series_fk", "instance_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_fk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    sop_instance_uid: Mapped[str] = mapped_column(UID, unique=True)
    sop_class_uid: Mapped[str] = mapped_column(UID, index=True)
    instance_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_date: Mapped[str] = mapped_column(String(18), default="")
    content_time: Mapped[str] = mapped_column(String(28), default="")
    acquisition_number: Mapped[str] = mapped_column(String(12), default="")
    image_type: Mapped[str] = mapped_column(String(128), default="")
    rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    columns: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bits_allocated: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number_of_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Where and how the instance is kept.
    transfer_syntax_uid: Mapped[str] = mapped_column(UID, default="")
    file_path: Mapped[str] = mapped_column(String(512))  # relative to the store root
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    received: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    source_ae_title: Mapped[str] = mapped_column(String(16), default="")
    # View membership (Supplement 157): DEFAULT = as received.
    in_default: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    in_classic: Mapped[bool] = mapped_column(Boolean, default=True)
    in_enhanced: Mapped[bool] = mapped_column(Boolean, default=True)

    series: Mapped[Series] = relationship(back_populates="instances")
