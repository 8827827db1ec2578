"""Test runs for process owners: a case of a model in a throwaway store, time fast-forwarded.

Nothing touches real cases: the newest version's files are deployed into a temporary
SQLite database with its own fixed clock; the clock then jumps from timer to timer.
"""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from typing import Any

from ..clock import FixedClock
from ..store import Store
from .. import engine, policy
from ..domain import Actor, InvalidInput
from . import cases, timers
from .context import Context
from .models import deploy_model

MAX_EVENTS = 100
TESTER = Actor.system("testlauf")
PARTIES = {"egh": "LVR", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Testlauf"}


def test_run(ctx: Context, process_id: str, data: dict[str, Any], days: int, actor: Actor) -> list[dict[str, Any]]:
    """Run a new case of the newest version in a throwaway store and fast-forward `days`."""
    policy.require(policy.may_deploy(actor), "Nur Prozessverantwortliche dürfen Testläufe starten.")
    if not 1 <= days <= 3660:
        raise InvalidInput("Bitte einen Zeitraum von 1 bis 3660 Tagen angeben.", field="tage")
    data = engine.check_data(dict(data))
    with ctx.store.read() as conn:
        version = ctx.store.latest_model_version(conn, process_id)
    main = next(name for name, text in version["files"].items() if text == version["bpmn_xml"])
    return run(version["files"], main, process_id, data, ctx.clock.now(), days)



def run(files: dict[str, str], main: str, process_id: str, data: dict[str, Any], start: datetime,
        days: int) -> list[dict[str, Any]]:
    """What happens to a new case within `days` if nobody works its tasks: the start and
    every timer that fires, each with the open tasks and deadlines afterwards."""
    with tempfile.TemporaryDirectory(prefix="testlauf-") as tmp:
        store = Store(f"sqlite:///{tmp}/testlauf.db")
        try:
            store.migrate()
            clock = FixedClock(start)
            sandbox = Context(store, clock)
            deploy_model(sandbox, files, TESTER, main=main)
            cases.start_case(sandbox, process_id, "TESTLAUF-1", data, TESTER, parties=PARTIES)
            events = [_event(sandbox, clock.now(), "Vorgang angelegt", [])]
            horizon = start + timedelta(days=days)
            while len(events) < MAX_EVENTS:
                due = timers.next_timer_due(sandbox)
                if due is None or due > horizon:
                    break
                clock.set(due + timedelta(seconds=1))
                timers.fire_due_timers(sandbox, limit=timers.Sweep.MAX_CASES)
                fired = [t["name"] for h in cases.case(sandbox, "TESTLAUF-1", TESTER)["history"]
                         if h["action"] == "timer_ausgeloest" and h["at"] == clock.now() for t in h["details"]["timer"]]
                error = cases.case(sandbox, "TESTLAUF-1", TESTER)["error"]
                events.append(_event(sandbox, clock.now(), "Timer ausgelöst" if not error else "Fehler", fired, error))
                if error:
                    break
            return events
        finally:
            store.dispose()


def _event(sandbox, at: datetime, what: str, fired: list[str], error: str | None = None) -> dict[str, Any]:
    case = cases.case(sandbox, "TESTLAUF-1", TESTER)
    return {"at": at, "what": what, "fired": fired, "error": error, "status": case["status"],
            "open_tasks": [(t["title"], t["lane"]) for t in case["open_tasks"]],
            "deadlines": [(d.frist.title, d.frist.end, d.frist.shifted_end, d.status.value) for d in case["deadlines"]]}
