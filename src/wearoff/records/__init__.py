"""Clinic records: SQLAlchemy models, Alembic migrations, a small repository and the CSV and FHIR exchange.

The model and inference layers never import this package; it depends on them only for validation (the catalogue
codes and :data:`wearoff.model.treatment.MAX_ONA_EQUIVALENT_UNITS`). Submodules are imported on first use so that
``import wearoff.records`` stays light::

    from wearoff.records import db, csv_io, fhir_io, repository

    url = db.database_url()
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as session:
        report = csv_io.import_folder(session, "clinic-export/")
        fhir_io.export_fhir(session, "clinic.json")  # the same records as a FHIR R4B Bundle
"""

from __future__ import annotations

from wearoff.records.errors import RecordsError, RecordsImportError, RowError

__all__ = ["RecordsError", "RecordsImportError", "RowError"]
