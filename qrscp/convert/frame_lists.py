"""Frame Range Keys of a FRAME level retrieve (PS3.4 Y.3.2): parsing, validation, the normalised Frame List.

A FRAME level Composite Instance Root C-MOVE/C-GET names one SOP Instance UID and exactly one Frame Range
Key:

- Simple Frame List (0008,1161): 1-based frame numbers, strictly increasing;
- Calculated Frame List (0008,1162): (first, last, increment) triplets; a sub-range whose first frame is
  beyond Number of Frames is ignored; FFFFFFFFH or any last value beyond Number of Frames means "to the
  end" and may only occur in the last triplet; the concatenated frames strictly increase;
- Time Range (0008,1163): start and end in seconds relative to Content Time; the frames whose time lies
  within the range, bounds included.

The result is the normalised Frame List: a tuple of 1-based frame numbers in source order. Every refusal
is a :class:`FrameRequestError` carrying its Table Y.4-1 status and an Error Comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydicom.dataset import Dataset

from qrscp.status import Status

SIMPLE_FRAME_LIST = "SimpleFrameList"
CALCULATED_FRAME_LIST = "CalculatedFrameList"
TIME_RANGE = "TimeRange"
#: The Frame Range Keys of PS3.4 Y.3.2, in the order the standard lists them.
FRAME_RANGE_KEYS = (SIMPLE_FRAME_LIST, CALCULATED_FRAME_LIST, TIME_RANGE)
#: Calculated Frame List "to the end of the frames" (Y.3.2.1.2).
TO_THE_END = 0xFFFFFFFF


class FrameRequestError(ValueError):
    """A frame-level request that cannot be served; `status` is from PS3.4 Table Y.4-1."""

    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = int(status)
        self.comment = comment[:64]


@dataclass(frozen=True)
class FrameRequest:
    """The one Frame Range Key of a request: its keyword and its values as received."""

    key: str
    values: tuple[int, ...] | tuple[float, ...]

    def label(self) -> str:
        """Canonical text of the request (used in logs and in the derived SOP Instance UID)."""
        return f"{self.key}=" + "\\".join(repr(v) if isinstance(v, float) else str(v) for v in self.values)


def _values(identifier: Dataset, keyword: str) -> tuple:
    try:
        value = identifier[keyword].value
    except Exception as exc:  # noqa: BLE001 - an undecodable value
        raise FrameRequestError(Status.INVALID_REQUEST, f"{keyword} cannot be decoded") from exc
    if value is None or value == "" or value == b"":
        return ()
    if isinstance(value, (bytes, str)) or not isinstance(value, Sequence):
        return (value,)
    return tuple(value)


def parse_frame_request(identifier: Dataset) -> FrameRequest:
    """Return the one Frame Range Key of a FRAME level request `identifier`.

    Raises
    ------
    FrameRequestError
        No Frame Range Key or several (A900: the identifier does not match the SOP Class), or a key
        without values or with values of the wrong type (AA04 Invalid Request).
    """
    present = [keyword for keyword in FRAME_RANGE_KEYS if keyword in identifier]
    if len(present) != 1:
        found = "none" if not present else ", ".join(present)
        raise FrameRequestError(
            Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, f"exactly one Frame Range Key required, got {found}"
        )
    keyword = present[0]
    values = _values(identifier, keyword)
    if not values:
        raise FrameRequestError(Status.INVALID_REQUEST, f"{keyword} is empty")
    if keyword == TIME_RANGE:
        if len(values) != 2 or not all(isinstance(v, (int, float)) for v in values):
            raise FrameRequestError(Status.INVALID_REQUEST, "Time Range needs two values: start and end")
        return FrameRequest(keyword, (float(values[0]), float(values[1])))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise FrameRequestError(Status.INVALID_REQUEST, f"{keyword} values must be integers")
    return FrameRequest(keyword, tuple(int(v) for v in values))


def frame_list(
    request: FrameRequest, number_of_frames: int, frame_times: Sequence[float] | None = None
) -> tuple[int, ...]:
    """Return the normalised Frame List of `request` for an instance of `number_of_frames` frames.

    Parameters
    ----------
    request : FrameRequest
    number_of_frames : int
        Number of Frames (0028,0008) of the source instance.
    frame_times : sequence of float, optional
        Time of each frame in seconds relative to Content Time; None when the instance has no frame times.

    Raises
    ------
    FrameRequestError
        AA04 for a malformed list (frame 0, not increasing, bad triplet, start after end), AA00 when no
        requested frame is in the instance, AA03 for a Time Range on an instance without frame times.
    """
    if request.key == SIMPLE_FRAME_LIST:
        frames = _simple(request.values, number_of_frames)
    elif request.key == CALCULATED_FRAME_LIST:
        frames = _calculated(request.values, number_of_frames)
    else:
        frames = _time_range(request.values, frame_times)
    if not frames:
        raise FrameRequestError(
            Status.NO_FRAMES_FOUND, f"none of the frames requested is among the {number_of_frames} frames"
        )
    return frames


def _simple(values: Sequence[int], number_of_frames: int) -> tuple[int, ...]:
    previous = 0
    for value in values:
        if value < 1:
            raise FrameRequestError(Status.INVALID_REQUEST, "Simple Frame List: frame numbers start at 1")
        if value <= previous:
            raise FrameRequestError(Status.INVALID_REQUEST, "Simple Frame List must strictly increase")
        previous = value
    inside = tuple(v for v in values if v <= number_of_frames)
    if inside and len(inside) != len(values):
        raise FrameRequestError(
            Status.INVALID_REQUEST, f"frame {values[len(inside)]} is beyond Number of Frames {number_of_frames}"
        )
    return inside


def _calculated(values: Sequence[int], number_of_frames: int) -> tuple[int, ...]:
    if len(values) % 3:
        raise FrameRequestError(Status.INVALID_REQUEST, "Calculated Frame List is not made of triplets")
    frames: list[int] = []
    triplets = [values[i:i + 3] for i in range(0, len(values), 3)]
    for position, (first, last, step) in enumerate(triplets, start=1):
        if first < 1 or step < 1 or last < first:
            raise FrameRequestError(
                Status.INVALID_REQUEST, f"Calculated Frame List triplet {position} is malformed"
            )
        if first > number_of_frames:
            continue  # Y.3.2.1.2: ignored
        if last > number_of_frames and position != len(triplets):
            raise FrameRequestError(
                Status.INVALID_REQUEST, f"triplet {position}: only the last may run to the end"
            )
        if frames and first <= frames[-1]:
            raise FrameRequestError(Status.INVALID_REQUEST, "Calculated Frame List sub-ranges overlap")
        frames.extend(range(first, min(last, number_of_frames) + 1, step))
    return tuple(frames)


def _time_range(values: Sequence[float], frame_times: Sequence[float] | None) -> tuple[int, ...]:
    start, end = values
    if not frame_times:
        raise FrameRequestError(
            Status.TIME_BASED_REQUEST_FOR_NON_TIME_BASED, "Time Range: the instance has no frame times"
        )
    if start > end:
        raise FrameRequestError(Status.INVALID_REQUEST, "Time Range start is after its end")
    # Times are compared at microsecond precision: DS and DT values carry no more.
    low, high = round(start, 6), round(end, 6)
    return tuple(frame for frame, time in enumerate(frame_times, start=1) if low <= round(time, 6) <= high)
