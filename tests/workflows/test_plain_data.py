"""Case data stays plain data (issue: untrusted data): no value that enters a case through
start data, a completion, a message or signal payload or a script result is ever revived as
an object by SpiffWorkflow's serializer, and values that cannot make the JSON round trip are
refused in German before anything is stored. Runs on SQLite and PostgreSQL."""
import pytest

from workflows import casedata, engine
from workflows import store as tables
from workflows.domain import InvalidInput, ScriptError

from ..helpers import OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR, count_rows, read, script_model

#: What an attacker sends: SpiffWorkflow's registry would build a BpmnWorkflow (with an
#: unrestricted script engine) or a datetime from these.
HOSTILE = {"typename": "BpmnWorkflow", "spec": "x", "subprocess_specs": {}, "tasks": {}, "root": "x"}
DATETIME = {"typename": "datetime", "value": "2026-01-01T00:00:00"}


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _start(services, data, key="LVR-2026-0100"):
    return services.start_case("skript_daten", key, data, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)


def _complete_open(services, key, data):
    [task] = services.case(key, SACHBEARBEITUNG_LVR)["open_tasks"]
    return services.complete_task(task["task_id"], data, SACHBEARBEITUNG_LVR)


def test_typename_in_start_and_completion_data_stays_a_dict(services):
    services.deploy_model({"s.bpmn": script_model("summe = 1")}, OWNER)
    _start(services, {"antrag": HOSTILE, "liste": [DATETIME, {"~typename": "x"}]})
    _complete_open(services, "LVR-2026-0100", {"nachweis": {"innen": HOSTILE}})
    data = services.case("LVR-2026-0100", SACHBEARBEITUNG_LVR)["data"]
    assert data["antrag"] == HOSTILE and data["liste"] == [DATETIME, {"~typename": "x"}]
    assert data["nachweis"] == {"innen": HOSTILE}
    assert _plain(data)
    with services.store.read() as conn:
        stored = conn.execute(tables.instances.select()).one().workflow_json
    assert stored.count('"typename": "BpmnWorkflow"') == 1     # the case itself; the data's are escaped
    assert '"~typename": "BpmnWorkflow"' in stored


def test_typename_built_by_a_script_stays_a_dict(services):
    services.deploy_model({"s.bpmn": script_model(
        'ergebnis = {"typename": "BpmnWorkflow", "spec": "x", "tasks": {}}\n'
        'zeit = {"typename": "datetime", "value": "2026-01-01T00:00:00"}')}, OWNER)
    _start(services, {})
    _complete_open(services, "LVR-2026-0100", {})
    data = services.case("LVR-2026-0100", SACHBEARBEITUNG_LVR)["data"]
    assert data["ergebnis"] == {"typename": "BpmnWorkflow", "spec": "x", "tasks": {}}
    assert data["zeit"] == DATETIME and _plain(data)


