"""Demo data: users for every role, the models of bpmn/, cases in different stages.

Cases are moved on through the services layer by the demo users of the lanes, with dates
relative to the (simulated) today, so the deadlines in the demo are current.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from workflows import engine
from workflows.domain import ADMINS, PROCESS_OWNERS, Actor, DomainError
from workflows.services import Workflows

from .auth import hash_password

DEMO_PASSWORD = "demo-passwort-2026"

USERS = [
    # username, display name, organisation, groups
    ("sabine.lvr", "Sabine Brückner", "LVR", ["EGH-Sachbearbeitung"]),
    ("karl.lvr", "Karl Overbeck", "LVR", ["EGH-Sachbearbeitung"]),
    ("wilma.lwl", "Wilma Hölscher", "LWL", ["EGH-Sachbearbeitung"]),
    ("lena.leitung", "Dr. Lena Faßbender", "LVR", ["Leitung"]),
    ("kai.aok", "Kai Albers", "AOK Rheinland/Hamburg", ["Krankenkasse"]),
    ("ines.iff", "Ines Krämer", "IFF Köln-Süd", ["Leistungserbringer"]),
    ("sven.schlichtung", "Sven Demir", None, ["Schlichtungskommission"]),
    ("paula.prozess", "Paula Reuter", None, [PROCESS_OWNERS]),
    ("dora.datenschutz", "Dora Albrecht", None, [ADMINS]),
]

#: fictitious children and guardians' addresses (streets and names invented) by Aktenzeichen
PERSONS: dict[str, dict[str, str]] = {
    "LVR-FF-2026-0101": {"kind_vorname": "Lina", "kind_nachname": "Sonnenberg", "kind_geburtsdatum": "2023-05-14",
                         "erziehungsberechtigte": "Maren Sonnenberg", "strasse": "Erlenweg 7", "plz": "50999",
                         "ort": "Köln"},
    "LVR-FF-2026-0102": {"kind_vorname": "Ben", "kind_nachname": "Kowalczyk", "kind_geburtsdatum": "2022-11-02",
                         "erziehungsberechtigte": "Ewa und Tom Kowalczyk", "strasse": "Am Musterbach 21",
                         "plz": "50859", "ort": "Köln"},
    "LVR-FF-2026-0103": {"kind_vorname": "Aylin", "kind_nachname": "Demirtas", "kind_geburtsdatum": "2023-08-30",
                         "erziehungsberechtigte": "Selin Demirtas", "strasse": "Kastanienallee 3", "plz": "51065",
                         "ort": "Köln"},
    "LVR-FF-2026-0104": {"kind_vorname": "Noah", "kind_nachname": "Feldmann", "kind_geburtsdatum": "2022-03-19",
                         "erziehungsberechtigte": "Jana Feldmann", "strasse": "Beispielstraße 12", "plz": "53111",
                         "ort": "Bonn"},
    "LVR-FF-2026-0105": {"kind_vorname": "Mila", "kind_nachname": "Hoffmeister", "kind_geburtsdatum": "2023-01-08",
                         "erziehungsberechtigte": "Katrin und Paul Hoffmeister", "strasse": "Lindenhof 5",
                         "plz": "50321", "ort": "Brühl"},
    "LWL-FF-2026-0201": {"kind_vorname": "Jonas", "kind_nachname": "Brinkhaus", "kind_geburtsdatum": "2022-09-25",
                         "erziehungsberechtigte": "Heike Brinkhaus", "strasse": "Zum Erprobungsweg 9",
                         "plz": "48149", "ort": "Münster"},
}

LVR_CASE = {"egh": "LVR", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Köln-Süd"}
LWL_CASE = {"egh": "LWL", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Köln-Süd"}


def _iso(day: date) -> str:
    return day.isoformat()


def _komplexleistung_steps(today: date, fub_days_ago: int, filed_at: str, egh: str) -> dict[str, dict]:
    """Form data for the tasks of a child's case, by task id."""
    fub = today - timedelta(days=fub_days_ago)
    # steps the demo performs today are dated today (a deadline a step starts begins today too)
    return {
        "Task_Eingangsdiagnostik": {
            "verordnung_datum": _iso(fub - timedelta(days=30)),
            "widerspruchshinweis_erteilt_am": _iso(fub - timedelta(days=28)),
            "eingangsdiagnostik_abgeschlossen_am": _iso(fub - timedelta(days=7))},
        "Task_FuB": {
            "fub_datum": _iso(fub), "icd_diagnose": "F83 Kombinierte umschriebene Entwicklungsstörung",
            "teilhabeziel": "Sprachliche Verständigung in der Kita-Gruppe",
            "foerderangebote": ["heilpaedagogik", "logopaedie"],
            "unterschriften": ["aerztin", "paedagogische_fachkraft", "erziehungsberechtigte"]},
        "Task_Antrag": {"antrag_eingang_am": _iso(fub + timedelta(days=1)), "antrag_gestellt_bei": filed_at,
                        "zustaendiger_egh": egh},
        "Task_Weiterleiten": {"weitergeleitet_am": _iso(fub + timedelta(days=2)), "weitergeleitet_an": egh},
        "Task_Leistungspflicht": {"leistungspflicht_bestaetigt": "ja", "bestaetigt_am": _iso(today)},
        "Task_Entscheiden": {"entscheidung": "bewilligt", "entschieden_am": _iso(fub + timedelta(days=8)),
                             "begruendung": "Bedarf laut FuB nachvollziehbar begründet."},
        "Task_Bescheid": {"bescheid_datum": _iso(fub + timedelta(days=9)),
                          "bescheid_versandt_am": _iso(fub + timedelta(days=9))},
        "Task_InfoLeistungserbringer": {"kenntnis_leistungserbringer_am": _iso(fub + timedelta(days=10))},
        "Task_InfoKrankenkasse": {"kenntnis_krankenkasse_am": _iso(fub + timedelta(days=10))},
    }


