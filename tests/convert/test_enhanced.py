"""Classic -> Legacy Converted Enhanced CT/MR/PET: validity, pixels, round trip, determinism (issue 4)."""

from __future__ import annotations

import copy
import random
import re

import numpy as np
import pytest
from convert_checks import (
    MODALITIES,
    VARIANTS,
    attribute_differences,
    frame_pixels,
    needs_dciodvfy,
    new_errors,
    reread,
    series_for,
)

from qrscp.convert import (
    ENHANCED,
    OVERLAY_GSPS,
    RECOVERED,
    UIDSource,
    to_classic,
    to_enhanced,
    write_part10,
)
from qrscp.testing.factory import write_datasets
from qrscp.uids import (
    CLASSIC_TO_LEGACY_CONVERTED,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
)

CASES = [(m, v) for m in MODALITIES for v in VARIANTS]


@pytest.fixture(params=CASES, ids=[f"{m}-{v}" for m, v in CASES])
def converted(request, tmp_path, uids):
    """(source paths, enhanced conversion, written enhanced path, overlay GSPS conversions) of one case."""
    modality, variant = request.param
    sources = list(series_for(modality, variant))
    paths = write_datasets(sources, tmp_path / "sources")
    conversions = to_enhanced([reread(p) for p in paths], uids=uids)
    enhanced = [c for c in conversions if c.kind == ENHANCED]
    assert len(enhanced) == 1, "one series of one pixel module gives one enhanced image"
    out = tmp_path / "enhanced.dcm"
    write_part10(enhanced[0], out)
    return modality, variant, paths, enhanced[0], out, [c for c in conversions if c.kind == OVERLAY_GSPS]


@needs_dciodvfy
def test_enhanced_output_has_no_new_dciodvfy_error(converted, tmp_path):
    _, _, paths, _, out, gsps = converted
    assert new_errors(out, paths) == set()
    for index, state in enumerate(gsps):
        path = tmp_path / f"gsps{index}.dcm"
        write_part10(state, path)
        assert new_errors(path, paths) == set()


def test_frames_equal_source_slices_in_frame_order(converted):
    _, _, paths, conversion, out, _ = converted
    enhanced = reread(out)
    assert enhanced.SOPClassUID in CLASSIC_TO_LEGACY_CONVERTED.values()
    assert int(enhanced.NumberOfFrames) == len(paths)
    pixels = frame_pixels(enhanced)
    by_uid = {str(reread(p).SOPInstanceUID): p for p in paths}
    for number, item in enumerate(enhanced.PerFrameFunctionalGroupsSequence, start=1):
        source_uid = item.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID
        assert conversion.frame_map[(source_uid, None)] == (enhanced.SOPInstanceUID, number)
        assert np.array_equal(pixels[number - 1], frame_pixels(reread(by_uid[source_uid]))[0])


def test_round_trip_recovers_the_original_instances(converted):
    _, _, paths, _, out, gsps = converted
    recovered = to_classic(reread(out), uids=UIDSource("another secret"), overlay_states=[g.dataset for g in gsps])
    originals = {str(reread(p).SOPInstanceUID): reread(p) for p in paths}
    assert {c.dataset.SOPInstanceUID for c in recovered} == set(originals)
    for conversion in recovered:
        assert conversion.kind == RECOVERED
        original = originals[conversion.dataset.SOPInstanceUID]
        assert attribute_differences(original, conversion.dataset) == []
        assert np.array_equal(frame_pixels(original), frame_pixels(conversion.dataset))


def test_overlays_move_to_a_presentation_state(converted):
    _, variant, paths, _, out, gsps = converted
    enhanced = reread(out)
    assert not any(0x6000 <= tag.group <= 0x601E for tag in enhanced.keys())  # noqa: SIM118
    if variant != "overlay":
        assert gsps == []
        return
    assert gsps and all(g.dataset.SOPClassUID == GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE for g in gsps)
    referenced = sorted(int(n) for g in gsps
                        for n in _as_list(g.dataset.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedFrameNumber))
    assert referenced == list(range(1, len(paths) + 1))
    assert {r.ReferencedSOPInstanceUID for r in enhanced.ReferencedPresentationStateSequence[0]
            .ReferencedSeriesSequence[0].ReferencedSOPSequence} == {g.sop_instance_uid for g in gsps}


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(value, str) else [value]


