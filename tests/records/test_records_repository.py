"""The repository: patients, histories for forecasting, amendments that keep the original, voiding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from wearoff.records import RecordsError, csv_io, repository
from wearoff.records.db import session_scope
from wearoff.records.models import Amendment, Assessment, Clinic, Injection, Patient

from .conftest import count_rows


@pytest.fixture
def loaded(engine: Engine, good_folder: Path) -> Engine:
    with session_scope(engine) as session:
        csv_io.import_folder(session, good_folder, today=dt.date(2025, 1, 1))
    return engine


def test_list_and_get_patients(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        patients = repository.list_patients(session)
        assert [p.patient_id for p in patients] == ["P001", "P002", "P003"]
        assert repository.get_patient(session, "P002") == repository.PatientInfo("P002", "male", 1975, "high")
        assert repository.get_patient(session, "nobody") is None
        assert repository.list_patients(session, "other clinic") == []


def test_history_per_area(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        history = repository.patient_history(session, "P001")
    assert history.patient.patient_id == "P001"
    assert list(history.areas) == ["glabellar", "lateral_canthal"]
    glabellar = history.areas["glabellar"]
    assert [(t.treatment_id, t.date, t.product, t.units) for t in glabellar.treatments] == [
        ("T001", dt.date(2024, 1, 10), "onabotulinumtoxinA", 20.0),
        ("T003", dt.date(2024, 4, 20), "onabotulinumtoxinA", 20.0),
    ]
    assert [(a.date, a.severity, a.rater) for a in glabellar.assessments] == [
        (dt.date(2024, 1, 10), 3, "clinician"),
        (dt.date(2024, 2, 7), 0, "clinician"),
        (dt.date(2024, 2, 7), 1, "patient"),
        (dt.date(2024, 4, 20), 2, "clinician"),
    ]
    assert glabellar.assessments[0].severity_rest == 1
    assert history.areas["lateral_canthal"].assessments == []


def test_amend_keeps_the_original(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        row = repository.treatment_row(session, "T001")
        amendment = repository.amend(session, row, "units", 25, "dose typed wrong", "dr b")
        assert (amendment.old_value, amendment.new_value) == (20.0, 25.0)
    with session_scope(loaded) as session:
        stored = session.scalars(select(Amendment)).one()
        assert (stored.table_name, stored.column_name, stored.old_value, stored.new_value) == (
            "injection",
            "units",
            20.0,
            25.0,
        )
        assert (stored.reason, stored.amended_by) == ("dose typed wrong", "dr b")
        assert stored.row_id == repository.treatment_row(session, "T001").id
        assert repository.patient_history(session, "P001").areas["glabellar"].treatments[0].units == 25.0
        expiry = repository.amend(session, repository.treatment_row(session, "T001"), "expiry", "2025-07-31", "x", "y")
        assert expiry.old_value == "2025-06-30" and expiry.new_value == "2025-07-31"
        patient = repository.patient_row(session, "P002")
        repository.amend(session, patient, "activity", "moderate", "asked again", "nurse")
        trail = repository.amendments(session, repository.treatment_row(session, "T001"))
        assert [a.column_name for a in trail] == ["units", "expiry"]
    assert count_rows(loaded)["amendment"] == 3


@pytest.mark.parametrize(
    ("column", "value", "reason", "message"),
    [
        ("units", 2000, "r", "above the 600"),
        ("units", -1, "r", "positive"),
        ("area", "elbow", "r", "unknown area"),
        ("product", "botox", "r", "onabotulinumtoxinA"),
        ("units", 20.0, "r", "nothing to amend"),
        ("voided", True, "r", "cannot be amended"),
        ("session_id", 1, "r", "cannot be amended"),
        ("nonsense", 1, "r", "cannot be amended"),
        ("units", 25, " ", "needs a reason"),
    ],
)
def test_amend_refuses_bad_changes(loaded: Engine, column: str, value: object, reason: str, message: str) -> None:
    with pytest.raises(RecordsError, match=message), session_scope(loaded) as session:
        repository.amend(session, repository.treatment_row(session, "T001"), column, value, reason, "dr b")
    assert count_rows(loaded)["amendment"] == 0


def test_amend_refuses_other_tables_and_bad_scores(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        clinic = session.scalars(select(Clinic)).one()
        with pytest.raises(RecordsError, match="not clinical records"):
            repository.amend(session, clinic, "name", "x", "r", "b")
        score = session.scalars(select(Assessment)).first()
        assert score is not None
        with pytest.raises(RecordsError, match="outside 0-3"):
            repository.amend(session, score, "severity", 7, "r", "b")
        with pytest.raises(RecordsError, match="rater"):
            repository.amend(session, score, "rater", "nurse", "r", "b")


def test_void_hides_a_row_from_history(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        amendment = repository.void(session, repository.treatment_row(session, "T003"), "entered twice", "dr b")
        assert (amendment.column_name, amendment.old_value, amendment.new_value) == ("voided", False, True)
        score = session.scalars(
            select(Assessment).where(Assessment.date == dt.date(2024, 2, 7), Assessment.rater == "patient")
        ).one()
        repository.void(session, score, "wrong patient", "dr b")
    with session_scope(loaded) as session:
        glabellar = repository.patient_history(session, "P001").areas["glabellar"]
        assert [t.treatment_id for t in glabellar.treatments] == ["T001"]
        assert len(glabellar.assessments) == 3
        row = repository.treatment_row(session, "T003")
        assert row.voided  # still stored
        with pytest.raises(RecordsError, match="voided already"):
            repository.void(session, row, "again", "dr b")
        with pytest.raises(RecordsError, match="voided rows are not amended"):
            repository.amend(session, row, "units", 30, "r", "b")
    assert count_rows(loaded)["injection"] == 5  # never hard-deleted


def test_voiding_a_session_or_patient_hides_everything_under_it(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        t1 = repository.treatment_row(session, "T001")
        repository.void(session, t1.session, "wrong date", "dr b")
        assert [t.treatment_id for t in repository.patient_history(session, "P001").areas["glabellar"].treatments] == [
            "T003"
        ]
        assert "lateral_canthal" not in repository.patient_history(session, "P001").areas
        repository.void(session, repository.patient_row(session, "P002"), "test patient", "admin")
        assert [p.patient_id for p in repository.list_patients(session)] == ["P001", "P003"]
        assert len(repository.list_patients(session, include_voided=True)) == 3
        with pytest.raises(RecordsError, match="voided"):
            repository.patient_history(session, "P002")
        assert session.scalar(select(Patient.voided).where(Patient.external_id == "P002")) is True
        assert session.scalar(select(Injection.voided).where(Injection.external_id == "T001")) is False
