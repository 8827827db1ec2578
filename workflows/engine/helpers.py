"""The functions BPMN scripts may call (frist, frist_erfuellt, frist_entfaellt, heute) and the
names task data therefore must not use (RESERVED_NAMES, checked by `check_data`).

A deadline a script computes with `frist()` is recorded in the workflow's data under
DEADLINES_KEY, so the index, the board and the case file list it without running the model.
The script engine (`running`) binds the helpers to the task that runs the script.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Callable

from .. import casedata, clock, fristen, scripting
from ..domain import DeadlineStatus, InvalidInput, ScriptError


DEADLINES_KEY = "fristen"
#: Deadlines one case may record: more is a runaway script, not a procedure (it would flood the board).
MAX_DEADLINES = 200
#: A deadline's key is an identifier: it names timers and lands in the board, CSV and iCalendar.
DEADLINE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,59}\Z")
HELPER_NAMES = ("frist", "frist_erfuellt", "frist_entfaellt", "heute")
#: Names task data must not use: a variable named like a helper or builtin hides it from
#: every later script of the case (SpiffWorkflow refuses to run them).
RESERVED_NAMES = frozenset(HELPER_NAMES) | frozenset(scripting.SAFE_BUILTINS) | {DEADLINES_KEY}


def script_helpers(task) -> dict[str, Callable]:
    """Functions scripts may call. Deadlines are recorded in the workflow's data so the
    index (and the case file) can list them without running the model."""
    registry = task.workflow.top_workflow.data.setdefault(DEADLINES_KEY, {})

    def frist(key: str, rule: str, event: str, **options: Any) -> dict:
        """Compute a legal deadline, record it under `key` and return it with the
        timer values: `timer` (end of the calendar end, § 188 BGB) and, with
        `warnung_tage`, `warnung` (that many days before)."""
        warn_days = options.pop("warnung_tage", None)
        for name, value in list(options.items()):
            if isinstance(value, str) and len(value) == 10 and value[4] == "-":
                options[name] = date.fromisoformat(value)
        result = fristen.berechne(rule, date.fromisoformat(str(event)[:10]), **options)
        entry = {**result.to_dict(), "status": DeadlineStatus.RUNNING.value, "met_on": None,
                 "timer": clock.end_of_day(result.end).isoformat()}
        if warn_days is not None:
            entry["warnung"] = clock.start_of_day(result.end - timedelta(days=int(warn_days))).isoformat()
        if key not in registry and len(registry) >= MAX_DEADLINES:
            raise ScriptError(f"Ein Vorgang kann höchstens {MAX_DEADLINES} Fristen haben "
                              f"(neue Frist „{str(key)[:40]}“).")
        if not isinstance(key, str) or not DEADLINE_KEY.match(key):
            raise ScriptError("Der Schlüssel einer Frist besteht aus Buchstaben, Ziffern und _ "
                              "(höchstens 60 Zeichen), z. B. frist(\"entscheidung\", …).")
        registry[key] = entry
        return dict(entry)

    def frist_erfuellt(key: str, am: str | None = None) -> None:
        """Mark a recorded deadline as met (on `am`, default today)."""
        if key not in registry:
            raise ScriptError(f"Unbekannte Frist „{key}“.")
        registry[key]["status"] = DeadlineStatus.MET.value
        registry[key]["met_on"] = str(am)[:10] if am else clock.today().isoformat()

    def frist_entfaellt(key: str) -> None:
        if key in registry:
            registry[key]["status"] = DeadlineStatus.CANCELLED.value

    def heute() -> str:
        return clock.today().isoformat()

    return {"frist": frist, "frist_erfuellt": frist_erfuellt, "frist_entfaellt": frist_entfaellt,
            "heute": heute}


# --- task data: names scripts can use -----------------------------------------------------

def check_data(data: Any) -> dict[str, Any]:
    """Task data must be a JSON object of plain values with names scripts can use."""
    if not isinstance(data, dict):
        raise InvalidInput("Die Daten müssen ein Objekt (Schlüssel → Wert) sein.")
    for key in data:
        problem = field_name_problem(key)
        if problem:
            raise InvalidInput(problem, field=str(key))
    casedata.check_submission(data)
    return data


def field_name_problem(name: Any) -> str | None:
    """Why `name` cannot be a task data field (German), or None."""
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        return f"Ungültiger Feldname: {name!r} (nur Buchstaben, Ziffern und _, nicht am Anfang)."
    if name in RESERVED_NAMES:
        return f"Der Feldname „{name}“ ist für Skriptfunktionen reserviert."
    return None
