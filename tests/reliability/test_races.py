"""Races on one case: separate service instances (own connection pools, as separate web and
timer processes have) act at the same instant. Exactly one wins; the others are told so in
German or do nothing; the audit trail matches and the consistency check finds nothing."""
from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest

from workflows.clock import SimulationClock, SimulationState
from workflows.domain import Actor, Conflict, NotFound
from workflows.services import CaseRef, Workflows
from workflows.store import Store, open_tasks, pending_timers

from ..helpers import (LEITUNG_LVR, PARTIES_LVR, SACHBEARBEITUNG_LVR, SYSTEM, assert_consistent, audit_count, count_rows,
                       own_database, race, read)

N = 6
#: colleagues of one team: anyone of them may claim or complete the team's tasks
TEAM = [Actor(f"team{i}.lvr", frozenset({"EGH-Sachbearbeitung"}), "LVR") for i in range(N)]
#: what a loser may be told: the task is gone or the case changed, never anything else
LOSING = (Conflict, NotFound)


def _losers_told_in_german(results, winners: int = 1) -> list:
    won = [r for r in results if not isinstance(r, LOSING)]
    lost = [r for r in results if isinstance(r, LOSING)]
    assert len(won) == winners, results
    for err in lost:
        assert any(word in err.message for word in ("nicht mehr offen", "übernommen", "geändert")), err.message
    return lost


def test_the_same_task_completed_at_once_is_completed_exactly_once(store, services, deploy, racers):
    """Five steps, each raced by six workers; every step is done once, nothing is lost."""
    deploy("fuenf_schritte.bpmn")
    ref = services.start_case("fuenf_schritte", "LVR-W-1", {}, SYSTEM, parties=PARTIES_LVR)
    workers, conflicts = racers(N), 0
    for step in range(5):
        task_id = ref.open_tasks[0]["task_id"]
        results = race([lambda w=w, a=a: w.complete_task(task_id, {"schritt": step, "von": a.username}, a)
                        for w, a in zip(workers, TEAM)])
        conflicts += len(_losers_told_in_german(results))
        ref = next(r for r in results if isinstance(r, CaseRef))
        assert audit_count(store, "aufgabe_erledigt", task_id=task_id) == 1
    assert ref.status == "completed" and ref.open_tasks == []
    assert audit_count(store, "aufgabe_erledigt") == 5
    assert conflicts == 5 * (N - 1)
    assert_consistent(services)


def test_the_same_task_claimed_at_once_has_one_owner(store, services, deploy, racers):
    deploy("fuenf_schritte.bpmn")
    workers = racers(N)
    for round_ in range(3):
        ref = services.start_case("fuenf_schritte", f"LVR-W-{round_}", {}, SYSTEM, parties=PARTIES_LVR)
        task_id = ref.open_tasks[0]["task_id"]
        results = race([lambda w=w, a=a: w.claim_task(task_id, a) for w, a in zip(workers, TEAM)])
        _losers_told_in_german(results)
        winner = TEAM[next(i for i, r in enumerate(results) if r is None)]
        assert count_rows(store, open_tasks, task_id=task_id, claimed_by=winner.username) == 1
        assert audit_count(store, "aufgabe_uebernommen", task_id=task_id) == 1
    assert_consistent(services)


def test_due_timers_fired_by_several_workers_at_once_fire_once(store, services, deploy, racers, clock):
    deploy("fristpruefung.bpmn", "pruefen.json")
    cases = 20
    for i in range(cases):
        services.start_case("fristpruefung", f"LVR-T-{i:02d}", {"eingang_am": "2026-01-05"}, SYSTEM,
                            parties=PARTIES_LVR)
    clock.advance(timedelta(days=120))
    fired = race([lambda w=w: w.fire_due_timers() for w in racers(4)])
    assert sum(fired) == cases, fired
    assert audit_count(store, "timer_ausgeloest") == cases
    assert count_rows(store, pending_timers) == 0
    assert len(services.inbox(LEITUNG_LVR, limit=100)) == cases
    assert_consistent(services)


def test_a_completion_racing_the_interrupting_deadline_either_completes_or_is_cancelled(
        store, services, deploy, racers, clock):
    """At the deadline the timer takes the task away (interrupting); a completion at the same
    instant either wins (the timer is gone) or gets a Conflict (the task is gone)."""
    deploy("frist_abbruch.bpmn")
    cases = 8
    refs = [services.start_case("frist_abbruch", f"LVR-A-{i}", {}, SYSTEM, parties=PARTIES_LVR)
            for i in range(cases)]
    clock.advance(timedelta(days=15))
    completer, timer = racers(2)

    def complete_all():
        outcomes = []
        for ref in refs:
            try:
                outcomes.append(completer.complete_task(ref.open_tasks[0]["task_id"], {}, SACHBEARBEITUNG_LVR))
            except LOSING as err:
                outcomes.append(err)
        return outcomes

    def fire_all():
        total = 0
        while (fired := timer.fire_due_timers(limit=1)):
            total += fired
        return total

    completions, fired = race([complete_all, fire_all])
    won = [r for r in completions if isinstance(r, CaseRef)]
    assert len(won) + fired == cases, (completions, fired)
    assert audit_count(store, "aufgabe_erledigt") == len(won)
    assert audit_count(store, "timer_ausgeloest") == fired
    assert len(services.inbox(LEITUNG_LVR, limit=100)) == fired       # "Verspätung bewerten"
    assert count_rows(store, pending_timers) == 0
    print(f"\nAbschluss gegen Frist: {len(won)} erledigt, {fired} durch den Timer abgebrochen")
    assert_consistent(services)


