"""CSV import and export: the folder contract, all-or-nothing validation, idempotent re-import, round trips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from wearoff.records import RecordsError, RecordsImportError, RowError, csv_io
from wearoff.records.db import session_scope
from wearoff.records.models import Assessment, Clinic, Injection, Patient, TreatmentSession

from .conftest import GOOD, count_rows, read_folder, wipe, write_folder

TODAY = dt.date(2025, 1, 1)


def _import(engine: Engine, folder: Path, clinic: str = "default") -> csv_io.ImportReport:
    with session_scope(engine) as session:
        return csv_io.import_folder(session, folder, clinic, today=TODAY)


def _export(engine: Engine, folder: Path, clinic: str = "default") -> csv_io.ExportReport:
    with session_scope(engine) as session:
        return csv_io.export_folder(session, folder, clinic)


def _refused(engine: Engine, folder: Path, clinic: str = "default") -> list[RowError]:
    before = count_rows(engine)
    with pytest.raises(RecordsImportError) as caught:
        _import(engine, folder, clinic)
    assert count_rows(engine) == before, "a refused import must store nothing"
    return caught.value.errors


def test_import_stores_the_folder(engine: Engine, good_folder: Path) -> None:
    report = _import(engine, good_folder)
    assert (report.patients_added, report.treatments_added, report.assessments_added) == (3, 5, 6)
    assert report.sessions_added == 4  # T001 and T002 share P001's session of 2024-01-10
    counts = count_rows(engine)
    assert counts["patient"] == 3 and counts["injection"] == 5 and counts["treatment_session"] == 4
    assert counts["assessment"] == 6 and counts["clinic"] == 1 and counts["amendment"] == 0
    with session_scope(engine) as session:
        t1 = session.scalar(select(Injection).where(Injection.external_id == "T001"))
        assert t1 is not None
        assert (t1.units, t1.lot, t1.expiry, t1.dilution_ml, t1.injector) == (
            20.0,
            "C1234",
            dt.date(2025, 6, 30),
            2.5,
            "Smith, J",
        )
        assert t1.session.injector == "Smith, J" and t1.session.date == dt.date(2024, 1, 10)
        t4 = session.scalar(select(Injection).where(Injection.external_id == "T004"))
        assert t4 is not None and t4.lot is None and t4.expiry is None and t4.dilution_ml is None
        rest = session.scalars(select(Assessment.severity_rest).where(Assessment.severity_rest.is_not(None))).all()
        assert rest == [1]


def test_round_trip_gives_identical_files(engine: Engine, good_folder: Path, tmp_path: Path) -> None:
    _import(engine, good_folder)
    first = tmp_path / "first"
    report = _export(engine, first)
    assert (report.patients, report.treatments, report.assessments) == (3, 5, 6)
    assert read_folder(first) == GOOD  # the export is the contract's canonical form of the input
    wipe(engine)  # a fresh database
    _import(engine, first)
    second = tmp_path / "second"
    _export(engine, second)
    assert read_folder(second) == read_folder(first)
    assert (first / "treatments.csv").read_bytes() == (second / "treatments.csv").read_bytes()


def test_round_trip_without_optional_columns(engine: Engine, tmp_path: Path) -> None:
    minimal = {
        "patients.csv": "patient_id,sex,birth_year,activity\nA,male,1990,low\n",
        "treatments.csv": "treatment_id,patient_id,date,product,area,units\nX,A,2024-05-05,daxibotulinumtoxinA,"
        "glabellar,40\n",
        "assessments.csv": "patient_id,area,date,severity,rater\nA,glabellar,2024-06-01,0,clinician\n",
    }
    _import(engine, write_folder(tmp_path / "in", minimal))
    _export(engine, tmp_path / "a")
    exported = read_folder(tmp_path / "a")
    assert exported["treatments.csv"].splitlines()[1] == "X,A,2024-05-05,daxibotulinumtoxinA,glabellar,40,,,,"
    assert exported["assessments.csv"] == minimal["assessments.csv"]  # no severity_rest column when none is known
    wipe(engine)
    _import(engine, tmp_path / "a")
    _export(engine, tmp_path / "b")
    assert read_folder(tmp_path / "b") == exported


def test_reimport_is_a_no_op(engine: Engine, good_folder: Path) -> None:
    _import(engine, good_folder)
    before = count_rows(engine)
    report = _import(engine, good_folder)
    assert not report.changed
    assert (report.patients_unchanged, report.treatments_unchanged, report.assessments_unchanged) == (3, 5, 6)
    assert count_rows(engine) == before


def test_new_rows_join_the_stored_records(engine: Engine, good_folder: Path, tmp_path: Path) -> None:
    _import(engine, good_folder)
    more = dict(GOOD)
    more["treatments.csv"] += "T006,P001,2024-01-10,onabotulinumtoxinA,forehead,10,C1234,2025-06-30,2.5,Dr Who\n"
    more["assessments.csv"] += "P002,glabellar,2024-05-01,2,clinician,\n"
    report = _import(engine, write_folder(tmp_path / "more", more))
    assert (report.patients_added, report.treatments_added, report.assessments_added) == (0, 1, 1)
    assert report.sessions_added == 0  # P001's session of 2024-01-10 already exists
    assert count_rows(engine)["treatment_session"] == 4


def test_ids_are_per_clinic(engine: Engine, good_folder: Path) -> None:
    _import(engine, good_folder, "north")
    _import(engine, good_folder, "south")
    counts = count_rows(engine)
    assert counts["clinic"] == 2 and counts["patient"] == 6 and counts["injection"] == 10


def _case_file(name: str, old: str | None, new: str | None) -> dict[str, str]:
    files = dict(GOOD)
    if old is None:
        files[name] += new or ""
    else:
        assert old in files[name]
        files[name] = files[name].replace(old, new) if new is not None else files[name].replace(old, "")
    return files


T001 = 'T001,P001,2024-01-10,onabotulinumtoxinA,glabellar,20,C1234,2025-06-30,2.5,"Smith, J"\n'
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()
# (case id, file, line to replace (None: append), new text, expected line, expected column, words in the message)
CASES = [
    ("missing column", "treatments.csv", ",units,", ",dose,", 1, "units", "required column missing"),
    ("missing file", "assessments.csv", GOOD["assessments.csv"], None, 0, "", "file not found"),
    (
        "unknown product",
        "treatments.csv",
        None,
        "T9,P002,2024-06-01,botulax,glabellar,20,,,,\n",
        7,
        "product",
        "unknown",
    ),
    ("brand for product", "treatments.csv", None, "T9,P002,2024-06-01,Botox,glabellar,20,,,,\n", 7, "product", "'onab"),
    ("unknown area", "treatments.csv", None, "T9,P002,2024-06-01,placebo,glabela,0,,,,\n", 7, "area", "glabellar"),
    ("unknown area in score", "assessments.csv", None, "P002,jaw,2024-06-01,1,clinician,\n", 8, "area", "unknown"),
    ("bad sex", "patients.csv", None, "P9,f,1990,low\n", 5, "sex", "female, male"),
    ("bad activity", "patients.csv", None, "P9,male,1990,sporty\n", 5, "activity", "low, moderate, high"),
    ("bad rater", "assessments.csv", None, "P002,glabellar,2024-06-01,1,nurse,\n", 8, "rater", "clinician"),
    ("date format", "treatments.csv", None, "T9,P002,01/06/2024,placebo,glabellar,0,,,,\n", 7, "date", "YYYY-MM-DD"),
    ("no such day", "assessments.csv", None, "P002,glabellar,2024-02-30,1,patient,\n", 8, "date", "calendar"),
    ("future date", "treatments.csv", None, f"T9,P002,{TOMORROW},placebo,glabellar,0,,,,\n", 7, "date", "future"),
    ("future score", "assessments.csv", None, f"P002,glabellar,{TOMORROW},1,patient,\n", 8, "date", "future"),
    ("before birth", "treatments.csv", None, "T9,P003,1991-06-01,placebo,glabellar,0,,,,\n", 7, "date", "birth"),
    ("expiry format", "treatments.csv", None, "T9,P002,2024-06-01,placebo,glabellar,0,,2025/1/1,,\n", 7, "expiry", ""),
    ("severity 4", "assessments.csv", None, "P002,glabellar,2024-06-01,4,patient,\n", 8, "severity", "0-3"),
    ("severity text", "assessments.csv", None, "P002,glabellar,2024-06-01,mild,patient,\n", 8, "severity", "0-3"),
    ("severity 1.5", "assessments.csv", None, "P002,glabellar,2024-06-01,1.5,patient,\n", 8, "severity", "whole"),
    ("rest 9", "assessments.csv", None, "P002,glabellar,2024-06-01,1,patient,9\n", 8, "severity_rest", "0-3"),
    (
        "zero units",
        "treatments.csv",
        None,
        "T9,P002,2024-06-01,onabotulinumtoxinA,glabellar,0,,,,\n",
        7,
        "units",
        "posi",
    ),
    ("negative units", "treatments.csv", None, "T9,P002,2024-06-01,placebo,glabellar,-1,,,,\n", 7, "units", "positive"),
    (
        "nan units",
        "treatments.csv",
        None,
        "T9,P002,2024-06-01,onabotulinumtoxinA,glabellar,nan,,,,\n",
        7,
        "units",
        "fin",
    ),
    (
        "inf units",
        "treatments.csv",
        None,
        "T9,P002,2024-06-01,onabotulinumtoxinA,glabellar,inf,,,,\n",
        7,
        "units",
        "fin",
    ),
    ("text units", "treatments.csv", None, "T9,P002,2024-06-01,onabotulinumtoxinA,glabellar,20U,,,,\n", 7, "units", ""),
    (
        "absurd units",
        "treatments.csv",
        None,
        "T9,P002,2024-06-01,abobotulinumtoxinA,masseter,2000,,,,\n",
        7,
        "units",
        "600",
    ),
    ("bad dilution", "treatments.csv", None, "T9,P002,2024-06-01,placebo,glabellar,0,,,-2,\n", 7, "dilution_ml", ""),
    ("old birth year", "patients.csv", None, "P9,male,1850,low\n", 5, "birth_year", "plausible"),
    ("future birth year", "patients.csv", None, "P9,male,2030,low\n", 5, "birth_year", "plausible"),
    ("text birth year", "patients.csv", None, "P9,male,19x0,low\n", 5, "birth_year", "whole number"),
    (
        "unknown patient",
        "treatments.csv",
        None,
        "T9,P404,2024-06-01,placebo,glabellar,0,,,,\n",
        7,
        "patient_id",
        "P404",
    ),
    ("unknown scored", "assessments.csv", None, "P404,glabellar,2024-06-01,1,patient,\n", 8, "patient_id", "neither"),
    ("duplicate patient", "patients.csv", None, "P001,female,1980,moderate\n", 5, "patient_id", "line 2"),
    ("duplicate treatment", "treatments.csv", None, T001, 7, "treatment_id", "duplicate"),
    ("duplicate score", "assessments.csv", None, "P002,glabellar,2024-03-01,2,clinician,\n", 8, "date", "line 6"),
    ("area twice", "treatments.csv", None, "T9,P001,2024-01-10,placebo,glabellar,0,,,,\n", 7, "area", "one row per"),
    ("too many fields", "patients.csv", None, "P9,male,1990,low,extra\n", 5, "", "fields"),
    ("missing value", "patients.csv", None, "P9,male,,low\n", 5, "birth_year", "missing"),
    ("missing id", "treatments.csv", None, ",P002,2024-06-01,placebo,glabellar,0,,,,\n", 7, "treatment_id", "missing"),
    ("long id", "patients.csv", None, "P" * 65 + ",male,1990,low\n", 5, "patient_id", "64"),
]


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "column", "words"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_every_check_names_file_line_and_column(
    engine: Engine,
    good_folder: Path,
    tmp_path: Path,
    file: str,
    old: str | None,
    new: str | None,
    line: int,
    column: str,
    words: str,
) -> None:
    _import(engine, good_folder)  # the database holds the good folder; the bad row is the only problem
    folder = write_folder(tmp_path / "bad", _case_file(file, old, new))
    if new is None:
        (folder / file).unlink()
    errors = _refused(engine, folder)
    assert [(e.file, e.line, e.column) for e in errors] == [(file, line, column)], errors
    assert words in errors[0].message
    where = f"{file}:{line}" if line else file
    assert str(errors[0]) == (f"{where}: {column}: " if column else f"{where}: ") + errors[0].message


@pytest.mark.parametrize(
    ("file", "old", "new", "column", "words"),
    [
        ("patients.csv", "P002,male,1975,high", "P002,female,1975,high", "sex", "with sex 'male', not 'female'"),
        ("patients.csv", "P002,male,1975,high", "P002,male,1976,high", "birth_year", "1975, not 1976"),
        ("treatments.csv", "glabellar,62.5,", "glabellar,60,", "units", "units 62.5, not 60"),
        ("treatments.csv", "T004,P002,2024-02-01", "T004,P003,2024-02-01", "patient_id", "'P002', not 'P003'"),
        ("treatments.csv", "2025-09-30,2.5,Dr Müller", "2025-09-30,2.5,Dr Who", "injector", "never overwritten"),
        ("assessments.csv", "P002,glabellar,2024-03-01,1,", "P002,glabellar,2024-03-01,2,", "severity", "1, not 2"),
    ],
)
def test_conflicting_reimport_is_refused(
    engine: Engine, good_folder: Path, tmp_path: Path, file: str, old: str, new: str, column: str, words: str
) -> None:
    _import(engine, good_folder)
    errors = _refused(engine, write_folder(tmp_path / "changed", _case_file(file, old, new)))
    assert [(e.file, e.column) for e in errors] == [(file, column)]
    assert words in errors[0].message and "already in the database" in errors[0].message


def test_a_treatment_of_an_area_already_stored_under_another_id_is_refused(
    engine: Engine, good_folder: Path, tmp_path: Path
) -> None:
    _import(engine, good_folder)
    files = _case_file("treatments.csv", "T005,", "T905,")
    errors = _refused(engine, write_folder(tmp_path / "renamed", files))
    assert [(e.file, e.line, e.column) for e in errors] == [("treatments.csv", 6, "area")]
    assert "'T005'" in errors[0].message


def test_every_bad_row_is_reported_and_nothing_stored(engine: Engine, tmp_path: Path) -> None:
    files = {
        "patients.csv": GOOD["patients.csv"] + "P4,woman,1990,low\nP5,male,1700,lazy\n",
        "treatments.csv": GOOD["treatments.csv"]
        + "T6,P001,2024-06-01,onabotulinumtoxinA,glabellar,abc,,,,\nT7,P404,2024-06-01,ona,glabellar,20,,,,\n",
        "assessments.csv": GOOD["assessments.csv"] + "P001,glabellar,2024-07-01,5,clinician,\n"
        "P001,glabellar,2024-07-02,1,clinician,\nP002,glabellar,2024-13-01,1,patient,\n",
    }
    errors = _refused(engine, write_folder(tmp_path / "bad", files))
    assert [(e.file, e.line, e.column) for e in errors] == [
        ("patients.csv", 5, "sex"),
        ("patients.csv", 6, "birth_year"),
        ("patients.csv", 6, "activity"),
        ("treatments.csv", 7, "units"),
        ("treatments.csv", 8, "patient_id"),
        ("treatments.csv", 8, "product"),
        ("assessments.csv", 8, "severity"),
        ("assessments.csv", 10, "date"),
    ]
    assert count_rows(engine)["clinic"] == 0  # not even the clinic was created


def test_a_crash_mid_import_leaves_the_database_unchanged(
    engine: Engine, good_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(engine, write_folder(tmp_path / "first", {**GOOD, "treatments.csv": "treatment_id,patient_id,date,"
                                                       "product,area,units\n", "assessments.csv": "patient_id,area,"
                                                       "date,severity,rater\n"}))  # fmt: skip
    before = count_rows(engine)
    assert before["patient"] == 3 and before["injection"] == 0
    more = dict(GOOD)
    more["patients.csv"] += "P004,male,1960,low\n"
    inserted: list[str] = []
    original = csv_io._bulk_insert

    def crashing(session, model, rows, progress=None):  # type: ignore[no-untyped-def]
        if model is Assessment:
            assert "patient" in inserted and "injection" in inserted  # patients and treatments went in first
            raise RuntimeError("simulated crash")
        original(session, model, rows, progress)
        inserted.append(model.__tablename__)

    monkeypatch.setattr(csv_io, "_bulk_insert", crashing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        _import(engine, write_folder(tmp_path / "more", more))
    assert count_rows(engine) == before
    with session_scope(engine) as session:
        assert session.scalar(select(Patient).where(Patient.external_id == "P004")) is None
        assert session.scalars(select(TreatmentSession)).all() == []


def test_unknown_columns_are_reported_as_warnings(engine: Engine, tmp_path: Path) -> None:
    files = dict(GOOD)
    files["patients.csv"] = files["patients.csv"].replace("activity\n", "activity,phone\n", 1)
    report = _import(engine, write_folder(tmp_path / "extra", files))
    assert report.patients_added == 3
    assert report.warnings == ["patients.csv: column(s) phone are not part of the records contract; ignored"]


def test_headers_and_cells_are_trimmed_and_bom_accepted(engine: Engine, tmp_path: Path) -> None:
    files = dict(GOOD)
    files["patients.csv"] = "\ufeffPatient_ID , sex,birth_year,activity\n P1 ,female, 1980 ,low\n\n"
    files["treatments.csv"] = files["treatments.csv"].split("\n", 1)[0] + "\n"
    files["assessments.csv"] = files["assessments.csv"].split("\n", 1)[0] + "\n"
    report = _import(engine, write_folder(tmp_path / "bom", files))
    assert report.patients_added == 1
    with session_scope(engine) as session:
        assert session.scalar(select(Patient.external_id)) == "P1"


def test_not_a_folder_and_unknown_clinic(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(RecordsError, match="not a folder"), session_scope(engine) as session:
        csv_io.import_folder(session, tmp_path / "nowhere")
    with pytest.raises(RecordsError, match="no clinic named 'x'"), session_scope(engine) as session:
        csv_io.export_folder(session, tmp_path / "out", "x")
    assert count_rows(engine)["clinic"] == 0


def test_voided_rows_are_not_exported_nor_revived(engine: Engine, good_folder: Path, tmp_path: Path) -> None:
    from wearoff.records.repository import treatment_row, void

    _import(engine, good_folder)
    with session_scope(engine) as session:
        void(session, treatment_row(session, "T002"), "wrong area recorded", "dr b")
    _export(engine, tmp_path / "out")
    assert "T002" not in (tmp_path / "out" / "treatments.csv").read_text()
    report = _import(engine, good_folder)  # the folder still has T002: identical, so skipped (stays voided)
    assert not report.changed
    with session_scope(engine) as session:
        assert session.scalar(select(Injection.voided).where(Injection.external_id == "T002")) is True
        assert session.scalar(select(Clinic.name)) == "default"


def test_reading_a_folder_gives_what_a_new_clinic_reads_back(engine: Engine, tmp_path: Path) -> None:
    """`read_folder` (no database, used by forecast-records) equals importing and reading the histories back."""
    from wearoff.records.repository import clinic_histories
    from wearoff.simulation.clinic import simulate_clinic, write_clinic

    folder = tmp_path / "clinic"
    write_clinic(simulate_clinic(40, 2.0, seed=3), folder)
    with session_scope(engine) as session:
        csv_io.import_folder(session, folder, "default", today=TODAY + dt.timedelta(days=3650))
        stored = clinic_histories(session, "default")
    read = csv_io.read_folder(folder, today=TODAY + dt.timedelta(days=3650))
    assert len(read) == 40 and sum(len(h.areas) for h in read) > 40
    assert read == stored


def test_reading_a_bad_folder_names_every_bad_row(tmp_path: Path) -> None:
    bad = {**GOOD, "assessments.csv": GOOD["assessments.csv"] + "P009,glabellar,2024-03-01,5,clinician,\n"}
    with pytest.raises(RecordsImportError) as caught:
        csv_io.read_folder(write_folder(tmp_path / "bad", bad), today=TODAY)
    problems = {(e.file, e.column) for e in caught.value.errors}
    assert ("assessments.csv", "patient_id") in problems and ("assessments.csv", "severity") in problems


def _one_row(file: str, row: dict[str, str]) -> csv_io.RowTable:
    return csv_io.RowTable(file=file, columns=list(row), rows=[(2, row)])


def test_rows_checked_against_their_patients_only_meet_the_same_checks(
    engine: Engine, good_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A form's rows read only their patients' records (and the treatment ids they name) and are still refused
    for a treatment id of another patient, and found unchanged when stored already."""
    _import(engine, good_folder)
    read_stored = csv_io._stored
    reads: list[csv_io._Stored] = []  # what each check read of the stored records

    def spy(*args: object, **kwargs: object) -> csv_io._Stored:
        reads.append(read_stored(*args, **kwargs))
        return reads[-1]

    monkeypatch.setattr(csv_io, "_stored", spy)
    taken = {"treatment_id": "T001", "patient_id": "P003", "date": "2024-01-10", "product": "onabotulinumtoxinA",
             "area": "glabellar", "units": "20"}  # fmt: skip
    before = count_rows(engine)
    with session_scope(engine) as session, pytest.raises(RecordsImportError) as caught:
        report = csv_io.ImportReport(clinic="default", folder=Path("."))
        csv_io.store_rows(session, report, None, _one_row("treatments.csv", taken), None, today=TODAY,
                          rows_patients_only=True)  # fmt: skip
    assert [e.column for e in caught.value.errors] == ["patient_id"]
    assert "'P001', not 'P003'" in caught.value.errors[0].message
    assert count_rows(engine) == before
    # read: P003's records and T001 (the row names it, though it is P001's); nothing else of P001's or P002's
    assert set(reads[-1].patients) == {"P003"} and set(reads[-1].treatments) == {"T001", "T005"}
    assert {key[0] for key in reads[-1].assessments} == {"P003"}
    stored = {"patient_id": "P001", "area": "glabellar", "date": "2024-01-10", "severity": "3", "rater": "clinician",
              "severity_rest": "1"}  # fmt: skip
    fresh = {**taken, "treatment_id": "T900", "date": "2024-06-01"}
    with session_scope(engine) as session:
        report = csv_io.ImportReport(clinic="default", folder=Path("."))
        csv_io.store_rows(session, report, None, _one_row("treatments.csv", fresh),
                          _one_row("assessments.csv", stored), today=TODAY, rows_patients_only=True)  # fmt: skip
    assert (report.treatments_added, report.assessments_unchanged) == (1, 1)
    assert set(reads[-1].patients) == {"P001", "P003"}  # the rows' patients: not P002
    assert set(reads[-1].treatments) == {"T001", "T002", "T003", "T005"}
    assert {key[0] for key in reads[-1].assessments} == {"P001", "P003"}
