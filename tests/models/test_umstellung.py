"""Deploy pinning, diff and Umstellung (moving running cases to a version), role checks (SQLite and PostgreSQL)."""
import pytest

from workflows import store as tables
from workflows.domain import Forbidden, ModelError

from ..helpers import OWNER, SACHBEARBEITUNG_LVR, count_rows, read

FIVE = read("fuenf_schritte.bpmn")


def without_t3(xml: str = FIVE) -> str:
    """Version 2: step 3 removed (t2 leads straight to t4), t4 renamed."""
    return (xml.replace('<bpmn:flowNodeRef>t3</bpmn:flowNodeRef>', '')
               .replace('<bpmn:userTask id="t3" name="Stellungnahme einholen"><bpmn:incoming>f2</bpmn:incoming>'
                        '<bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>', '')
               .replace('<bpmn:sequenceFlow id="f3" sourceRef="t3" targetRef="t4"/>', '')
               .replace('sourceRef="t2" targetRef="t3"', 'sourceRef="t2" targetRef="t4"')
               .replace('<bpmn:userTask id="t4" name="Entscheiden"><bpmn:incoming>f3</bpmn:incoming>',
                        '<bpmn:userTask id="t4" name="Entscheiden (neu)"><bpmn:incoming>f2</bpmn:incoming>'))


def with_extra_step(xml: str = FIVE) -> str:
    return (xml.replace('<bpmn:flowNodeRef>end</bpmn:flowNodeRef>',
                        '<bpmn:flowNodeRef>t6</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>')
               .replace('<bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>',
                        '<bpmn:userTask id="t6" name="Ablegen"><bpmn:incoming>f5</bpmn:incoming>'
                        '<bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>'
                        '<bpmn:endEvent id="end"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>'
                        '<bpmn:sequenceFlow id="f6" sourceRef="t6" targetRef="end"/>')
               .replace('sourceRef="t5" targetRef="end"', 'sourceRef="t5" targetRef="t6"'))


def deploy(services, xml):
    return services.deploy_model({"fuenf_schritte.bpmn": xml}, OWNER, main="fuenf_schritte.bpmn")


def start(services, key):
    return services.start_case("fuenf_schritte", key, {}, SACHBEARBEITUNG_LVR, parties={"egh": "LVR"})


def advance(services, ref, steps):
    for _ in range(steps):
        ref = services.complete_task(ref.open_tasks[0]["task_id"], {}, SACHBEARBEITUNG_LVR)
    return ref


def version_of(services, key):
    with services.store.read() as conn:
        return services.store.instance_by_key(conn, key).model_version_id


def test_running_cases_stay_on_their_version_new_cases_use_the_new_one(services):
    v1 = deploy(services, FIVE)
    start(services, "A-1")
    v2 = deploy(services, with_extra_step())
    start(services, "A-2")
    assert (version_of(services, "A-1"), version_of(services, "A-2")) == (v1["id"], v2["id"])
    # the old case runs to its end on version 1 (no step 6), the new one has step 6
    ref = advance(services, _ref(services, "A-1"), 5)
    assert ref.status == "completed"
    ref = advance(services, _ref(services, "A-2"), 5)
    assert [t["title"] for t in ref.open_tasks] == ["Ablegen"]
    overview = services.model_overview(OWNER)
    assert [(v["version"], v["running"]) for v in overview[0]["versions"]] == [(2, 1), (1, 0)]


def _ref(services, key):
    case = services.case(key, SACHBEARBEITUNG_LVR)

    class Ref:
        open_tasks = case["open_tasks"]
    return Ref


def test_diff_lists_added_changed_and_removed(services):
    deploy(services, FIVE)
    start(services, "A-1")
    v2 = deploy(services, without_t3(with_extra_step()))
    diff = services.model_diff("A-1", v2["id"], OWNER)
    assert [a["id"] for a in diff["added"]] == ["t6"]
    assert [r["id"] for r in diff["removed"]] == ["t3"]
    assert "t4" in [c["id"] for c in diff["changed"]]
    assert diff["migratable"] and diff["blocking"] == []
    assert (diff["from_version"], diff["to_version"]) == (1, 2)


def test_safe_migration_moves_the_case(services):
    deploy(services, FIVE)
    advance(services, start(services, "A-1"), 1)          # t2 ready, t3 ahead
    v2 = deploy(services, without_t3())
    result = services.migrate_cases(["A-1"], v2["id"], OWNER)
    assert result == {"migrated": ["A-1"], "refused": {}}
    assert version_of(services, "A-1") == v2["id"]
    assert count_rows(services.store, tables.audit_events, action="vorgang_umgestellt") == 1
    ref = advance(services, _ref(services, "A-1"), 1)     # t2 done: straight to the renamed t4
    assert [t["title"] for t in ref.open_tasks] == ["Entscheiden (neu)"]
    [task] = services.inbox(SACHBEARBEITUNG_LVR)           # the index was rewritten
    assert task["title"] == "Entscheiden (neu)"
    assert advance(services, ref, 2).status == "completed"


def test_migration_is_refused_when_a_removed_task_is_ready(services):
    deploy(services, FIVE)
    advance(services, start(services, "A-1"), 2)          # t3 ready
    v2 = deploy(services, without_t3())
    diff = services.model_diff("A-1", v2["id"], OWNER)
    assert not diff["migratable"] and diff["blocking"][0]["id"] == "t3"
    result = services.migrate_cases(["A-1"], v2["id"], OWNER)
    assert result["migrated"] == []
    assert "Stellungnahme einholen" in result["refused"]["A-1"] and "bereit" in result["refused"]["A-1"]
    assert version_of(services, "A-1") != v2["id"]
    assert count_rows(services.store, tables.audit_events, action="vorgang_umgestellt") == 0
    assert [t["title"] for t in services.inbox(SACHBEARBEITUNG_LVR)] == ["Stellungnahme einholen"]


def test_only_process_owners_deploy_validate_or_migrate(services):
    deploy(services, FIVE)
    start(services, "A-1")
    v2 = deploy(services, with_extra_step())
    files = {"fuenf_schritte.bpmn": FIVE}
    for call in (lambda: services.deploy_model(files, SACHBEARBEITUNG_LVR, main="fuenf_schritte.bpmn"),
                 lambda: services.validate_model(files, "fuenf_schritte.bpmn", SACHBEARBEITUNG_LVR),
                 lambda: services.migrate_cases(["A-1"], v2["id"], SACHBEARBEITUNG_LVR),
                 lambda: services.model_diff("A-1", v2["id"], SACHBEARBEITUNG_LVR),
                 lambda: services.model_overview(SACHBEARBEITUNG_LVR)):
        with pytest.raises(Forbidden):
            call()


def test_checked_deploy_refuses_and_lists_every_problem(services):
    broken = FIVE.replace('name="EGH-Sachbearbeitung"', 'name="Hausmeister"')
    with pytest.raises(ModelError) as err:
        deploy(services, broken)
    assert len(err.value.details["problems"]) == 5
    assert count_rows(services.store, tables.model_versions) == 0
