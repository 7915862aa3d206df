"""Frame Range Keys (PS3.4 Y.3.2): parsing, the normalised Frame List and every refusal."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from qrscp.convert.frame_lists import (
    FrameRequest,
    FrameRequestError,
    frame_list,
    parse_frame_request,
)
from qrscp.status import Status


def _identifier(**keys: object) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "FRAME"
    ds.SOPInstanceUID = "1.2.3"
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"SimpleFrameList": [1, 5, 9]}, FrameRequest("SimpleFrameList", (1, 5, 9))),
        ({"SimpleFrameList": 7}, FrameRequest("SimpleFrameList", (7,))),
        ({"CalculatedFrameList": [2, 9, 3]}, FrameRequest("CalculatedFrameList", (2, 9, 3))),
        ({"TimeRange": [0.5, 1.5]}, FrameRequest("TimeRange", (0.5, 1.5))),
    ],
)
def test_each_frame_range_key_is_parsed(keys, expected):
    assert parse_frame_request(_identifier(**keys)) == expected


@pytest.mark.parametrize(
    "keys",
    [{}, {"SimpleFrameList": [1], "CalculatedFrameList": [1, 2, 1]}, {"SimpleFrameList": [1], "TimeRange": [0, 1]}],
)
def test_no_or_several_frame_range_keys_do_not_match_the_sop_class(keys):
    with pytest.raises(FrameRequestError) as caught:
        parse_frame_request(_identifier(**keys))
    assert caught.value.status == Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert "exactly one Frame Range Key" in caught.value.comment


@pytest.mark.parametrize("keys", [{"SimpleFrameList": []}, {"TimeRange": [1.0]}, {"TimeRange": [1.0, 2.0, 3.0]}])
def test_empty_or_malformed_values_are_invalid_requests(keys):
    with pytest.raises(FrameRequestError) as caught:
        parse_frame_request(_identifier(**keys))
    assert caught.value.status == Status.INVALID_REQUEST


@pytest.mark.parametrize(
    ("values", "frames"),
    [
        ((1, 5, 9), (1, 5, 9)),
        ((10,), (10,)),
    ],
)
def test_simple_frame_list(values, frames):
    assert frame_list(FrameRequest("SimpleFrameList", values), 10) == frames


def test_calculated_frame_list_example_of_the_standard():
    # Y.3.2.1.2 note: 2, 9, 3, 12, FFFFFFFFH, 5 on 25 frames.
    request = FrameRequest("CalculatedFrameList", (2, 9, 3, 12, 0xFFFFFFFF, 5))
    assert frame_list(request, 25) == (2, 5, 8, 12, 17, 22)


@pytest.mark.parametrize(
    ("values", "frames"),
    [
        ((1, 10, 1), tuple(range(1, 11))),
        ((3, 3, 1), (3,)),
        ((1, 4, 3, 8, 100, 1), (1, 4, 8, 9, 10)),  # last value beyond Number of Frames: to the end
        ((2, 3, 1, 20, 30, 1), (2, 3)),  # a sub-range starting beyond Number of Frames is ignored
    ],
)
def test_calculated_frame_list(values, frames):
    assert frame_list(FrameRequest("CalculatedFrameList", values), 10) == frames


def test_time_range_selects_frames_within_bounds_included():
    times = [0.0, 0.1, 0.2, 0.30000000000000004, 0.4]
    assert frame_list(FrameRequest("TimeRange", (0.1, 0.3)), 5, times) == (2, 3, 4)


@pytest.mark.parametrize(
    ("request_", "status", "comment"),
    [
        (FrameRequest("SimpleFrameList", (0, 2)), Status.INVALID_REQUEST, "start at 1"),
        (FrameRequest("SimpleFrameList", (2, 2)), Status.INVALID_REQUEST, "strictly increase"),
        (FrameRequest("SimpleFrameList", (5, 3)), Status.INVALID_REQUEST, "strictly increase"),
        (FrameRequest("SimpleFrameList", (3, 11)), Status.INVALID_REQUEST, "beyond Number of Frames"),
        (FrameRequest("SimpleFrameList", (11, 12)), Status.NO_FRAMES_FOUND, "none of the frames"),
        (FrameRequest("CalculatedFrameList", (1, 2)), Status.INVALID_REQUEST, "triplets"),
        (FrameRequest("CalculatedFrameList", (0, 2, 1)), Status.INVALID_REQUEST, "malformed"),
        (FrameRequest("CalculatedFrameList", (3, 2, 1)), Status.INVALID_REQUEST, "malformed"),
        (FrameRequest("CalculatedFrameList", (1, 2, 0)), Status.INVALID_REQUEST, "malformed"),
        (FrameRequest("CalculatedFrameList", (1, 5, 1, 4, 6, 1)), Status.INVALID_REQUEST, "overlap"),
        (FrameRequest("CalculatedFrameList", (1, 20, 1, 4, 6, 1)), Status.INVALID_REQUEST, "only the last"),
        (FrameRequest("CalculatedFrameList", (11, 20, 1)), Status.NO_FRAMES_FOUND, "none of the frames"),
        (FrameRequest("TimeRange", (2.0, 1.0)), Status.INVALID_REQUEST, "start is after"),
        (FrameRequest("TimeRange", (5.0, 6.0)), Status.NO_FRAMES_FOUND, "none of the frames"),
    ],
)
def test_bad_frame_lists_are_refused_with_their_status(request_, status, comment):
    with pytest.raises(FrameRequestError) as caught:
        frame_list(request_, 10, [0.1 * i for i in range(10)])
    assert caught.value.status == status
    assert comment in caught.value.comment
    assert len(caught.value.comment) <= 64


def test_time_range_on_an_instance_without_frame_times():
    with pytest.raises(FrameRequestError) as caught:
        frame_list(FrameRequest("TimeRange", (0.0, 1.0)), 10, None)
    assert caught.value.status == Status.TIME_BASED_REQUEST_FOR_NON_TIME_BASED
