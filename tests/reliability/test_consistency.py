"""The consistency check finds nothing in consistent cases and names the case of every
deliberately broken index row, audit event, status or index fingerprint."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from workflows import consistency
from workflows.store import audit_events, awaited_events, instances, open_tasks, pending_timers
from workflows.worker import run_once

from ..helpers import KOLLEGE_LVR, PARTIES_LVR, SACHBEARBEITUNG_LVR, SYSTEM, dispose, new_app


def _cases(services, deploy, clock):
    """A few cases in different states: steps done, a claim, a fired timer, an awaited signal."""
    deploy("fuenf_schritte.bpmn")
    deploy("fristpruefung.bpmn", "pruefen.json")
    deploy("vertrag_warten.bpmn")
    five = services.start_case("fuenf_schritte", "LVR-K-1", {}, SYSTEM, parties=PARTIES_LVR)
    services.complete_task(five.open_tasks[0]["task_id"], {}, SACHBEARBEITUNG_LVR)
    second = services.case("LVR-K-1", SYSTEM)["open_tasks"][0]["task_id"]
    services.claim_task(second, SACHBEARBEITUNG_LVR)
    services.hand_over_task(second, SACHBEARBEITUNG_LVR, KOLLEGE_LVR)
    frist = services.start_case("fristpruefung", "LVR-K-2", {"eingang_am": "2026-01-05"}, SYSTEM,
                                parties=PARTIES_LVR)
    services.complete_task(frist.open_tasks[0]["task_id"], {"vollstaendig": False}, SACHBEARBEITUNG_LVR)
    services.start_case("fristpruefung", "LVR-K-3", {"eingang_am": "2026-01-05"}, SYSTEM, parties=PARTIES_LVR)
    services.start_case("vertrag_warten", "LVR-K-4", {}, SYSTEM, parties=PARTIES_LVR)
    clock.advance(timedelta(days=120))
    assert run_once(services) == 1                      # LVR-K-3's deadline has passed
    services.start_case("fristpruefung", "LVR-K-5", {"eingang_am": "2026-06-29"}, SYSTEM, parties=PARTIES_LVR)
    return five


def _instance_id(store, key):
    with store.read() as conn:
        return conn.execute(sa.select(instances.c.id).where(instances.c.business_key == key)).scalar()


def _execute(store, statement):
    with store.transaction() as conn:
        result = conn.execute(statement)
        assert statement.is_insert or result.rowcount >= 1


def test_consistent_cases_raise_no_alarm(services, deploy, clock):
    _cases(services, deploy, clock)
    assert consistency.check_all(services) == []


def test_a_corrupted_index_row_is_found_with_its_case(store, services, deploy, clock):
    _cases(services, deploy, clock)
    _execute(store, open_tasks.update().where(open_tasks.c.business_key == "LVR-K-1").values(title="Falsch"))
    problems = consistency.check_all(services)
    assert {p.business_key for p in problems} == {"LVR-K-1"}
    assert any("offene Aufgaben" in p.message and "Falsch" in p.message for p in problems), problems
    assert any("fehlt" in p.message and "Unterlagen prüfen" in p.message for p in problems), problems


def test_a_missing_timer_and_an_extra_awaited_event_are_found(store, services, deploy, clock):
    _cases(services, deploy, clock)
    _execute(store, pending_timers.delete().where(pending_timers.c.instance_id == _instance_id(store, "LVR-K-5")))
    _execute(store, awaited_events.insert().values(instance_id=_instance_id(store, "LVR-K-3"), kind="signal",
                                                   name="gibt_es_nicht"))
    problems = {str(p) for p in consistency.check_all(services)}
    assert any(p.startswith("LVR-K-5: Index Timer: es fehlt") for p in problems), problems
    assert any(p.startswith("LVR-K-3: Index erwartete Ereignisse: überzählig") for p in problems), problems


def test_a_missing_or_doubled_audit_event_is_found(store, services, deploy, clock):
    five = _cases(services, deploy, clock)
    done = five.open_tasks[0]["task_id"]
    _execute(store, audit_events.delete().where(audit_events.c.task_id == done,
                                                audit_events.c.action == "aufgabe_erledigt"))
    with store.transaction() as conn:
        fired = conn.execute(sa.select(audit_events).where(audit_events.c.action == "timer_ausgeloest")
                             .order_by(audit_events.c.id).limit(1)).first()
        conn.execute(audit_events.insert().values({c: v for c, v in fired._mapping.items() if c != "id"}))
    problems = consistency.check_all(services)
    messages = {p.business_key: [] for p in problems}
    for p in problems:
        messages[p.business_key].append(p.message)
    assert any("Antrag erfassen" in m and "0-mal" in m for m in messages["LVR-K-1"]), problems
    doubled = [m for ms in messages.values() for m in ms if "Frist abgelaufen" in m and "2-mal" in m]
    assert len(doubled) == 1, problems


def test_an_audit_event_for_a_step_the_workflow_never_took_is_found(store, services, deploy, clock):
    _cases(services, deploy, clock)
    with store.read() as conn:
        still_open = conn.execute(sa.select(open_tasks).where(open_tasks.c.business_key == "LVR-K-3",
                                                              open_tasks.c.spec_name == "pruefen")).first()
    with store.transaction() as conn:
        services.store.audit(conn, at=clock.now(), actor="sabine.lvr", action="aufgabe_erledigt",
                             instance_id=still_open.instance_id, business_key="LVR-K-3",
                             task_id=still_open.task_id, details={})
    problems = consistency.check_all(services)
    assert [p.business_key for p in problems] == ["LVR-K-3"]
    assert "noch offen" in problems[0].message


def test_status_digest_and_claim_disagreements_are_found(store, services, deploy, clock):
    _cases(services, deploy, clock)
    _execute(store, instances.update().where(instances.c.business_key == "LVR-K-4").values(status="completed"))
    _execute(store, instances.update().where(instances.c.business_key == "LVR-K-3").values(index_fingerprint="{}"))
    _execute(store, open_tasks.update().where(open_tasks.c.business_key == "LVR-K-1").values(claimed_by=None))
    problems = {str(p) for p in consistency.check_all(services)}
    assert "LVR-K-4: Zustand ist „completed“, laut Workflow aber „running“." in problems
    assert any(p.startswith("LVR-K-3: Die Prüfsumme") for p in problems), problems
    assert any(p.startswith("LVR-K-1: Aufgabe") and "laut Verlauf von „karl.lvr“" in p for p in problems), problems


def test_flask_check_command_reports_in_german_with_exit_code(store, services, deploy, clock):
    _cases(services, deploy, clock)
    app = new_app(store.url, CLOCK="system")
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["check"])
    assert clean.exit_code == 0, clean.output
    assert "5 Vorgänge geprüft" in clean.output and "stimmen überein" in clean.output
    _execute(store, pending_timers.update().values(title="Verstellt"))
    broken = runner.invoke(args=["check"])
    assert broken.exit_code == 1, broken.output
    assert "LVR-K-5: Index Timer" in broken.output
    assert "Unstimmigkeit(en) in 1 von 5 Vorgängen gefunden." in broken.output
    dispose(app)


def test_a_case_completed_while_a_step_still_waits_is_found(store, services, deploy, clock):
    """The silent end (issue: untrusted data): the workflow says completed, a step still waits."""
    _cases(services, deploy, clock)
    with store.transaction() as conn:
        stored = conn.execute(sa.select(instances.c.workflow_json)
                              .where(instances.c.business_key == "LVR-K-4")).scalar()
        conn.execute(instances.update().where(instances.c.business_key == "LVR-K-4").values(
            status="completed", workflow_json=stored.replace('"completed": false', '"completed": true', 1)))
    problems = consistency.check_all(services)
    assert any(p.business_key == "LVR-K-4" and "wartet aber noch auf" in p.message
               and "Mustervertrag verabschiedet" in p.message for p in problems), problems
