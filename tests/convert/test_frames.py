"""Frame extraction (PS3.4 Y.3.3) on factory, pydicom and real scanner multi-frame images.

Every extracted file is checked for: the kept frames equal to the source's (decoded pixel for pixel, and
for compressed sources the very fragments), the header made consistent, the Frame Extraction and
Contributing Equipment items, and no dciodvfy error that the source does not already have.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import generate_frames
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from qrscp.convert import UIDSource
from qrscp.convert.frame_lists import FrameRequest, FrameRequestError
from qrscp.convert.frames import extract_frames
from qrscp.status import Status
from qrscp.testing.dcmtk import dciodvfy_path, dcmtk_tool
from qrscp.testing.enhanced import make_enhanced_ct, make_enhanced_mr
from qrscp.testing.files import write_datasets
from qrscp.testing.validation import iod_errors

REALDATA = Path("/work/shared/realdata")
REAL_MULTIFRAME = (
    "dcm4che/ts_jpegls_us_palette/jpeg-ls-Palette.dcm",  # US Multi-frame, JPEG-LS, Frame Time
    "aptg_dcpt_let/raystation_ion_plan03/RD1.2.752.243.1.1.20250523160113556.3000.73252.dcm",  # RT Dose, implicit
    "dcm_qa_canon_61/galan3t_dti_3000_enhanced/3000.dcm",  # Enhanced MR, 520 frames, 4 dimensions
    "dcm_qa_philips_enh/elition_1901_pcasl_enhanced/1901_WIP_3DpCASL_real.dcm",
    "dcm_qa_xa30/prisma_xa30_dwi_enhanced_color/0001_1.3.12.2.1107.5.2.43.67093.2022071112123439621008676.dcm",
    "dcmqi/seg_partial_overlaps/partial_overlaps.dcm",  # Segmentation, 1 bit per pixel
)


def _write(ds: pydicom.Dataset, directory: Path) -> Path:
    return write_datasets([ds], directory)[0]


def _pixels(path: Path) -> np.ndarray:
    return pydicom.dcmread(path).pixel_array


def _fragments(path: Path) -> list[bytes]:
    ds = pydicom.dcmread(path)
    return list(generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames)))


def _check_frames(source: Path, result: Path, frames: tuple[int, ...]) -> None:
    before, after = _pixels(source), _pixels(result)
    if int(pydicom.dcmread(source, stop_before_pixels=True).NumberOfFrames) == 1:
        before = before[np.newaxis]
    if len(frames) == 1:
        after = after[np.newaxis]
    assert np.array_equal(before[[f - 1 for f in frames]], after)
    syntax = pydicom.dcmread(source, stop_before_pixels=True).file_meta.TransferSyntaxUID
    if syntax.is_encapsulated:  # copied as stored, never decoded and re-encoded
        kept = _fragments(source)
        assert _fragments(result) == [kept[f - 1] for f in frames]


def _unplaced(errors: list[str]) -> set[str]:
    # A bad UID of the source (e.g. an illegal root) is also reported where the new instance quotes it.
    return {re.sub(r" in \(0x[0-9a-fA-F]{4},0x[0-9a-fA-F]{4}\) .*$", "", error) for error in errors}


def _new_iod_errors(source: Path, result: Path) -> set[str]:
    """dciodvfy errors of `result` that `source` does not already have."""
    return _unplaced(iod_errors(result)) - _unplaced(iod_errors(source))


@pytest.mark.parametrize("make", [make_enhanced_mr, make_enhanced_ct], ids=["MR", "CT"])
@pytest.mark.parametrize(
    "syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless, RLELossless, JPEGLSLossless,
               JPEGLosslessSV1],
    ids=["explicit", "implicit", "j2k", "rle", "jpegls", "jpeg-lossless"],
)
@pytest.mark.parametrize(
    "request_",
    [FrameRequest("SimpleFrameList", (2, 5, 6)), FrameRequest("CalculatedFrameList", (1, 8, 3))],
    ids=["simple", "calculated"],
)
def test_factory_enhanced_images(tmp_path, uids, make, syntax, request_):
    if syntax == JPEGLosslessSV1 and dcmtk_tool("dcmcjpeg") is None:
        pytest.skip("DCMTK dcmcjpeg not installed")
    source = _write(make(frames=8, transfer_syntax=syntax), tmp_path)
    result = extract_frames(source, request_, uids, tmp_path / "new.dcm")
    _check_frames(source, tmp_path / "new.dcm", result.frames)
    ds = pydicom.dcmread(tmp_path / "new.dcm")
    src = pydicom.dcmread(source, stop_before_pixels=True)
    assert ds.SOPClassUID == src.SOPClassUID and ds.SOPInstanceUID != src.SOPInstanceUID
    assert ds.file_meta.TransferSyntaxUID == syntax
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID == result.sop_instance_uid
    for keyword in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "Rows"):
        assert ds[keyword].value == src[keyword].value
    assert ds.NumberOfFrames == len(result.frames) == len(ds.PerFrameFunctionalGroupsSequence)
    for new, old in zip(ds.PerFrameFunctionalGroupsSequence, result.frames):
        source_item = src.PerFrameFunctionalGroupsSequence[old - 1]
        assert new.PlanePositionSequence == source_item.PlanePositionSequence
    contents = [item.FrameContentSequence[0] for item in ds.PerFrameFunctionalGroupsSequence]
    assert [c.InStackPositionNumber for c in contents] == list(range(1, len(result.frames) + 1))
    # (Stack ID, In-Stack Position) index values renumbered densely: one stack, positions 1..k.
    assert [list(c.DimensionIndexValues) for c in contents] == [[1, k] for k in range(1, len(result.frames) + 1)]
    extraction = ds.FrameExtractionSequence[-1]
    assert extraction.MultiFrameSourceSOPInstanceUID == src.SOPInstanceUID
    assert list(pydicom.multival.MultiValue(int, extraction[request_.key].value)) == list(request_.values)
    equipment = ds.ContributingEquipmentSequence[-1].PurposeOfReferenceCodeSequence[0]
    assert (equipment.CodeValue, equipment.CodingSchemeDesignator, equipment.CodeMeaning) == (
        "109105", "DCM", "Frame Extracting Equipment")
    if dciodvfy_path():
        assert _new_iod_errors(source, tmp_path / "new.dcm") == set()


@pytest.mark.parametrize(
    "name", ["emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm", "emri_small_RLE.dcm",
             "emri_small_jpeg_ls_lossless.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_32bit_2frame.dcm",
             "OBXXXX1A_rle_2frame.dcm", "color3d_jpeg_baseline.dcm", "examples_ybr_color.dcm", "rtdose_rle.dcm",
             "eCT_Supplemental.dcm", "liver.dcm"],
)
def test_pydicom_multiframe_files(tmp_path, uids, name):
    source = Path(get_testdata_file(name))
    frames = (2,) if "2frame" in name or "Supplemental" in name else (1,) if "liver" in name else (1, 4, 10)
    result = extract_frames(source, FrameRequest("SimpleFrameList", frames), uids, tmp_path / "new.dcm")
    assert result.frames == frames
    _check_frames(source, tmp_path / "new.dcm", frames)
    if dciodvfy_path():
        assert _new_iod_errors(source, tmp_path / "new.dcm") == set()


@pytest.mark.skipif(not REALDATA.is_dir(), reason="real data corpus not present")
@pytest.mark.parametrize("relative", REAL_MULTIFRAME, ids=[p.split("/")[1] for p in REAL_MULTIFRAME])
def test_real_scanner_multiframe_images(tmp_path, uids, relative):
    source = REALDATA / relative
    result = extract_frames(source, FrameRequest("CalculatedFrameList", (2, 0xFFFFFFFF, 3)), uids, tmp_path / "new.dcm")
    total = int(pydicom.dcmread(source, stop_before_pixels=True).NumberOfFrames)
    assert result.frames == tuple(range(2, total + 1, 3))
    _check_frames(source, tmp_path / "new.dcm", result.frames)
    if dciodvfy_path():
        assert _new_iod_errors(source, tmp_path / "new.dcm") == set()


def test_same_request_same_uid_and_bytes_other_secret_other_uid(tmp_path, uids):
    source = _write(make_enhanced_mr(frames=6, transfer_syntax=JPEG2000Lossless), tmp_path)
    request = FrameRequest("SimpleFrameList", (1, 3))
    first = extract_frames(source, request, uids, tmp_path / "a.dcm")
    again = extract_frames(source, request, UIDSource("test-secret"), tmp_path / "b.dcm")
    other = extract_frames(source, request, UIDSource("another-secret"), tmp_path / "c.dcm")
    calculated = extract_frames(source, FrameRequest("CalculatedFrameList", (1, 3, 2)), uids, tmp_path / "d.dcm")
    assert first.sop_instance_uid == again.sop_instance_uid
    assert (tmp_path / "a.dcm").read_bytes() == (tmp_path / "b.dcm").read_bytes()
    assert other.sop_instance_uid != first.sop_instance_uid
    # Same frames by another key: another Frame Extraction item, so another instance.
    assert calculated.frames == first.frames and calculated.sop_instance_uid != first.sop_instance_uid
    assert first.sop_instance_uid.startswith("2.25.")


def test_source_with_frame_extraction_sequence_gets_an_item_appended(tmp_path, uids):
    source = _write(make_enhanced_mr(frames=8), tmp_path)
    first = extract_frames(source, FrameRequest("SimpleFrameList", (2, 4, 6, 8)), uids, tmp_path / "a.dcm")
    second = extract_frames(tmp_path / "a.dcm", FrameRequest("SimpleFrameList", (2, 3)), uids, tmp_path / "b.dcm")
    ds = pydicom.dcmread(tmp_path / "b.dcm")
    assert [item.MultiFrameSourceSOPInstanceUID for item in ds.FrameExtractionSequence] == [
        pydicom.dcmread(source, stop_before_pixels=True).SOPInstanceUID, first.sop_instance_uid]
    assert [list(item.SimpleFrameList) for item in ds.FrameExtractionSequence] == [[2, 4, 6, 8], [2, 3]]
    assert len(ds.ContributingEquipmentSequence) == 2
    assert np.array_equal(ds.pixel_array, _pixels(source)[[3, 5]])
    assert second.frames == (2, 3)


def test_concatenation_private_and_offset_table_attributes_are_not_copied(tmp_path, uids):
    ds = make_enhanced_mr(frames=4)
    ds.ConcatenationUID = "1.2.3.4"
    ds.InConcatenationNumber = 1
    ds.InConcatenationTotalNumber = 2
    ds.ConcatenationFrameOffsetNumber = 0
    ds.SOPInstanceUIDOfConcatenationSource = "1.2.3.5"
    ds.PixelDataProviderURL = "http://example.org/pixels"
    block = ds.private_block(0x0029, "QRSCP TEST", create=True)
    block.add_new(0x01, "LO", "private value")
    source = _write(ds, tmp_path)
    extract_frames(source, FrameRequest("SimpleFrameList", (1, 2)), uids, tmp_path / "new.dcm")
    new = pydicom.dcmread(tmp_path / "new.dcm")
    for keyword in ("ConcatenationUID", "InConcatenationNumber", "InConcatenationTotalNumber",
                    "ConcatenationFrameOffsetNumber", "SOPInstanceUIDOfConcatenationSource", "PixelDataProviderURL"):
        assert keyword not in new
    assert not any(elem.tag.is_private for elem in new.iterall())


def _cine(tmp_path: Path, frame_time_vector: list[float] | None) -> Path:
    """The real US multi-frame (JPEG-LS, Frame Time 76 ms), optionally with a Frame Time Vector instead."""
    source = REALDATA / REAL_MULTIFRAME[0]
    if frame_time_vector is None:
        return source
    ds = pydicom.dcmread(source)
    del ds.FrameTime
    ds.FrameTimeVector = frame_time_vector
    ds.FrameIncrementPointer = 0x00181065
    path = tmp_path / "ftv.dcm"
    ds.save_as(path)
    return path


@pytest.mark.skipif(not REALDATA.is_dir(), reason="real data corpus not present")
def test_time_range_on_frame_time_and_new_timing(tmp_path, uids):
    source = _cine(tmp_path, None)  # frames at 0, 76, 152, ... ms
    result = extract_frames(source, FrameRequest("TimeRange", (0.076, 0.228)), uids, tmp_path / "new.dcm")
    assert result.frames == (2, 3, 4)
    ds = pydicom.dcmread(tmp_path / "new.dcm")
    assert float(ds.FrameTime) == 76.0 and float(ds.FrameDelay) == 76.0
    uneven = extract_frames(source, FrameRequest("SimpleFrameList", (1, 2, 5)), uids, tmp_path / "uneven.dcm")
    ds = pydicom.dcmread(tmp_path / "uneven.dcm")
    assert "FrameTime" not in ds and [float(v) for v in ds.FrameTimeVector] == [0.0, 76.0, 228.0]
    assert ds.FrameIncrementPointer == 0x00181065
    _check_frames(source, tmp_path / "uneven.dcm", uneven.frames)
    if dciodvfy_path():
        assert _new_iod_errors(source, tmp_path / "uneven.dcm") == set()


@pytest.mark.skipif(not REALDATA.is_dir(), reason="real data corpus not present")
def test_time_range_on_frame_time_vector(tmp_path, uids):
    source = _cine(tmp_path, [0, 10, 10, 50, 10, 10, 10, 10, 10, 10])  # 0, 10, 20, 70, 80, ... ms
    result = extract_frames(source, FrameRequest("TimeRange", (0.015, 0.08)), uids, tmp_path / "new.dcm")
    assert result.frames == (3, 4, 5)
    ds = pydicom.dcmread(tmp_path / "new.dcm")
    assert [float(v) for v in ds.FrameTimeVector] == [0.0, 50.0, 10.0] and float(ds.FrameDelay) == 20.0


def test_time_range_on_frame_reference_datetime(tmp_path, uids):
    ds = make_enhanced_mr(frames=4)
    ds.ContentDate, ds.ContentTime = "20240101", "120000"
    for index, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        item.FrameContentSequence[0].FrameReferenceDateTime = f"20240101120000.{index * 250000:06d}"
    source = _write(ds, tmp_path)
    result = extract_frames(source, FrameRequest("TimeRange", (0.25, 0.5)), uids, tmp_path / "new.dcm")
    assert result.frames == (2, 3)


def test_time_range_without_frame_times_and_single_frame_source(tmp_path, uids):
    ds = make_enhanced_mr(frames=4)
    for item in ds.PerFrameFunctionalGroupsSequence:
        del item.FrameContentSequence[0].FrameReferenceDateTime
    source = _write(ds, tmp_path)
    with pytest.raises(FrameRequestError) as caught:
        extract_frames(source, FrameRequest("TimeRange", (0.0, 1.0)), uids, tmp_path / "new.dcm")
    assert caught.value.status == Status.TIME_BASED_REQUEST_FOR_NON_TIME_BASED
    single = Path(get_testdata_file("CT_small.dcm"))
    with pytest.raises(FrameRequestError) as caught:
        extract_frames(single, FrameRequest("SimpleFrameList", (1,)), uids, tmp_path / "new.dcm")
    assert caught.value.status == Status.UNABLE_TO_CREATE_NEW_OBJECT
    assert not (tmp_path / "new.dcm").exists()


@pytest.mark.parametrize("name", ["rtdose.dcm", "rtdose_rle.dcm"])
def test_rt_dose_grid_frame_offsets_keep_each_plane_where_it_was(tmp_path, uids, name):
    source = Path(get_testdata_file(name))
    old = pydicom.dcmread(source, stop_before_pixels=True)
    result = extract_frames(source, FrameRequest("SimpleFrameList", (3, 4, 9)), uids, tmp_path / "new.dcm")
    new = pydicom.dcmread(tmp_path / "new.dcm", stop_before_pixels=True)

    def planes(ds):  # z of each plane: Image Position (Patient) + relative offsets (first 0) or absolute
        offsets = [float(v) for v in ds.GridFrameOffsetVector]
        base = float(ds.ImagePositionPatient[2]) if offsets[0] == 0 else 0.0
        return [round(base + value, 4) for value in offsets]

    assert planes(new) == [planes(old)[f - 1] for f in result.frames]
    assert len(new.GridFrameOffsetVector) == new.NumberOfFrames == 3
    if dciodvfy_path():
        assert _new_iod_errors(source, tmp_path / "new.dcm") == set()


def test_big_endian_source_is_refused(tmp_path, uids):
    source = Path(get_testdata_file("emri_small_big_endian.dcm"))
    with pytest.raises(FrameRequestError) as caught:
        extract_frames(source, FrameRequest("SimpleFrameList", (1,)), uids, tmp_path / "new.dcm")
    assert caught.value.status == Status.UNABLE_TO_EXTRACT_FRAMES and "Big Endian" in caught.value.comment


def test_frame_numbers_of_this_instance_are_renumbered():
    from qrscp.convert.frame_attributes import renumber_frame_numbers as _frame_numbers

    ds = pydicom.Dataset()
    ds.RepresentativeFrameNumber = 5
    ds.StartTrim, ds.StopTrim = 3, 8
    ds.FrameNumbersOfInterest = [2, 5, 9]
    ds.FrameOfInterestDescription = ["a", "b", "c"]
    ds.FrameOfInterestType = ["HIGHDOSE", "WORKFLOW", "HIGHDOSE"]
    kept_mask, lost_mask = pydicom.Dataset(), pydicom.Dataset()
    kept_mask.MaskOperation, kept_mask.MaskFrameNumbers, kept_mask.ApplicableFrameRange = "AVG_SUB", [1], [2, 9]
    lost_mask.MaskOperation, lost_mask.MaskFrameNumbers = "AVG_SUB", [4]
    ds.MaskSubtractionSequence = [kept_mask, lost_mask]
    ds.RecommendedViewingMode = "SUB"
    _frame_numbers(ds, (1, 2, 5, 7, 9))  # new frames 1..5
    assert ds.RepresentativeFrameNumber == 3
    assert (ds.StartTrim, ds.StopTrim) == (3, 4)
    assert list(ds.FrameNumbersOfInterest) == [2, 3, 5]
    assert list(ds.FrameOfInterestDescription) == ["a", "b", "c"]
    [mask] = ds.MaskSubtractionSequence
    assert mask.MaskFrameNumbers == 1 and list(mask.ApplicableFrameRange) == [2, 5]
    _frame_numbers(ds, (2, 4))  # the mask frame and the representative frame are gone
    assert "MaskSubtractionSequence" not in ds and "RecommendedViewingMode" not in ds
    assert "RepresentativeFrameNumber" not in ds and ds.FrameNumbersOfInterest == 1
    assert ds.FrameOfInterestType == "HIGHDOSE"


def test_deflated_source(tmp_path, uids):
    source = _write(make_enhanced_mr(frames=4), tmp_path)
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    deflated = tmp_path / "deflated.dcm"
    ds.save_as(deflated, enforce_file_format=True)
    result = extract_frames(deflated, FrameRequest("SimpleFrameList", (3,)), uids, tmp_path / "new.dcm")
    assert result.transfer_syntax_uid == ExplicitVRLittleEndian
    _check_frames(source, tmp_path / "new.dcm", (3,))



def test_per_frame_items_of_other_frames_are_never_parsed(tmp_path):
    from pydicom.dataelem import RawDataElement

    from qrscp.dicom.raw_header import keep_items, read_raw_header

    source = _write(make_enhanced_mr(frames=8), tmp_path)
    header, position = read_raw_header(source)
    with open(source, "rb") as f:
        f.seek(position)
        assert f.read(4) == b"\xe0\x7f\x10\x00"  # the offset of Pixel Data
    assert isinstance(header.get_item(0x52009230), RawDataElement)
    assert keep_items(header, 0x52009230, [2, 7])
    items = header.PerFrameFunctionalGroupsSequence
    full = pydicom.dcmread(source, stop_before_pixels=True).PerFrameFunctionalGroupsSequence
    assert list(items) == [full[1], full[6]]


@pytest.mark.parametrize("modality", ["CT", "MR", "PT"])
def test_legacy_converted_enhanced_images_of_the_conversion_engine(tmp_path, uids, modality):
    from qrscp.convert import to_enhanced, write_part10
    from qrscp.testing.factory import make_series

    lce = to_enhanced(make_series(modality, slices=9, seed=71), uids=uids, view="ENHANCED")[0]
    source = tmp_path / "lce.dcm"
    write_part10(lce, source)
    result = extract_frames(source, FrameRequest("CalculatedFrameList", (1, 3, 1, 7, 0xFFFFFFFF, 2)), uids,
                            tmp_path / "new.dcm")
    assert result.frames == (1, 2, 3, 7, 9)
    _check_frames(source, tmp_path / "new.dcm", result.frames)
    new = pydicom.dcmread(tmp_path / "new.dcm", stop_before_pixels=True)
    old = pydicom.dcmread(source, stop_before_pixels=True)
    assert [item.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID
            for item in new.PerFrameFunctionalGroupsSequence] == [
        old.PerFrameFunctionalGroupsSequence[f - 1].ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID
        for f in result.frames]
    if dciodvfy_path():
        assert _new_iod_errors(source, tmp_path / "new.dcm") == set()


def _multiframe(sop_class: str, modality: str, frames: int, **attributes) -> pydicom.Dataset:
    """A small multi-frame image of another class (8-bit monochrome native frames, each frame constant)."""
    ds = pydicom.Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, pydicom.uid.generate_uid(entropy_srcs=[sop_class])
    ds.Modality = modality
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Frames^Test", "FRAMES1", "", "O"
    ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["study", sop_class])
    ds.SeriesInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["series", sop_class])
    ds.StudyDate, ds.StudyTime, ds.ContentDate, ds.ContentTime = "20240101", "120000", "20240101", "120000"
    ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = "", "", "1"
    ds.SeriesNumber, ds.InstanceNumber, ds.Manufacturer = 1, 1, "qrscp tests"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 16
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = frames
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.PixelData = b"".join(bytes([10 * f]) * 256 for f in range(frames))
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def _xa(frames: int) -> pydicom.Dataset:
    mask = pydicom.Dataset()
    mask.MaskOperation, mask.MaskFrameNumbers, mask.ApplicableFrameRange = "AVG_SUB", [1], [2, frames]
    return _multiframe("1.2.840.10008.5.1.4.1.1.12.1", "XA", frames, FrameTime=100, FrameIncrementPointer=0x00181063,
                       ImageType=["ORIGINAL", "PRIMARY", "SINGLE PLANE"], MaskSubtractionSequence=[mask],
                       RecommendedViewingMode="SUB", PixelIntensityRelationship="LIN", KVP=80,
                       PositionerMotion="STATIC", RepresentativeFrameNumber=5)


def _nm(frames: int) -> pydicom.Dataset:
    return _multiframe("1.2.840.10008.5.1.4.1.1.20", "NM", frames, ImageType=["ORIGINAL", "PRIMARY", "STATIC", "NONE"],
                       FrameIncrementPointer=[0x00540010, 0x00540020], NumberOfEnergyWindows=2,
                       EnergyWindowVector=[1 + f % 2 for f in range(frames)], NumberOfDetectors=1,
                       DetectorVector=[1] * frames, BitsStored=8)


def _sc(frames: int) -> pydicom.Dataset:
    return _multiframe("1.2.840.10008.5.1.4.1.1.7.2", "OT", frames, FrameIncrementPointer=0x00182002,
                       FrameLabelVector=[f"F{f + 1}" for f in range(frames)], ConversionType="WSD",
                       BurnedInAnnotation="NO")


@pytest.mark.parametrize("make", [_xa, _nm, _sc], ids=["XA", "NM", "multi-frame-SC"])
def test_other_multiframe_classes(tmp_path, uids, make):
    source = _write(make(10), tmp_path)
    result = extract_frames(source, FrameRequest("SimpleFrameList", (1, 3, 5, 6)), uids, tmp_path / "new.dcm")
    _check_frames(source, tmp_path / "new.dcm", result.frames)
    new = pydicom.dcmread(tmp_path / "new.dcm")
    pointers = new.FrameIncrementPointer if new["FrameIncrementPointer"].VM > 1 else [new.FrameIncrementPointer]
    for tag in pointers:
        assert new[tag].VM == new.NumberOfFrames == 4  # every frame-indexed vector reduced
    if "MaskSubtractionSequence" in new:  # XA: the mask frame 1 is kept, frames 3, 5, 6 become 2, 3, 4
        assert new.MaskSubtractionSequence[0].MaskFrameNumbers == 1
        assert list(new.MaskSubtractionSequence[0].ApplicableFrameRange) == [2, 4]
        assert new.RepresentativeFrameNumber == 3
    if dciodvfy_path():
        assert _new_iod_errors(source, tmp_path / "new.dcm") == set()


def test_cached_raw_headers_are_independent_and_follow_the_file(tmp_path, uids):
    import os

    from qrscp.dicom.raw_header import read_raw_header

    source = _write(make_enhanced_mr(frames=4, seed=1), tmp_path)
    first, _ = read_raw_header(source)
    first.PatientID = "CHANGED"
    del first.PerFrameFunctionalGroupsSequence
    again, _ = read_raw_header(source)  # from the cache: a data set of its own
    assert again.PatientID != "CHANGED" and len(again.PerFrameFunctionalGroupsSequence) == 4
    replaced = make_enhanced_mr(frames=4, seed=1)
    replaced.PatientID = "REPLACED"
    replaced.save_as(source, enforce_file_format=True)
    os.utime(source, ns=(10**18, 10**18))  # a new file identity whatever the clock's resolution
    assert read_raw_header(source)[0].PatientID == "REPLACED"
