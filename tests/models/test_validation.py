"""Every validation rule, the MIWG corpus and broken files (pure Python, no database)."""
import pytest

from workflows import engine
from workflows.validation import ERROR, has_errors, timer_problem, validate

from ..helpers import BPMN_DIR, IMPORTS, MIWG, MIWG_FILES, read

FIVE = read("fuenf_schritte.bpmn")


def problems(files, main):
    return validate(files, main)


@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("*.bpmn")), ids=lambda p: p.name)
def test_our_models_are_valid(path):
    assert problems(engine.deployment_files(BPMN_DIR, path.name), path.name) == []


@pytest.mark.parametrize("path", MIWG_FILES, ids=lambda p: p.name)
def test_miwg_models_give_problems_with_elements_or_none(path):
    files = {n: (MIWG / n).read_text(encoding="utf-8") for n in (path.name, *IMPORTS.get(path.name, ()))}
    found = problems(files, path.name)
    assert has_errors(found), path.name
    if path.name == "C.9.1.bpmn":          # the one the engine runs: only our rules object
        assert {p.element_id for p in found} >= {"UserTask_CallCustomer"}
        assert all("Bahn" in p.message or "Timer" in p.message or "Dauer" in p.message for p in found)
    for problem in found:
        assert problem.message and " at 0x" not in problem.message and "Traceback" not in problem.message
        assert problem.severity == ERROR


def test_the_miwg_corpus_is_complete():
    assert len(MIWG_FILES) == 21


def test_malformed_xml_names_the_line():
    [problem] = problems({"x.bpmn": '<?xml version="1.0"?>\n<a>\n<b>\n</a>\n'}, "x.bpmn")
    assert problem.line == 4 and "wohlgeformtes XML" in problem.message


def test_unknown_lane_and_task_without_lane():
    xml = FIVE.replace('name="EGH-Sachbearbeitung"', 'name="Hausmeister"')
    found = problems({"f.bpmn": xml}, "f.bpmn")
    assert [p.element_id for p in found] == ["t1", "t2", "t3", "t4", "t5"]
    assert "Hausmeister" in found[0].message and found[0].line == 8
    xml = FIVE.replace("<bpmn:flowNodeRef>t2</bpmn:flowNodeRef>", "")
    [problem] = problems({"f.bpmn": xml}, "f.bpmn")
    assert problem.element_id == "t2" and "keiner Bahn" in problem.message


@pytest.mark.parametrize("expression, ok", [
    ('x["timer"]', True), ("frist_var['warnung']", True), ('"P14D"', True), ('"PT12H"', True),
    ('"P2W"', True), ('"R3/PT1H"', True), ('"P3M"', False), ('"P1Y"', False), ("P14D", False),
    ("jetzt()", False), ("", False)])
def test_timer_expressions(expression, ok):
    assert (timer_problem(expression) is None) == ok


def test_month_timer_points_to_frist():
    xml = read("wettlauf.bpmn").replace('"P28D"', '"P3M"')
    [problem] = problems({"w.bpmn": xml}, "w.bpmn")
    assert problem.element_id == "zeit" and "Monaten" in problem.message and "frist(" in problem.message
    assert problem.line == 13


def test_every_bad_script_is_reported_with_its_element():
    xml = read("boeses_skript.bpmn").replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="rechnen" targetRef="end"/>',
        '<bpmn:sequenceFlow id="f2" sourceRef="rechnen" targetRef="end">'
        '<bpmn:conditionExpression>__import__("os")</bpmn:conditionExpression></bpmn:sequenceFlow>')
    found = problems({"b.bpmn": xml}, "b.bpmn")
    assert [p.element_id for p in found] == ["rechnen", "f2"]
    assert all(p.message.startswith("Skript nicht erlaubt") for p in found)


def test_missing_and_invalid_forms():
    xml = read("fristpruefung.bpmn")
    [missing] = problems({"f.bpmn": xml}, "f.bpmn")
    assert missing.element_id == "pruefen" and "fehlt" in missing.message and missing.line
    [broken] = problems({"f.bpmn": xml, "pruefen.json": "{kaputt"}, "f.bpmn")
    assert "kein gültiges JSON" in broken.message
    [invalid] = problems({"f.bpmn": xml, "pruefen.json": '{"type": "array"}'}, "f.bpmn")
    assert "kein gültiges Formular" in invalid.message
    [reserved] = problems({"f.bpmn": xml, "pruefen.json":
                           '{"type": "object", "properties": {"heute": {"type": "string"}}}'}, "f.bpmn")
    assert "reserviert" in reserved.message
    assert problems({"f.bpmn": xml, "pruefen.json": read("pruefen.json")}, "f.bpmn") == []


def test_engine_problems_are_included():
    xml = FIVE.replace('isExecutable="true"', 'isExecutable="false"')
    [problem] = problems({"f.bpmn": xml}, "f.bpmn")
    assert "keinen ausführbaren Prozess" in problem.message
