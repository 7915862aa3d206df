"""rewrite_references over every reference form: GSPS, SR, KOS, RT Structure Set, SEG (issue 4)."""

from __future__ import annotations

import warnings

import pytest
from convert_checks import needs_dciodvfy, new_errors, series_for
from pydicom.dataset import Dataset

from qrscp.convert import (
    ReferenceMapping,
    conversion_for_rewritten,
    rewrite_references,
    to_classic,
    to_enhanced,
    write_part10,
)
from qrscp.testing.enhanced import make_enhanced_mr
from qrscp.testing.factory import (
    make_gsps,
    make_kos,
    make_rtstruct,
    make_seg,
    make_sr,
    write_datasets,
)

MAKERS = {"gsps": make_gsps, "sr": make_sr, "kos": make_kos, "rtstruct": make_rtstruct, "seg": make_seg}


def references(ds: Dataset, series: str | None = None) -> list[tuple[str, tuple, str | None]]:
    """(Referenced SOP Instance UID, frames, enclosing Series Instance UID) of every reference Item."""
    found = []
    for elem in ds:
        if elem.VR != "SQ" or elem.keyword == "ConversionSourceAttributesSequence":
            continue
        for item in elem.value:
            if "ReferencedSOPInstanceUID" in item:
                frames = item.get("ReferencedFrameNumber")
                frames = () if frames in (None, "") else tuple(
                    int(f) for f in (frames if not isinstance(frames, (str, int)) else [frames]))
                found.append((str(item.ReferencedSOPInstanceUID), frames, series))
            found.extend(references(item, str(item.SeriesInstanceUID) if "SeriesInstanceUID" in item else series))
    return found


def _expected(original: Dataset, conversions, slices) -> set[tuple[str, tuple]]:
    mapping = {old: new for c in conversions for (old, _), new in c.frame_map.items()}
    expected = set()
    for uid, frames, _ in references(original):
        if uid in mapping:
            new_uid, frame = mapping[uid]
            expected.add((new_uid, (frame,)))
        else:
            expected.add((uid, frames))
    return expected


@pytest.mark.parametrize("modality", ["CT", "MR"])
@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_references_follow_slices_into_frames(kind, modality, tmp_path, uids):
    slices = list(series_for(modality, "uncompressed"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = MAKERS[kind](slices)
    conversions = to_enhanced(slices, uids=uids)
    enhanced = conversions[0].dataset
    rewritten = rewrite_references(original, ReferenceMapping.from_conversions(conversions), uids=uids,
                                   view="ENHANCED")
    assert rewritten is not None
    assert {(uid, frames) for uid, frames, _ in references(rewritten)} == _expected(original, conversions, slices)
    old = {str(ds.SOPInstanceUID) for ds in slices}
    for uid, frames, series in references(rewritten):
        assert uid not in old
        if uid == enhanced.SOPInstanceUID and series is not None:
            assert series == enhanced.SeriesInstanceUID
    assert rewritten.SOPClassUID == original.SOPClassUID
    assert rewritten.SOPInstanceUID != original.SOPInstanceUID
    assert rewritten.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID == original.SOPInstanceUID
    assert rewritten.QueryRetrieveView == "ENHANCED"
    again = rewrite_references(original, ReferenceMapping.from_conversions(conversions), uids=uids, view="ENHANCED")
    assert again.SOPInstanceUID == rewritten.SOPInstanceUID and again == rewritten
    if needs_dciodvfy.args[0]:
        return
    source_paths = write_datasets([original], tmp_path / "original")
    write_part10(rewritten, tmp_path / "rewritten.dcm")
    assert new_errors(tmp_path / "rewritten.dcm", source_paths) == set()


def test_objects_without_converted_references_are_left_alone(uids):
    slices = list(series_for("CT", "uncompressed"))
    other = list(series_for("MR", "uncompressed"))
    conversions = to_enhanced(slices, uids=uids)
    assert rewrite_references(make_gsps(other), ReferenceMapping.from_conversions(conversions), uids=uids,
                              view="ENHANCED") is None


def test_references_to_references_are_rewritten_in_turn(uids):
    slices = list(series_for("CT", "uncompressed"))
    gsps = make_gsps(slices)
    kos = make_kos([gsps])
    conversions = to_enhanced(slices, uids=uids)
    mapping = ReferenceMapping.from_conversions(conversions)
    assert rewrite_references(kos, mapping, uids=uids, view="ENHANCED") is None
    new_gsps = rewrite_references(gsps, mapping, uids=uids, view="ENHANCED")
    mapping.add_conversion(conversion_for_rewritten(gsps, new_gsps))
    new_kos = rewrite_references(kos, mapping, uids=uids, view="ENHANCED")
    assert new_gsps.SOPInstanceUID in {uid for uid, _, _ in references(new_kos)}
    assert gsps.SOPInstanceUID not in {uid for uid, _, _ in references(new_kos)}


@pytest.mark.parametrize("kind", ["seg", "gsps", "sr"])
def test_references_to_enhanced_frames_become_classic_instances(kind, uids):
    enhanced = make_enhanced_mr(frames=3, rows=16, columns=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = MAKERS[kind]([enhanced])
    classic = to_classic(enhanced, uids=uids)
    rewritten = rewrite_references(original, ReferenceMapping.from_conversions(classic), uids=uids, view="CLASSIC")
    assert rewritten is not None
    new = {c.sop_instance_uid: c for c in classic}
    targets = references(rewritten)
    assert targets and all(uid in new and frames == () for uid, frames, _ in targets)
    if kind == "seg":
        assert {uid for uid, _, _ in targets} == set(new)  # every source frame's classic image
    if kind == "sr":
        # An IMAGE content item holds one reference: one item per classic image of the whole enhanced one.
        items = _content_items(rewritten)
        assert items and all(len(i.ReferencedSOPSequence) == 1 for i in items)
        assert {i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for i in items} == set(new)
    for uid, _, series in targets:
        assert series in (None, new[uid].series_instance_uid)


def _content_items(ds: Dataset) -> list[Dataset]:
    found = []
    for item in ds.get("ContentSequence") or []:
        if item.get("ValueType") == "IMAGE":
            found.append(item)
        found.extend(_content_items(item))
    return found