@pytest.mark.parametrize("modality", MODALITIES)
def test_shuffled_input_gives_byte_identical_files(modality, tmp_path):
    sources = list(series_for(modality, "overlay"))
    outputs = []
    for run, seed in enumerate((1, 2)):
        shuffled = sources[:]
        random.Random(seed).shuffle(shuffled)
        conversions = to_enhanced(shuffled, uids=UIDSource("s"))
        files = []
        for index, conversion in enumerate(conversions):
            path = tmp_path / f"run{run}-{index}.dcm"
            write_part10(conversion, path)
            files.append(path.read_bytes())
        outputs.append(files)
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) >= 2  # the enhanced image and its overlay presentation state


def test_shared_and_per_frame_placement_follows_the_values():
    sources = list(series_for("CT", "window-rescale"))
    enhanced = to_enhanced(sources, uids=UIDSource("s"))[0].dataset
    shared = enhanced.SharedFunctionalGroupsSequence[0]
    frame = enhanced.PerFrameFunctionalGroupsSequence[0]
    assert "PixelMeasuresSequence" in shared and "PlaneOrientationSequence" in shared
    assert "FrameVOILUTSequence" in frame and "PixelValueTransformationSequence" in frame
    assert "PlanePositionSequence" in frame and "FrameContentSequence" in frame
    unassigned_frame = frame.UnassignedPerFrameConvertedAttributesSequence[0]
    assert "InstanceNumber" in unassigned_frame and "SliceLocation" in unassigned_frame
    assert "KVP" in shared.UnassignedSharedConvertedAttributesSequence[0]


def test_only_classic_images_are_converted():
    from qrscp.testing.enhanced import make_enhanced_mr

    assert to_enhanced([make_enhanced_mr(frames=2, rows=16, columns=16)], uids=UIDSource("s")) == []


def test_new_series_with_earliest_series_date_and_conversion_equipment():
    sources = list(series_for("MR", "uncompressed"))
    sources[2] = copy.deepcopy(sources[2])
    sources[2].SeriesDate, sources[2].SeriesTime = "19990101", "010203"
    enhanced = to_enhanced(sources, uids=UIDSource("s"))[0].dataset
    assert enhanced.SeriesInstanceUID != sources[0].SeriesInstanceUID
    assert enhanced.SeriesInstanceUID.startswith("2.25.")
    assert (enhanced.SeriesDate, enhanced.SeriesTime) == ("19990101", "010203")
    assert enhanced.QueryRetrieveView == "ENHANCED"
    purpose = enhanced.ContributingEquipmentSequence[-1].PurposeOfReferenceCodeSequence[0]
    assert (purpose.CodeValue, purpose.CodingSchemeDesignator) == ("109106", "DCM")
    assert enhanced.ContributingEquipmentSequence[-1].ContributionDescription == (
        "Legacy Enhanced Image created from Classic Images")


@needs_dciodvfy
@pytest.mark.parametrize("modality", MODALITIES)
def test_mixed_image_types_stay_in_one_image(modality, tmp_path, uids):
    sources = [copy.deepcopy(ds) for ds in series_for(modality, "uncompressed")]
    sources[1].ImageType = ["DERIVED", "SECONDARY", "REFORMATTED"]
    sources[2].ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    paths = write_datasets(sources, tmp_path / "sources")
    conversions = to_enhanced(sources, uids=uids)
    assert len(conversions) == 1
    enhanced = conversions[0].dataset
    assert list(enhanced.ImageType)[:2] == ["MIXED", "PRIMARY"]
    write_part10(conversions[0], tmp_path / "out.dcm")
    assert new_errors(tmp_path / "out.dcm", paths) == set()
    recovered = {c.dataset.SOPInstanceUID: c.dataset for c in to_classic(reread(tmp_path / "out.dcm"), uids=uids)}
    assert list(recovered[sources[1].SOPInstanceUID].ImageType) == ["DERIVED", "SECONDARY", "REFORMATTED"]


