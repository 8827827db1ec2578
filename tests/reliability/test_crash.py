"""kill -9 of the web server and the timer worker in the middle of completions and timer
firings, several times over: afterwards every case is consistent, every acknowledged
completion is durable, every cut-off request happened completely or not at all, and the
timers that fell due fire after the restart, exactly once."""
from __future__ import annotations

import random
import shutil
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from workflows.clock import BERLIN, FixedClock, SimulationState
from workflows.services import Workflows
from workflows.store import Store, audit_events, instances, pending_timers

from ..helpers import PARTIES_LVR, SYSTEM, assert_consistent, own_database, read, task_states
from .servers import Client, Launcher, fired_by, prepare

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
ROUNDS = 3
KILL_AFTER = 12          # acknowledged completions per round before the kill
DEADLINE_CASES = 24      # frist_abbruch cases, due two hours apart


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def database(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "absturz.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    return own_database("absturz")


@pytest.fixture
def launcher(database, tmp_path):
    launcher = Launcher(database, tmp_path)
    yield launcher
    launcher.kill_all()


def _setup(store: Store) -> tuple[Workflows, dict[str, str]]:
    store.migrate()
    clock = FixedClock(NOW)
    services = Workflows(store, clock)
    services.deploy_model({"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")}, SYSTEM)
    services.deploy_model({"frist_abbruch.bpmn": read("frist_abbruch.bpmn")}, SYSTEM)
    for i in range(30):
        services.start_case("fuenf_schritte", f"LVR-S-{i:02d}", {}, SYSTEM, parties=PARTIES_LVR)
    for i in range(DEADLINE_CASES):          # due at NOW + 14 days + 2 i hours
        services.start_case("frist_abbruch", f"LVR-D-{i:02d}", {}, SYSTEM, parties=PARTIES_LVR)
        clock.advance(timedelta(hours=2))
    tokens = prepare(store, NOW + timedelta(days=14) - timedelta(hours=1))
    return services, tokens


class Stream:
    """Client threads completing whatever task they find; one of them also moves the clock an
    few hours on after each of its completions. Every completion's outcome is kept."""

    def __init__(self, address: str, tokens: dict[str, str], seed: int, kill_at: int):
        self.clients = [Client(address, tokens[u]) for u in ("sabine.lvr", "karl.lvr", "sabine.lvr")]
        self.owner = Client(address, tokens["paula.prozess"])
        self.outcomes: list[tuple[str, int | None]] = []
        self.acknowledged = threading.Event()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.seed, self.kill_at = seed, kill_at
        self.statuses: list[int | None] = []

    def run(self, index: int, simulated: list[datetime]) -> None:
        rnd, client = random.Random(self.seed * 10 + index), self.clients[index]
        for _ in range(300):                              # bounded; the kill ends it sooner
            if self.stop.is_set():
                return
            status, page = client.call("GET", "/tasks?per_page=30", timeout=30)
            self.statuses.append(status)
            if status != 200 or not page["items"]:
                continue
            task = rnd.choice(page["items"])
            status, _ = client.call("POST", f"/tasks/{task['task_id']}/complete", {"data": {}}, timeout=30)
            with self.lock:
                self.outcomes.append((task["task_id"], status))
                self.statuses.append(status)
                if sum(1 for _, s in self.outcomes if s == 200) >= self.kill_at:
                    self.acknowledged.set()
            if index == 0 and status == 200:
                simulated[0] += timedelta(hours=4)
                self.statuses.append(self.owner.call("PUT", "/clock", {"now": simulated[0].isoformat(),
                                                                       "frozen": True}, timeout=30)[0])


def _audit(store: Store, action: str) -> list[Any]:
    with store.read() as conn:
        return conn.execute(sa.select(audit_events).where(audit_events.c.action == action)).all()


def _due_timers(store: Store, moment: datetime) -> int:
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(pending_timers)
                            .where(pending_timers.c.due_at < moment)).scalar()


