"""The view plan (which instances are converted, rewritten, unchanged) on in-memory datasets."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from qrscp.convert.grouping import group_for_enhanced
from qrscp.services.views.plan import (
    CONVERTED,
    REWRITTEN,
    UNCHANGED,
    is_convertible,
    plan_view,
    referenced_instances,
    rewrite_closure,
)
from qrscp.testing.factory import make_series
from qrscp.testing.references import make_gsps, make_sr
from qrscp.uids import (
    CT_IMAGE_STORAGE,
    ENHANCED_MR_IMAGE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    MR_IMAGE_STORAGE,
    View,
)

MODALITIES = ["CT", "MR", "PET"]


def _by_uid(datasets):
    return {str(ds.SOPInstanceUID): ds for ds in datasets}


def _reference(uid: str, sop_class: str = CT_IMAGE_STORAGE) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    return item


@pytest.mark.parametrize(
    "view, sop_class, expected",
    [
        (View.ENHANCED, CT_IMAGE_STORAGE, True),
        (View.ENHANCED, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, False),
        (View.CLASSIC, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE, True),
        (View.CLASSIC, ENHANCED_MR_IMAGE_STORAGE, True),
        (View.CLASSIC, MR_IMAGE_STORAGE, False),
        (View.DEFAULT, CT_IMAGE_STORAGE, False),
    ],
)
def test_is_convertible(view, sop_class, expected):
    assert is_convertible(view, sop_class) is expected


def test_referenced_instances_walks_nested_sequences_but_not_conversion_sources():
    ds = Dataset()
    series_item = Dataset()
    series_item.ReferencedImageSequence = Sequence([_reference("1.2.3"), _reference("1.2.4")])
    ds.ReferencedSeriesSequence = Sequence([series_item])
    frame = Dataset()
    derivation = Dataset()
    derivation.SourceImageSequence = Sequence([_reference("1.2.5")])
    frame.DerivationImageSequence = Sequence([derivation])
    frame.ConversionSourceAttributesSequence = Sequence([_reference("9.9.9")])
    ds.PerFrameFunctionalGroupsSequence = Sequence([frame])
    ds.ConversionSourceAttributesSequence = Sequence([_reference("9.9.8")])
    assert referenced_instances(ds) == {"1.2.3", "1.2.4", "1.2.5"}


@pytest.mark.parametrize("modality", MODALITIES)
def test_referenced_instances_of_factory_objects(modality):
    images = make_series(modality, slices=3, rows=16, columns=16, seed=3)
    expected = {str(ds.SOPInstanceUID) for ds in images}
    assert referenced_instances(make_gsps(images, seed=3)) == expected
    assert referenced_instances(make_sr(images, seed=3)) >= expected


def test_rewrite_closure_follows_chains_and_survives_cycles():
    references = {
        "gsps": {"ct1"},  # references a converted image
        "kos": {"gsps"},  # references a rewritten object
        "sr-a": {"sr-b", "ct2"},  # cycle through a converted image
        "sr-b": {"sr-a"},
        "loop-x": {"loop-y"},  # a cycle that touches nothing converted
        "loop-y": {"loop-x"},
        "us": set(),
        "self": {"self"},
    }
    assert rewrite_closure(references, {"ct1", "ct2"}) == {"gsps", "kos", "sr-a", "sr-b"}
    assert rewrite_closure(references, set()) == set()


@pytest.mark.parametrize("modality", MODALITIES)
def test_enhanced_plan_converts_the_series_and_rewrites_what_references_it(modality):
    images = make_series(modality, slices=6, rows=16, columns=16, seed=11)
    localizer = make_series(modality, slices=1, rows=16, columns=16, seed=12)  # a series of one image
    gsps = make_gsps(images[:2], seed=11)
    kos_like = Dataset()  # an object referencing only the presentation state
    kos_like.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
    kos_like.SOPInstanceUID = "2.25.1001"
    kos_like.ContentSequence = Sequence([_reference(str(gsps.SOPInstanceUID), str(gsps.SOPClassUID))])
    unrelated = make_gsps(localizer, seed=13)  # references an image that stays unchanged
    headers = _by_uid(images + localizer + [gsps, kos_like, unrelated])

    plan = plan_view(View.ENHANCED, headers, group_for_enhanced=group_for_enhanced)

    assert len(plan.conversions) == 1
    assert set(plan.conversions[0]) == {str(ds.SOPInstanceUID) for ds in images}
    assert set(plan.rewritten) == {str(gsps.SOPInstanceUID), "2.25.1001"}
    assert set(plan.unchanged) == {str(localizer[0].SOPInstanceUID), str(unrelated.SOPInstanceUID)}
    assert set(plan.fates) == set(headers)
    assert {plan.fates[str(ds.SOPInstanceUID)] for ds in images} == {CONVERTED}


@pytest.mark.parametrize("modality", MODALITIES)
def test_classic_plan_of_classic_images_changes_nothing(modality):
    images = make_series(modality, slices=4, rows=16, columns=16, seed=21)
    gsps = make_gsps(images, seed=21)
    plan = plan_view(View.CLASSIC, _by_uid(images + [gsps]), group_for_enhanced=group_for_enhanced)
    assert plan.conversions == ()
    assert plan.rewritten == ()
    assert set(plan.fates.values()) == {UNCHANGED}


def test_classic_plan_splits_each_enhanced_image_and_rewrites_references():
    enhanced = Dataset()
    enhanced.SOPClassUID = ENHANCED_MR_IMAGE_STORAGE
    enhanced.SOPInstanceUID = "2.25.2000"
    seg = Dataset()
    seg.SOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    seg.SOPInstanceUID = "2.25.2001"
    frame_reference = _reference("2.25.2000", ENHANCED_MR_IMAGE_STORAGE)
    frame_reference.ReferencedFrameNumber = 3
    seg.ReferencedSeriesSequence = Sequence([Dataset()])
    seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence = Sequence([frame_reference])
    plan = plan_view(View.CLASSIC, _by_uid([enhanced, seg]), group_for_enhanced=group_for_enhanced)
    assert plan.conversions == (("2.25.2000",),)
    assert plan.rewritten == ("2.25.2001",)


def test_newcomer_referencing_an_earlier_generation_is_rewritten():
    gsps = Dataset()
    gsps.SOPClassUID = "1.2.840.10008.5.1.4.1.1.11.1"
    gsps.SOPInstanceUID = "2.25.3000"
    gsps.ReferencedSeriesSequence = Sequence([Dataset()])
    gsps.ReferencedSeriesSequence[0].ReferencedImageSequence = Sequence([_reference("2.25.2999")])
    plan = plan_view(View.ENHANCED, _by_uid([gsps]), mapped_before={"2.25.2999"}, group_for_enhanced=group_for_enhanced)
    assert plan.fates == {"2.25.3000": REWRITTEN}
    plan = plan_view(View.ENHANCED, _by_uid([gsps]), mapped_before=set(), group_for_enhanced=group_for_enhanced)
    assert plan.fates == {"2.25.3000": UNCHANGED}


def test_superseded_classic_images_are_hidden_and_seed_the_closure():
    images = make_series("CT", slices=3, rows=16, columns=16, seed=31)
    gsps = make_gsps(images[:1], seed=31)
    headers = _by_uid(images + [gsps])
    held = {str(ds.SOPInstanceUID) for ds in images}
    plan = plan_view(View.ENHANCED, headers, superseded=held, group_for_enhanced=group_for_enhanced)
    assert plan.conversions == ()
    assert set(plan.superseded) == held
    assert {plan.fates[uid] for uid in held} == {CONVERTED}
    assert plan.rewritten == (str(gsps.SOPInstanceUID),)
    # Only the ENHANCED view hides them.
    assert plan_view(View.CLASSIC, headers, superseded=held, group_for_enhanced=group_for_enhanced).superseded == ()


def test_enhanced_frame_sources_reads_the_per_frame_conversion_sources():
    from qrscp.convert import UIDSource, to_enhanced
    from qrscp.services.views.plan import enhanced_frame_sources

    images = make_series("CT", slices=3, rows=16, columns=16, seed=32)
    (conversion, *_) = to_enhanced(images, uids=UIDSource("test"), view=View.ENHANCED)
    sources = enhanced_frame_sources(conversion.dataset)
    assert sorted(sources.values()) == [1, 2, 3]
    assert set(sources) == {str(ds.SOPInstanceUID) for ds in images}
