"""Records exchange: the CSV folder as a zip (or three files), FHIR R4B Bundles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile

from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.admin import ImportReportPublic
from wearoff.web.services import exchange

router = APIRouter(prefix="/exchange", tags=["exchange"])


@router.get("/csv", response_class=Response, responses={200: {"content": {"application/zip": {}}}})
def export_csv(actor: ApiActor, session: DbSession) -> Response:
    """The clinic's records as a zip of patients.csv, treatments.csv and assessments.csv."""
    data = exchange.export_csv_zip(session, actor)
    return Response(
        data, media_type="application/zip", headers={"Content-Disposition": 'attachment; filename="records.zip"'}
    )


@router.post("/csv", response_model=ImportReportPublic)
async def import_csv(
    actor: ApiActor, session: DbSession, files: Annotated[list[UploadFile], File()]
) -> ImportReportPublic:
    """Import records: one zip, or patients.csv, treatments.csv and assessments.csv. All or nothing: a 422 names
    every bad row and nothing is stored."""
    contents = {(f.filename or "upload"): await f.read() for f in files}
    return ImportReportPublic(**exchange.import_csv(session, actor, contents))


@router.get("/fhir", response_class=Response, responses={200: {"content": {"application/fhir+json": {}}}})
def export_fhir(actor: ApiActor, session: DbSession) -> Response:
    """The clinic's records as a FHIR R4B collection Bundle."""
    return Response(exchange.export_fhir(session, actor), media_type="application/fhir+json")


@router.post("/fhir", response_model=ImportReportPublic)
async def import_fhir(actor: ApiActor, session: DbSession, file: Annotated[UploadFile, File()]) -> ImportReportPublic:
    """Import a FHIR R4B Bundle (JSON). All or nothing."""
    return ImportReportPublic(**exchange.import_fhir(session, actor, await file.read()))
