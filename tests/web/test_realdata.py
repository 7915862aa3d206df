"""Real scanner data (``/work/shared/realdata``, one file per folder) through every WADO-RS resource of
the default and ENHANCED roots: no answer is a server error, every image renders and gives its first
frame, every object its metadata and its bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from qrscp.dicom.part10 import split_part10
from tests.web.conftest import start_web_archive

REALDATA = Path("/work/shared/realdata")
pytestmark = [pytest.mark.network, pytest.mark.slow,
              pytest.mark.skipif(not REALDATA.is_dir(), reason="no real scanner data here")]


def _one_per_folder() -> list[Path]:
    chosen: dict[Path, Path] = {}
    for path in sorted(REALDATA.rglob("*")):
        if path.is_file() and path.suffix not in (".md", ".tsv"):
            chosen.setdefault(path.parent, path)
    return list(chosen.values())


def test_real_objects_through_every_resource(tmp_path):
    web = start_web_archive(tmp_path / "archive")
    try:
        stored = 0
        for path in _one_per_folder():
            try:
                header, dataset_bytes = split_part10(path.read_bytes())
            except ValueError:
                continue
            outcome = web.archive.storage.store(dataset_bytes, transfer_syntax_uid=header.transfer_syntax_uid,
                                                affected_sop_class_uid=None, affected_sop_instance_uid=None,
                                                calling_ae_title="REALDATA")
            stored += outcome.ok
        assert stored >= 40
        with web.http() as http:
            for view in ("default", "enhanced"):
                instances = http.get(web.url(view, "/instances"), headers={"Accept": "application/dicom+json"}).json()
                images = 0
                for item in instances:
                    uids = [item[tag]["Value"][0] for tag in ("0020000D", "0020000E", "00080018")]
                    url = web.url(view, "/studies/{}/series/{}/instances/{}".format(*uids))
                    is_image = "00280010" in item and "Value" in item["00280010"]
                    for suffix, accept in (("", 'multipart/related; type="application/dicom"'),
                                           ("/metadata", "application/dicom+json"), ("/rendered", "image/jpeg"),
                                           ("/frames/1", "*/*"), ("/thumbnail", "image/png")):
                        response = http.get(url + suffix, headers={"Accept": accept})
                        expected = (200,) if is_image or suffix in ("", "/metadata") else (200, 404)
                        assert response.status_code in expected, (view, url + suffix, response.text[:200])
                    images += is_image
                assert images >= 30
    finally:
        web.archive.stop(drain_timeout=10)
