"""Gateway conditions and timer expressions decide, they do not act: they may read data and
call `heute()`, but not record deadlines or change a value in place."""
import ast
import glob
import os

import pytest
from lxml import etree

from workflows import engine, scripting
from workflows.domain import ModelError, ScriptError

from ..helpers import read

BPMN_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "bpmn")


@pytest.mark.parametrize("source", [
    'verhandlung["timer"]', 'entscheidung == "abgelehnt"', "heute() > eingang",
    'len(fehlende_unterlagen) == 0 and pruefergebnis == "vollstaendig"', "neue_kita not in kitas",
    "sorted(liste)[0] == 1", "daten.get('a') == 1", "'x'.upper() in namen", "liste.count(1) > 0",
])
def test_pure_expressions_pass(source):
    scripting.check_expression(source)


@pytest.mark.parametrize("source, what", [
    ("frist('f', 'monate', eingang, monate=1)['timer']", "frist(…)"),
    ("frist_erfuellt('f') is None", "frist_erfuellt(…)"),
    ("frist_entfaellt('f') or True", "frist_entfaellt(…)"),
    ("sorted(['f'], key=frist_entfaellt)", "frist_entfaellt(…)"),   # also when only named
    ("liste.append(1) is None", ".append(…)"),
    ("liste.extend([1]) or True", ".extend(…)"),
    ("liste.insert(0, 1) is None", ".insert(…)"),
    ("liste.pop() == 1", ".pop(…)"),
    ("liste.remove(1) is None", ".remove(…)"),
    ("liste.clear() is None", ".clear(…)"),
    ("daten.update(a=1) is None", ".update(…)"),
    ("daten.setdefault('a', 1) == 1", ".setdefault(…)"),
    ("daten.popitem()", ".popitem(…)"),
    ("menge.add(1) is None", ".add(…)"),
    ("menge.discard(1) is None", ".discard(…)"),
    ("liste.sort() is None", ".sort(…)"),
    ("liste.reverse() is None", ".reverse(…)"),
    ("sorted(range(3), key=liste.append)", ".append(…)"),
])
def test_expressions_with_side_effects_are_refused(source, what):
    with pytest.raises(ScriptError) as err:
        scripting.check_expression(source)
    assert err.value.message.startswith("In Bedingungen sind nur reine Ausdrücke erlaubt: ")
    assert what in err.value.message and "ändert Daten" in err.value.message
    with pytest.raises(ScriptError):            # also at run time: the engine compiles, not checks
        scripting.compile_expression(source)


def test_scripts_may_still_use_helpers_and_mutating_methods():
    scripting.check_script("f = frist('f', 'monate', eingang, monate=1)\nfrist_erfuellt('f')\n"
                           "frist_entfaellt('f')\nliste.append(1)\ndaten.update(a=1)\nliste.sort()")


def test_assignment_expressions_are_not_allowed():
    assert not hasattr(ast, "NamedExpr") or ast.NamedExpr not in scripting.ALLOWED_NODES
    with pytest.raises(ScriptError, match="NamedExpr"):
        scripting.check_expression("(x := 1) == 1")


def _expressions(path: str):
    root = etree.parse(path).getroot()
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in (
                "conditionExpression", "timeDate", "timeDuration", "timeCycle", "loopCardinality",
                "completionCondition") and (element.text or "").strip():
            yield element.text


def test_the_shipped_models_use_only_pure_conditions_and_timers():
    paths = glob.glob(os.path.join(BPMN_DIR, "*.bpmn"))
    assert paths
    seen = 0
    for path in paths:
        for source in _expressions(path):
            scripting.check_expression(source)
            seen += 1
    assert seen >= 20


@pytest.mark.parametrize("condition", ["frist_erfuellt('f') is None", "fehlende.append(1) is None"])
def test_a_model_with_an_impure_condition_is_refused_at_deploy(condition):
    xml = read("fristpruefung.bpmn").replace("vollstaendig == True", condition)
    assert condition in xml
    with pytest.raises(ModelError, match="reine Ausdrücke") as err:
        engine.parse_model({"f.bpmn": xml})
    assert err.value.details["element_id"] == "gw"
    from workflows import validation
    found = validation.validate({"f.bpmn": xml}, "f.bpmn")
    assert any(p.element_id == "f3" and "reine Ausdrücke" in p.message for p in found)
