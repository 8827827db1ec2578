"""Data protection for children's cases: person data, access log, export, deletion run.

A child's identity and the guardians' postal address are health-related social data (Art. 9
DSGVO, §§ 67 ff. SGB X). They live only in the `persons` table; a case refers to them by
`instances.person_id` (pseudonymisation, Art. 25 DSGVO). Reading a child's case file is logged
(§ 35 SGB I). Administration can export everything stored about one person (Art. 15 DSGVO,
§ 83 SGB X), and a deletion run removes closed cases after the retention period (Art. 17
DSGVO, § 84 SGB X): the audit keeps that something happened, not what.

Plain Python over the store; the web layer, the CLI and the timer worker call these functions.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import engine
from .domain import ADMINS, Actor, Forbidden, InvalidInput, NotFound
from .store import (CLOSED_STATUSES, audit_events, awaited_events, case_parties, comments, deadlines,
                    documents, instances, open_tasks, pending_timers, persons)

if TYPE_CHECKING:
    from .services import Workflows

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


# --- export (Art. 15 DSGVO, § 83 SGB X) ------------------------------------------------------

def require_admin(actor: Actor) -> None:
    if not (actor.is_system or ADMINS in actor.groups):
        raise Forbidden("Nur die Administration darf Auskünfte über gespeicherte Personendaten erstellen "
                        "(Art. 15 DSGVO).")


def person_of_case(services: "Workflows", business_key: str, actor: Actor) -> int:
    """The person id of a case, to find whose data to export (Administration only)."""
    require_admin(actor)
    with services.store.read() as conn:
        row = services.store.instance_by_key(conn, business_key)
    if row.person_id is None:
        raise NotFound(f"Zum Vorgang {business_key} sind keine Personendaten gespeichert.",
                       business_key=business_key)
    return row.person_id


def export_person(services: "Workflows", person_id: int, actor: Actor) -> dict[str, Any]:
    """Everything stored about one person: the record, each of their cases with data, deadlines,
    comments, documents (base64) and audit events. The export is audited in every case."""
    require_admin(actor)
    store = services.store
    with services._step() as (conn, now):
        person = store.person(conn, person_id)
        if person is None:
            raise NotFound("Diese Person gibt es nicht (mehr).", person_id=person_id)
        ids = list(conn.execute(sa.select(instances.c.id).where(instances.c.person_id == person_id)
                                .order_by(instances.c.id)).scalars())
        cases = []
        for instance_id in ids:
            row = store.instance(conn, instance_id)
            store.audit(conn, at=now, actor=actor.username, action="daten_exportiert", instance_id=row.id,
                        business_key=row.business_key, details={"person_id": person_id})
            cases.append(_case_export(services, conn, row))
    return {"auskunft": "Auskunft über gespeicherte Sozialdaten (Art. 15 DSGVO, § 83 SGB X)",
            "erstellt_am": now.isoformat(), "erstellt_von": actor.username,
            "person": {**public(person), "angelegt_am": person["created_at"].isoformat(),
                       "geaendert_am": person["updated_at"].isoformat()},
            "vorgaenge": cases}


def _case_export(services: "Workflows", conn, row) -> dict[str, Any]:
    store = services.store
    workflow = engine.loads(row.workflow_json, services._model(conn, row.model_version_id))
    docs = []
    for meta in store.documents_of(conn, row.id):
        content = store.document(conn, row.id, meta["id"])["content"]
        docs.append({**meta, "inhalt_base64": base64.b64encode(content).decode("ascii")})
    return {"aktenzeichen": row.business_key, "verfahren": row.process_id, "titel": row.title,
            "beteiligte": row.parties, "status": row.status, "angelegt_am": row.created_at,
            "geaendert_am": row.updated_at, "abgeschlossen_am": row.closed_at,
            "daten": engine.case_data(workflow),
            "fristen": [{"key": d.key, **asdict(d.frist), "status": d.status.value, "met_on": d.met_on}
                        for d in engine.deadlines(workflow)],
            "kommentare": store.comments_of(conn, row.id),
            "dokumente": docs,
            "verlauf": store.history(conn, row.id)}


def export_json(export: dict[str, Any]) -> bytes:
    """The export as one UTF-8 JSON document (dates ISO 8601)."""
    return json.dumps(export, ensure_ascii=False, indent=2, default=_iso).encode("utf-8")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


# --- deletion run (Art. 17 DSGVO, § 84 SGB X) -------------------------------------------------

@dataclass
class PurgeResult:
    cutoff: datetime
    dry_run: bool
    cases: list[str] = field(default_factory=list)       # Aktenzeichen deleted (or due, in a dry run)
    persons: int = 0                                     # person records deleted with their last case


def due_for_deletion(services: "Workflows", retention_days: int) -> tuple[datetime, list[tuple[int, str]]]:
    """(cutoff, [(id, Aktenzeichen)]) of closed cases whose retention period has run out."""
    if retention_days < 1:
        raise InvalidInput("Die Aufbewahrungsfrist muss mindestens einen Tag betragen.")
    cutoff = services.clock.now() - timedelta(days=retention_days)
    with services.store.read() as conn:
        rows = conn.execute(sa.select(instances.c.id, instances.c.business_key)
                            .where(instances.c.status.in_(CLOSED_STATUSES), instances.c.closed_at < cutoff)
                            .order_by(instances.c.closed_at, instances.c.id)).all()
    return cutoff, [(r.id, r.business_key) for r in rows]


def purge(services: "Workflows", retention_days: int, *, dry_run: bool = False,
          actor: str = "loeschlauf") -> PurgeResult:
    """Delete closed cases older than the retention period, each in its own transaction (all of
    a case or nothing of it); several workers may run this at once."""
    cutoff, due = due_for_deletion(services, retention_days)
    result = PurgeResult(cutoff=cutoff, dry_run=dry_run)
    if dry_run:
        result.cases = [key for _id, key in due]
        return result
    for instance_id, _key in due:
        with services._step() as (conn, now):
            deleted = _delete_case(services, conn, instance_id, cutoff, retention_days, now, actor)
        if deleted is not None:
            result.cases.append(deleted[0])
            result.persons += deleted[1]
    return result


def _delete_case(services: "Workflows", conn, instance_id: int, cutoff: datetime, retention_days: int,
                 now: datetime, actor: str) -> tuple[str, int] | None:
    store = services.store
    try:
        row = store.instance(conn, instance_id, for_update=True)
    except NotFound:                                  # another worker was first
        return None
    if row.status not in CLOSED_STATUSES or row.closed_at is None or row.closed_at >= cutoff:
        return None
    for table in (documents, comments, case_parties, open_tasks, pending_timers, awaited_events, deadlines):
        conn.execute(table.delete().where(table.c.instance_id == row.id))
    conn.execute(instances.delete().where(instances.c.id == row.id))
    # Keep action, actor, time and Aktenzeichen; drop what was recorded (data, texts, names).
    # The id is cleared too: SQLite may hand a deleted row's id to the next new case.
    conn.execute(audit_events.update().where(audit_events.c.instance_id == row.id)
                 .values(details=json.dumps(DELETED_MARKER), instance_id=None))
    person_gone = 0
    if row.person_id is not None:
        others = conn.execute(sa.select(sa.func.count()).select_from(instances)
                              .where(instances.c.person_id == row.person_id)).scalar()
        if not others:
            conn.execute(persons.delete().where(persons.c.id == row.person_id))
            person_gone = 1
    store.audit(conn, at=now, actor=actor, action="vorgang_geloescht", business_key=row.business_key,
                details={"abgeschlossen_am": row.closed_at.date().isoformat(),
                         "aufbewahrungsfrist_tage": retention_days,
                         "rechtsgrundlage": "Art. 17 DSGVO, § 84 SGB X"})
    return row.business_key, person_gone