def test_a_claim_racing_a_step_of_the_same_case_is_not_lost(store, services, deploy, racers, clock):
    """Claiming one task while another task of the case is completed, or while the case's
    timer fires: both steps rewrite the case's open tasks, and the claim must survive."""
    deploy("zwei_aufgaben.bpmn")
    deploy("fristpruefung.bpmn", "pruefen.json")
    claimer, stepper = racers(2)
    for i in range(8):
        ref = services.start_case("zwei_aufgaben", f"LVR-C-{i}", {}, SYSTEM, parties=PARTIES_LVR)
        first, second = (t["task_id"] for t in ref.open_tasks)
        results = race([lambda: stepper.complete_task(first, {}, SACHBEARBEITUNG_LVR),
                        lambda: claimer.claim_task(second, TEAM[1])])
        assert isinstance(results[0], CaseRef) and results[1] is None, results
        assert count_rows(store, open_tasks, task_id=second, claimed_by=TEAM[1].username) == 1
    for i in range(8):
        services.start_case("fristpruefung", f"LVR-F-{i}", {"eingang_am": "2026-01-05"}, SYSTEM,
                            parties=PARTIES_LVR)
    clock.advance(timedelta(days=120))
    tasks = [t["task_id"] for t in services.inbox(SACHBEARBEITUNG_LVR, limit=100) if t["spec_name"] == "pruefen"]
    results = race([lambda: stepper.fire_due_timers(),
                    lambda: [claimer.claim_task(t, TEAM[2]) for t in tasks]])
    assert results[0] == 8, results
    assert count_rows(store, open_tasks, claimed_by=TEAM[2].username) == 8
    assert_consistent(services)


# --- separate processes (PostgreSQL) ------------------------------------------------------

def _process(url: str, role: str, task_ids: list[str], start, results) -> None:
    """One process: completes the given tasks or fires due timers, after the common start."""
    store = Store(url)
    services = Workflows(store, SimulationClock(store.load_simulation, ttl=0))
    won = conflicts = 0
    start.wait()
    if role == "timer":
        while (fired := services.fire_due_timers(limit=1)):
            won += fired
    else:
        for task_id in task_ids:
            try:
                services.complete_task(task_id, {"von": role}, SACHBEARBEITUNG_LVR)
                won += 1
            except LOSING:
                conflicts += 1
    results.put((role, won, conflicts))
    store.dispose()


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_processes_racing_on_the_same_cases_leave_every_case_consistent(clock):
    """Three processes complete the same tasks (each in its own order) while two processes
    fire the deadlines of the same cases: every task ends exactly once, completed or
    cancelled by its timer."""
    store = Store(own_database("rennen"))
    store.migrate()
    try:
        services = Workflows(store, clock)
        services.deploy_model({"frist_abbruch.bpmn": read("frist_abbruch.bpmn")}, SYSTEM)
        services.deploy_model({"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")}, SYSTEM)
        racing = [services.start_case("frist_abbruch", f"LVR-P-{i:02d}", {}, SYSTEM, parties=PARTIES_LVR)
                  for i in range(30)]
        plain = [services.start_case("fuenf_schritte", f"LVR-Q-{i:02d}", {}, SYSTEM, parties=PARTIES_LVR)
                 for i in range(20)]
        store.save_simulation(SimulationState(clock.now() + timedelta(days=15), clock.now(), frozen=True))
        task_ids = [r.open_tasks[0]["task_id"] for r in racing + plain]
        context = multiprocessing.get_context("spawn")
        start, results = context.Barrier(5), context.Queue()
        roles = [("a", task_ids), ("b", task_ids[::-1]), ("c", task_ids[1::2] + task_ids[::2]),
                 ("timer", []), ("timer", [])]
        processes = [context.Process(target=_process, args=(store.url, role, ids, start, results))
                     for role, ids in roles]
        for p in processes:
            p.start()
        try:
            outcome = [results.get(timeout=180) for _ in processes]
        finally:
            for p in processes:
                p.join(timeout=30)
                if p.is_alive():
                    p.kill()
        assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]
        completed = sum(won for role, won, _ in outcome if role != "timer")
        fired = sum(won for role, won, _ in outcome if role == "timer")
        conflicts = sum(c for _, _, c in outcome)
        print(f"\nProzesse: {completed} erledigt, {fired} Timer ausgelöst, {conflicts} Konflikte: {outcome}")
        assert completed + fired == len(task_ids), outcome
        assert completed >= len(plain)
        assert conflicts == 3 * len(task_ids) - completed
        assert audit_count(store, "aufgabe_erledigt") == completed
        assert audit_count(store, "timer_ausgeloest") == fired
        assert_consistent(services)
    finally:
        store.dispose()