@pytest.mark.timeout(240)
def test_kill_minus_nine_loses_nothing_and_doubles_nothing(database, launcher):
    store = Store(database)
    try:
        services, tokens = _setup(store)
        simulated = [NOW + timedelta(days=14) - timedelta(hours=1)]
        outcomes: list[tuple[str, int | None]] = []
        statuses: list[int | None] = []
        killed_while_due = 0
        for round_ in range(ROUNDS):
            server, address = launcher.gunicorn(workers=2)
            worker = launcher.timer_worker(f"timer-{round_}")
            stream = Stream(address, tokens, round_, KILL_AFTER)
            threads = [threading.Thread(target=stream.run, args=(i, simulated)) for i in range(3)]
            for t in threads:
                t.start()
            assert stream.acknowledged.wait(timeout=90), f"Runde {round_}: zu wenige Erledigungen {stream.outcomes}"
            assert server.kill() == -9 and worker.kill() == -9
            stream.stop.set()
            for t in threads:
                t.join(timeout=90)
                assert not t.is_alive()
            outcomes += stream.outcomes
            statuses += stream.statuses
            # while both are down, time passes: what falls due now must fire after the restart
            simulated[0] += timedelta(hours=3)
            store.save_simulation(SimulationState(simulated[0], datetime.now().astimezone(), frozen=True))
            killed_while_due += _due_timers(store, simulated[0])

        simulated[0] += timedelta(days=3)                 # every remaining deadline falls due
        store.save_simulation(SimulationState(simulated[0], datetime.now().astimezone(), frozen=True))
        due = _due_timers(store, simulated[0])
        server, address = launcher.gunicorn(workers=2)
        worker = launcher.timer_worker("timer-final")
        while fired_by(worker) < due:
            worker.wait_for(r"fired timers of \d+ case", timeout=60)
        assert _due_timers(store, simulated[0]) == 0
        assert worker.stop() == 0 and server.stop() == 0

        states = task_states(services)
        done = {}
        for event in _audit(store, "aufgabe_erledigt"):
            done[event.task_id] = done.get(event.task_id, 0) + 1
        acknowledged = [tid for tid, status in outcomes if status == 200]
        cut_off = [tid for tid, status in outcomes if status is None]
        figures = (f"{ROUNDS} Abstürze überstanden; {len(outcomes)} Erledigungen gesendet, {len(acknowledged)} bestätigt, "
                   f"{sum(1 for _, s in outcomes if s == 409)} Konflikte, {len(cut_off)} abgeschnitten "
                   f"(davon {sum(1 for t in cut_off if done.get(t))} ganz ausgeführt, die übrigen gar nicht); "
                   f"{len(_audit(store, 'timer_ausgeloest'))} Timer ausgelöst, {due} erst nach dem letzten Neustart, "
                   f"{killed_while_due}-mal fällig, aber unausgelöst beim Stillstand")
        print(f"\n[{store.dialect}] {figures}")
        assert len(acknowledged) == len(set(acknowledged)) >= ROUNDS * KILL_AFTER, figures
        assert all(done.get(t) == 1 and states[t] == "erledigt" for t in acknowledged), figures
        for task_id in cut_off:
            assert (done.get(task_id), states[task_id]) in ((1, "erledigt"), (None, "offen"), (None, "entfallen")), \
                (task_id, figures)
        assert not [s for s in statuses if s is not None and s >= 500], figures
        fired = [e.instance_id for e in _audit(store, "timer_ausgeloest")]
        assert len(fired) == len(set(fired)), figures                 # no deadline fired twice
        with store.read() as conn:
            deadline_cases = conn.execute(sa.select(instances.c.id).where(
                instances.c.process_id == "frist_abbruch")).scalars().all()
        completed = {e.instance_id for e in _audit(store, "aufgabe_erledigt")}
        for case_id in deadline_cases:                                # completed or escalated, never both
            assert (case_id in completed) != (case_id in fired), (case_id, figures)
        assert_consistent(services)
    finally:
        store.dispose()
