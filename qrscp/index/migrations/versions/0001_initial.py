"""Initial schema: patient, study, series and instance tables of the index.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Text compared byte-wise on every database (qrscp.index.models.DicomText), frozen here.
DicomText = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', DicomText, server_default='', nullable=False),
    sa.Column('issuer_of_patient_id', DicomText, server_default='', nullable=False),
    sa.Column('issuer_of_patient_id_qualifiers_sequence', DicomText, server_default='', nullable=False),
    sa.Column('type_of_patient_id', DicomText, server_default='', nullable=False),
    sa.Column('patient_name', DicomText, server_default='', nullable=False),
    sa.Column('patient_name_ci', DicomText, server_default='', nullable=False),
    sa.Column('patient_birth_date', DicomText, server_default='', nullable=False),
    sa.Column('patient_birth_time', DicomText, server_default='', nullable=False),
    sa.Column('patient_sex', DicomText, server_default='', nullable=False),
    sa.Column('other_patient_ids_sequence', DicomText, server_default='', nullable=False),
    sa.Column('other_patient_names', DicomText, server_default='', nullable=False),
    sa.Column('other_patient_names_ci', DicomText, server_default='', nullable=False),
    sa.Column('ethnic_group', DicomText, server_default='', nullable=False),
    sa.Column('patient_comments', DicomText, server_default='', nullable=False),
    sa.Column('referenced_patient_sequence', DicomText, server_default='', nullable=False),
    sa.Column('patient_species_description', DicomText, server_default='', nullable=False),
    sa.Column('patient_breed_description', DicomText, server_default='', nullable=False),
    sa.Column('responsible_person', DicomText, server_default='', nullable=False),
    sa.Column('responsible_person_ci', DicomText, server_default='', nullable=False),
    sa.Column('responsible_organization', DicomText, server_default='', nullable=False),
    sa.Column('patient_identity_removed', DicomText, server_default='', nullable=False),
    sa.Column('specific_character_set', DicomText, server_default='', nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('patient_id', 'issuer_of_patient_id', name='uq_patient_identity')
    )
    op.create_index(op.f('ix_patient_patient_id'), 'patient', ['patient_id'], unique=False)
    op.create_index(op.f('ix_patient_patient_name_ci'), 'patient', ['patient_name_ci'], unique=False)
    op.create_table('study',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_fk', sa.Integer(), nullable=False),
    sa.Column('study_instance_uid', DicomText, nullable=False),
    sa.Column('study_date', DicomText, server_default='', nullable=False),
    sa.Column('study_time', DicomText, server_default='', nullable=False),
    sa.Column('accession_number', DicomText, server_default='', nullable=False),
    sa.Column('issuer_of_accession_number_sequence', DicomText, server_default='', nullable=False),
    sa.Column('study_id', DicomText, server_default='', nullable=False),
    sa.Column('referring_physician_name', DicomText, server_default='', nullable=False),
    sa.Column('referring_physician_name_ci', DicomText, server_default='', nullable=False),
    sa.Column('study_description', DicomText, server_default='', nullable=False),
    sa.Column('procedure_code_sequence', DicomText, server_default='', nullable=False),
    sa.Column('name_of_physicians_reading_study', DicomText, server_default='', nullable=False),
    sa.Column('name_of_physicians_reading_study_ci', DicomText, server_default='', nullable=False),
    sa.Column('physicians_of_record', DicomText, server_default='', nullable=False),
    sa.Column('physicians_of_record_ci', DicomText, server_default='', nullable=False),
    sa.Column('admitting_diagnoses_description', DicomText, server_default='', nullable=False),
    sa.Column('referenced_study_sequence', DicomText, server_default='', nullable=False),
    sa.Column('patient_age', DicomText, server_default='', nullable=False),
    sa.Column('patient_size', DicomText, server_default='', nullable=False),
    sa.Column('patient_weight', DicomText, server_default='', nullable=False),
    sa.Column('occupation', DicomText, server_default='', nullable=False),
    sa.Column('additional_patient_history', DicomText, server_default='', nullable=False),
    sa.Column('medical_alerts', DicomText, server_default='', nullable=False),
    sa.Column('allergies', DicomText, server_default='', nullable=False),
    sa.Column('other_study_numbers', DicomText, server_default='', nullable=False),
    sa.Column('timezone_offset_from_utc', DicomText, server_default='', nullable=False),
    sa.Column('specific_character_set', DicomText, server_default='', nullable=False),
    sa.Column('last_received', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['patient_fk'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_instance_uid')
    )
    op.create_index(op.f('ix_study_accession_number'), 'study', ['accession_number'], unique=False)
    op.create_index(op.f('ix_study_patient_fk'), 'study', ['patient_fk'], unique=False)
    op.create_index(op.f('ix_study_study_date'), 'study', ['study_date'], unique=False)
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_fk', sa.Integer(), nullable=False),
    sa.Column('series_instance_uid', DicomText, nullable=False),
    sa.Column('modality', DicomText, server_default='', nullable=False),
    sa.Column('series_number', DicomText, server_default='', nullable=False),
    sa.Column('series_description', DicomText, server_default='', nullable=False),
    sa.Column('series_date', DicomText, server_default='', nullable=False),
    sa.Column('series_time', DicomText, server_default='', nullable=False),
    sa.Column('body_part_examined', DicomText, server_default='', nullable=False),
    sa.Column('laterality', DicomText, server_default='', nullable=False),
    sa.Column('protocol_name', DicomText, server_default='', nullable=False),
    sa.Column('operators_name', DicomText, server_default='', nullable=False),
    sa.Column('operators_name_ci', DicomText, server_default='', nullable=False),
    sa.Column('performing_physician_name', DicomText, server_default='', nullable=False),
    sa.Column('performing_physician_name_ci', DicomText, server_default='', nullable=False),
    sa.Column('performed_procedure_step_start_date', DicomText, server_default='', nullable=False),
    sa.Column('performed_procedure_step_start_time', DicomText, server_default='', nullable=False),
    sa.Column('performed_procedure_step_id', DicomText, server_default='', nullable=False),
    sa.Column('performed_procedure_step_description', DicomText, server_default='', nullable=False),
    sa.Column('request_attributes_sequence', DicomText, server_default='', nullable=False),
    sa.Column('manufacturer', DicomText, server_default='', nullable=False),
    sa.Column('manufacturer_model_name', DicomText, server_default='', nullable=False),
    sa.Column('station_name', DicomText, server_default='', nullable=False),
    sa.Column('institution_name', DicomText, server_default='', nullable=False),
    sa.Column('institutional_department_name', DicomText, server_default='', nullable=False),
    sa.Column('device_serial_number', DicomText, server_default='', nullable=False),
    sa.Column('software_versions', DicomText, server_default='', nullable=False),
    sa.Column('frame_of_reference_uid', DicomText, server_default='', nullable=False),
    sa.Column('patient_position', DicomText, server_default='', nullable=False),
    sa.Column('series_type', DicomText, server_default='', nullable=False),
    sa.Column('in_default', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('in_classic', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('in_enhanced', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.ForeignKeyConstraint(['study_fk'], ['study.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('series_instance_uid')
    )
    op.create_index(op.f('ix_series_modality'), 'series', ['modality'], unique=False)
    op.create_index(op.f('ix_series_study_fk'), 'series', ['study_fk'], unique=False)
    op.create_table('instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_fk', sa.Integer(), nullable=False),
    sa.Column('sop_instance_uid', DicomText, nullable=False),
    sa.Column('sop_class_uid', DicomText, server_default='', nullable=False),
    sa.Column('instance_number', sa.Integer(), nullable=True),
    sa.Column('related_general_sop_class_uid', DicomText, server_default='', nullable=False),
    sa.Column('instance_creation_date', DicomText, server_default='', nullable=False),
    sa.Column('instance_creation_time', DicomText, server_default='', nullable=False),
    sa.Column('content_date', DicomText, server_default='', nullable=False),
    sa.Column('content_time', DicomText, server_default='', nullable=False),
    sa.Column('acquisition_number', DicomText, server_default='', nullable=False),
    sa.Column('acquisition_date', DicomText, server_default='', nullable=False),
    sa.Column('acquisition_time', DicomText, server_default='', nullable=False),
    sa.Column('acquisition_date_time', DicomText, server_default='', nullable=False),
    sa.Column('image_type', DicomText, server_default='', nullable=False),
    sa.Column('image_comments', DicomText, server_default='', nullable=False),
    sa.Column('burned_in_annotation', DicomText, server_default='', nullable=False),
    sa.Column('lossy_image_compression', DicomText, server_default='', nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('columns', sa.Integer(), nullable=True),
    sa.Column('bits_allocated', sa.Integer(), nullable=True),
    sa.Column('number_of_frames', sa.Integer(), nullable=True),
    sa.Column('concept_name_code_sequence', DicomText, server_default='', nullable=False),
    sa.Column('content_template_sequence', DicomText, server_default='', nullable=False),
    sa.Column('completion_flag', DicomText, server_default='', nullable=False),
    sa.Column('verification_flag', DicomText, server_default='', nullable=False),
    sa.Column('content_label', DicomText, server_default='', nullable=False),
    sa.Column('content_description', DicomText, server_default='', nullable=False),
    sa.Column('presentation_creation_date', DicomText, server_default='', nullable=False),
    sa.Column('presentation_creation_time', DicomText, server_default='', nullable=False),
    sa.Column('content_creator_name', DicomText, server_default='', nullable=False),
    sa.Column('content_creator_name_ci', DicomText, server_default='', nullable=False),
    sa.Column('container_identifier', DicomText, server_default='', nullable=False),
    sa.Column('specific_character_set', DicomText, server_default='', nullable=False),
    sa.Column('transfer_syntax_uid', DicomText, server_default='', nullable=False),
    sa.Column('file_path', DicomText, nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('received', sa.DateTime(), nullable=True),
    sa.Column('source_ae_title', DicomText, server_default='', nullable=False),
    sa.Column('in_default', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('in_classic', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('in_enhanced', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.ForeignKeyConstraint(['series_fk'], ['series.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sop_instance_uid')
    )
    op.create_index(op.f('ix_instance_series_fk'), 'instance', ['series_fk'], unique=False)
    op.create_index('ix_instance_series_number', 'instance', ['series_fk', 'instance_number'], unique=False)
    op.create_index(op.f('ix_instance_sop_class_uid'), 'instance', ['sop_class_uid'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_instance_sop_class_uid'), table_name='instance')
    op.drop_index('ix_instance_series_number', table_name='instance')
    op.drop_index(op.f('ix_instance_series_fk'), table_name='instance')
    op.drop_table('instance')
    op.drop_index(op.f('ix_series_study_fk'), table_name='series')
    op.drop_index(op.f('ix_series_modality'), table_name='series')
    op.drop_table('series')
    op.drop_index(op.f('ix_study_study_date'), table_name='study')
    op.drop_index(op.f('ix_study_patient_fk'), table_name='study')
    op.drop_index(op.f('ix_study_accession_number'), table_name='study')
    op.drop_table('study')
    op.drop_index(op.f('ix_patient_patient_name_ci'), table_name='patient')
    op.drop_index(op.f('ix_patient_patient_id'), table_name='patient')
    op.drop_table('patient')
