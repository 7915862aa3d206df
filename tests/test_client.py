"""``qrscp find|get|move``: the client negotiates the view option, prints matches and writes retrieved files."""

from __future__ import annotations

import pytest
from pydicom import dcmread

from qrscp.cli import main
from qrscp.cli.client import build_identifier
from qrscp.cli.view_negotiation import conversion_accepted, conversion_app_info
from qrscp.config import Peer
from qrscp.uids import (
    COMPOSITE_INSTANCE_ROOT_GET,
    GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE,
    PATIENT_ROOT_FIND,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
)
from qrscp.testing.network import free_port
from tests.views.conftest import ZZZ_FIRST_SLICE_UID, ZZZ_STUDY_UID, zzzb_datasets


@pytest.mark.parametrize(
    "sop_class, view, expected",
    [
        (STUDY_ROOT_FIND, True, b"\x01\x00\x00\x00\x01"),
        (PATIENT_ROOT_FIND, False, b"\x01"),
        (STUDY_ROOT_GET, True, b"\x01\x01"),
        (STUDY_ROOT_MOVE, False, b"\x01"),
        (COMPOSITE_INSTANCE_ROOT_GET, True, b"\x00\x01"),
        (COMPOSITE_INSTANCE_ROOT_GET, False, None),
    ],
)
def test_offered_application_information(sop_class, view, expected):
    assert conversion_app_info(sop_class, view=view) == expected


def test_conversion_accepted_reads_the_right_byte():
    assert conversion_accepted(STUDY_ROOT_FIND, {STUDY_ROOT_FIND: b"\x01\x00\x00\x00\x01"})
    assert not conversion_accepted(STUDY_ROOT_FIND, {STUDY_ROOT_FIND: b"\x01"})
    assert conversion_accepted(STUDY_ROOT_GET, {STUDY_ROOT_GET: b"\x00\x01"})
    assert not conversion_accepted(STUDY_ROOT_GET, {})


def test_build_identifier_keys_and_view():
    identifier = build_identifier("SERIES", ["Modality=CT", "0020,000D=1.2.3", "SeriesDescription"], view="enhanced",
                                  with_defaults=True)
    assert identifier.QueryRetrieveLevel == "SERIES"
    assert identifier.QueryRetrieveView == "ENHANCED"
    assert identifier.Modality == "CT" and identifier.StudyInstanceUID == "1.2.3"
    assert "SeriesDescription" in identifier and identifier.SeriesDescription in (None, "")
    assert "NumberOfSeriesRelatedInstances" in identifier  # a default return key of the level


@pytest.fixture
def zzzb_client_archive(archive, dicom_client, tmp_path):
    from qrscp.testing.factory import write_datasets

    assert all(int(s.Status) == 0 for s in dicom_client.store(write_datasets(zzzb_datasets(), tmp_path / "zzzb")))
    return archive


def _base(command: str, archive) -> list[str]:
    return [command, "127.0.0.1", str(archive.port), "--aec", archive.ae_title]


def test_find_in_the_enhanced_view(zzzb_client_archive, capsys):
    code = main(_base("find", zzzb_client_archive) + [
        "--view", "enhanced", "--level", "SERIES", "-k", f"StudyInstanceUID={ZZZ_STUDY_UID}",
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 match(es)" in out
    assert "ENHANCED" in out


def test_get_writes_the_view_objects(zzzb_client_archive, tmp_path, capsys):
    output = tmp_path / "got"
    code = main(_base("get", zzzb_client_archive) + [
        "--view", "enhanced", "-k", f"StudyInstanceUID={ZZZ_STUDY_UID}", "-o", str(output),
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    files = sorted(output.glob("*.dcm"))
    classes = sorted(str(dcmread(p).SOPClassUID) for p in files)
    assert classes == sorted([GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE])
    assert all(dcmread(p).QueryRetrieveView == "ENHANCED" for p in files)
    assert "completed 2, failed 0" in out


def test_move_to_its_own_storage_port(zzzb_client_archive, tmp_path, capsys):
    port = free_port()
    zzzb_client_archive.config.peers["QRSCU"] = Peer("QRSCU", "127.0.0.1", port)
    output = tmp_path / "moved"
    code = main(_base("move", zzzb_client_archive) + [
        "--view", "classic", "--level", "IMAGE", "-k", f"StudyInstanceUID={ZZZ_STUDY_UID}",
        "-k", "SeriesInstanceUID=1.3.6.1.4.1.9328.50.1.160525591228102999616019562758104412505",
        "-k", f"SOPInstanceUID={ZZZ_FIRST_SLICE_UID}", "--dest", "QRSCU", "--store-port", str(port), "-o", str(output),
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    assert [p.name for p in output.glob("*.dcm")] == [f"{ZZZ_FIRST_SLICE_UID}.dcm"]


def test_view_refused_when_the_archive_does_not_offer_views(make_archive, capsys):
    archive = make_archive(lambda config: setattr(config.views, "enabled", False))
    code = main(_base("find", archive) + ["--view", "classic"])
    out = capsys.readouterr().out
    assert code == 2
    assert "did not accept" in out


def test_failure_status_gives_a_non_zero_exit_code(zzzb_client_archive, capsys):
    # A SOP Instance UID that the ENHANCED view replaced: the archive answers a failure with a comment.
    code = main(_base("find", zzzb_client_archive) + [
        "--view", "enhanced", "--level", "IMAGE", "-k", f"StudyInstanceUID={ZZZ_STUDY_UID}",
        "-k", "SeriesInstanceUID=1.3.6.1.4.1.9328.50.1.160525591228102999616019562758104412505",
        "-k", f"SOPInstanceUID={ZZZ_FIRST_SLICE_UID}",
    ])
    out = capsys.readouterr().out
    assert code == 1
    assert "not in the ENHANCED view" in out
