"""DIMSE status codes used by qrscp, named as PS3.4 and PS3.7 name them."""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """DIMSE status codes (PS3.7 Annex C, PS3.4 B.2.3, C.4.1.1.4, C.4.2.1.5, C.4.3.1.4)."""

    SUCCESS = 0x0000
    PENDING = 0xFF00
    PENDING_WARNING = 0xFF01  # C-FIND: optional keys not supported
    CANCEL = 0xFE00
    # Warnings
    COERCION_OF_DATA_ELEMENTS = 0xB000  # C-STORE
    ELEMENTS_DISCARDED = 0xB006  # C-STORE
    DATASET_DOES_NOT_MATCH_SOP_CLASS_WARNING = 0xB007  # C-STORE
    SUB_OPERATIONS_COMPLETE_WITH_FAILURES = 0xB000  # C-MOVE / C-GET
    # Failures shared by services
    REFUSED_OUT_OF_RESOURCES = 0xA700
    REFUSED_OUT_OF_RESOURCES_MATCHES = 0xA701  # C-MOVE/C-GET: number of matches
    REFUSED_OUT_OF_RESOURCES_SUB_OPERATIONS = 0xA702  # C-MOVE/C-GET
    REFUSED_MOVE_DESTINATION_UNKNOWN = 0xA801
    IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS = 0xA900
    DATASET_DOES_NOT_MATCH_SOP_CLASS = 0xA900  # C-STORE
    CANNOT_UNDERSTAND = 0xC000
    UNABLE_TO_PROCESS = 0xC001
    # Composite Instance Root Retrieve at FRAME level (PS3.4 Table Y.4-1)
    NO_FRAMES_FOUND = 0xAA00  # none of the frames requested were found in the SOP Instance
    UNABLE_TO_CREATE_NEW_OBJECT = 0xAA01  # unable to create new object for this SOP Class
    UNABLE_TO_EXTRACT_FRAMES = 0xAA02
    TIME_BASED_REQUEST_FOR_NON_TIME_BASED = 0xAA03  # Time Range on an instance without frame times
    INVALID_REQUEST = 0xAA04
    # PS3.7 general failures
    INVALID_ARGUMENT_VALUE = 0x0115
    MISSING_ATTRIBUTE_VALUE = 0x0121
    SOP_CLASS_NOT_SUPPORTED = 0x0122
    DUPLICATE_SOP_INSTANCE = 0x0111
    PROCESSING_FAILURE = 0x0110


def is_failure(status: int) -> bool:
    """Return True when `status` is a failure status (PS3.7 C)."""
    return not (
        status == Status.SUCCESS
        or status in (Status.PENDING, Status.PENDING_WARNING, Status.CANCEL)
        or 0xB000 <= status <= 0xBFFF
        or status == 0x0107  # attribute list error (warning)
        or status == 0x0116  # attribute value out of range (warning)
    )
