"""Test data factory: realistic CT/MR/PET series, cross-referencing objects, bad inputs and Part 10 files.

This module is the one import for tests and benchmarks; the generators live in small modules next to it:
``identity`` (UIDs, patients, studies), ``classic`` (single-frame series), ``encoding`` (transfer syntaxes),
``references`` (GSPS, SR, KOS, RTSTRUCT), ``segmentation`` (SEG), ``enhanced`` (true Enhanced MR/CT),
``studies`` (several patients with cross references), ``malformed`` (bad inputs), ``files`` (Part 10),
``validation`` (dciodvfy). Everything is deterministic for a seed.
"""

from __future__ import annotations

from qrscp.testing.classic import (
    INVALID_LONG_INSTITUTION_NAME,
    MISSING_TYPE2_KEYWORDS,
    PRIVATE_CREATOR,
    PRIVATE_GROUP,
    SOP_CLASS_FOR_MODALITY,
    file_meta_for,
    make_series,
    normalise_modality,
)
from qrscp.testing.encoding import (
    MIXED_SERIES_ORDER,
    TRANSFER_SYNTAXES,
    TransferSyntaxInfo,
    TransferSyntaxUnavailable,
    available_transfer_syntaxes,
    encode,
    is_available,
    mixed_series_transfer_syntaxes,
)
from qrscp.testing.enhanced import make_enhanced_ct, make_enhanced_mr
from qrscp.testing.files import testdata_file, write_datasets
from qrscp.testing.identity import PatientSpec, StudySpec, derive_uid
from qrscp.testing.malformed import EITHER, REJECTED, STORED, MalformedInput, encode_dataset, malformed_variants
from qrscp.testing.references import (
    COMPREHENSIVE_SR_STORAGE,
    GSPS_STORAGE,
    KEY_OBJECT_SELECTION_STORAGE,
    RT_STRUCTURE_SET_STORAGE,
    make_gsps,
    make_kos,
    make_rtstruct,
    make_sr,
    patient_point,
)
from qrscp.testing.segmentation import SEGMENTATION_STORAGE, make_seg
from qrscp.testing.studies import (
    GeneratedStudy,
    PatientStudies,
    Reference,
    make_patient_studies,
    referenced_instances,
    referenced_sop_instance_uids,
)
from qrscp.testing.validation import iod_errors

__all__ = [
    "COMPREHENSIVE_SR_STORAGE",
    "EITHER",
    "GSPS_STORAGE",
    "INVALID_LONG_INSTITUTION_NAME",
    "KEY_OBJECT_SELECTION_STORAGE",
    "MISSING_TYPE2_KEYWORDS",
    "MIXED_SERIES_ORDER",
    "PRIVATE_CREATOR",
    "PRIVATE_GROUP",
    "REJECTED",
    "RT_STRUCTURE_SET_STORAGE",
    "SEGMENTATION_STORAGE",
    "SOP_CLASS_FOR_MODALITY",
    "STORED",
    "TRANSFER_SYNTAXES",
    "GeneratedStudy",
    "MalformedInput",
    "PatientSpec",
    "PatientStudies",
    "Reference",
    "StudySpec",
    "TransferSyntaxInfo",
    "TransferSyntaxUnavailable",
    "available_transfer_syntaxes",
    "derive_uid",
    "encode",
    "encode_dataset",
    "file_meta_for",
    "iod_errors",
    "is_available",
    "make_enhanced_ct",
    "make_enhanced_mr",
    "make_gsps",
    "make_kos",
    "make_patient_studies",
    "make_rtstruct",
    "make_seg",
    "make_series",
    "make_sr",
    "malformed_variants",
    "mixed_series_transfer_syntaxes",
    "normalise_modality",
    "patient_point",
    "referenced_instances",
    "referenced_sop_instance_uids",
    "testdata_file",
    "write_datasets",
]
