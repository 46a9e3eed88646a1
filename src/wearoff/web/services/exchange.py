"""Import and export of the clinic's records: the CSV folder as a zip (or three files), and FHIR R4B Bundles."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from sqlalchemy.orm import Session

from wearoff.records import csv_io, fhir_io
from wearoff.records.audit import import_counts, record_import
from wearoff.records.csv_io import ASSESSMENTS, PATIENTS, TREATMENTS
from wearoff.records.errors import SHOWN_PROBLEMS, RecordsError, RecordsImportError
from wearoff.web.actor import Actor
from wearoff.web.errors import FieldProblem, InvalidInputError
from wearoff.web.services import audit

CSV_FILES = (PATIENTS, TREATMENTS, ASSESSMENTS)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def export_csv_zip(session: Session, actor: Actor) -> bytes:
    """The clinic's records as a zip of patients.csv, treatments.csv and assessments.csv (the import contract)."""
    actor.require("records.export")
    with tempfile.TemporaryDirectory(prefix="wearoff-export-") as folder:
        csv_io.export_folder(session, folder, actor.clinic)  # the user's clinic exists: no RecordsError
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in CSV_FILES:
                archive.write(Path(folder) / name, name)
    audit.record(session, actor, "export", "records", actor.clinic, after={"format": "csv"})
    return buffer.getvalue()


def _import_errors(exc: RecordsImportError) -> InvalidInputError:
    problems = [FieldProblem(e.column, str(e)) for e in exc.errors[:SHOWN_PROBLEMS]]
    if len(exc.errors) > SHOWN_PROBLEMS:
        more = len(exc.errors) - SHOWN_PROBLEMS
        problems.append(FieldProblem("", f"and {more} more problem(s) of the same kinds; fix these and import again"))
    return InvalidInputError(problems)


def import_csv(session: Session, actor: Actor, files: dict[str, bytes]) -> dict[str, int]:
    """Import a records folder given as a zip (any name ending .zip) or as the three CSV files by name; all or
    nothing, every bad row named."""
    actor.require("records.import")
    if sum(len(b) for b in files.values()) > MAX_UPLOAD_BYTES:
        raise InvalidInputError.one("files", "the upload is larger than 50 MB; import the records in smaller parts")
    with tempfile.TemporaryDirectory(prefix="wearoff-import-") as folder:
        target = Path(folder)
        zips = [name for name in files if name.lower().endswith(".zip")]
        if zips:
            try:
                with zipfile.ZipFile(io.BytesIO(files[zips[0]])) as archive:
                    for member in archive.infolist():
                        base = Path(member.filename).name
                        if base in CSV_FILES and member.file_size <= MAX_UPLOAD_BYTES:
                            (target / base).write_bytes(archive.read(member))
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError, EOFError):
                raise InvalidInputError.one("files", f"{zips[0]} is not a readable zip archive") from None
        else:
            for name, content in files.items():
                base = Path(name).name
                if base in CSV_FILES:
                    (target / base).write_bytes(content)
        missing = [n for n in CSV_FILES if not (target / n).exists()]
        if len(missing) == len(CSV_FILES):
            raise InvalidInputError.one("files", f"give a zip of {', '.join(CSV_FILES)} or those files themselves")
        try:
            report = csv_io.import_folder(session, target, actor.clinic)
        except RecordsImportError as exc:
            raise _import_errors(exc) from None
        except RecordsError as exc:
            raise InvalidInputError.one("files", str(exc)) from None
    record_import(session, report, "csv", "upload", actor.username, actor.user_id)
    return import_counts(report)


def export_fhir(session: Session, actor: Actor) -> str:
    """The clinic's records as a FHIR R4B Bundle (JSON text)."""
    actor.require("records.export")
    data = fhir_io.bundle_json(fhir_io.bundle_data(session, actor.clinic))
    audit.record(session, actor, "export", "records", actor.clinic, after={"format": "fhir"})
    return data


def import_fhir(session: Session, actor: Actor, content: bytes) -> dict[str, int]:
    """Import a FHIR R4B Bundle, all or nothing."""
    actor.require("records.import")
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInputError.one("file", "the upload is larger than 50 MB; import the records in smaller parts")
    with tempfile.TemporaryDirectory(prefix="wearoff-import-") as folder:
        path = Path(folder) / "bundle.json"
        path.write_bytes(content)
        try:
            report = fhir_io.import_fhir(session, path, actor.clinic)
        except RecordsImportError as exc:
            raise _import_errors(exc) from None
        except RecordsError as exc:
            raise InvalidInputError.one("file", str(exc)) from None
    record_import(session, report, "fhir", "upload", actor.username, actor.user_id)
    return import_counts(report)
