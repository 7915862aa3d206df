"""The grouping rule and frame order of classic -> enhanced conversion."""

from __future__ import annotations

import copy

from convert_checks import series_for
from hypothesis import given, settings
from hypothesis import strategies as st

from qrscp.convert import UIDSource, group_for_enhanced, to_enhanced, write_part10


def _copies(modality: str, variant: str = "uncompressed"):
    return [copy.deepcopy(ds) for ds in series_for(modality, variant)]


def test_series_and_pixel_modules_split_groups_but_orientation_does_not():
    from qrscp.testing.factory import make_series

    ct, mr = _copies("CT"), _copies("MR")
    ct[3].Rows = 16  # another Image Pixel module
    turned = make_series("CT", slices=4, rows=32, columns=32, seed=99, two_orientations=True)
    groups = group_for_enhanced(ct + mr + turned)
    sizes = sorted(len(g) for g in groups)
    assert sizes == [1, 3, 4, 4]


def test_frames_follow_instance_number_then_position():
    slices = _copies("PET")
    for ds, number in zip(slices, (4, 2, 3, 1)):
        ds.InstanceNumber = number
    (group,) = group_for_enhanced(slices)
    assert [int(ds.InstanceNumber) for ds in group] == [1, 2, 3, 4]


def test_duplicates_are_converted_once_and_other_objects_ignored():
    slices = _copies("CT")
    from qrscp.testing.factory import make_gsps

    groups = group_for_enhanced(slices + [slices[0], make_gsps(slices)])
    assert [len(g) for g in groups] == [len(slices)]


@settings(max_examples=8, deadline=None)
@given(st.permutations(range(4)), st.integers(min_value=1, max_value=4))
def test_any_order_of_any_subset_gives_the_same_image(order, count):
    slices = list(series_for("MR", "uncompressed"))
    chosen = [slices[i] for i in order[:count]]
    reference = to_enhanced(sorted(chosen, key=lambda ds: ds.SOPInstanceUID), uids=UIDSource("p"))[0]
    shuffled = to_enhanced(chosen, uids=UIDSource("p"))[0]
    assert shuffled.dataset == reference.dataset
    assert set(shuffled.frame_map) == {(ds.SOPInstanceUID, None) for ds in chosen}
    assert sorted(frame for _, frame in shuffled.frame_map.values()) == list(range(1, count + 1))


def test_written_bytes_do_not_depend_on_the_process(tmp_path):
    """UIDs and dates come from the sources and the secret only: a fixed secret gives fixed UIDs."""
    conversion = to_enhanced(list(series_for("CT", "uncompressed")), uids=UIDSource("fixed"))[0]
    first = tmp_path / "a.dcm"
    write_part10(conversion, first)
    again = to_enhanced(list(reversed(series_for("CT", "uncompressed"))), uids=UIDSource("fixed"))[0]
    second = tmp_path / "b.dcm"
    write_part10(again, second)
    assert first.read_bytes() == second.read_bytes()
    assert conversion.sop_instance_uid == UIDSource("fixed").derive(
        "ENHANCED", "instance", [ds.SOPInstanceUID for ds in series_for("CT", "uncompressed")])


def test_the_reason_an_instance_is_not_converted_is_said():
    from qrscp.convert.grouping import classic_refusal, is_convertible_classic
    from qrscp.testing.factory import make_gsps

    image = _copies("CT")[0]
    assert classic_refusal(image) is None and is_convertible_classic(image)
    without_pixels = copy.deepcopy(image)
    del without_pixels.PixelData
    assert classic_refusal(without_pixels) == "CT Image Storage without Pixel Data"
    multi = copy.deepcopy(image)
    multi.NumberOfFrames = "3"
    assert "Number of Frames 3" in classic_refusal(multi)
    state = make_gsps([image])
    assert classic_refusal(state) == "Grayscale Softcopy Presentation State Storage is not a classic CT/MR/PET image"
    for refused in (without_pixels, multi, state):
        assert not is_convertible_classic(refused)