def _with_references(sources):
    """Slices that cite a localizer (Referenced Image), their source (Source Image) and an irradiation event."""
    from pydicom.dataset import Dataset

    out = []
    for index, original in enumerate(sources):
        ds = copy.deepcopy(original)
        localizer = Dataset()
        localizer.ReferencedSOPClassUID = ds.SOPClassUID
        localizer.ReferencedSOPInstanceUID = "2.25.1001"
        ds.ReferencedImageSequence = [localizer]
        source = Dataset()
        source.ReferencedSOPClassUID = ds.SOPClassUID
        source.ReferencedSOPInstanceUID = f"2.25.{2000 + index}"
        ds.SourceImageSequence = [source]
        ds.DerivationDescription = "Resampled"
        ds.IrradiationEventUID = "2.25.3000"
        out.append(ds)
    return out


@needs_dciodvfy
@pytest.mark.parametrize("modality", MODALITIES)
def test_referenced_and_source_images_become_functional_groups_and_evidence(modality, tmp_path, uids):
    sources = _with_references(series_for(modality, "uncompressed"))
    paths = write_datasets(sources, tmp_path / "sources")
    conversion = to_enhanced([reread(p) for p in paths], uids=uids)[0]
    write_part10(conversion, tmp_path / "out.dcm")
    assert new_errors(tmp_path / "out.dcm", paths) == set()
    enhanced = reread(tmp_path / "out.dcm")
    shared = enhanced.SharedFunctionalGroupsSequence[0]
    assert shared.ReferencedImageSequence[0].ReferencedSOPInstanceUID == "2.25.1001"
    assert shared.ReferencedImageSequence[0].PurposeOfReferenceCodeSequence[0].CodeValue == "121311"
    evidence = enhanced.ReferencedImageEvidenceSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence
    assert [r.ReferencedSOPInstanceUID for r in evidence] == ["2.25.1001"]
    source_evidence = enhanced.SourceImageEvidenceSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence
    assert len(source_evidence) == len(sources)
    frame = enhanced.PerFrameFunctionalGroupsSequence[1]
    assert frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID == "2.25.2001"
    assert shared.IrradiationEventIdentificationSequence[0].IrradiationEventUID == "2.25.3000"
    recovered = {c.dataset.SOPInstanceUID: c.dataset for c in to_classic(enhanced, uids=uids)}
    for path in paths:
        original = reread(path)
        assert attribute_differences(original, recovered[original.SOPInstanceUID]) == []


def test_curves_graphic_annotations_and_concatenations_are_removed(uids):
    from pydicom.dataset import Dataset

    sources = [copy.deepcopy(ds) for ds in series_for("CT", "uncompressed")]
    for ds in sources:
        ds.add_new(0x50000005, "US", 2)  # Curve Dimensions (retired Curve module)
        ds.ConcatenationUID = "2.25.77"
        ds.InConcatenationNumber = 1
        annotation = Dataset()
        annotation.GraphicLayer = "LAYER"
        ds.GraphicAnnotationSequence = [annotation]
    enhanced = to_enhanced(sources, uids=uids)[0].dataset
    unassigned = [enhanced.SharedFunctionalGroupsSequence[0].UnassignedSharedConvertedAttributesSequence[0]]
    unassigned += [i.UnassignedPerFrameConvertedAttributesSequence[0] for i in enhanced.PerFrameFunctionalGroupsSequence]
    for ds in [enhanced, *unassigned]:
        assert 0x50000005 not in ds
        assert "ConcatenationUID" not in ds and "InConcatenationNumber" not in ds
        assert "GraphicAnnotationSequence" not in ds


