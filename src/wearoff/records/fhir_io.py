"""Records as FHIR: a clinic's records as one FHIR R4B Bundle (JSON), exported and imported all-or-nothing.

The Bundle (``type`` ``collection``) carries exactly what the CSV folder of :mod:`wearoff.records.csv_io` carries,
so CSV -> database -> FHIR -> another database -> CSV gives byte-identical files. Codes of our own live under
``urn:wearoff:`` (``<clinic>`` is the clinic name, percent-encoded):

==========================  ==================================================================================
records field               FHIR R4B element
==========================  ==================================================================================
**patients.csv**            one ``Patient`` entry per patient, ``fullUrl`` ``urn:uuid:...``
patient_id                  ``identifier`` (system ``urn:wearoff:clinic:<clinic>:patient``)
sex                         ``gender`` (``female`` | ``male``)
birth_year                  ``birthDate``, the year only (``"1980"``, a FHIR partial date)
activity                    ``extension`` ``urn:wearoff:activity``, ``valueCode`` ``low`` | ``moderate`` | ``high``
**treatments.csv**          one ``MedicationAdministration`` entry per area treated, ``status`` ``completed``
treatment_id                ``identifier`` (system ``urn:wearoff:clinic:<clinic>:treatment``)
patient_id                  ``subject``: a reference to the Patient entry's ``fullUrl``
date                        ``effectiveDateTime`` (the session date, ``YYYY-MM-DD``)
product                     ``medicationReference`` ``#medication``, a contained ``Medication`` whose ``code`` has
                            the coding (system ``urn:wearoff:product``, code = product code) and text = the code
lot, expiry                 that Medication's ``batch.lotNumber`` and ``batch.expirationDate`` (when known)
units                       ``dosage.dose``: value = units, unit ``U``, system ``http://unitsofmeasure.org``,
                            code ``[USP'U]`` (the product's own units)
area                        ``dosage.site``: coding (system ``urn:wearoff:area``, code = area code)
dilution_ml                 ``dosage.extension`` ``urn:wearoff:dilution``, ``valueQuantity`` in ``mL`` (UCUM)
injector                    ``performer[0].actor.display``
**assessments.csv**         one ``Observation`` entry per score, ``status`` ``final``
(what is scored)            ``code``: coding (system ``urn:wearoff:observation``, code ``severity-contraction``),
                            text "wrinkle severity at maximal contraction"
patient_id                  ``subject``: a reference to the Patient entry's ``fullUrl``
area                        ``bodySite``: coding (system ``urn:wearoff:area``, code = area code)
date                        ``effectiveDateTime`` (``YYYY-MM-DD``)
severity                    ``valueInteger`` 0-3
severity_rest               ``component`` with code ``severity-rest`` (system ``urn:wearoff:observation``) and
                            ``valueInteger`` 0-3, present only when scored
rater                       ``extension`` ``urn:wearoff:rater``, ``valueCode`` ``clinician`` | ``patient``
==========================  ==================================================================================

Export (:func:`export_bundle`, :func:`export_fhir`) leaves voided rows out and is deterministic: entries are
patients, then treatments, then scores, in the CSV export's order, and the ``urn:uuid:`` fullUrls are name-based
UUIDs (version 5) of the clinic and the ids, so exporting the same records twice gives the same file.

Import (:func:`import_fhir`) reads the Bundle back into the rows of the CSV contract and hands them to
:func:`wearoff.records.csv_io.store_rows`: the same checks, the same refusal of conflicting re-imports, the same
all-or-nothing write as :func:`~wearoff.records.csv_io.import_folder`. A problem is reported as
``bundle.json:entry[12]: units: ... (at MedicationAdministration.dosage.dose)``: the entry's 0-based index, the
records field and, in brackets, the FHIR element. What import also accepts, beyond what export writes:

- a ``subject`` given as a ``Patient/<id>`` reference or as a logical ``identifier`` (its value is the patient
  id, which may then be a patient stored in the database already), ``birthDate`` as a full date (its year is
  kept), ``effectiveDateTime`` with a time (its date as written is kept), an identifier of another system when it
  is the resource's only one, ``medicationCodeableConcept`` instead of a contained Medication, and a Medication
  given as a Bundle entry of its own;
- entries that are not records (other resource types, other Observations, administrations and scores marked
  ``entered-in-error``) are ignored with a warning. A ``modifierExtension`` on a record is refused (it could
  change the record's meaning).

A Bundle that cannot be read (not UTF-8 JSON, not a Bundle, not valid for the ``fhir.resources`` R4B models) is
a :class:`~wearoff.records.errors.RecordsError` with a one-line reason; nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from pydantic import ValidationError
from sqlalchemy.orm import Session

from wearoff.records import csv_io
from wearoff.records.csv_io import (
    ASSESSMENT_COLUMNS,
    ASSESSMENT_OPTIONAL,
    PATIENT_COLUMNS,
    TREATMENT_COLUMNS,
    TREATMENT_OPTIONAL,
    ExportReport,
    ImportReport,
    ProgressCallback,
    RowSource,
    RowTable,
)
from wearoff.records.errors import RecordsError, RecordsImportError, RowError
from wearoff.records.repository import DEFAULT_CLINIC

PRODUCT_SYSTEM = "urn:wearoff:product"
AREA_SYSTEM = "urn:wearoff:area"
OBSERVATION_SYSTEM = "urn:wearoff:observation"
ACTIVITY_URL = "urn:wearoff:activity"
DILUTION_URL = "urn:wearoff:dilution"
RATER_URL = "urn:wearoff:rater"
SEVERITY_CODE = "severity-contraction"
SEVERITY_TEXT = "wrinkle severity at maximal contraction"
SEVERITY_REST_CODE = "severity-rest"
SEVERITY_REST_TEXT = "wrinkle severity at rest"
UCUM = "http://unitsofmeasure.org"
UNITS_CODE = "[USP'U]"
MEDICATION_ID = "medication"
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:wearoff")
_DOSE_CODES = (UNITS_CODE, "U")
_DOSE_UNITS = ("U", "u", "unit", "units")
_ML = ("mL", "ml")
_SCORE_STATUSES = ("final", "amended", "corrected")

FHIR_PATHS: dict[str, dict[str, str]] = {
    "Patient": {
        "patient_id": "Patient.identifier",
        "sex": "Patient.gender",
        "birth_year": "Patient.birthDate",
        "activity": f"Patient.extension({ACTIVITY_URL})",
    },
    "MedicationAdministration": {
        "treatment_id": "MedicationAdministration.identifier",
        "patient_id": "MedicationAdministration.subject",
        "date": "MedicationAdministration.effectiveDateTime",
        "product": "Medication.code",
        "area": "MedicationAdministration.dosage.site",
        "units": "MedicationAdministration.dosage.dose",
        "lot": "Medication.batch.lotNumber",
        "expiry": "Medication.batch.expirationDate",
        "dilution_ml": f"MedicationAdministration.dosage.extension({DILUTION_URL})",
        "injector": "MedicationAdministration.performer.actor.display",
    },
    "Observation": {
        "patient_id": "Observation.subject",
        "area": "Observation.bodySite",
        "date": "Observation.effectiveDateTime",
        "severity": "Observation.valueInteger",
        "severity_rest": f"Observation.component({SEVERITY_REST_CODE}).valueInteger",
        "rater": f"Observation.extension({RATER_URL})",
    },
}
"""Records field -> the FHIR element it maps to, per resource type (named in import errors). Problems of an entry
itself name its FHIR element instead of a records field: ``status``, ``modifierExtension``, ``fullUrl``."""


def id_system(clinic: str, kind: str) -> str:
    """The identifier system of the clinic's ``kind`` ids (``patient`` or ``treatment``):
    ``urn:wearoff:clinic:<clinic>:<kind>`` with the clinic name percent-encoded."""
    return f"urn:wearoff:clinic:{quote(clinic, safe='')}:{kind}"


def _full_url(clinic: str, *parts: Any) -> str:
    name = "\x1f".join([clinic, *(str(p) for p in parts)])
    return f"urn:uuid:{uuid.uuid5(_UUID_NAMESPACE, name)}"


# --- export -----------------------------------------------------------------------------------------------------


def _number(value: float) -> int | float:
    """A JSON number spelled as the CSV export spells it (``20``, ``62.5``)."""
    return int(value) if float(value).is_integer() else float(value)


def _coded(system: str, code: str, text: str | None = None, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if text is not None:
        concept["text"] = text
    return concept


def _patient_resource(p: dict[str, Any], clinic: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "extension": [{"url": ACTIVITY_URL, "valueCode": p["activity"]}],
        "identifier": [{"system": id_system(clinic, "patient"), "value": p["patient_id"]}],
        "gender": p["sex"],
        "birthDate": f"{p['birth_year']:04d}",
    }


def _administration_resource(t: dict[str, Any], clinic: str, subject: str) -> dict[str, Any]:
    medication: dict[str, Any] = {
        "resourceType": "Medication",
        "id": MEDICATION_ID,
        "code": _coded(PRODUCT_SYSTEM, t["product"], text=t["product"]),
    }
    batch = {}
    if t["lot"] is not None:
        batch["lotNumber"] = t["lot"]
    if t["expiry"] is not None:
        batch["expirationDate"] = t["expiry"].isoformat()
    if batch:
        medication["batch"] = batch
    dosage: dict[str, Any] = {}  # keys in FHIR element order, as fhir.resources writes them
    if t["dilution_ml"] is not None:
        quantity = {"value": _number(t["dilution_ml"]), "unit": "mL", "system": UCUM, "code": "mL"}
        dosage["extension"] = [{"url": DILUTION_URL, "valueQuantity": quantity}]
    dosage["site"] = _coded(AREA_SYSTEM, t["area"])
    dosage["dose"] = {"value": _number(t["units"]), "unit": "U", "system": UCUM, "code": UNITS_CODE}
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "contained": [medication],
        "identifier": [{"system": id_system(clinic, "treatment"), "value": t["treatment_id"]}],
        "status": "completed",
        "medicationReference": {"reference": f"#{MEDICATION_ID}"},
        "subject": {"reference": subject},
        "effectiveDateTime": t["date"].isoformat(),
    }
    if t["injector"] is not None:
        resource["performer"] = [{"actor": {"display": t["injector"]}}]
    resource["dosage"] = dosage
    return resource


def _observation_resource(a: dict[str, Any], subject: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "extension": [{"url": RATER_URL, "valueCode": a["rater"]}],
        "status": "final",
        "code": _coded(OBSERVATION_SYSTEM, SEVERITY_CODE, text=SEVERITY_TEXT, display=SEVERITY_TEXT),
        "subject": {"reference": subject},
        "effectiveDateTime": a["date"].isoformat(),
        "valueInteger": a["severity"],
        "bodySite": _coded(AREA_SYSTEM, a["area"]),
    }
    if a["severity_rest"] is not None:
        code = _coded(OBSERVATION_SYSTEM, SEVERITY_REST_CODE, text=SEVERITY_REST_TEXT, display=SEVERITY_REST_TEXT)
        resource["component"] = [{"code": code, "valueInteger": a["severity_rest"]}]
    return resource


def bundle_data(session: Session, clinic: str) -> dict[str, Any]:
    """The Bundle as JSON-ready data, keys in FHIR element order (what :func:`export_bundle` validates, and what
    :func:`bundle_json` writes without the models' cost of about 1 ms per entry)."""
    patients, treatments, assessments = csv_io.export_rows(session, clinic)
    entries: list[dict[str, Any]] = []
    subjects: dict[str, str] = {}
    for p in patients:
        url = subjects[p["patient_id"]] = _full_url(clinic, "patient", p["patient_id"])
        entries.append({"fullUrl": url, "resource": _patient_resource(p, clinic)})
    for t in treatments:
        url = _full_url(clinic, "treatment", t["treatment_id"])
        entries.append({"fullUrl": url, "resource": _administration_resource(t, clinic, subjects[t["patient_id"]])})
    for a in assessments:
        url = _full_url(clinic, "assessment", a["patient_id"], a["area"], a["date"], a["rater"])
        entries.append({"fullUrl": url, "resource": _observation_resource(a, subjects[a["patient_id"]])})
    data: dict[str, Any] = {"resourceType": "Bundle", "type": "collection"}
    if entries:
        data["entry"] = entries
    return data


def export_bundle(session: Session, clinic: str = DEFAULT_CLINIC) -> Bundle:
    """The clinic's records (voided rows left out) as a FHIR R4B ``collection`` Bundle: a Patient per patient, a
    MedicationAdministration per treated area and an Observation per severity score (see the module's table),
    validated by ``fhir.resources``. A :class:`RecordsError` for an unknown clinic."""
    return Bundle.model_validate(bundle_data(session, clinic))


def export_fhir(
    session: Session,
    path: str | os.PathLike[str],
    clinic: str = DEFAULT_CLINIC,
    *,
    progress: ProgressCallback | None = None,
) -> ExportReport:
    """Write :func:`export_bundle` to ``path`` as JSON (UTF-8, indented, replaced atomically; the parent folder
    is created if missing). Returns the counts (``ExportReport.folder`` is the file).

    The file is the text ``export_bundle(...).model_dump_json(indent=2)`` gives, written from the same data
    without the round trip through the ``fhir.resources`` models (which costs about 1 ms per entry): the same
    JSON document, byte for byte for the numbers clinics record (the tests check it)."""
    path = Path(path)
    data = bundle_data(session, clinic)
    if progress is not None:
        progress("exporting", 1, 2)
    counts: dict[str, int] = defaultdict(int)
    for entry in data.get("entry", []):
        counts[entry["resource"]["resourceType"]] += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(bundle_json(data), encoding="utf-8")
    os.replace(tmp, path)
    if progress is not None:
        progress("exporting", 2, 2)
    return ExportReport(path, counts["Patient"], counts["MedicationAdministration"], counts["Observation"])


def bundle_json(bundle: Bundle | dict[str, Any]) -> str:
    """A Bundle (a model, or data in FHIR element order) as the text :func:`export_fhir` writes: JSON indented by
    2, UTF-8 characters unescaped, a final newline."""
    if isinstance(bundle, Bundle):
        return bundle.model_dump_json(indent=2) + "\n"
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


# --- reading a Bundle -------------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the Bundle)"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_bundle(path: str | os.PathLike[str]) -> Bundle:
    """The FHIR R4B Bundle in the JSON file ``path``, validated by ``fhir.resources``; a :class:`RecordsError`
    with a one-line reason if the file is not UTF-8 JSON, not a Bundle, or not valid FHIR R4B."""
    path = Path(path)
    if not path.is_file():
        raise RecordsError(f"{path} is not a file; give a FHIR Bundle as a JSON file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordsError(
            f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RecordsError(f"{path.name} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        raise RecordsError(f"{path.name} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RecordsError(f"{path.name} is not a FHIR Bundle: the JSON is a {type(data).__name__}, not an object")
    if data.get("resourceType") != "Bundle":
        raise RecordsError(f"{path.name} is not a FHIR Bundle: its resourceType is {data.get('resourceType')!r}")
    entries = data.get("entry")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is not None and not isinstance(resource, dict):
            raise RecordsError(f"{path.name} is not a valid FHIR R4B Bundle: entry[{i}].resource is not an object")
        kind = resource.get("resourceType") if resource is not None else None
        if resource is not None and not _known_type(kind):
            raise RecordsError(
                f"{path.name} is not a valid FHIR R4B Bundle: entry[{i}].resource.resourceType {kind!r} is not a "
                "FHIR R4B resource type"
            )
    try:
        return Bundle.model_validate(data)
    except ValidationError as exc:
        problems = exc.errors()
        first = problems[0]
        message = _one_line(first["msg"]).removeprefix("Value error, ")
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise RecordsError(
            f"{path.name} is not a valid FHIR R4B Bundle: {_location(first['loc'])}: {message}{more}"
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecordsError(f"{path.name} is not a valid FHIR R4B Bundle: {_one_line(str(exc))}") from None


def _known_type(kind: Any) -> bool:
    if not isinstance(kind, str) or not kind:
        return False
    try:
        get_fhir_model_class(kind)
    except (ValueError, AttributeError, KeyError):
        return False
    return True


# --- a Bundle's rows --------------------------------------------------------------------------------------------


class _Rows:
    """The three tables of one Bundle, the reader's own problems and warnings, and what each entry is."""

    def __init__(self, file: str, clinic: str) -> None:
        self.file = file
        self.clinic = clinic
        self.patients = RowTable(file, list(PATIENT_COLUMNS), [], entries=True)
        self.treatments = RowTable(file, [*TREATMENT_COLUMNS, *TREATMENT_OPTIONAL], [], entries=True)
        self.assessments = RowTable(file, [*ASSESSMENT_COLUMNS, *ASSESSMENT_OPTIONAL], [], entries=True)
        self.errors: list[RowError] = []
        self.ignored: dict[str, list[int]] = defaultdict(list)
        self.kinds: dict[int, str] = {}
        """entry position (index + 1) -> resource type, for the rows handed to the checks"""
        self.clinics_named: set[str] = set()

    def error(self, table: RowTable, position: int, column: str, message: str) -> None:
        """Record a problem the checks would not see (none when ``message`` is empty: it is reported elsewhere);
        the checks then skip ``column`` of this row and do not store it."""
        if message:
            self.errors.append(table.error(position, column, message))
        table.reported.setdefault(position, set()).add(column)

    def warnings(self) -> list[str]:
        out = []
        for reason, indices in self.ignored.items():
            shown = ", ".join(f"entry[{i}]" for i in indices[:5])
            more = f" and {len(indices) - 5} more" if len(indices) > 5 else ""
            out.append(f"{self.file}: {reason}; ignored: {shown}{more}")
        others = sorted(self.clinics_named - {self.clinic})
        if others:
            named = ", ".join(repr(c) for c in others)
            out.append(
                f"{self.file}: its ids are those of clinic {named} (identifier systems); imported as clinic "
                f"{self.clinic!r}"
            )
        return out


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date_text(value: dt.date | str | None) -> str:
    """A FHIR date or dateTime as ``YYYY-MM-DD``: a time is dropped (the date as written is kept); a partial
    date stays as given (the checks then refuse it)."""
    if value is None:
        return ""
    if isinstance(value, dt.date):  # a datetime too
        return value.isoformat()[:10]
    return str(value)


def _code(concept: CodeableConcept | None, system: str) -> str:
    """The code of ``system`` in ``concept``, else its text, else ``""``."""
    if concept is None:
        return ""
    for coding in concept.coding or []:
        if coding.system == system and coding.code:
            return coding.code
    return _text(concept.text)


def _has_code(concept: CodeableConcept | None, system: str, code: str, text: str) -> bool:
    if concept is None:
        return False
    return any(c.system == system and c.code == code for c in concept.coding or []) or concept.text == text


def _extension(extensions: list[Extension] | None, url: str) -> Extension | None:
    return next((e for e in extensions or [] if e.url == url), None)


_ID_SYSTEM = re.compile(r"^urn:wearoff:clinic:([^:]*):(patient|treatment)$")


def _identifier(rows: _Rows, identifiers: list[Identifier] | None, kind: str) -> tuple[str, str]:
    """(the clinic's id, a problem or ``""``) from a resource's identifiers: the one with a
    ``urn:wearoff:clinic:<clinic>:<kind>`` system, else the only one."""
    ours: dict[str, str] = {}
    for identifier in identifiers or []:
        match = _ID_SYSTEM.match(identifier.system or "")
        if match and match.group(2) == kind:
            ours[unquote(match.group(1))] = _text(identifier.value)
    if ours:
        rows.clinics_named.update(ours)
        if rows.clinic in ours:
            return ours[rows.clinic], ""
        if len(set(ours.values())) == 1:
            return next(iter(ours.values())), ""
        return "", f"identifiers of several clinics ({', '.join(sorted(ours))}) and none of clinic {rows.clinic!r}"
    identifiers = identifiers or []
    if len(identifiers) <= 1:
        return (_text(identifiers[0].value) if identifiers else ""), ""
    return "", (
        f"{len(identifiers)} identifiers and none with system {id_system(rows.clinic, kind)}; give the clinic's "
        f"{kind} id that system"
    )


def _modifiers(rows: _Rows, table: RowTable, position: int, resource: Any) -> None:
    if resource.modifierExtension:
        urls = ", ".join(sorted({_text(e.url) for e in resource.modifierExtension}))
        message = f"{urls} is not understood; the entry cannot be imported"
        rows.error(table, position, "modifierExtension", message)


def _subject(
    rows: _Rows, table: RowTable, position: int, reference: Reference | None, patients: dict[str, str | None]
) -> str:
    """The patient id ``reference`` points to (``""`` when missing; a problem is recorded when it cannot)."""
    if reference is None:
        return ""
    if reference.reference:
        target = reference.reference
        if target in patients:
            pid = patients[target]
            if pid is None:  # the Patient entry has no usable id: it is reported there
                rows.error(table, position, "patient_id", "")
                return ""
            return pid
        rows.error(
            table,
            position,
            "patient_id",
            f"{target!r} is not the fullUrl of a Patient entry of this Bundle (nor Patient/<id> of one); reference "
            "the patient's entry, or give the patient id as the reference's identifier",
        )
        return ""
    if reference.identifier is not None:
        return _text(reference.identifier.value)
    return ""


def _patient_rows(
    rows: _Rows, index: int, resource: Patient, full_url: str | None, patients: dict[str, str | None]
) -> None:
    position = index + 1
    table = rows.patients
    rows.kinds[position] = "Patient"
    pid, problem = _identifier(rows, resource.identifier, "patient")
    if problem:
        rows.error(table, position, "patient_id", problem)
    birth = resource.birthDate
    year = str(birth.year) if isinstance(birth, dt.date) else _text(birth)[:4] if birth else ""
    activity = _extension(resource.extension, ACTIVITY_URL)
    row = {
        "patient_id": pid,
        "sex": _text(resource.gender),
        "birth_year": year,
        "activity": _text(activity.valueCode or activity.valueString) if activity is not None else "",
    }
    _modifiers(rows, table, position, resource)
    table.rows.append((position, row))
    for key in (full_url, f"Patient/{resource.id}" if resource.id else None):
        if key and key not in patients:
            patients[key] = pid or None


def _medication(
    rows: _Rows,
    table: RowTable,
    position: int,
    resource: MedicationAdministration,
    medications: dict[str, Medication],
) -> tuple[str, str, str]:
    """(product, lot, expiry) of an administration."""
    if resource.medicationCodeableConcept is not None:
        return _code(resource.medicationCodeableConcept, PRODUCT_SYSTEM), "", ""
    target = _text(resource.medicationReference.reference if resource.medicationReference else None)
    if target.startswith("#"):
        found = [c for c in resource.contained or [] if isinstance(c, Medication) and c.id == target[1:]]
        medication = found[0] if found else None
    else:
        medication = medications.get(target)
    if medication is None:
        rows.error(
            table,
            position,
            "product",
            f"medicationReference {target!r} is neither a contained Medication nor a Medication entry of this Bundle",
        )
        return "", "", ""
    batch = medication.batch
    lot = _text(batch.lotNumber) if batch else ""
    expiry = _date_text(batch.expirationDate) if batch else ""
    return _code(medication.code, PRODUCT_SYSTEM), lot, expiry


def _quantity(
    rows: _Rows,
    table: RowTable,
    position: int,
    column: str,
    quantity: Quantity | None,
    codes: tuple[str, ...],
    units: tuple[str, ...],
    want: str,
) -> str:
    """The value of a Quantity in the expected unit as text (``""`` when absent; a problem for another unit)."""
    if quantity is None or quantity.value is None:
        return ""
    unit = quantity.code if quantity.code is not None else quantity.unit
    accepted = codes if quantity.code is not None else units
    if unit is not None and unit not in accepted:
        rows.error(table, position, column, f"the quantity is in {unit!r}; give it in {want}")
        return ""
    return str(quantity.value)


def _administration_rows(
    rows: _Rows,
    index: int,
    resource: MedicationAdministration,
    patients: dict[str, str | None],
    medications: dict[str, Medication],
) -> None:
    position = index + 1
    table = rows.treatments
    if resource.status == "entered-in-error":
        rows.ignored["MedicationAdministrations marked entered-in-error are not records"].append(index)
        return
    rows.kinds[position] = "MedicationAdministration"
    if resource.status != "completed":
        message = f"{resource.status!r}: only completed administrations are records"
        rows.error(table, position, "status", message)
    _modifiers(rows, table, position, resource)
    tid, problem = _identifier(rows, resource.identifier, "treatment")
    if problem:
        rows.error(table, position, "treatment_id", problem)
    pid = _subject(rows, table, position, resource.subject, patients)
    if resource.effectiveDateTime is None:
        rows.error(table, position, "date", "give the session date as effectiveDateTime, not effectivePeriod")
    product, lot, expiry = _medication(rows, table, position, resource, medications)
    dosage = resource.dosage
    want = f"the product's own units (unit U, code {UNITS_CODE})"
    units = _quantity(rows, table, position, "units", dosage.dose if dosage else None, _DOSE_CODES, _DOSE_UNITS, want)
    dilution = _extension(dosage.extension if dosage else None, DILUTION_URL)
    dilution_ml = ""
    if dilution is not None:
        if dilution.valueQuantity is None:
            rows.error(table, position, "dilution_ml", "the dilution extension needs a valueQuantity in mL")
        else:
            dilution_ml = _quantity(rows, table, position, "dilution_ml", dilution.valueQuantity, _ML, _ML, "mL")
    injector = next((p.actor.display for p in resource.performer or [] if p.actor and p.actor.display), None)
    row = {
        "treatment_id": tid,
        "patient_id": pid,
        "date": _date_text(resource.effectiveDateTime),
        "product": product,
        "area": _code(dosage.site if dosage else None, AREA_SYSTEM),
        "units": units,
        "lot": lot,
        "expiry": expiry,
        "dilution_ml": dilution_ml,
        "injector": _text(injector),
    }
    table.rows.append((position, row))


def _observation_rows(rows: _Rows, index: int, resource: Observation, patients: dict[str, str | None]) -> None:
    position = index + 1
    table = rows.assessments
    if not _has_code(resource.code, OBSERVATION_SYSTEM, SEVERITY_CODE, SEVERITY_TEXT):
        rows.ignored["Observations other than wrinkle severity scores are not records"].append(index)
        return
    if resource.status == "entered-in-error":
        rows.ignored["severity scores marked entered-in-error are not records"].append(index)
        return
    rows.kinds[position] = "Observation"
    if resource.status not in _SCORE_STATUSES:
        message = f"{resource.status!r}: only {', '.join(_SCORE_STATUSES)} scores are records"
        rows.error(table, position, "status", message)
    _modifiers(rows, table, position, resource)
    pid = _subject(rows, table, position, resource.subject, patients)
    rest = next(
        (
            c.valueInteger
            for c in resource.component or []
            if _has_code(c.code, OBSERVATION_SYSTEM, SEVERITY_REST_CODE, SEVERITY_REST_TEXT)
        ),
        None,
    )
    rater = _extension(resource.extension, RATER_URL)
    row = {
        "patient_id": pid,
        "area": _code(resource.bodySite, AREA_SYSTEM),
        "date": _date_text(resource.effectiveDateTime or resource.effectiveInstant),
        "severity": _text(resource.valueInteger),
        "rater": _text(rater.valueCode or rater.valueString) if rater is not None else "",
        "severity_rest": _text(rest),
    }
    table.rows.append((position, row))


def _bundle_rows(bundle: Bundle, file: str, clinic: str) -> _Rows:
    """Map a Bundle's entries to rows of the CSV contract (unchecked), noting the problems only the Bundle
    shows (unresolvable references, units that are not units) and the entries that are not records."""
    rows = _Rows(file, clinic)
    entries = bundle.entry or []
    seen_urls: dict[str, int] = {}
    medications: dict[str, Medication] = {}
    for i, entry in enumerate(entries):
        url = entry.fullUrl
        if url and entry.resource is not None:
            if url in seen_urls:
                message = f"{url!r} is also entry[{seen_urls[url]}]'s; give each entry its own"
                rows.errors.append(RowError(file, i + 1, "fullUrl", message, i))
            else:
                seen_urls[url] = i
            if isinstance(entry.resource, Medication):
                medications.setdefault(url, entry.resource)
    patients: dict[str, str | None] = {}
    for i, entry in enumerate(entries):
        if isinstance(entry.resource, Patient):
            _patient_rows(rows, i, entry.resource, entry.fullUrl, patients)
    for i, entry in enumerate(entries):
        resource = entry.resource
        if resource is None:
            rows.ignored["entries without a resource are not records"].append(i)
        elif isinstance(resource, MedicationAdministration):
            _administration_rows(rows, i, resource, patients, medications)
        elif isinstance(resource, Observation):
            _observation_rows(rows, i, resource, patients)
        elif not isinstance(resource, Patient | Medication):
            rows.ignored[f"{resource.get_resource_type()} resources are not records"].append(i)
    return rows


def _located(errors: list[RowError], kinds: dict[int, str]) -> list[RowError]:
    """``errors`` in entry order, each naming the FHIR element of its field."""
    out = []
    for e in sorted(errors, key=lambda e: e.line):
        path = FHIR_PATHS.get(kinds.get(e.line, ""), {}).get(e.column)
        out.append(RowError(e.file, e.line, e.column, f"{e.message} (at {path})" if path else e.message, e.entry))
    return out


def import_fhir(
    session: Session,
    path: str | os.PathLike[str],
    clinic: str = DEFAULT_CLINIC,
    *,
    today: dt.date | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a FHIR R4B Bundle (JSON) into ``clinic`` (created if new), all or nothing.

    The entries map to the rows of the CSV contract (the module's table) and are checked and stored by
    :func:`wearoff.records.csv_io.store_rows`, exactly as :func:`~wearoff.records.csv_io.import_folder` does:
    every problem of every entry is reported in one :class:`RecordsImportError` (``bundle.json:entry[12]:
    units: ...``) and nothing is stored; identical records already stored are skipped, conflicting ones refused;
    the writes run in a savepoint of ``session`` and the caller commits. A Bundle that cannot be read is a
    :class:`RecordsError`. ``today`` (default: the local date) bounds the dates.
    """
    path = Path(path)
    bundle = read_bundle(path)
    if progress is not None:
        progress("reading the Bundle", 1, 1)
    rows = _bundle_rows(bundle, path.name, clinic)
    report = ImportReport(clinic=clinic, folder=path, warnings=rows.warnings())
    source = RowSource(
        patients="the Bundle",
        add_patient=f"add a Patient entry with this id as its identifier (system {id_system(clinic, 'patient')})",
    )
    try:
        return csv_io.store_rows(
            session,
            report,
            rows.patients,
            rows.treatments,
            rows.assessments,
            errors=rows.errors,
            source=source,
            today=today,
            progress=progress,
        )
    except RecordsImportError as exc:
        raise RecordsImportError(_located(exc.errors, rows.kinds)) from None
