"""Tests of the test data factory: IOD validity (dciodvfy), determinism, variants, transfer syntaxes."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.testing import factory
from qrscp.testing.dcmtk import dciodvfy_errors, dciodvfy_path

MODALITIES = ["CT", "MR", "PET"]

needs_dciodvfy = pytest.mark.skipif(dciodvfy_path() is None, reason="dicom3tools dciodvfy not installed")


CLEAN_VARIANTS = {
    "plain": {},
    "overlay_contrast": {"overlay": True, "contrast": True},
    "geometry": {"two_orientations": True, "acquisitions": 2},
    "per_slice": {"per_slice_window": True, "per_slice_rescale": True},
    "utf8_big_private": {"charset": "ISO_IR 192", "private_block_bytes": 100_000},
}


@needs_dciodvfy
@pytest.mark.parametrize("variant", sorted(CLEAN_VARIANTS))
@pytest.mark.parametrize("modality", MODALITIES)
def test_series_files_pass_dciodvfy(modality, variant, tmp_path):
    series = factory.make_series(modality, slices=4, rows=32, columns=48, **CLEAN_VARIANTS[variant])
    paths = factory.write_datasets(series[::3], tmp_path)
    assert len(paths) == 2
    for path in paths:
        assert dciodvfy_errors(path) == []


@pytest.mark.parametrize("modality", MODALITIES)
def test_series_is_deterministic_for_a_seed(modality, tmp_path):
    first = factory.write_datasets(factory.make_series(modality, slices=2, seed=7), tmp_path / "a")
    second = factory.write_datasets(factory.make_series(modality, slices=2, seed=7), tmp_path / "b")
    other = factory.make_series(modality, slices=2, seed=8)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert other[0].SOPInstanceUID != pydicom.dcmread(first[0]).SOPInstanceUID


@pytest.mark.parametrize("modality", MODALITIES)
def test_series_geometry_and_pixels_vary_per_slice(modality):
    series = factory.make_series(modality, slices=4)
    positions = {tuple(ds.ImagePositionPatient) for ds in series}
    assert len(positions) == 4
    assert [ds.InstanceNumber for ds in series] == [1, 2, 3, 4]
    assert len({ds.AcquisitionTime for ds in series}) == 4
    assert len({ds.SeriesInstanceUID for ds in series}) == 1
    assert not np.array_equal(series[0].pixel_array, series[1].pixel_array)
    assert series[0].file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert series[0].file_meta.MediaStorageSOPInstanceUID == series[0].SOPInstanceUID


@pytest.mark.parametrize("modality", MODALITIES)
@pytest.mark.parametrize("transfer_syntax", list(factory.TRANSFER_SYNTAXES))
def test_transfer_syntax_round_trips_pixels(modality, transfer_syntax, tmp_path):
    info = factory.TRANSFER_SYNTAXES[transfer_syntax]
    bits = 8 if info.max_bits_stored == 8 else 16
    source = factory.make_series(modality, slices=1, bits_allocated=bits)[0]
    try:
        encoded = factory.encode(source, transfer_syntax)
        via_series = factory.make_series(modality, slices=1, transfer_syntax=transfer_syntax)[0]
    except factory.TransferSyntaxUnavailable as exc:
        pytest.skip(str(exc))
    assert via_series.file_meta.TransferSyntaxUID == transfer_syntax
    assert via_series.SOPInstanceUID == source.SOPInstanceUID
    (path,) = factory.write_datasets([encoded], tmp_path / "a")
    (again,) = factory.write_datasets([via_series], tmp_path / "b")  # same seed: must be the same bytes
    assert path.read_bytes() == again.read_bytes()
    back = pydicom.dcmread(path)
    assert back.file_meta.TransferSyntaxUID == transfer_syntax
    assert back.SOPInstanceUID == source.SOPInstanceUID
    decoded = back.pixel_array.astype(np.int32)
    original = source.pixel_array.astype(np.int32)
    if info.lossless:
        assert np.array_equal(decoded, original)
    else:
        assert decoded.shape == original.shape
        assert np.abs(decoded - original).mean() < 0.05 * (original.max() - original.min())
    if dciodvfy_path() and bits == 16:
        # 8-bit CT/MR/PET (JPEG Baseline) is outside the IODs by design.
        assert factory.iod_errors(path) == []


# --- variants ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("modality", MODALITIES)
def test_private_block_has_creator_and_requested_size(modality):
    ds = factory.make_series(modality, slices=1, private_block_bytes=10_001)[0]
    block = ds.private_block(factory.PRIVATE_GROUP, factory.PRIVATE_CREATOR)
    assert len(block[0x10].value) >= 10_001
    assert block[0x01].value == "FACTORY PROTOCOL"


@pytest.mark.filterwarnings("ignore:The value length")
@pytest.mark.parametrize("modality", MODALITIES)
def test_invalid_values_variant_carries_scanner_junk(modality, tmp_path):
    (path,) = factory.write_datasets(factory.make_series(modality, slices=1, invalid_values=True), tmp_path)
    ds = pydicom.dcmread(path)
    assert ds.PatientSex == "0000"
    assert ds.PatientBirthDate == "00000000"
    assert len(ds.InstitutionName) > 64
    if dciodvfy_path():
        assert any("Patient's Sex" in line for line in factory.iod_errors(path))


@pytest.mark.parametrize("modality", MODALITIES)
def test_missing_type2_removes_type2_attributes(modality):
    ds = factory.make_series(modality, slices=1, missing_type2=True)[0]
    assert not any(keyword in ds for keyword in factory.MISSING_TYPE2_KEYWORDS)
    assert "PatientID" in ds and "StudyInstanceUID" in ds


@pytest.mark.parametrize("modality", MODALITIES)
def test_overlay_variant_has_overlay_plane(modality):
    ds = factory.make_series(modality, slices=2, rows=32, columns=32, overlay=True)[1]
    assert ds[0x60000010].value == 32 and ds[0x60000011].value == 32
    overlay = ds.overlay_array(0x6000)
    assert overlay.shape == (32, 32) and overlay[0].all()


@pytest.mark.parametrize("modality", MODALITIES)
def test_two_orientations_variant(modality):
    series = factory.make_series(modality, slices=4, two_orientations=True)
    orientations = [tuple(float(v) for v in ds.ImageOrientationPatient) for ds in series]
    assert len(set(orientations)) == 2
    assert len({ds.SeriesInstanceUID for ds in series}) == 1


@pytest.mark.parametrize("modality", MODALITIES)
def test_per_slice_window_and_rescale(modality):
    plain = factory.make_series(modality, slices=3)
    series = factory.make_series(modality, slices=3, per_slice_window=True, per_slice_rescale=True)
    assert len({str(ds.WindowCenter) for ds in series}) == 3
    assert len({str(ds.WindowCenter) for ds in plain}) == 1
    if modality != "MR":  # MR Image has no Modality LUT
        assert len({(str(ds.RescaleIntercept), str(ds.RescaleSlope)) for ds in series}) == 3


@pytest.mark.parametrize("modality", MODALITIES)
def test_mixed_transfer_syntaxes_round_trip(modality, tmp_path):
    expected = factory.mixed_series_transfer_syntaxes()
    plain = factory.make_series(modality, slices=len(expected))
    paths = factory.write_datasets(factory.make_series(modality, slices=len(expected), mixed_transfer_syntaxes=True),
                                   tmp_path)
    read = [pydicom.dcmread(path) for path in paths]
    assert [ds.file_meta.TransferSyntaxUID for ds in read] == expected
    assert len(set(expected)) >= 3
    for source, back in zip(plain, read):
        assert np.array_equal(source.pixel_array, back.pixel_array)


def test_series_share_study_attributes_and_frame_of_reference():
    patient = factory.PatientSpec.from_seed(3)
    ct = factory.make_series("CT", slices=1, patient=patient, seed=3)[0]
    pet = factory.make_series("PET", slices=1, patient=patient, study_uid=ct.StudyInstanceUID, seed=4,
                              frame_of_reference_uid=ct.FrameOfReferenceUID)[0]
    for keyword in ("PatientID", "PatientName", "StudyInstanceUID", "StudyDate", "AccessionNumber", "StudyID"):
        assert ct[keyword].value == pet[keyword].value
    assert ct.SeriesInstanceUID != pet.SeriesInstanceUID
    assert ct.FrameOfReferenceUID == pet.FrameOfReferenceUID


@pytest.mark.parametrize("modality", MODALITIES)
def test_contrast_variant(modality):
    ds = factory.make_series(modality, slices=1, contrast=True)[0]
    assert ds.ContrastBolusAgent and ds.ContrastBolusAgentSequence[0].CodingSchemeDesignator == "SCT"
    assert "ContrastBolusAgent" not in factory.make_series(modality, slices=1)[0]


def test_non_latin1_patient_name_switches_to_utf8(tmp_path):
    patient = factory.PatientSpec("JP001", "山田^太郎")
    (path,) = factory.write_datasets(factory.make_series("MR", slices=1, patient=patient), tmp_path)
    ds = pydicom.dcmread(path)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert str(ds.PatientName) == "山田^太郎"
    assert factory.make_gsps([ds]).SpecificCharacterSet == "ISO_IR 192"


def test_unknown_variant_is_an_error():
    with pytest.raises(TypeError):
        factory.make_series("CT", overlays=True)


# --- cross-referencing objects ---------------------------------------------------------------------------------

REFERENCING = {
    "gsps": factory.make_gsps,
    "sr": factory.make_sr,
    "kos": factory.make_kos,
    "rtstruct": factory.make_rtstruct,
    "seg": factory.make_seg,
}


@pytest.mark.parametrize("kind", sorted(REFERENCING))
@pytest.mark.parametrize("modality", MODALITIES)
def test_referencing_objects_reference_every_image_and_are_valid(kind, modality, tmp_path):
    images = factory.make_series(modality, slices=3, rows=32, columns=32)
    ds = REFERENCING[kind](images)
    assert factory.referenced_sop_instance_uids(ds) == {image.SOPInstanceUID for image in images}
    assert ds.PatientID == images[0].PatientID
    assert ds.StudyInstanceUID == images[0].StudyInstanceUID
    (path,) = factory.write_datasets([ds], tmp_path / "a")
    (again,) = factory.write_datasets([REFERENCING[kind](images)], tmp_path / "b")
    assert path.read_bytes() == again.read_bytes()
    if dciodvfy_path():
        assert factory.iod_errors(path) == []


def test_gsps_in_another_study_keeps_the_patient():
    images = factory.make_series("CT", slices=2)
    later_study = factory.derive_uid("later")
    ds = factory.make_gsps(images, study_uid=later_study)
    assert ds.StudyInstanceUID == later_study
    assert ds.PatientID == images[0].PatientID
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == images[0].SeriesInstanceUID


def test_rtstruct_contours_lie_on_their_images():
    images = factory.make_series("CT", slices=3)
    ds = factory.make_rtstruct(images)
    for contour, image in zip(ds.ROIContourSequence[0].ContourSequence, images):
        assert contour.ContourImageSequence[0].ReferencedSOPInstanceUID == image.SOPInstanceUID
        z_values = {float(v) for v in contour.ContourData[2::3]}
        assert z_values == {float(image.ImagePositionPatient[2])}


@pytest.mark.parametrize("kind", ["gsps", "sr", "kos"])
def test_frame_level_references(kind, tmp_path):
    enhanced = factory.make_enhanced_mr(frames=4, rows=16, columns=16)
    ds = REFERENCING[kind]([enhanced], frames={enhanced.SOPInstanceUID: [1, 3]})
    assert (enhanced.SOPInstanceUID, (1, 3)) in factory.referenced_instances(ds)
    if dciodvfy_path():
        assert factory.iod_errors(factory.write_datasets([ds], tmp_path)[0]) == []


@pytest.mark.parametrize("make", [factory.make_enhanced_mr, factory.make_enhanced_ct])
def test_enhanced_multiframe_is_valid_and_segmentable(make, tmp_path):
    ds = make(frames=4, rows=32, columns=32)
    assert ds.NumberOfFrames == 4
    assert len(ds.PerFrameFunctionalGroupsSequence) == 4
    assert ds.pixel_array.shape == (4, 32, 32)
    positions = [tuple(g.PlanePositionSequence[0].ImagePositionPatient) for g in ds.PerFrameFunctionalGroupsSequence]
    assert len(set(positions)) == 4
    seg = factory.make_seg(ds)
    assert factory.referenced_sop_instance_uids(seg) == {ds.SOPInstanceUID}
    paths = factory.write_datasets([ds, seg], tmp_path)
    if dciodvfy_path():
        assert [factory.iod_errors(path) for path in paths] == [[], []]


# --- patients and studies -------------------------------------------------------------------------------------


def test_patient_studies_cross_references():
    result = factory.make_patient_studies(patients=2, studies_per_patient=3, slices=2, rows=16, columns=16)
    assert len(result.patients) == 2 and len(result.studies) == 6
    sent = {ds.SOPInstanceUID for ds in result.instances}
    assert len(sent) == len(result.instances)
    assert len(result.withheld) == 1 and result.withheld[0].SOPInstanceUID not in sent
    unsent_references = [ref for ref in result.references if not ref.sent]
    assert [ref.referenced_sop_instance_uid for ref in unsent_references] == [result.withheld[0].SOPInstanceUID]
    prior = [ref for ref in result.references if ref.referencing_role == "GSPS_PRIOR"]
    by_uid = result.by_sop_instance_uid()
    assert prior and all(
        by_uid[ref.referencing_sop_instance_uid].StudyInstanceUID != ref.referenced_study_uid for ref in prior
    )
    framed = [ref for ref in result.references if ref.referencing_role == "KOS_FRAMES" and ref.referenced_frames]
    assert [ref.referenced_frames for ref in framed] == [(1, 2)] * 2
    assert by_uid[framed[0].referenced_sop_instance_uid].NumberOfFrames == 2
    modalities = {ds.Modality for ds in result.instances}
    assert {"CT", "PT", "MR", "PR", "SR", "KO", "RTSTRUCT", "SEG"} <= modalities
    for patient in result.patients:
        assert {ds.PatientID for study in result.studies_of(patient.patient_id) for ds in study.instances} == {
            patient.patient_id
        }


# --- malformed inputs ------------------------------------------------------------------------------------------


def test_malformed_variants_are_named_and_categorised():
    variants = factory.malformed_variants()
    names = [variant.name for variant in variants]
    assert len(names) == len(set(names))
    assert {variant.expected for variant in variants} == {factory.STORED, factory.REJECTED, factory.EITHER}
    by_name = {variant.name: variant for variant in variants}
    for name in ("missing_sop_instance_uid", "missing_study_instance_uid", "missing_series_instance_uid",
                 "sop_instance_uid_too_long", "sop_class_differs_from_command", "truncated_in_header",
                 "element_length_beyond_end"):
        assert by_name[name].expected == factory.REJECTED
    assert by_name["sop_class_differs_from_command"].affected_sop_class_uid != by_name[
        "sop_class_differs_from_command"
    ].dataset.SOPClassUID
    assert len(by_name["sop_instance_uid_too_long"].dataset.SOPInstanceUID) > 64
    assert by_name["nested_sequence_1500"].dataset_bytes.count(b"\xfe\xff\x00\xe0") >= 1500


def test_malformed_part10_bytes_carry_the_command_values(tmp_path):
    variant = {v.name: v for v in factory.malformed_variants()}["valid_reference"]
    path = tmp_path / "valid.dcm"
    path.write_bytes(variant.part10_bytes())
    ds = pydicom.dcmread(path)
    assert ds.file_meta.MediaStorageSOPInstanceUID == variant.affected_sop_instance_uid == ds.SOPInstanceUID
    assert path.read_bytes().endswith(variant.dataset_bytes)


# --- files -----------------------------------------------------------------------------------------------------


def test_write_datasets_transcodes_and_writes_file_meta(tmp_path):
    series = factory.make_series("CT", slices=2)
    paths = factory.write_datasets(series, tmp_path, transfer_syntax=pydicom.uid.RLELossless)
    for source, path in zip(series, paths):
        raw = path.read_bytes()
        assert raw[128:132] == b"DICM"
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
        assert ds.file_meta.MediaStorageSOPClassUID == source.SOPClassUID
        assert np.array_equal(ds.pixel_array, source.pixel_array)
    assert series[0].file_meta.TransferSyntaxUID == ExplicitVRLittleEndian  # inputs untouched


def test_testdata_file():
    assert factory.testdata_file("CT_small.dcm").is_file()
    with pytest.raises(FileNotFoundError):
        factory.testdata_file("no-such-file.dcm")


def test_large_series_generates_quickly_enough_to_be_useful():
    # Not a timed assertion: checks that 512x512 slices are complete and distinct.
    series = factory.make_series("CT", slices=20, rows=512, columns=512)
    assert len(series[0].PixelData) == 512 * 512 * 2
    assert series[0].PixelData != series[-1].PixelData


@pytest.mark.parametrize(
    ("transfer_syntax", "tool"),
    [(pydicom.uid.RLELossless, "dcmcrle"), (pydicom.uid.JPEGLSLossless, "dcmcjpls")],
)
@pytest.mark.dcmtk
def test_dcmtk_fallback_when_pydicom_plugin_is_missing(transfer_syntax, tool, monkeypatch):
    from qrscp.testing import encoding

    if encoding.dcmtk_tool(tool) is None:
        pytest.skip(f"DCMTK {tool} not installed")

    class Missing:
        is_available = False

    monkeypatch.setitem(encoding._PYDICOM_ENCODERS, transfer_syntax, Missing)
    source = factory.make_series("CT", slices=1)[0]
    encoded = factory.encode(source, transfer_syntax)
    assert encoded.file_meta.TransferSyntaxUID == transfer_syntax
    assert np.array_equal(encoded.pixel_array, source.pixel_array)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (pydicom.uid.ExplicitVRBigEndian, pydicom.uid.JPEGLSLossless),
        (pydicom.uid.JPEGLosslessSV1, pydicom.uid.ExplicitVRBigEndian),
        (pydicom.uid.RLELossless, pydicom.uid.DeflatedExplicitVRLittleEndian),
        (pydicom.uid.JPEG2000Lossless, pydicom.uid.ImplicitVRLittleEndian),
    ],
)
def test_transcoding_between_syntaxes_keeps_pixels(first, second):
    source = factory.make_series("PET", slices=1, overlay=True)[0]
    try:
        result = factory.encode(factory.encode(source, first), second)
    except factory.TransferSyntaxUnavailable as exc:
        pytest.skip(str(exc))
    assert result.file_meta.TransferSyntaxUID == second
    assert np.array_equal(result.pixel_array, source.pixel_array)
    # pydicom's overlay_array ignores the byte order of OW overlay data, so compare in little endian.
    little = factory.encode(result, ExplicitVRLittleEndian)
    assert np.array_equal(little.overlay_array(0x6000), source.overlay_array(0x6000))


def test_encode_accepts_a_dataset_without_file_meta():
    source = factory.make_series("CT", slices=1)[0]
    result = factory.encode(pydicom.Dataset(source), pydicom.uid.RLELossless)
    assert result.file_meta.MediaStorageSOPInstanceUID == source.SOPInstanceUID
    assert np.array_equal(result.pixel_array, source.pixel_array)