@needs_dciodvfy
def test_overlays_in_high_bits_are_extracted_and_cleared(tmp_path, uids):
    import numpy as np
    from pydicom.pixels import pack_bits

    sources = [copy.deepcopy(ds) for ds in series_for("MR", "uncompressed")]
    planes = []
    for index, ds in enumerate(sources):
        pixels = ds.pixel_array.astype(np.uint16)
        plane = np.zeros_like(pixels, dtype=np.uint8)
        plane[2:6, 2:3 + index] = 1
        planes.append(plane)
        ds.PixelData = (pixels | (plane.astype(np.uint16) << 15)).tobytes()
        ds.add_new(0x60000010, "US", int(ds.Rows))
        ds.add_new(0x60000011, "US", int(ds.Columns))
        ds.add_new(0x60000040, "CS", "G")
        ds.add_new(0x60000050, "SS", [1, 1])
        ds.add_new(0x60000100, "US", 16)
        ds.add_new(0x60000102, "US", 15)
    paths = write_datasets(sources, tmp_path / "sources")
    conversions = to_enhanced([reread(p) for p in paths], uids=uids)
    enhanced = conversions[0]
    write_part10(enhanced, tmp_path / "enhanced.dcm")
    assert new_errors(tmp_path / "enhanced.dcm", paths) == set()
    stored = np.frombuffer(reread(tmp_path / "enhanced.dcm").PixelData, "<u2")
    assert int(stored.max()) < 2**12  # bit 15 cleared in the stored values themselves
    states = [c.dataset for c in conversions if c.kind == OVERLAY_GSPS]
    assert len(states) == len(sources)  # every slice has its own overlay
    for number, state in enumerate(states, start=1):
        assert (state[0x60000100].value, state[0x60000102].value) == (1, 0)
        frame = int(state.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedFrameNumber)
        source_uid = reread(tmp_path / "enhanced.dcm").PerFrameFunctionalGroupsSequence[frame - 1] \
            .ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID
        index = [ds.SOPInstanceUID for ds in sources].index(source_uid)
        assert state[0x60003000].value == pack_bits(planes[index], pad=True)
        write_part10(c := conversions[number], tmp_path / "gsps.dcm")
        assert c.dataset is state
        assert new_errors(tmp_path / "gsps.dcm", paths) == set()


LOSSY_METHODS = {"1.2.840.10008.1.2.4.91": "ISO_15444_1", "1.2.840.10008.1.2.4.81": "ISO_14495_1"}


@needs_dciodvfy
@pytest.mark.parametrize("transfer_syntax", sorted(LOSSY_METHODS))
@pytest.mark.parametrize("modality", MODALITIES)
def test_lossy_sources_without_a_method_get_the_method_of_their_syntax(modality, transfer_syntax, tmp_path, uids):
    """Lossy Image Compression Method is Type 1C in the enhanced modules, Type 3 in the classic one."""
    from pydicom.encaps import generate_frames

    from qrscp.testing.encoding import is_available
    from qrscp.testing.factory import make_series

    if not is_available(transfer_syntax):
        pytest.skip(f"no encoder for {transfer_syntax}")
    sources = make_series(modality, slices=3, rows=32, columns=32, seed=9, transfer_syntax=transfer_syntax)
    for ds in sources:  # as some archives' lossy compression leaves them
        del ds.LossyImageCompressionMethod, ds.LossyImageCompressionRatio
    paths = write_datasets(sources, tmp_path / "sources")
    conversion = next(c for c in to_enhanced([reread(p) for p in paths], uids=uids) if c.kind == ENHANCED)
    write_part10(conversion, tmp_path / "enhanced.dcm")
    enhanced = reread(tmp_path / "enhanced.dcm")
    assert (enhanced.LossyImageCompression, enhanced.LossyImageCompressionMethod) == (
        "01", LOSSY_METHODS[transfer_syntax])
    frames = generate_frames(enhanced.PixelData, number_of_frames=len(sources))
    expected = len(sources) * 32 * 32 * 2 / sum(len(frame) for frame in frames)
    assert float(enhanced.LossyImageCompressionRatio) == pytest.approx(expected, abs=0.01)
    assert new_errors(tmp_path / "enhanced.dcm", paths) == set()
    for recovered in to_classic(enhanced, uids=uids):  # the originals had neither
        assert "LossyImageCompressionMethod" not in recovered.dataset
        assert "LossyImageCompressionRatio" not in recovered.dataset


