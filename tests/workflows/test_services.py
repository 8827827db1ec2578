"""Use cases through the services layer, on SQLite and PostgreSQL."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from workflows import store as tables
from workflows.domain import CaseStatus, Conflict, Forbidden, InvalidInput, ModelError, NotFound
from workflows.worker import run_once, seconds_until_next

from ..helpers import (ANBIETER, KOLLEGE_LVR, LEITUNG_LVR, OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR,
                        SACHBEARBEITUNG_LWL, SYSTEM, count_rows, read)


def start(services, key="LVR-2026-0001", process="fristpruefung", data=None, parties=PARTIES_LVR):
    return services.start_case(process, key, data or {"eingang_am": "2026-01-05"}, SACHBEARBEITUNG_LVR,
                               parties=parties)


def test_deploy_needs_a_process_owner(services):
    with pytest.raises(Forbidden):
        services.deploy_model({"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")}, SACHBEARBEITUNG_LVR)
    assert count_rows(services.store, tables.model_versions) == 0


def test_deploy_versions_and_audit(services):
    first = services.deploy_model({"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")}, OWNER)
    second = services.deploy_model({"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")}, OWNER)
    assert (first["version"], second["version"]) == (1, 2)
    assert first["deployed_by"] == "paula.prozess"
    assert count_rows(services.store, tables.audit_events, action="modell_bereitgestellt") == 2


@pytest.mark.parametrize("files, message", [
    ({"boeses_skript.bpmn": read("boeses_skript.bpmn")}, "Skript nicht erlaubt"),
    ({"fristpruefung.bpmn": read("fristpruefung.bpmn")}, "Formular „pruefen.json“ fehlt"),
    ({"fristpruefung.bpmn": read("fristpruefung.bpmn"), "pruefen.json": "{kaputt"}, "kein gültiges JSON"),
    ({"x.bpmn": "<nicht xml"}, "wohlgeformtes XML"),
    ({"fristpruefung.bpmn": read("fristpruefung.bpmn"),
      "pruefen.json": '{"type": "object", "properties": {"heute": {"type": "string"}}}'}, "reserviert"),
])
def test_invalid_models_are_never_stored(services, files, message):
    with pytest.raises(ModelError, match=message):
        services.deploy_model(files, OWNER)
    assert count_rows(services.store, tables.model_versions) == 0


def test_start_case_writes_instance_index_deadline_and_audit(services, deploy):
    deploy("fristpruefung.bpmn", "pruefen.json")
    ref = start(services)
    assert ref.status == "running" and ref.version == 1
    assert [t["title"] for t in ref.open_tasks] == ["Unterlagen prüfen"]
    [task] = services.inbox(SACHBEARBEITUNG_LVR)
    assert (task["business_key"], task["organisation"], task["lane"]) == ("LVR-2026-0001", "LVR",
                                                                          "EGH-Sachbearbeitung")
    assert (task["deadline_key"], task["due_date"]) == ("verhandlungstermin", date(2026, 4, 5))
    with services.store.read() as conn:
        deadline = conn.execute(sa.select(tables.deadlines)).one()
    assert (deadline.rule, deadline.end_date, deadline.shifted_end) == (
        "lrv5-verhandlungstermin", date(2026, 4, 5), date(2026, 4, 7))
    assert count_rows(services.store, tables.pending_timers) == 1
    assert count_rows(services.store, tables.audit_events, action="vorgang_angelegt") == 1


def test_duplicate_business_key_is_a_conflict(services, deploy):
    deploy("fristpruefung.bpmn", "pruefen.json")
    start(services)
    with pytest.raises(Conflict, match="bereits vergeben"):
        start(services)
    assert count_rows(services.store, tables.instances) == 1


def test_start_needs_a_lane_group_and_known_process(services, deploy):
    deploy("fuenf_schritte.bpmn")
    with pytest.raises(Forbidden):
        services.start_case("fuenf_schritte", "A-1", {}, LEITUNG_LVR)
    with pytest.raises(NotFound):
        services.start_case("gibt_es_nicht", "A-1", {}, SYSTEM)
    with pytest.raises(InvalidInput):
        services.start_case("fuenf_schritte", "  ", {}, SYSTEM)


def test_inbox_shows_tasks_only_to_the_lane_and_organisation(services, deploy):
    deploy("fristpruefung.bpmn", "pruefen.json")
    start(services)
    assert len(services.inbox(SACHBEARBEITUNG_LVR)) == 1
    assert services.inbox(SACHBEARBEITUNG_LWL) == []
    assert services.inbox(LEITUNG_LVR) == []
    [task] = services.inbox(SACHBEARBEITUNG_LVR)
    with pytest.raises(Forbidden):
        services.complete_task(task["task_id"], {"vollstaendig": True}, SACHBEARBEITUNG_LWL)
    with pytest.raises(NotFound):
        services.case("LVR-2026-0001", SACHBEARBEITUNG_LWL)


def test_claim_release_hand_over(services, deploy):
    deploy("fristpruefung.bpmn", "pruefen.json")
    start(services)
    [task] = services.inbox(SACHBEARBEITUNG_LVR)
    services.claim_task(task["task_id"], SACHBEARBEITUNG_LVR)
    assert [t["task_id"] for t in services.inbox(SACHBEARBEITUNG_LVR, mine=True)] == [task["task_id"]]
    with pytest.raises(Conflict):
        services.claim_task(task["task_id"], KOLLEGE_LVR)
    with pytest.raises(Conflict):
        services.complete_task(task["task_id"], {"vollstaendig": True}, KOLLEGE_LVR)
    with pytest.raises(Forbidden):
        services.release_task(task["task_id"], KOLLEGE_LVR)
    services.hand_over_task(task["task_id"], SACHBEARBEITUNG_LVR, KOLLEGE_LVR)
    assert services.inbox(KOLLEGE_LVR, mine=True)[0]["claimed_by"] == "karl.lvr"
    with pytest.raises(Forbidden):
        services.hand_over_task(task["task_id"], KOLLEGE_LVR, SACHBEARBEITUNG_LWL)
    services.release_task(task["task_id"], KOLLEGE_LVR)
    assert services.inbox(KOLLEGE_LVR, mine=True) == []
    actions = [h["action"] for h in services.case("LVR-2026-0001", SACHBEARBEITUNG_LVR)["history"]]
    assert actions == ["vorgang_angelegt", "aufgabe_uebernommen", "aufgabe_uebergeben",
                       "aufgabe_zurueckgegeben"]


def test_complete_moves_the_case_and_a_second_completion_loses_nothing(services, deploy):
    deploy("fristpruefung.bpmn", "pruefen.json")
    start(services)
    [task] = services.inbox(SACHBEARBEITUNG_LVR)
    ref = services.complete_task(task["task_id"], {"vollstaendig": False}, SACHBEARBEITUNG_LVR)
    assert ref.version == 2
    assert [t["title"] for t in ref.open_tasks] == ["Unterlagen nachreichen"]
    with pytest.raises(NotFound):
        services.complete_task(task["task_id"], {"vollstaendig": True}, KOLLEGE_LVR)
    [provider_task] = services.inbox(ANBIETER)
    assert provider_task["organisation"] == "IFF Köln-Süd"
    case = services.case("LVR-2026-0001", SACHBEARBEITUNG_LVR)
    assert case["version"] == 2 and case["data"]["vollstaendig"] is False
    assert [h["details"].get("data") for h in case["history"] if h["action"] == "aufgabe_erledigt"] == [
        {"vollstaendig": False}]


def test_stale_writer_gets_a_conflict(services, deploy):
    """Two requests read version 1; the second write must fail and change nothing."""
    deploy("fristpruefung.bpmn", "pruefen.json")
    start(services)
    store = services.store
    with store.read() as conn:
        stale = store.instance_by_key(conn, "LVR-2026-0001")
    [task] = services.inbox(SACHBEARBEITUNG_LVR)
    services.complete_task(task["task_id"], {"vollstaendig": True}, SACHBEARBEITUNG_LVR)
    with pytest.raises(Conflict):
        with store.transaction() as conn:
            store.save_instance(conn, stale, workflow_json=stale.workflow_json,
                                status=CaseStatus.RUNNING, now=services.clock.now())
    with store.read() as conn:
        assert store.instance_by_key(conn, "LVR-2026-0001").status == "completed"


def test_invalid_task_data_is_refused_before_anything_changes(services, deploy):
    deploy("fristpruefung.bpmn", "pruefen.json")
    start(services)
    [task] = services.inbox(SACHBEARBEITUNG_LVR)
    with pytest.raises(InvalidInput):
        services.complete_task(task["task_id"], {"__class__": 1}, SACHBEARBEITUNG_LVR)
    assert services.case("LVR-2026-0001", SACHBEARBEITUNG_LVR)["version"] == 1


def test_timers_fire_at_the_right_day_and_escalate_to_leitung(services, deploy, clock):
    deploy("fristpruefung.bpmn", "pruefen.json")
    start(services)                                  # calendar end 05.04.2026 (Sunday)
    assert run_once(services) == 0
    clock.set(services.next_timer_due() - timedelta(minutes=1))
    assert run_once(services) == 0
    assert services.inbox(LEITUNG_LVR) == []
    clock.advance(timedelta(minutes=2))
    assert clock.now().date() == date(2026, 4, 5)   # 22:01 UTC = 00:01 on 06.04. in Berlin
    assert run_once(services) == 1
    [escalation] = services.inbox(LEITUNG_LVR)
    assert escalation["title"] == "Fristüberschreitung bewerten"
    assert count_rows(services.store, tables.pending_timers) == 0
    assert count_rows(services.store, tables.audit_events, action="timer_ausgeloest") == 1
    assert run_once(services) == 0                   # fired once, never again


def test_failing_timer_marks_only_its_case_as_error(services, deploy, clock):
    deploy("defekter_timer.bpmn")
    deploy("fuenf_schritte.bpmn")
    services.start_case("defekter_timer", "D-1", {}, SYSTEM, parties=PARTIES_LVR)
    deploy("fristpruefung.bpmn", "pruefen.json")
    start(services, key="OK-1", data={"eingang_am": "2026-02-01"})
    clock.advance(timedelta(days=15))
    assert run_once(services) == 1
    broken = services.case("D-1", SYSTEM)
    assert broken["status"] == "error" and "rechnen" in broken["error"]
    assert services.case("OK-1", SYSTEM)["status"] == "running"
    # its timer stays and is retried with backoff (5 minutes, then doubled), never in a hot loop
    assert count_rows(services.store, tables.pending_timers, instance_id=broken["id"]) == 1
    assert broken["retry_at"] == clock.now() + timedelta(minutes=5)
    assert run_once(services) == 0
    clock.advance(timedelta(minutes=5))
    assert run_once(services) == 1
    again = services.case("D-1", SYSTEM)
    assert (again["status"], again["failed_attempts"]) == ("error", 2)
    assert again["retry_at"] == clock.now() + timedelta(minutes=10)


def test_worker_sleeps_until_the_next_timer_at_most_one_poll(services, deploy, clock):
    assert seconds_until_next(services, 5.0) == 5.0
    deploy("defekter_timer.bpmn")
    services.start_case("defekter_timer", "D-1", {}, SYSTEM, parties=PARTIES_LVR)
    assert seconds_until_next(services, 5.0) == 5.0
    clock.advance(timedelta(days=14) - timedelta(seconds=2))
    assert 1.9 < seconds_until_next(services, 5.0) < 2.1


def test_signal_and_message_by_business_key(services, deploy):
    deploy("vertrag_warten.bpmn")
    services.start_case("vertrag_warten", "V-1", {}, SYSTEM, parties=PARTIES_LVR)
    with pytest.raises(Conflict, match="wartet nicht"):
        services.send_message("V-1", "unterschrift_eingegangen", {}, SACHBEARBEITUNG_LVR)
    services.send_signal("V-1", "mustervertrag_verabschiedet", {}, SACHBEARBEITUNG_LVR)
    with pytest.raises(NotFound):
        services.send_message("V-1", "unterschrift_eingegangen", {}, SACHBEARBEITUNG_LWL)
    ref = services.send_message("V-1", "unterschrift_eingegangen", {"am": "2026-03-02"}, SACHBEARBEITUNG_LVR)
    assert [t["title"] for t in ref.open_tasks] == ["Vertrag ablegen"]
    with pytest.raises(NotFound):
        services.send_signal("V-404", "mustervertrag_verabschiedet", {}, SYSTEM)


def test_broadcast_reaches_every_waiting_case(services, deploy):
    deploy("vertrag_warten.bpmn")
    deploy("fuenf_schritte.bpmn")
    for i in range(200):
        services.start_case("vertrag_warten", f"V-{i:03d}", {}, SYSTEM, parties=PARTIES_LVR)
    services.start_case("fuenf_schritte", "F-1", {}, SYSTEM, parties=PARTIES_LVR)
    with pytest.raises(Forbidden):
        services.broadcast_signal("mustervertrag_verabschiedet", {}, SACHBEARBEITUNG_LVR)
    result = services.broadcast_signal("mustervertrag_verabschiedet", {"fassung": "2026"}, OWNER)
    assert len(result.delivered) == 200 and result.failed == {}
    assert count_rows(services.store, tables.awaited_events, kind="message") == 200
    assert count_rows(services.store, tables.awaited_events, kind="signal") == 0
    again = services.broadcast_signal("mustervertrag_verabschiedet", {}, OWNER)
    assert again.delivered == []
