"""Conversion records of the CLASSIC and ENHANCED views: view_build, view_member, conversion_record/source

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Text compared byte-wise on every database (qrscp.index.models.DicomText), frozen here.
DicomText = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "view_build",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_fk", sa.Integer(), nullable=False),
        sa.Column("view", DicomText, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("state", DicomText, nullable=False),
        sa.Column("conversion_datetime", DicomText, server_default="", nullable=False),
        sa.Column("started", sa.DateTime(), nullable=True),
        sa.Column("finished", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["patient_fk"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_fk", "view", "generation", name="uq_view_build_generation"),
    )
    op.create_index(op.f("ix_view_build_patient_fk"), "view_build", ["patient_fk"], unique=False)
    op.create_table(
        "view_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_fk", sa.Integer(), nullable=False),
        sa.Column("view", DicomText, nullable=False),
        sa.Column("sop_instance_uid", DicomText, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("fate", DicomText, nullable=False),
        sa.ForeignKeyConstraint(["patient_fk"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("view", "sop_instance_uid", name="uq_view_member"),
    )
    op.create_index(op.f("ix_view_member_patient_fk"), "view_member", ["patient_fk"], unique=False)
    op.create_table(
        "conversion_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_fk", sa.Integer(), nullable=False),
        sa.Column("view", DicomText, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("kind", DicomText, nullable=False),
        sa.Column("engine_kind", DicomText, server_default="", nullable=False),
        sa.Column("sop_instance_uid", DicomText, nullable=False),
        sa.Column("sop_class_uid", DicomText, server_default="", nullable=False),
        sa.Column("series_instance_uid", DicomText, server_default="", nullable=False),
        sa.Column("study_instance_uid", DicomText, server_default="", nullable=False),
        sa.Column("created", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["patient_fk"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sop_instance_uid"),
    )
    op.create_index(op.f("ix_conversion_record_patient_fk"), "conversion_record", ["patient_fk"], unique=False)
    op.create_table(
        "conversion_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_fk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_sop_instance_uid", DicomText, nullable=False),
        sa.Column("source_sop_class_uid", DicomText, server_default="", nullable=False),
        sa.Column("source_frame", sa.Integer(), nullable=True),
        sa.Column("frame", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["record_fk"], ["conversion_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_conversion_source_record_fk"), "conversion_source", ["record_fk"], unique=False)
    op.create_index(
        op.f("ix_conversion_source_source_sop_instance_uid"),
        "conversion_source",
        ["source_sop_instance_uid"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversion_source_source_sop_instance_uid"), table_name="conversion_source")
    op.drop_index(op.f("ix_conversion_source_record_fk"), table_name="conversion_source")
    op.drop_table("conversion_source")
    op.drop_index(op.f("ix_conversion_record_patient_fk"), table_name="conversion_record")
    op.drop_table("conversion_record")
    op.drop_index(op.f("ix_view_member_patient_fk"), table_name="view_member")
    op.drop_table("view_member")
    op.drop_index(op.f("ix_view_build_patient_fk"), table_name="view_build")
    op.drop_table("view_build")
