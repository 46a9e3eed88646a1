"""The records commands: `wearoff db init|upgrade`, `wearoff import`, `wearoff export`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearoff.cli import app
from wearoff.records.db import head_revision, make_engine, mask_url

from .conftest import GOOD, count_rows, read_folder, wipe, write_folder

runner = CliRunner()
TO_DO = "; fix the rows listed and run again"


@pytest.fixture
def url(empty_database_url: str) -> Iterator[str]:
    """The module's database, initialised through the CLI; emptied after the test."""
    result = runner.invoke(app, ["db", "init", "--database-url", empty_database_url])
    assert result.exit_code == 0, result.output
    assert mask_url(empty_database_url) in result.output
    yield empty_database_url
    engine = make_engine(empty_database_url)
    wipe(engine)
    engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return count_rows(engine)
    finally:
        engine.dispose()


def test_db_init_and_upgrade_mask_the_password(url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert f"latest schema ({head_revision()})" in result.output
    if ":postgres@" in url:  # the PostgreSQL test URL carries a password
        assert ":***@" in result.output and ":postgres@" not in result.output


def test_import_then_export(url: str, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in", GOOD)
    result = runner.invoke(app, ["import", str(folder), "--clinic", "north", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "added 3 patients, 5 treatments (4 sessions), 6 assessments" in result.output
    result = runner.invoke(app, ["import", str(folder), "--clinic", "north", "--database-url", url])
    assert result.exit_code == 0 and "added 0 patients" in result.output
    result = runner.invoke(app, ["export", str(tmp_path / "out"), "--clinic", "north", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert read_folder(tmp_path / "out") == GOOD


def test_import_of_a_bad_folder_prints_every_bad_row_and_stores_nothing(url: str, tmp_path: Path) -> None:
    files = dict(GOOD)
    files["treatments.csv"] += "T6,P001,2024-06-01,onabotulinumtoxinA,glabellar,-5,,,,\n"
    files["assessments.csv"] += "P9,glabellar,2024-06-01,1,clinician,\nP001,glabellar,2024-06-02,4,clinician,\n"
    folder = write_folder(tmp_path / "bad", files)
    before = _counts(url)
    result = runner.invoke(app, ["import", str(folder), "--database-url", url])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith("treatments.csv:7: units: units must be positive")
    assert lines[1].startswith("assessments.csv:8: patient_id: patient 'P9' is neither")
    assert lines[2].startswith("assessments.csv:9: severity: severity 4 is outside 0-3")
    assert lines[3] == f"error: 3 bad row(s) in {folder}, 3 problem(s); nothing was imported{TO_DO}"
    assert len(lines) == 4 and "Traceback" not in result.output
    assert _counts(url) == before


def test_import_of_many_bad_rows_lists_the_first_shown_problems_and_counts_the_rest(url: str, tmp_path: Path) -> None:
    import datetime as dt

    from wearoff.records.errors import SHOWN_PROBLEMS

    bad = SHOWN_PROBLEMS + 7
    files = dict(GOOD)
    files["assessments.csv"] += "".join(
        f"P001,glabellar,{dt.date(2024, 6, 1) + dt.timedelta(days=i)},4,clinician,\n" for i in range(bad)
    )
    folder = write_folder(tmp_path / "bad", files)
    result = runner.invoke(app, ["import", str(folder), "--database-url", url])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == SHOWN_PROBLEMS + 2 and "Traceback" not in result.output
    expected = [f"assessments.csv:{8 + i}: severity: severity 4 is outside 0-3" for i in range(SHOWN_PROBLEMS)]
    assert lines[:SHOWN_PROBLEMS] == expected  # line 100 too: ":100:" is no emoji
    assert lines[SHOWN_PROBLEMS] == "and 7 more problem(s)"
    assert lines[-1] == f"error: {bad} bad row(s) in {folder}, {bad} problem(s); nothing was imported{TO_DO}"
    assert _counts(url)["patient"] == 0


def test_import_into_an_uninitialised_database_says_what_to_do(tmp_path: Path) -> None:
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = runner.invoke(app, ["import", str(write_folder(tmp_path / "in", GOOD)), "--database-url", fresh])
    assert result.exit_code == 2
    assert "run `wearoff db init` first" in result.output and len(result.output.strip().splitlines()) == 1


def test_export_of_an_unknown_clinic_and_a_missing_folder_fail_in_one_line(url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(tmp_path / "out"), "--clinic", "nope", "--database-url", url])
    assert result.exit_code == 2 and "no clinic named 'nope'" in result.output
    result = runner.invoke(app, ["import", str(tmp_path / "missing"), "--database-url", url])
    assert result.exit_code == 2 and "is not a folder" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_env_var_selects_the_database(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEAROFF_DATABASE_URL", url)
    result = runner.invoke(app, ["import", str(write_folder(tmp_path / "in", GOOD))])
    assert result.exit_code == 0, result.output
    assert _counts(url)["patient"] == 3


# --- FHIR: `wearoff export --fhir FILE`, `wearoff import --fhir FILE` ----------------------------------------------


def test_fhir_export_then_import_elsewhere(url: str, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in", GOOD)
    assert runner.invoke(app, ["import", str(folder), "--clinic", "north", "--database-url", url]).exit_code == 0
    bundle = tmp_path / "out" / "north.json"
    result = runner.invoke(app, ["export", "--fhir", str(bundle), "--clinic", "north", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "exported 3 patients, 5 treatments and 6 assessments" in result.output and "FHIR" in result.output
    assert not (tmp_path / "out" / "patients.csv").exists()
    result = runner.invoke(app, ["import", "--fhir", str(bundle), "--clinic", "south", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "added 3 patients, 5 treatments (4 sessions), 6 assessments" in result.output
    assert "warning: north.json: its ids are those of clinic 'north'" in result.output
    result = runner.invoke(app, ["import", "--fhir", str(bundle), "--clinic", "south", "--database-url", url])
    assert result.exit_code == 0 and "added 0 patients" in result.output
    result = runner.invoke(app, ["export", str(tmp_path / "south"), "--clinic", "south", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert read_folder(tmp_path / "south") == GOOD


def test_fhir_import_of_a_bad_bundle_prints_one_line_per_bad_entry(url: str, tmp_path: Path) -> None:
    import json

    folder = write_folder(tmp_path / "in", GOOD)
    assert runner.invoke(app, ["import", str(folder), "--database-url", url]).exit_code == 0
    bundle = tmp_path / "bundle.json"
    assert runner.invoke(app, ["export", "--fhir", str(bundle), "--database-url", url]).exit_code == 0
    engine = make_engine(url)
    wipe(engine)
    engine.dispose()
    data = json.loads(bundle.read_text(encoding="utf-8"))
    data["entry"][4]["resource"]["dosage"]["dose"]["value"] = -5
    data["entry"][7]["resource"]["subject"]["reference"] = "urn:uuid:elsewhere"
    data["entry"][12]["resource"]["valueInteger"] = 5
    bundle.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["import", "--fhir", str(bundle), "--database-url", url])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith("bundle.json:entry[4]: units: units must be positive")
    assert lines[1].startswith("bundle.json:entry[7]: patient_id: 'urn:uuid:elsewhere' is not the fullUrl")
    assert lines[2] == "bundle.json:entry[12]: severity: severity 5 is outside 0-3 (at Observation.valueInteger)"
    assert lines[3] == f"error: 3 bad entries in {bundle}, 3 problem(s); nothing was imported{TO_DO}"
    assert len(lines) == 4 and "Traceback" not in result.output
    assert _counts(url)["patient"] == 0


def test_fhir_import_of_a_malformed_bundle_fails_in_one_line(url: str, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_text('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": 3}]}')
    result = runner.invoke(app, ["import", "--fhir", str(bundle), "--database-url", url])
    assert result.exit_code == 2 and "is not a valid FHIR R4B Bundle: entry[0].resource" in result.output
    assert len(result.output.strip().splitlines()) == 1
    bundle.write_text("not json")
    result = runner.invoke(app, ["import", "--fhir", str(bundle), "--database-url", url])
    assert result.exit_code == 2 and "bundle.json is not JSON" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["import", "export"])
def test_a_folder_or_fhir_file_exactly(url: str, tmp_path: Path, command: str) -> None:
    both = [command, str(tmp_path / "dir"), "--fhir", str(tmp_path / "b.json"), "--database-url", url]
    for args, words in (([command, "--database-url", url], "or --fhir FILE"), (both, "not both")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and words in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1


def test_a_command_line_import_is_in_the_audit_log(url: str, tmp_path: Path) -> None:
    from sqlalchemy import select

    from wearoff.records.models import AuditLog

    folder = write_folder(tmp_path / "in", GOOD)
    assert runner.invoke(app, ["import", str(folder), "--database-url", url]).exit_code == 0
    assert runner.invoke(app, ["import", str(folder), "--database-url", url]).exit_code == 0  # nothing new
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(AuditLog.username, AuditLog.action, AuditLog.after)).all()
    finally:
        engine.dispose()
    assert len(rows) == 1, "an import that stores nothing writes no audit row"
    username, action, after = rows[0]
    assert username.startswith("cli:") and action == "import"
    assert (after["format"], after["patients_added"], after["treatments_added"]) == ("csv", 3, 5)
