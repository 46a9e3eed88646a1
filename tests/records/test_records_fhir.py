"""FHIR exchange: the Bundle's content, lossless round trips, and the CSV import's checks and all-or-nothing write."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Engine

from wearoff.records import RecordsError, RecordsImportError, RowError, csv_io, fhir_io
from wearoff.records.db import session_scope
from wearoff.records.repository import get_or_create_clinic, treatment_row, void

from .conftest import GOOD, count_rows, wipe

TODAY = dt.date(2025, 1, 1)
# Entries of the GOOD folder's Bundle: patients, then treatments, then scores, in the CSV export's order.
P001, P002, P003 = 0, 1, 2
T001, T002, T003, T004, T005 = 3, 4, 5, 6, 7
S_P001_JAN_REST, S_P002 = 8, 12


def _import_csv(engine: Engine, folder: Path, clinic: str = "default") -> None:
    with session_scope(engine) as session:
        csv_io.import_folder(session, folder, clinic, today=TODAY)


def _import(engine: Engine, path: Path, clinic: str = "default") -> csv_io.ImportReport:
    with session_scope(engine) as session:
        return fhir_io.import_fhir(session, path, clinic, today=TODAY)


def _bundle(engine: Engine, clinic: str = "default") -> dict[str, Any]:
    """The clinic's Bundle as JSON data."""
    with session_scope(engine) as session:
        return json.loads(fhir_io.bundle_json(fhir_io.export_bundle(session, clinic)))


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _refused(engine: Engine, path: Path, clinic: str = "default") -> list[RowError]:
    before = count_rows(engine)
    with pytest.raises(RecordsImportError) as caught:
        _import(engine, path, clinic)
    assert count_rows(engine) == before, "a refused import must store nothing"
    return caught.value.errors


@pytest.fixture
def good_bundle(engine: Engine, good_folder: Path) -> dict[str, Any]:
    """The GOOD folder's Bundle; the database is emptied again (a fresh database for the import under test)."""
    _import_csv(engine, good_folder)
    data = _bundle(engine)
    wipe(engine)
    return data


def test_round_trip_csv_fhir_csv_gives_identical_files(engine: Engine, good_folder: Path, tmp_path: Path) -> None:
    _import_csv(engine, good_folder)
    with session_scope(engine) as session:
        report = fhir_io.export_fhir(session, tmp_path / "bundle.json")
    assert (report.patients, report.treatments, report.assessments) == (3, 5, 6)
    wipe(engine)  # a fresh database
    imported = _import(engine, tmp_path / "bundle.json")
    assert (imported.patients_added, imported.treatments_added, imported.assessments_added) == (3, 5, 6)
    assert imported.sessions_added == 4 and imported.warnings == []
    with session_scope(engine) as session:
        csv_io.export_folder(session, tmp_path / "back")
    for name, text in GOOD.items():  # lot, expiry, dilution, injector and severity_rest included
        assert (tmp_path / "back" / name).read_bytes() == text.encode("utf-8"), name


def test_the_bundle_maps_every_field(engine: Engine, good_folder: Path, tmp_path: Path) -> None:
    _import_csv(engine, good_folder, "north clinic")
    with session_scope(engine) as session:
        void(session, treatment_row(session, "T002", "north clinic"), "wrong area", "dr b")
        bundle = fhir_io.export_bundle(session, "north clinic")
        fhir_io.export_fhir(session, tmp_path / "b.json", "north clinic")
        fhir_io.export_fhir(session, tmp_path / "again.json", "north clinic")
    assert isinstance(bundle, Bundle) and bundle.type == "collection"
    text = (tmp_path / "b.json").read_text(encoding="utf-8")
    assert text == fhir_io.bundle_json(bundle)  # the fast writer gives what fhir.resources writes
    assert text == (tmp_path / "again.json").read_text(encoding="utf-8")  # deterministic
    entries = json.loads(text)["entry"]
    kinds = [e["resource"]["resourceType"] for e in entries]
    assert kinds == ["Patient"] * 3 + ["MedicationAdministration"] * 4 + ["Observation"] * 6  # T002 voided
    assert len({e["fullUrl"] for e in entries}) == 13 and all(e["fullUrl"].startswith("urn:uuid:") for e in entries)

    patient = entries[P001]["resource"]
    assert patient["identifier"] == [{"system": "urn:wearoff:clinic:north%20clinic:patient", "value": "P001"}]
    assert (patient["gender"], patient["birthDate"]) == ("female", "1980")
    assert patient["extension"] == [{"url": "urn:wearoff:activity", "valueCode": "moderate"}]

    t001 = entries[T001]["resource"]
    assert t001["status"] == "completed" and t001["effectiveDateTime"] == "2024-01-10"
    assert t001["identifier"][0]["value"] == "T001" and t001["subject"]["reference"] == entries[P001]["fullUrl"]
    medication = t001["contained"][0]
    assert t001["medicationReference"] == {"reference": f"#{medication['id']}"}
    assert medication["code"]["coding"] == [{"system": "urn:wearoff:product", "code": "onabotulinumtoxinA"}]
    assert medication["code"]["text"] == "onabotulinumtoxinA"
    assert medication["batch"] == {"lotNumber": "C1234", "expirationDate": "2025-06-30"}
    dosage = t001["dosage"]
    assert dosage["dose"] == {"value": 20, "unit": "U", "system": "http://unitsofmeasure.org", "code": "[USP'U]"}
    assert dosage["site"]["coding"] == [{"system": "urn:wearoff:area", "code": "glabellar"}]
    assert dosage["extension"][0]["url"] == "urn:wearoff:dilution"
    assert dosage["extension"][0]["valueQuantity"]["value"] == 2.5
    assert dosage["extension"][0]["valueQuantity"]["code"] == "mL"
    assert t001["performer"] == [{"actor": {"display": "Smith, J"}}]
    t004 = entries[T004 - 1]["resource"]  # T002 is not exported: T004 moved up
    assert t004["identifier"][0]["value"] == "T004" and t004["dosage"]["dose"]["value"] == 62.5
    assert "batch" not in t004["contained"][0] and "extension" not in t004["dosage"] and "performer" not in t004

    scores = [e["resource"] for e in entries[7:]]
    first = scores[0]
    assert first["status"] == "final" and first["valueInteger"] == 3 and first["effectiveDateTime"] == "2024-01-10"
    assert first["code"]["text"] == "wrinkle severity at maximal contraction"
    assert first["code"]["coding"][0]["system"].startswith("urn:wearoff:")
    assert first["bodySite"]["coding"] == [{"system": "urn:wearoff:area", "code": "glabellar"}]
    assert first["extension"] == [{"url": "urn:wearoff:rater", "valueCode": "clinician"}]
    assert first["component"][0]["valueInteger"] == 1 and first["component"][0]["code"]["coding"][0]["code"]
    assert [s.get("component") is not None for s in scores] == [True] + [False] * 5
    assert [s["extension"][0]["valueCode"] for s in scores].count("patient") == 2


