"""Data protection for children's cases: person data, access log, export, deletion run.

A child's identity and the guardians' postal address are health-related social data (Art. 9
DSGVO, §§ 67 ff. SGB X). They live only in the `persons` table; a case refers to them by
`instances.person_id` (pseudonymisation, Art. 25 DSGVO). Reading a child's case file is logged
(§ 35 SGB I). Administration can export everything stored about one person (Art. 15 DSGVO,
§ 83 SGB X), and a deletion run removes closed cases after the retention period (Art. 17
DSGVO, § 84 SGB X): the audit keeps that something happened, not what.

The rules live here (plain functions, no store); the use cases that read and delete (export,
deletion run) are workflows.usecases.privacy.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from .domain import InvalidInput

#: field -> German label; the only fields a person record has.
PERSON_FIELDS = {
    "kind_vorname": "Vorname des Kindes",
    "kind_nachname": "Nachname des Kindes",
    "kind_geburtsdatum": "Geburtsdatum des Kindes",
    "erziehungsberechtigte": "Name der Erziehungsberechtigten",
    "strasse": "Straße und Hausnummer",
    "plz": "Postleitzahl",
    "ort": "Ort",
}
CHILD_FIELDS = ("kind_vorname", "kind_nachname", "kind_geburtsdatum")
ADDRESS_FIELDS = ("erziehungsberechtigte", "strasse", "plz", "ort")
_MAX_LENGTH = {"kind_vorname": 100, "kind_nachname": 100, "erziehungsberechtigte": 200, "strasse": 200, "ort": 100}

#: keys that would carry a child's identity into the workflow JSON (and from there into
#: index rows, the audit and mails); refused in case and task data.
IDENTITY_KEYS = frozenset({"kind_vorname", "kind_nachname", "kind_name", "kind_geburtsdatum",
                           "erziehungsberechtigte_name", "anschrift"})

#: audit actions that are accesses (the case file's "Zugriffe"), not steps of the procedure.
ACCESS_ACTIONS = ("akte_eingesehen", "dokument_gelesen", "daten_exportiert")

#: what the details of a deleted case's audit rows become.
DELETED_MARKER = {"geloescht": True}

#: default retention after a case closed; the legal period is for the data protection officer
#: to set (FF_RETENTION_DAYS).
DEFAULT_RETENTION_DAYS = 3650

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLZ = re.compile(r"[0-9]{5}")


# --- person data -------------------------------------------------------------------------------

def check_person(raw: Any, today: date) -> dict[str, Any]:
    """The person record from submitted values, with German messages per field: the child's
    first and last name and birth date are required; the guardians' address all or nothing."""
    if not isinstance(raw, dict):
        raise InvalidInput("Die Personendaten müssen ein Objekt (Feld → Wert) sein.", field="person")
    unknown = sorted(set(raw) - set(PERSON_FIELDS))
    if unknown:
        raise InvalidInput(f"Unbekannte Angabe zur Person: {unknown[0]}.", field=unknown[0])
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, label in PERSON_FIELDS.items():
        value = raw.get(name)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None:
            values[name] = None
            if name in CHILD_FIELDS:
                errors[name] = f"{label}: Bitte angeben."
        elif name == "kind_geburtsdatum":
            values[name] = _birth_date(value, today, errors)
        elif not isinstance(value, str):
            errors[name] = f"{label}: Bitte einen Text angeben."
        elif _CONTROL.search(value):
            errors[name] = f"{label}: Steuerzeichen sind nicht erlaubt."
        elif name == "plz" and not _PLZ.fullmatch(value):
            errors[name] = "Postleitzahl: Bitte fünf Ziffern angeben."
        elif name != "plz" and len(value) > _MAX_LENGTH[name]:
            errors[name] = f"{label}: Höchstens {_MAX_LENGTH[name]} Zeichen."
        else:
            values[name] = value
    given = [n for n in ADDRESS_FIELDS if raw.get(n) not in (None, "") and not str(raw.get(n)).isspace()]
    if given and len(given) < len(ADDRESS_FIELDS):
        for name in ADDRESS_FIELDS:
            if name not in given:
                errors.setdefault(name, f"{PERSON_FIELDS[name]}: Bitte die Anschrift vollständig angeben "
                                        "(Name, Straße, Postleitzahl, Ort).")
    if errors:
        raise InvalidInput("Bitte prüfen Sie die Angaben zum Kind und zu den Erziehungsberechtigten: "
                           + " ".join(errors.values()), fields=errors, field=next(iter(errors)))
    return values


def _birth_date(value: Any, today: date, errors: dict[str, str]) -> date | None:
    """ISO (JJJJ-MM-TT, from forms and the API) or TT.MM.JJJJ."""
    day = value if isinstance(value, date) and not isinstance(value, datetime) else None
    if day is None and isinstance(value, str):
        for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                day = datetime.strptime(value, pattern).date()
                break
            except ValueError:
                continue
    if day is None:
        errors["kind_geburtsdatum"] = "Geburtsdatum des Kindes: Bitte als TT.MM.JJJJ angeben."
    elif day > today:
        errors["kind_geburtsdatum"] = "Geburtsdatum des Kindes: Das Datum liegt in der Zukunft."
    elif day < today.replace(year=today.year - 18, day=min(today.day, 28)):
        errors["kind_geburtsdatum"] = ("Geburtsdatum des Kindes: Das Kind wäre älter als 18 Jahre – "
                                       "bitte prüfen.")
    return day


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Names (not values) of the fields a correction changes, for the audit."""
    before = before or {}
    return [name for name in PERSON_FIELDS if before.get(name) != after.get(name)]


def refuse_identity_in_data(data: dict[str, Any]) -> None:
    """Names and addresses belong in the person record, never in case or task data."""
    found = sorted(set(data) & IDENTITY_KEYS)
    if found:
        raise InvalidInput(f"„{found[0]}“ gehört nicht in die Vorgangsdaten: Angaben zum Kind und zur "
                           "Anschrift werden nur in den Personendaten gespeichert.", field=found[0])


def has_address(person: dict[str, Any] | None) -> bool:
    return bool(person) and all(person.get(name) for name in ADDRESS_FIELDS)


def public(person: dict[str, Any] | None) -> dict[str, Any] | None:
    """The person record as the case file and the API show it."""
    if person is None:
        return None
    return {"id": person["id"], **{name: person.get(name) for name in PERSON_FIELDS}}


def split_history(history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(process history, accesses): the case file lists them apart, so steps stay readable."""
    return ([h for h in history if h["action"] not in ACCESS_ACTIONS],
            [h for h in history if h["action"] in ACCESS_ACTIONS])


# --- export format ----------------------------------------------------------------------------

def export_json(export: dict[str, Any]) -> bytes:
    """The export as one UTF-8 JSON document (dates ISO 8601)."""
    return json.dumps(export, ensure_ascii=False, indent=2, default=_iso).encode("utf-8")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)
