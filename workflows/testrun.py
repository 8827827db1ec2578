"""Test runs for process owners: a case of a model in a throwaway store, time fast-forwarded.

Nothing touches real cases: the newest version's files are deployed into a temporary
SQLite database with its own fixed clock; the clock then jumps from timer to timer.
"""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from typing import Any

from .clock import FixedClock
from .domain import Actor
from .store import Store

MAX_EVENTS = 100
TESTER = Actor.system("testlauf")
PARTIES = {"egh": "LVR", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Testlauf"}


def run(files: dict[str, str], main: str, process_id: str, data: dict[str, Any], start: datetime,
        days: int) -> list[dict[str, Any]]:
    """What happens to a new case within `days` if nobody works its tasks: the start and
    every timer that fires, each with the open tasks and deadlines afterwards."""
    from .services import Workflows                  # services imports this module's caller
    from .worker import run_once
    with tempfile.TemporaryDirectory(prefix="testlauf-") as tmp:
        store = Store(f"sqlite:///{tmp}/testlauf.db")
        try:
            store.migrate()
            clock = FixedClock(start)
            sandbox = Workflows(store, clock)
            sandbox.deploy_model(files, TESTER, main=main)
            sandbox.start_case(process_id, "TESTLAUF-1", data, TESTER, parties=PARTIES)
            events = [_event(sandbox, clock.now(), "Vorgang angelegt", [])]
            horizon = start + timedelta(days=days)
            while len(events) < MAX_EVENTS:
                due = sandbox.next_timer_due()
                if due is None or due > horizon:
                    break
                clock.set(due + timedelta(seconds=1))
                run_once(sandbox)
                fired = [t["name"] for h in sandbox.case("TESTLAUF-1", TESTER)["history"]
                         if h["action"] == "timer_ausgeloest" and h["at"] == clock.now() for t in h["details"]["timer"]]
                error = sandbox.case("TESTLAUF-1", TESTER)["error"]
                events.append(_event(sandbox, clock.now(), "Timer ausgelöst" if not error else "Fehler", fired, error))
                if error:
                    break
            return events
        finally:
            store.dispose()


def _event(sandbox, at: datetime, what: str, fired: list[str], error: str | None = None) -> dict[str, Any]:
    case = sandbox.case("TESTLAUF-1", TESTER)
    return {"at": at, "what": what, "fired": fired, "error": error, "status": case["status"],
            "open_tasks": [(t["title"], t["lane"]) for t in case["open_tasks"]],
            "deadlines": [(d.frist.title, d.frist.end, d.frist.shifted_end, d.status.value) for d in case["deadlines"]]}
