"""Every series of the real-data corpus and of pydicom-data, converted both ways (issue 17).

Classic CT/MR/PET series -> Legacy Converted Enhanced -> classic; enhanced CT/MR/PET images -> classic.
Checked by :mod:`qrscp.services.check`: no dciodvfy error that no source file has, pixel data equal
frame by frame, exact round trip; and byte-identical outputs for shuffled inputs.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest

from qrscp.convert import ENHANCED, UIDSource, read_source, to_enhanced, write_part10
from qrscp.convert.classic import is_convertible_enhanced
from qrscp.convert.grouping import classic_refusal
from qrscp.services.check import Checker, series_of
from qrscp.testing.files import testdata_files as pydicom_files
from tests.realdata.conftest import corpus_files

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _corpus_series():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series, _ = series_of(corpus_files())
    return series


def _pydicom_units():
    """pydicom-data's files are encodings of a few images sharing Series (and sometimes SOP Instance) UIDs:
    each file is its own unit."""
    units = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in pydicom_files("*"):
            series, _ = series_of([Path(path)])
            for instances in series.values():
                if any(classic_refusal(ds) is None or is_convertible_enhanced(ds) for _, ds in instances):
                    units[Path(path).name] = instances
    return units


CORPUS = _corpus_series()
PYDICOM = _pydicom_units()


def _id(uid: str, instances) -> str:
    return f"{instances[0][0].parent.name}-{uid[-8:]}"


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    checker = Checker(UIDSource("realdata-lane"), workdir=tmp_path_factory.mktemp("check"))
    yield checker
    checker.close()


def _check(checker, name, instances, unconverted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = checker.check(name, instances)
    for result in results:
        if not result.converted:
            unconverted[f"{result.location} ({name[-12:]})"] = result.reason
        assert result.ok, (result.reason, result.new_errors[:5], result.round_trip_differences[:5])
        images = [ds for _, ds in instances if classic_refusal(ds) is None]
        if images:  # a classic CT/MR/PET series is never left unconverted
            assert result.converted or result.direction != "enhanced", result.reason
    return results


def test_the_corpus_is_there(corpus):
    assert len(CORPUS) >= 40, "the lane must see the whole corpus"


@pytest.mark.parametrize("uid", sorted(CORPUS), ids=[_id(u, CORPUS[u]) for u in sorted(CORPUS)])
def test_real_series_converts_both_ways_cleanly(uid, checker, unconverted):
    _check(checker, uid, CORPUS[uid], unconverted)


@pytest.mark.parametrize("name", sorted(PYDICOM))
def test_pydicom_data_image_converts_both_ways_cleanly(name, checker, unconverted):
    results = _check(checker, name, PYDICOM[name], unconverted)
    assert any(r.converted for r in results)


CLASSIC_SERIES = sorted(uid for uid, instances in CORPUS.items()
                        if sum(classic_refusal(ds) is None for _, ds in instances) > 1)


@pytest.mark.parametrize("uid", CLASSIC_SERIES, ids=[_id(u, CORPUS[u]) for u in CLASSIC_SERIES])
def test_shuffled_input_gives_byte_identical_output(uid, tmp_path):
    paths = [path for path, ds in CORPUS[uid] if classic_refusal(ds) is None]
    outputs = []
    for attempt, seed in enumerate((1, 2)):
        order = list(paths)
        random.Random(seed).shuffle(order)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            conversions = to_enhanced([read_source(p) for p in order], uids=UIDSource("shuffle"))
        files = []
        for index, conversion in enumerate(conversions):
            out = tmp_path / f"{attempt}-{index}.dcm"
            write_part10(conversion, out)
            files.append(out.read_bytes())
        assert any(c.kind == ENHANCED for c in conversions)
        outputs.append(files)
    assert outputs[0] == outputs[1]
