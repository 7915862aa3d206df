"""Part 10 framing: the direct File Meta encoder writes what pydicom writes."""

from __future__ import annotations

import io

import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info

from qrscp.dicom.part10 import PREAMBLE, PREFIX, encode_header, make_file_meta, read_header


def _pydicom_header(file_meta) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    write_file_meta_info(fp, file_meta, enforce_standard=True)
    return PREAMBLE + PREFIX + fp.getvalue()


@pytest.mark.parametrize(
    "sop_instance_uid, transfer_syntax_uid, source_ae_title",
    [
        ("1.2.3.4", "1.2.840.10008.1.2.1", "MODALITY"),  # even lengths
        ("1.2.3.45", "1.2.840.10008.1.2", "CT1"),  # odd lengths: UI padded with NUL, AE with space
        ("2.25.1" + "1" * 58, "1.2.840.10008.1.2.4.90", ""),  # 64-character UID, no source AE
        ("1.2.3", "1.2.840.10008.1.2.1.99", "BAD\\TITLE"),  # invalid AE title left out
    ],
)
def test_direct_file_meta_is_byte_identical_to_pydicom(sop_instance_uid, transfer_syntax_uid, source_ae_title):
    meta = make_file_meta(sop_class_uid="1.2.840.10008.5.1.4.1.1.2", sop_instance_uid=sop_instance_uid,
                          transfer_syntax_uid=transfer_syntax_uid, source_ae_title=source_ae_title)
    encoded = encode_header(meta)
    assert encoded == _pydicom_header(meta)
    header = read_header(io.BytesIO(encoded))
    assert header.transfer_syntax_uid == transfer_syntax_uid
    assert header.dataset_offset == len(encoded)


def test_file_meta_with_other_values_goes_through_pydicom():
    meta = make_file_meta(sop_class_uid="1.2.840.10008.5.1.4.1.1.2", sop_instance_uid="1.2.3",
                          transfer_syntax_uid="1.2.840.10008.1.2.1")
    meta.PrivateInformationCreatorUID = "1.2.3.4"
    meta.PrivateInformation = b"\x01\x02\x03"  # odd-length OB
    meta.SendingApplicationEntityTitle = "SENDÉR"  # not ASCII
    assert encode_header(meta) == _pydicom_header(meta)