def test_reimport_is_a_no_op(engine: Engine, good_folder: Path, good_bundle: dict[str, Any], tmp_path: Path) -> None:
    path = _write(tmp_path / "bundle.json", good_bundle)
    _import(engine, path)
    before = count_rows(engine)
    report = _import(engine, path)
    assert not report.changed
    assert (report.patients_unchanged, report.treatments_unchanged, report.assessments_unchanged) == (3, 5, 6)
    wipe(engine)
    _import_csv(engine, good_folder)  # the same records from CSV: the Bundle adds nothing either
    assert not _import(engine, path).changed
    assert count_rows(engine) == before


def test_bad_entries_are_all_reported_and_nothing_stored(
    engine: Engine, good_bundle: dict[str, Any], tmp_path: Path
) -> None:
    data = copy.deepcopy(good_bundle)
    entries = data["entry"]
    entries[T002]["resource"]["contained"][0]["code"]["coding"][0]["code"] = "botulax"
    entries[T005]["resource"]["subject"]["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    entries[S_P002]["resource"]["valueInteger"] = 5
    errors = _refused(engine, _write(tmp_path / "bundle.json", data))
    assert [(e.entry, e.column) for e in errors] == [(T002, "product"), (T005, "patient_id"), (S_P002, "severity")]
    assert str(errors[0]).startswith(f"bundle.json:entry[{T002}]: product: unknown product 'botulax'")
    assert "is not the fullUrl of a Patient entry" in errors[1].message
    assert str(errors[2]) == (
        f"bundle.json:entry[{S_P002}]: severity: severity 5 is outside 0-3 (at Observation.valueInteger)"
    )
    assert count_rows(engine)["clinic"] == 0  # not even the clinic was created


def _edit_subject_by_identifier(data: dict[str, Any]) -> None:
    data["entry"] = [data["entry"][T004]]  # P002 is in the database only
    data["entry"][0]["resource"]["subject"] = {"identifier": {"value": "P002"}}
    data["entry"][0]["resource"]["identifier"][0]["value"] = "T900"
    data["entry"][0]["resource"]["effectiveDateTime"] = "2024-07-01T09:30:00+02:00"


def _edit_patient_reference(data: dict[str, Any]) -> None:
    patient = data["entry"][P003]["resource"]
    patient["id"] = "p3"
    patient["birthDate"] = "1992-03-04"
    data["entry"][T005]["resource"]["subject"] = {"reference": "Patient/p3"}
    data["entry"].append({"resource": {"resourceType": "Practitioner", "name": [{"family": "Smith"}]}})


@pytest.mark.parametrize(
    ("edit", "stored_first", "added", "warning"),
    [
        pytest.param(_edit_subject_by_identifier, True, (0, 1, 0), "", id="subject by identifier, stored patient"),
        pytest.param(
            _edit_patient_reference,
            False,
            (3, 5, 6),
            "Practitioner resources are not records; ignored: entry[14]",
            id="Patient/id, full date",
        ),
    ],
)
def test_what_import_also_accepts(
    engine: Engine,
    good_folder: Path,
    good_bundle: dict[str, Any],
    tmp_path: Path,
    edit: Any,
    stored_first: bool,
    added: tuple[int, int, int],
    warning: str,
) -> None:
    if stored_first:
        _import_csv(engine, good_folder)
    data = copy.deepcopy(good_bundle)
    edit(data)
    report = _import(engine, _write(tmp_path / "bundle.json", data))
    assert (report.patients_added, report.treatments_added, report.assessments_added) == added
    assert all(warning in w for w in report.warnings) and bool(report.warnings) == bool(warning)


def _set(path: list[Any], value: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


# (case id, edit, entry, column, words in the message)
MAPPING_CASES = [
    ("dose in mL", _set(["entry", T001, "resource", "dosage", "dose", "code"], "mL"), T001, "units", "'mL'"),
    ("gender other", _set(["entry", P002, "resource", "gender"], "other"), P002, "sex", "female, male"),
    ("no rater", _set(["entry", S_P002, "resource", "extension"], []), S_P002, "rater", "missing"),
    ("rest 7", _set(["entry", S_P001_JAN_REST, "resource", "component", 0, "valueInteger"], 7), 8, "severity_rest", ""),
    ("status", _set(["entry", T003, "resource", "status"], "in-progress"), T003, "status", "only completed"),
    (
        "modifier",
        _set(["entry", T003, "resource", "modifierExtension"], [{"url": "urn:x", "valueBoolean": True}]),
        T003,
        "modifierExtension",
        "urn:x is not understood",
    ),
    (
        "medication reference",
        _set(["entry", T003, "resource", "medicationReference", "reference"], "#nope"),
        T003,
        "product",
        "neither a contained Medication",
    ),
    (
        "changed units",
        _set(["entry", T004, "resource", "dosage", "dose", "value"], 60),
        T004,
        "units",
        "already in the database with units 62.5, not 60; stored records are never overwritten",
    ),
    (
        "duplicate patient",
        lambda d: d["entry"].append(copy.deepcopy(d["entry"][P001]) | {"fullUrl": "urn:uuid:1"}),
        14,
        "patient_id",
        f"(also in entry[{P001}])",
    ),
]


@pytest.mark.parametrize(("edit", "entry", "column", "words"), [pytest.param(*c[1:], id=c[0]) for c in MAPPING_CASES])
def test_every_problem_names_the_entry_and_the_field(
    engine: Engine,
    good_folder: Path,
    good_bundle: dict[str, Any],
    tmp_path: Path,
    edit: Any,
    entry: int,
    column: str,
    words: str,
) -> None:
    _import_csv(engine, good_folder)  # the database holds the records; the edit is the only problem
    data = copy.deepcopy(good_bundle)
    edit(data)
    errors = _refused(engine, _write(tmp_path / "bundle.json", data))
    assert [(e.file, e.entry, e.line, e.column) for e in errors] == [("bundle.json", entry, entry + 1, column)], errors
    assert words in errors[0].message
    assert str(errors[0]) == f"bundle.json:entry[{entry}]: {column}: {errors[0].message}"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("{not json", "is not JSON", id="not JSON"),
        pytest.param("[1, 2]", "the JSON is a list", id="a list"),
        pytest.param('{"resourceType": "Patient"}', "resourceType is 'Patient'", id="not a Bundle"),
        pytest.param('{"resourceType": "Bundle"}', "type: ", id="no type"),
        pytest.param(
            '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Foo"}}]}',
            "entry[0].resource.resourceType 'Foo' is not a FHIR R4B resource type",
            id="unknown resource type",
        ),
        pytest.param(
            '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Observation",'
            ' "status": "final", "code": {"text": "x"}, "valueInteger": 1.5}}]}',
            "entry[0].resource.valueInteger: ",
            id="pydantic error",
        ),
    ],
)
def test_a_malformed_bundle_is_refused_in_one_line(engine: Engine, tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecordsError) as caught:
        _import(engine, path)
    assert not isinstance(caught.value, RecordsImportError)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert count_rows(engine)["clinic"] == 0


def test_not_a_file_and_unknown_clinic(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(RecordsError, match="not a file"), session_scope(engine) as session:
        fhir_io.import_fhir(session, tmp_path / "nowhere.json")
    with pytest.raises(RecordsError, match="no clinic named 'x'"), session_scope(engine) as session:
        fhir_io.export_fhir(session, tmp_path / "out.json", "x")
    assert not (tmp_path / "out.json").exists()


def test_an_empty_clinic_exports_an_empty_bundle(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        get_or_create_clinic(session, "default")
    with session_scope(engine) as session:
        report = fhir_io.export_fhir(session, tmp_path / "b.json")
    assert (report.patients, report.treatments, report.assessments) == (0, 0, 0)
    assert json.loads((tmp_path / "b.json").read_text()) == {"resourceType": "Bundle", "type": "collection"}
    assert not _import(engine, tmp_path / "b.json").changed