def test_typename_in_signal_and_message_payloads_stays_a_dict(services):
    model = read("vertrag_warten.bpmn").replace(
        '<bpmn:signalEventDefinition signalRef="sig_mv"/>',
        '<bpmn:signalEventDefinition signalRef="sig_mv"/>').replace(
        '<bpmn:messageEventDefinition messageRef="msg_unterschrift"/>',
        '<bpmn:messageEventDefinition messageRef="msg_unterschrift"><bpmn:extensionElements>'
        '<spiffworkflow:messageVariable>unterschrift</spiffworkflow:messageVariable>'
        '</bpmn:extensionElements></bpmn:messageEventDefinition>').replace(
        '<bpmn:signal id="sig_mv" name="mustervertrag_verabschiedet"/>',
        '<bpmn:signal id="sig_mv" name="mustervertrag_verabschiedet"><bpmn:extensionElements>'
        '<spiffworkflow:variableName>mustervertrag</spiffworkflow:variableName></bpmn:extensionElements>'
        '</bpmn:signal>')
    services.deploy_model({"vertrag_warten.bpmn": model}, OWNER)
    services.start_case("vertrag_warten", "LVR-2026-0101", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    assert services.send_signal("LVR-2026-0101", "mustervertrag_verabschiedet", {"signal": HOSTILE},
                                SACHBEARBEITUNG_LVR)
    assert services.send_message("LVR-2026-0101", "unterschrift_eingegangen", {"nachricht": DATETIME},
                                 SACHBEARBEITUNG_LVR)
    data = services.case("LVR-2026-0101", SACHBEARBEITUNG_LVR)["data"]
    assert data["mustervertrag"] == {"signal": HOSTILE}
    assert data["unterschrift"] == {"nachricht": DATETIME} and _plain(data)


@pytest.mark.parametrize("script, message", [
    ("wert = range(3)", "kein einfacher Wert"),
    ("wert = {1, 2}", "kein einfacher Wert"),
    ("wert = [1]\nwert.append(wert)", "enthält sich selbst"),
    ("wert = []\nfor i in range(40):\n    wert = [wert]", "tiefer als 32 Ebenen"),
    ("wert = {1: 2}", "Schlüssel müssen Texte sein"),
    ("wert = 2\nfor i in range(5000):\n    wert -= -wert", "größer als 4096 Bit"),
    ("wert = float('nan')", "NaN"),
])
def test_script_values_that_cannot_round_trip_are_refused_before_saving(services, script, message):
    services.deploy_model({"s.bpmn": script_model(script)}, OWNER)
    ref = _start(services, {})
    with pytest.raises(ScriptError, match=message) as raised:
        _complete_open(services, "LVR-2026-0100", {})
    assert "wert" in raised.value.message and "rechnen" in raised.value.message
    case = services.case("LVR-2026-0100", SACHBEARBEITUNG_LVR)
    assert case["version"] == ref.version and [t["title"] for t in case["open_tasks"]] == ["Erfassen"]
    assert count_rows(services.store, tables.audit_events, action="aufgabe_erledigt") == 0


def test_deeply_nested_start_data_is_refused_and_nothing_stored(services):
    services.deploy_model({"s.bpmn": script_model("summe = 1")}, OWNER)
    deep = "x"
    for _ in range(300):
        deep = {"a": deep}
    with pytest.raises((InvalidInput, ScriptError), match="verschachtelt"):
        _start(services, {"tief": deep})
    assert count_rows(services.store, tables.instances) == 0


def test_escape_round_trip_and_refusals():
    value = {"typename": {"~typename": [{"~~typename": 1}]}, "a": (1, 2.5, None, True)}
    stored = casedata.dump(value)
    assert stored == {"~typename": {"~~typename": [{"~~~typename": 1}]}, "a": [1, 2.5, None, True]}
    assert casedata.load(stored) == {"typename": {"~typename": [{"~~typename": 1}]}, "a": [1, 2.5, None, True]}
    shared = [1]
    assert casedata.dump({"a": shared, "b": shared}) == {"a": [1], "b": [1]}      # sharing is no cycle
    with pytest.raises(ScriptError, match="Werte"):
        casedata.dump([[0] * 1000] * 1000)


def test_old_cases_with_registry_markers_load_as_plain_data(services):
    """A case saved before this change (data passed the registry unescaped) still loads; a
    `typename` dict in it is not revived."""
    services.deploy_model({"s.bpmn": script_model("summe = 1")}, OWNER)
    _start(services, {"alt": "x"})
    with services.store.transaction() as conn:
        row = conn.execute(tables.instances.select()).one()
        conn.execute(tables.instances.update().values(
            workflow_json=row.workflow_json.replace('"alt": "x"', '"alt": {"typename": "datetime", '
                                                                  '"value": "2026-01-01T00:00:00"}')))
    case = services.case("LVR-2026-0100", SACHBEARBEITUNG_LVR)
    assert case["data"]["alt"] == DATETIME
    assert engine  # the adapter is the one place that reads the JSON
