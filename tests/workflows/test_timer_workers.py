"""Two timer workers in separate processes never fire the same timer twice,
and a worker that was down fires on start what fell due meanwhile."""
import multiprocessing
from datetime import timedelta

import sqlalchemy as sa

from workflows.clock import SimulationClock, SimulationState
from workflows.services import Workflows
from workflows.store import Store, audit_events, pending_timers
from workflows.worker import run_once

from ..helpers import LEITUNG_LVR, PARTIES_LVR, SYSTEM, count_rows

CASES = 40


def _worker(url: str, results) -> None:
    """A separate process: its own store and a simulation clock read from the database."""
    store = Store(url)
    services = Workflows(store, SimulationClock(store.load_simulation, ttl=0))
    results.put(run_once(services, batch=5))
    store.dispose()


def _race(store: Store, services: Workflows, clock) -> list[int]:
    for i in range(CASES):
        services.start_case("fristpruefung", f"T-{i:03d}", {"eingang_am": "2026-01-05"}, SYSTEM,
                            parties=PARTIES_LVR)
    due = services.next_timer_due()
    store.save_simulation(SimulationState(simulated=due + timedelta(minutes=1), real=clock.now(),
                                          frozen=True))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_worker, args=(store.url, results)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    return [results.get(timeout=5) for _ in workers]


def test_two_worker_processes_fire_each_timer_exactly_once(store, services, deploy, clock):
    deploy("fristpruefung.bpmn", "pruefen.json")
    fired = _race(store, services, clock)
    assert sum(fired) == CASES, fired
    with store.read() as conn:
        per_case = conn.execute(
            sa.select(audit_events.c.instance_id, sa.func.count())
            .where(audit_events.c.action == "timer_ausgeloest")
            .group_by(audit_events.c.instance_id)).all()
    assert len(per_case) == CASES
    assert all(n == 1 for _, n in per_case)
    assert count_rows(store, pending_timers) == 0
    assert len(services.inbox(LEITUNG_LVR, limit=100)) == CASES


def test_timers_that_fell_due_while_down_fire_on_start(store, services, deploy, clock):
    deploy("fristpruefung.bpmn", "pruefen.json")
    for i in range(3):
        services.start_case("fristpruefung", f"R-{i}", {"eingang_am": f"2026-01-0{i + 5}"}, SYSTEM,
                            parties=PARTIES_LVR)
    clock.advance(timedelta(days=120))        # the worker was down for months
    restarted = Workflows(Store(store.url) if store.dialect == "postgresql" else store, clock)
    assert run_once(restarted) == 3
    assert count_rows(store, pending_timers) == 0
    assert run_once(restarted) == 0


def test_worker_loop_fires_and_stops_when_told(services, deploy, clock):
    """The loop runs rounds until its stop event is set; here the second round sets it."""
    import threading

    from workflows import worker

    deploy("fristpruefung.bpmn", "pruefen.json")
    services.start_case("fristpruefung", "L-1", {"eingang_am": "2026-01-05"}, SYSTEM, parties=PARTIES_LVR)
    clock.advance(timedelta(days=120))
    stop, rounds = threading.Event(), []
    original = services.fire_due_timers

    def counting(*args, **kwargs):
        rounds.append(original(*args, **kwargs))
        if len(rounds) == 2:
            stop.set()
        return rounds[-1]

    services.fire_due_timers = counting
    worker.run(services, stop, poll_seconds=0.01)
    assert rounds == [1, 0]
    assert len(services.inbox(LEITUNG_LVR)) == 1


def test_worker_loop_survives_a_failing_round(services, clock):
    import threading

    from workflows import worker

    stop, calls = threading.Event(), []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            stop.set()
        raise RuntimeError("Datenbank nicht erreichbar")

    services.fire_due_timers = failing
    worker.run(services, stop, poll_seconds=0.01)
    assert len(calls) == 2
