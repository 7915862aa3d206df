"""The study browser: server-rendered pages (Jinja2 templates, no JavaScript) over the query service.

``GET /`` lists studies (search by patient name or ID, study date range, modality); ``GET
/browse/studies/{study}`` shows the study's series in each view (default, CLASSIC, ENHANCED) with their
instance counts, a thumbnail per series (the view's WADO-RS ``/thumbnail``) and a download link per
instance (``/browse/download/...``: the stored Part 10 file).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from qrscp.uids import Level, View
from qrscp.web import qido, wado
from qrscp.web.errors import WebError

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
#: Studies listed at most on one page.
PAGE = 200
VIEW_NAMES = {View.DEFAULT: "default", View.CLASSIC: "CLASSIC", View.ENHANCED: "ENHANCED"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def _row(ds: Any) -> dict[str, str]:
    return {element.keyword: _text(element.value) for element in ds if element.keyword}


def _date_range(start: str, end: str) -> str:
    for value in (start, end):
        if value and not _DATE.match(value):
            raise WebError(400, f"date {value!r} is not YYYY-MM-DD")
    if not start and not end:
        return ""
    return f"{start.replace('-', '')}-{end.replace('-', '')}"


class Browser:
    """The pages, over the archive's services and the service roots of the views."""

    def __init__(self, services: Any, roots: dict[View, str]) -> None:
        self.services = services
        self.roots = roots

    def _search(self, level: Level, params: list[tuple[str, str]], view: View, uids: dict[str, str]) -> list[dict]:
        search = qido.parse(QueryParams(params), level, uids)
        matches, _ = qido.run(self.services.query, search, view)
        return [_row(m) for m in matches]

    async def studies(self, request: Request) -> Response:
        form = {k: request.query_params.get(k, "").strip() for k in ("patient", "patient_id", "from", "to", "modality")}
        params = [("limit", str(PAGE)), ("includefield", "StudyDescription")]
        if form["patient"]:
            name = form["patient"]
            params.append(("PatientName", name if any(c in name for c in "*?") else f"*{name}*"))
        if form["patient_id"]:
            params.append(("PatientID", form["patient_id"]))
        dates = _date_range(form["from"], form["to"])
        if dates:
            params.append(("StudyDate", dates))
        if form["modality"]:
            params.append(("ModalitiesInStudy", form["modality"].upper()))
        studies = await run_in_threadpool(self._search, Level.STUDY, params, View.DEFAULT, {})
        studies.sort(key=lambda s: (s.get("StudyDate", ""), s.get("StudyTime", "")), reverse=True)
        return TEMPLATES.TemplateResponse(request, "studies.html", {"studies": studies, "form": form, "page": PAGE})

    def _study(self, study: str) -> dict[str, Any]:
        found = self._search(Level.STUDY, [("includefield", "StudyDescription")], View.DEFAULT, {"StudyInstanceUID": study})
        if not found:
            raise WebError(404, f"no study {study}")
        views = []
        for view, root in self.roots.items():
            uids = {"StudyInstanceUID": study}
            series = self._search(Level.SERIES, [("includefield", "SeriesDate")], view, uids)
            instances = self._search(Level.IMAGE, [], view, uids)
            by_series: dict[str, list[dict]] = {}
            for instance in instances:
                by_series.setdefault(instance.get("SeriesInstanceUID", ""), []).append(instance)
            for row in series:
                row["instances"] = sorted(by_series.get(row["SeriesInstanceUID"], []),
                                          key=lambda i: int(i.get("InstanceNumber") or 0))
                row["thumbnail"] = f"{root}/studies/{study}/series/{row['SeriesInstanceUID']}/thumbnail"
            series.sort(key=lambda r: int(r.get("SeriesNumber") or 0) if (r.get("SeriesNumber") or "").lstrip("-").isdigit() else 0)
            views.append({"name": VIEW_NAMES[view], "key": view.value.lower() or "default", "root": root,
                          "series": series, "instances": len(instances)})
        order = {"default": 0, "classic": 1, "enhanced": 2}
        views.sort(key=lambda v: order[v["key"]])
        return {"study": found[0], "views": views}

    async def study(self, request: Request) -> Response:
        context = await run_in_threadpool(self._study, request.path_params["study"])
        return TEMPLATES.TemplateResponse(request, "study.html", context)

    async def download(self, request: Request) -> Response:
        p = request.path_params
        views = {"default": View.DEFAULT, "classic": View.CLASSIC, "enhanced": View.ENHANCED}
        if p["view"] not in views:
            raise WebError(404, f"no view {p['view']!r}")
        resource = wado.Resource(views[p["view"]], p["study"], p["series"], p["instance"])

        def work() -> bytes:
            return wado.read_file(self.services, wado.locate(self.services, resource)[0])

        content = await run_in_threadpool(work)
        return Response(content, media_type="application/dicom",
                        headers={"Content-Disposition": f'attachment; filename="{p["instance"]}.dcm"'})


def routes(services: Any, roots: dict[View, str]) -> list[Route]:
    """The browser's routes."""
    browser = Browser(services, roots)
    return [
        Route("/", browser.studies, methods=["GET"]),
        Route("/browse/studies/{study}", browser.study, methods=["GET"]),
        Route("/browse/download/{view}/{study}/{series}/{instance}", browser.download, methods=["GET"]),
    ]