def _pydicom_classic_images() -> list[str]:
    import warnings

    import pydicom

    from qrscp.testing.files import testdata_files as pydicom_test_files

    images = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in map(str, pydicom_test_files("*.dcm")):
            try:
                header = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:  # noqa: BLE001 - pydicom's deliberately broken files
                continue
            if str(header.get("SOPClassUID", "")) in CLASSIC_TO_LEGACY_CONVERTED and "PixelData" in \
                    pydicom.dcmread(path, specific_tags=["PixelData"]):
                images.append(path)
    return images


def _explained_new_errors(source) -> set[str]:
    """What the Legacy Converted IODs ask of values the conversion carries over unchanged (conformance
    statement, known limitations): a CT Bits Stored other than 12 or 16 in compressed frames, an attribute
    present with no
    value, and an invalid SOP Instance UID, which is also invalid where the converted image references its
    source."""
    explained = set()
    if source.Modality == "CT" and int(source.BitsStored) not in (12, 16) and source.file_meta.TransferSyntaxUID \
            .is_compressed:  # native frames are widened to 16 bits; a bit stream keeps its precision
        explained |= {"BitsStored", "HighBit"}
    # present with no value: valid where the source has it (Type 2), Type 1 or 1C where the enhanced IOD
    # puts it (Manufacturer in Enhanced General Equipment, Slice Thickness in Pixel Measures)
    explained |= {element.keyword for element in source if element.keyword and element.is_empty}
    if not re.fullmatch(r"[0-9.]{1,64}", str(source.SOPInstanceUID)):
        explained.add("ReferencedSOPInstanceUID")  # the invalid UID, now in Conversion Source Attributes
    return explained


def _pixels_as_sent(source):
    """Pixel values of a source image; truncated Pixel Data zero-padded, as the conversion stores it."""
    try:
        return frame_pixels(source)
    except ValueError:
        padded = copy.deepcopy(source)
        size = source.Rows * source.Columns * source.SamplesPerPixel * source.BitsAllocated // 8
        padded.PixelData = source.PixelData.ljust(size, b"\x00")
        return frame_pixels(padded)


