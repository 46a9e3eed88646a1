"""The evidence page: the model's validation report on the published trials."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from wearoff.web.auth import PageActor
from wearoff.web.errors import NotFoundError
from wearoff.web.pages.rendering import render

router = APIRouter()


@router.get("/evidence")
def evidence_page(request: Request, actor: PageActor) -> Response:
    report = request.app.state.evidence
    return render(request, "evidence.html", {"state": report.ensure(), "error": report.error})


@router.get("/evidence/status")
def evidence_status(request: Request, actor: PageActor) -> Response:
    report = request.app.state.evidence
    return render(request, "partials/evidence_status.html", {"state": report.ensure(), "error": report.error})


@router.get("/evidence/report/{name}")
def evidence_file(request: Request, name: str, actor: PageActor) -> Response:
    path = request.app.state.evidence.file(name)
    if path is None:
        raise NotFoundError("no such file in the validation report")
    return FileResponse(path)
