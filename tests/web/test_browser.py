"""The study browser as a person sees it: headless Chromium (Debian ``chromium``) loads the pages, and
the test reads the DOM it built: the study list and its search, the study page with its series in each
view, counts, thumbnails (fetched by the browser: checked in the server's log) and download links."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest
from pydicom import dcmread

from tests.web.conftest import LOCALHOST

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.network,
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium is not installed"),
]


class _Page(HTMLParser):
    """What the tests look at: text per element id/class, links, images."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (class, href)
        self.images: list[str] = []
        self.rows: dict[str, list[list[str]]] = {}  # tr class -> cell texts
        self.ids: dict[str, str] = {}
        self._row: list[str] | None = None
        self._row_class = ""
        self._cell: list[str] | None = None
        self._id_stack: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.append((attrs.get("class", ""), attrs.get("href", "")))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "tr":
            self._row, self._row_class = [], attrs.get("class", "")
        if tag == "td" and self._row is not None:
            self._cell = []
        if "id" in attrs:
            self._id_stack.append((attrs["id"], []))

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.setdefault(self._row_class, []).append(self._row)
            self._row = None
        if tag in ("p", "section", "form", "table") and self._id_stack:
            identifier, texts = self._id_stack.pop()
            self.ids[identifier] = " ".join("".join(texts).split())

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for _, texts in self._id_stack:
            texts.append(data)


def _chromium(url: str, profile) -> _Page:
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, timeout=120, check=True,
    )
    page = _Page()
    page.feed(result.stdout.decode("utf-8"))
    return page


def test_study_list_search_and_study_page(web, tmp_path, caplog):
    base = web.base_url
    page = _chromium(base + "/", tmp_path / "profile")
    assert page.ids["study-count"].startswith(f"{len(web.studies)} studies")
    study_links = [href for cls, href in page.links if href.startswith("/browse/studies/")]
    assert sorted(href.rsplit("/", 1)[1] for href in study_links) == sorted(web.studies.values())

    # Search by patient ID and by modality: only the matching studies are listed.
    mr_study = web.studies["mr"]
    with web.http() as http:
        mr_patient = http.get("/dicomweb/studies", params={"StudyInstanceUID": mr_study}).json()[0]["00100020"]["Value"][0]
    searched = _chromium(base + "/?" + urlencode({"patient_id": mr_patient}), tmp_path / "profile")
    assert [href for _, href in searched.links if href.startswith("/browse/")] == [f"/browse/studies/{mr_study}"]
    by_modality = _chromium(base + "/?" + urlencode({"modality": "CT"}), tmp_path / "profile")
    assert [href for _, href in by_modality.links if href.startswith("/browse/")] == [f"/browse/studies/{web.studies['ct']}"]

    # The CT study: one series of 4 in the default and CLASSIC views, one multi-frame in ENHANCED.
    caplog.set_level(logging.INFO, logger="qrscp.web")
    study = web.studies["ct"]
    page = _chromium(f"{base}/browse/studies/{study}", tmp_path / "profile")
    assert page.ids["view-default"].startswith("default view: 1 series, 4 instances")
    assert page.ids["view-classic"].startswith("CLASSIC view: 1 series, 4 instances")
    assert page.ids["view-enhanced"].startswith("ENHANCED view: 1 series, 1 instances")
    counts = [row[4] for row in page.rows["series"]]
    assert counts == ["4", "4", "1"]
    assert len(page.images) == 3 and all(src.endswith("/thumbnail") for src in page.images)
    assert [src.split("/studies/")[0] for src in page.images] == ["/dicomweb", "/dicomweb/views/classic", "/dicomweb/views/enhanced"]
    fetched = {r.getMessage() for r in caplog.records if "/thumbnail -> 200" in r.getMessage()}
    for src in page.images:
        assert any(f"GET {src} -> 200" in message for message in fetched), src
    downloads = [href for cls, href in page.links if cls == "download"]
    assert len(downloads) == 4 + 4 + 1
    with httpx.Client(base_url=base) as http:
        enhanced_file = http.get(downloads[-1])
    assert enhanced_file.headers["content-type"] == "application/dicom"
    ds = dcmread(io.BytesIO(enhanced_file.content))
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2.2" and int(ds.NumberOfFrames) == 4


def test_study_page_of_an_enhanced_image_lists_its_frames_in_classic(web, tmp_path):
    page = _chromium(f"{web.base_url}/browse/studies/{web.studies['enhanced']}", tmp_path / "profile")
    assert page.ids["view-classic"].startswith("CLASSIC view: 1 series, 5 instances")
    assert page.ids["view-enhanced"].startswith("ENHANCED view: 1 series, 1 instances")
    assert page.ids["view-default"].startswith("default view: 1 series, 1 instances")


def test_unknown_study_page_is_404(web):
    response = httpx.get(f"http://{LOCALHOST}:{web.archive.http.port}/browse/studies/1.2.3")
    assert response.status_code == 404 and "no study 1.2.3" in response.text


def test_values_are_escaped_in_the_pages(tmp_path):
    from qrscp.testing.factory import make_series
    from tests.web.conftest import start_web_archive, store

    web = start_web_archive(tmp_path / "archive")
    try:
        series = make_series("CT", slices=1, rows=16, columns=16, seed=190)
        series[0].PatientName = "<script>alert(1)</script>"
        series[0].StudyDescription = "a & b"
        store(web, "xss", series)
        with web.http() as http:
            listing = http.get("/").text
            page = http.get(f"/browse/studies/{web.studies['xss']}").text
        for html in (listing, page):
            assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "a &amp; b" in page
    finally:
        web.archive.stop(drain_timeout=10)
