"""Enhanced / Legacy Converted Enhanced -> classic, including pydicom-data's enhanced files (issue 4)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from convert_checks import frame_pixels, new_errors, series_for
from pydicom.data import get_testdata_file

from qrscp.convert import (
    CLASSIC,
    ENHANCED,
    UIDSource,
    to_classic,
    to_enhanced,
    write_part10,
)
from qrscp.testing.enhanced import make_enhanced_ct, make_enhanced_mr
from qrscp.uids import ENHANCED_TO_CLASSIC

#: emri_small.dcm has no functional groups at all: its frames have no geometry to give back.
NO_GEOMETRY = {"PixelSpacing", "ImageOrientationPatient", "ImagePositionPatient", "SliceThickness"}


def _enhanced_files(tmp_path):
    made = tmp_path / "made"
    made.mkdir()
    files = {
        "emri_small": get_testdata_file("emri_small.dcm"),
        "eCT_Supplemental": get_testdata_file("eCT_Supplemental.dcm"),
    }
    for name, ds in (("factory-mr", make_enhanced_mr(frames=3, rows=16, columns=16)),
                     ("factory-ct", make_enhanced_ct(frames=3, rows=16, columns=16))):
        path = made / f"{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files[name] = str(path)
    return files


NAMES = ["emri_small", "eCT_Supplemental", "factory-mr", "factory-ct"]


@pytest.mark.parametrize("name", NAMES)
def test_enhanced_to_classic_and_back(name, tmp_path, uids):
    path = _enhanced_files(tmp_path)[name]
    source = pydicom.dcmread(path)
    classic = to_classic(source, uids=uids)
    frames = int(source.NumberOfFrames)
    assert [c.kind for c in classic] == [CLASSIC] * frames
    source_pixels = frame_pixels(source)
    for number, conversion in enumerate(classic, start=1):
        ds = conversion.dataset
        assert ds.SOPClassUID == ENHANCED_TO_CLASSIC[source.SOPClassUID]
        assert ds.QueryRetrieveView == "CLASSIC"
        reference = ds.ConversionSourceAttributesSequence[0]
        assert (reference.ReferencedSOPInstanceUID, int(reference.ReferencedFrameNumber)) == (
            source.SOPInstanceUID, number)
        assert conversion.frame_map == {(source.SOPInstanceUID, number): (ds.SOPInstanceUID, None)}
        assert "PerFrameFunctionalGroupsSequence" not in ds and "NumberOfFrames" not in ds
        assert np.array_equal(frame_pixels(ds)[0], source_pixels[number - 1])
        out = tmp_path / f"classic{number}.dcm"
        write_part10(conversion, out)
        ignored = NO_GEOMETRY if name == "emri_small" else set()
        assert new_errors(out, [path]) - ignored == set()
    back = to_enhanced([c.dataset for c in classic], uids=uids)
    assert [c.kind for c in back] == [ENHANCED]
    assert np.array_equal(frame_pixels(back[0].dataset), source_pixels)
    out = tmp_path / "back.dcm"
    write_part10(back[0], out)
    ignored = NO_GEOMETRY if name == "emri_small" else set()
    assert new_errors(out, [path]) - ignored == set()


def test_classic_frames_carry_the_flattened_geometry(uids):
    source = pydicom.dcmread(get_testdata_file("eCT_Supplemental.dcm"))
    classic = to_classic(source, uids=uids)
    for conversion, item in zip(classic, source.PerFrameFunctionalGroupsSequence):
        position = item.PlanePositionSequence[0].ImagePositionPatient
        assert list(conversion.dataset.ImagePositionPatient) == list(position)
        shared = source.SharedFunctionalGroupsSequence[0]
        assert list(conversion.dataset.PixelSpacing) == list(shared.PixelMeasuresSequence[0].PixelSpacing)


def test_new_classic_uids_are_deterministic_and_secret_dependent():
    source = pydicom.dcmread(get_testdata_file("eCT_Supplemental.dcm"))
    first = [c.sop_instance_uid for c in to_classic(source, uids=UIDSource("a"))]
    again = [c.sop_instance_uid for c in to_classic(source, uids=UIDSource("a"))]
    other = [c.sop_instance_uid for c in to_classic(source, uids=UIDSource("b"))]
    assert first == again and set(first).isdisjoint(other)
    assert all(uid.startswith("2.25.") and len(uid) <= 64 for uid in first)


@pytest.mark.parametrize("modality", ["CT", "MR", "PET"])
def test_legacy_converted_without_recovery_gives_new_valid_instances(modality, uids, tmp_path):
    from qrscp.testing.factory import write_datasets

    sources = list(series_for(modality, "window-rescale"))
    paths = write_datasets(sources, tmp_path / "sources")
    enhanced = to_enhanced(sources, uids=uids)[0].dataset
    classic = to_classic(enhanced, uids=uids, recover_originals=False)
    assert {c.kind for c in classic} == {CLASSIC}
    assert {c.sop_instance_uid for c in classic}.isdisjoint(ds.SOPInstanceUID for ds in sources)
    for number, conversion in enumerate(classic, start=1):
        assert conversion.dataset.ConversionSourceAttributesSequence[0].ReferencedFrameNumber == number
        write_part10(conversion, tmp_path / "classic.dcm")
        assert new_errors(tmp_path / "classic.dcm", paths) == set()


def test_other_objects_are_left_alone(uids):
    sources = list(series_for("CT", "uncompressed"))
    assert to_classic(sources[0], uids=uids) == []