def _anerkennung_steps(today: date, complete_days_ago: int) -> dict[str, dict]:
    complete = today - timedelta(days=complete_days_ago)
    return {
        "Task_AntragEinreichen": {
            "einrichtungsart": "iff", "einrichtung": "Interdisziplinäre Frühförderstelle Köln-Süd",
            "antrag_eingereicht_am": _iso(complete - timedelta(days=20)),
            "eingereichte_unterlagen": ["konzeption", "personal_qualifikationen", "raeume", "ausstattung"]},
        "Task_Vollstaendigkeit": {"unterlagen_vollstaendig": "ja", "geprueft_am": _iso(complete),
                                  "unterlagen_vollstaendig_am": _iso(complete)},
    }


# Aktenzeichen, process, parties, form data by task id (from today), how many tasks to complete
CASES: list[tuple[str, str, dict, Callable[[date], dict], int]] = [
    ("LVR-FF-2026-0101", "antrag_komplexleistung", LVR_CASE,
     lambda t: _komplexleistung_steps(t, 3, "egh", "LVR"), 0),
    ("LVR-FF-2026-0102", "antrag_komplexleistung", LVR_CASE,
     lambda t: _komplexleistung_steps(t, 9, "egh", "LVR"), 3),
    ("LVR-FF-2026-0103", "antrag_komplexleistung", LVR_CASE,
     lambda t: _komplexleistung_steps(t, 2, "krankenkasse", "LVR"), 3),
    ("LVR-FF-2026-0104", "antrag_komplexleistung", LVR_CASE,
     lambda t: _komplexleistung_steps(t, 20, "egh", "LVR"), 4),
    ("LVR-FF-2026-0105", "antrag_komplexleistung", LVR_CASE,
     lambda t: _komplexleistung_steps(t, 12, "egh", "LVR"), 8),
    ("LWL-FF-2026-0201", "antrag_komplexleistung", LWL_CASE,
     lambda t: _komplexleistung_steps(t, 5, "egh", "LWL"), 4),
    ("LVR-AN-2026-0001", "anerkennungsverfahren", LVR_CASE, lambda t: _anerkennung_steps(t, 10), 1),
    ("LVR-AN-2026-0002", "anerkennungsverfahren", LVR_CASE, lambda t: _anerkennung_steps(t, 80), 2),
]


def load(services: Workflows, bpmn_dir: str | Path) -> str:
    """Load the demo once; a second call changes nothing."""
    if services.user_exists("paula.prozess"):
        return "Demodaten sind bereits geladen."
    for username, name, organisation, groups in USERS:
        services.create_user(username=username, display_name=name, organisation=organisation, groups=groups,
                             password_hash=hash_password(DEMO_PASSWORD), email=f"{username}@example.org")
    owner = _actor("paula.prozess")
    deployed = [services.deploy_model(engine.deployment_files(bpmn_dir, path.name), owner, main=path.name)["process_id"]
                for path in sorted(Path(bpmn_dir).glob("*.bpmn"))]
    today = services.today()
    started = 0
    for key, process, parties, steps_for, completions in CASES:
        if process not in deployed:
            continue
        services.start_case(process, key, {}, _actor_for("EGH-Sachbearbeitung", parties["egh"]),
                            parties=parties, title=_title(process, key), person=PERSONS.get(key))
        _drive(services, key, steps_for(today), completions, parties)
        started += 1
    return (f"{len(USERS)} Benutzer, {len(deployed)} Modelle ({', '.join(deployed)}) und "
            f"{started} Vorgänge angelegt. Passwort der Demobenutzer: {DEMO_PASSWORD}")


def _drive(services: Workflows, key: str, steps: dict[str, dict[str, Any]], completions: int,
           parties: dict[str, str]) -> None:
    """Complete up to `completions` open tasks that have demo data, in order of appearance."""
    for _ in range(completions):
        case = services.case(key, Actor.system("demo"))
        task = next((t for t in case["open_tasks"] if t["name"] in steps), None)
        if task is None:
            return
        organisation = parties.get({"Krankenkasse": "krankenkasse", "Leistungserbringer": "leistungserbringer"}
                                   .get(task["lane"], "egh"))
        try:
            services.complete_task(task["task_id"], steps[task["name"]], _actor_for(task["lane"], organisation))
        except DomainError as err:
            raise RuntimeError(f"Demo-Vorgang {key}, Aufgabe {task['title']}: {err.message}") from err


def _actor(username: str) -> Actor:
    for name, _display, organisation, groups in USERS:
        if name == username:
            return Actor(name, frozenset(groups), organisation)
    raise KeyError(username)


def _actor_for(lane: str, organisation: str | None) -> Actor:
    for name, _display, org, groups in USERS:
        if lane in groups and (org == organisation or org is None):
            return Actor(name, frozenset(groups), org)
    return Actor.system("demo")


def _title(process: str, key: str) -> str:
    return {"antrag_komplexleistung": "Komplexleistung Frühförderung",
            "anerkennungsverfahren": "Anerkennung IFF Köln-Süd"}.get(process, key)