@needs_dciodvfy
@pytest.mark.parametrize("path", _pydicom_classic_images(), ids=lambda path: path.rsplit("/", 1)[-1])
def test_pydicom_scanner_images_convert_without_new_errors(path, tmp_path, uids):
    """Real scanner headers (pydicom's test files, one image each): converted, valid, and back."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = reread(path)
        conversions = to_enhanced([source], uids=uids)
        enhanced = [c for c in conversions if c.kind == ENHANCED]
        assert len(enhanced) == 1
        write_part10(enhanced[0], tmp_path / "enhanced.dcm")
        assert new_errors(tmp_path / "enhanced.dcm", [path]) - _explained_new_errors(source) == set()
        enhanced_pixels = frame_pixels(reread(tmp_path / "enhanced.dcm"))
        assert np.array_equal(enhanced_pixels[0].astype(np.int64), _pixels_as_sent(source)[0].astype(np.int64))
        states = [c.dataset for c in conversions if c.kind == OVERLAY_GSPS]
        recovered = to_classic(reread(tmp_path / "enhanced.dcm"), uids=uids, overlay_states=states)
        assert [c.dataset.SOPInstanceUID for c in recovered] == [source.SOPInstanceUID]
        assert attribute_differences(source, recovered[0].dataset) == []
        assert np.array_equal(frame_pixels(recovered[0].dataset), _pixels_as_sent(source))


@pytest.mark.parametrize("materialize_pixels", [True, False])
def test_a_truncated_slice_is_zero_padded_without_shifting_the_next_frames(materialize_pixels, tmp_path, uids):
    sources = [copy.deepcopy(ds) for ds in series_for("CT", "uncompressed")]
    full = len(sources[1].PixelData)
    sources[1].PixelData = sources[1].PixelData[: full // 2]  # a slice cut short in transfer
    paths = write_datasets(sources, tmp_path / "sources")
    conversion = to_enhanced([reread(p) for p in paths], uids=uids, materialize_pixels=materialize_pixels)[0]
    write_part10(conversion, tmp_path / "enhanced.dcm")
    enhanced = reread(tmp_path / "enhanced.dcm")
    assert len(enhanced.PixelData) == full * len(sources)
    by_uid = {ds.SOPInstanceUID: ds for ds in sources}
    for number, item in enumerate(enhanced.PerFrameFunctionalGroupsSequence):
        source = by_uid[item.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID]
        frame = enhanced.PixelData[number * full:(number + 1) * full]
        assert frame == source.PixelData.ljust(full, b"\x00")


@needs_dciodvfy
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_bits_stored_the_enhanced_ct_iod_rejects_is_widened_keeping_every_value(signed, tmp_path, uids):
    """Bits Stored 14 is valid for CT Image, not for the Enhanced CT Image module (12 or 16): C.3.5 lets
    the conversion use 16 with the unused high bits masked; conversion back restores 14."""
    sources = [copy.deepcopy(ds) for ds in series_for("CT", "uncompressed")]
    rng = np.random.default_rng(14)
    expected = []
    for index, ds in enumerate(sources):
        low, high = (-(1 << 13), (1 << 13) - 1) if signed else (0, (1 << 14) - 1)
        values = rng.integers(low, high, size=(ds.Rows, ds.Columns), endpoint=True)
        words = values.astype(np.int64) & 0xFFFF  # two's complement, sign-extended to 16 bits
        if index == 1:
            words &= 0x3FFF  # a scanner that leaves the unused high bits zero
        if index == 2:
            words |= 0x8000  # or sets them
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 14, 13, int(signed)
        ds.PixelData = words.astype("<u2").tobytes()
        expected.append(values)
    paths = write_datasets(sources, tmp_path / "sources")
    conversion = to_enhanced([reread(p) for p in paths], uids=uids)[0]
    write_part10(conversion, tmp_path / "enhanced.dcm")
    enhanced = reread(tmp_path / "enhanced.dcm")
    assert (enhanced.BitsStored, enhanced.HighBit) == (16, 15)
    assert new_errors(tmp_path / "enhanced.dcm", paths) == set()
    by_uid = dict(zip([ds.SOPInstanceUID for ds in sources], expected))
    pixels = frame_pixels(enhanced)
    for number, item in enumerate(enhanced.PerFrameFunctionalGroupsSequence):
        uid = item.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID
        assert np.array_equal(pixels[number].astype(np.int64), by_uid[uid])
    for recovered in to_classic(enhanced, uids=uids):
        assert (recovered.dataset.BitsStored, recovered.dataset.HighBit) == (14, 13)
        original = by_uid[recovered.dataset.SOPInstanceUID]
        assert np.array_equal(frame_pixels(recovered.dataset)[0].astype(np.int64), original)


def test_a_group_that_fails_is_reported_and_the_other_groups_converted(monkeypatch, uids):
    from qrscp.convert import enhanced

    ct, mr = list(series_for("CT", "uncompressed")), list(series_for("MR", "uncompressed"))
    convert_group = enhanced.convert_group

    def failing_for_mr(frames, **options):  # a fault injected into one group
        if frames[0].Modality == "MR":
            raise RuntimeError("broken group")
        return convert_group(frames, **options)

    monkeypatch.setattr(enhanced, "convert_group", failing_for_mr)
    failures = []
    conversions = to_enhanced(ct + mr, uids=uids, on_error=lambda frames, exc: failures.append((len(frames), str(exc))))
    assert [c.dataset.Modality for c in conversions if c.kind == ENHANCED] == ["CT"]
    assert failures == [(len(mr), "broken group")]
    with pytest.raises(RuntimeError, match="broken group"):
        to_enhanced(ct + mr, uids=uids)
