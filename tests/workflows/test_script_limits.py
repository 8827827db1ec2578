"""Allowed scripts that try to exhaust the machine: every one is stopped with a German
ScriptError before it holds a worker or its memory, and ordinary scripts are unaffected."""
import pytest

from workflows import engine, scripting
from workflows.domain import ModelError, ScriptError
from workflows.script_limits import limits

from ..helpers import read


def run(source: str, **budget) -> dict:
    """Check, rewrite and run a script as the engine does; returns its variables."""
    scope = scripting.safe_globals()
    with limits(**budget):
        exec(scripting.compile_script(source), scope)
    return {k: v for k, v in scope.items() if not k.startswith("_")}


def test_ordinary_scripts_compute_what_they_say():
    result = run("werte = [a * 2 for a in range(10)]\nsumme = sum(werte)\ntext = 'ab' * 3\n"
                 "rechts = f'{text:>8}'\nbetrag = f'{summe / 7:.2f}'\nnamen = ', '.join(['Kai', 'Ines'])\n"
                 "liste = []\nliste.append(1)\nliste += [2]\nliste.extend([3])\nteil = text[1:3]\n"
                 "gerundet = round(2.567, 2)\nersetzt = 'a-b'.replace('-', ' / ')\nnummer = '7'.zfill(4)\n"
                 "groesser = {k: v for k, v in zip('abc', range(3)) if v > 0}")
    assert result == {"werte": list(range(0, 20, 2)), "summe": 90, "text": "ababab", "rechts": "  ababab",
                      "betrag": "12.86", "namen": "Kai, Ines", "liste": [1, 2, 3], "teil": "ba",
                      "gerundet": 2.57, "ersetzt": "a / b", "nummer": "0007", "groesser": {"b": 1, "c": 2}}


def test_expressions_run_under_the_same_guards():
    scope = {**scripting.safe_globals(), "betrag": 10}
    with limits():
        assert eval(scripting.compile_expression("betrag * 3 + len('ab' * 2)"), scope) == 34
    with pytest.raises(ScriptError, match="zu groß"), limits():
        eval(scripting.compile_expression("'x' * 1000000000"), scope)


@pytest.mark.parametrize("source, message", [
    # one operation that would allocate gigabytes is refused before it runs
    ("x = 'x' * 1000000000", "zu groß"),
    ("x = 1000000000 * [0]", "zu groß"),
    ("x = [0] * 100000 * 100000", "zu groß"),
    ("x = 'a'.ljust(1000000000)", "zu groß"),
    ("x = '7'.zfill(1000000000)", "zu groß"),
    ("s = 'a' * 50000\nx = s.replace('a', s)", "zu groß"),
    ("s = 'a' * 50000\nx = s.join([s, s, s])", "zu groß"),
    ("x = '%1000000000d' % 1", "f-Strings"),
    ("x = round(1, -100000000)", "Stellen"),
    ("x = sum([[1]] * 1000, [])", "nur Zahlen"),
    ("x = sum(['a', 'b'])", "nur Zahlen"),
    ("x = range(10 * 1000 * 1000)", "range"),
    # growth by doubling in a short loop
    ("s = 'ab'\nfor i in range(40):\n    s = s.replace('a', 'aa')", "zu groß"),
    ("s = 'a'\nfor i in range(40):\n    s = s + s", "zu groß"),
    ("s = 'a'\nfor i in range(40):\n    s += s", "zu groß"),
    ("l = [1]\nfor i in range(40):\n    l.extend(l)", "zu groß"),
    ("l = [1]\nfor i in range(40):\n    l *= 2", "zu groß"),
    ("d = {'a': [1]}\nfor i in range(40):\n    d['a'] += d['a']", "zu groß"),
    ("s = 'a'\nfor i in range(40):\n    s = ''.join([s, s])", "zu groß"),
    ("s = 'a'\nfor i in range(40):\n    s = f'{s}{s}'", "zu groß"),
    ("x = 99999999999\nfor i in range(30):\n    x = x * x", "Zahl"),
    ("x = 99999999999\nfor i in range(30):\n    x *= x", "Zahl"),
    # many values that are each allowed, together too much
    ("keep = []\nfor i in range(10000):\n    keep.append([0] * 100000)", "baute mehr"),
    ("s = 'a' * 1000\nx = [f'{s}{s}{s}' for i in range(10000)]", "baute mehr"),
    ("s = 'x' * 100000\nx = [s[:] for i in range(10000)]", "baute mehr"),
    ("s = 'x' * 100000\nx = [sorted(s) for i in range(10000)]", "baute mehr"),
    ("s = 'x' * 100000\nx = [str(s) + '' for i in range(10000)]", "baute mehr"),
    ("s = 'x' * 100000\nx = [s.upper() for i in range(10000)]", "baute mehr"),
    ("l = list(range(10000))\nx = [list(l) for i in range(10000)]", "baute mehr"),
    # loops
    ("t = 0\nfor a in range(10000):\n    for b in range(10000):\n        t += 1", "Schritten"),
    ("x = [a for a in range(10000) for b in range(10000)]", "Schritten"),
    ("x = sum(1 for a in range(10000) for b in range(10000))", "Schritten"),
])
def test_exhausting_scripts_are_stopped(source, message):
    with pytest.raises(ScriptError, match=message):
        run(source, seconds=120)          # the limit in question, not the clock, must stop them


def test_slow_lines_are_stopped_by_the_time_limit():
    # Each line is allowed and small, but together they would run for many seconds.
    source = "l = list(range(10000))\nfor a in range(10000):\n    for b in range(10):\n        t = 99999 in l"
    with pytest.raises(ScriptError, match="Sekunden"):
        run(source, seconds=0.2)


def test_memory_growth_is_a_last_net():
    with pytest.raises(ScriptError, match="Arbeitsspeicher"):
        run("x = [[0] * 10000 for i in range(200)]", memory=1024 * 1024)


def test_limits_nest_and_each_thread_has_its_own():
    import threading
    errors = []

    def heavy():
        try:
            run("t = 0\nfor a in range(10000):\n    for b in range(10000):\n        t += 1")
        except ScriptError as err:
            errors.append(err.message)

    thread = threading.Thread(target=heavy)
    thread.start()
    assert run("x = sum([a for a in range(100)])")["x"] == 4950     # unaffected by the other thread
    thread.join(timeout=60)
    assert len(errors) == 1 and "Schritten" in errors[0]


def test_helpers_and_data_stay_usable():
    scope = {**scripting.safe_globals(), "eingang": "2026-03-02", "zaehler": 1}
    with limits():
        exec(scripting.compile_script("zaehler += 1\nzaehler = zaehler * 2\nwoche = str(eingang)[:7]"), scope)
    assert scope["zaehler"] == 4 and scope["woche"] == "2026-03"


def _script_model(script: str) -> str:
    return read("fuenf_schritte.bpmn").replace(
        '<bpmn:userTask id="t1" name="Antrag erfassen">', '<bpmn:scriptTask id="t1" name="Rechnen">').replace(
        '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>',
        f'<bpmn:outgoing>f1</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>', 1)


@pytest.mark.parametrize("script, message", [
    ("n = 0\nfor a in range(10000):\n    for b in range(10000):\n        n = n + 1", "Schritten"),
    ("x = 'x' * 1000000000", "zu groß"),
    ("keep = []\nfor i in range(10000):\n    keep.append([0] * 100000)", "baute mehr"),
])
def test_limits_apply_inside_the_engine(script, message):
    model = engine.parse_model({"rechnen.bpmn": _script_model(script)})
    with pytest.raises(ScriptError, match=message) as err:
        engine.start(model)
    assert err.value.details["element_id"] == "t1"


@pytest.mark.parametrize("script", [
    "import os", "x = open('/etc/passwd').read()", "x = eval('1 + 1')", "x = exec('y = 1')",
    "x = getattr(1, 'real')", "x = ().__class__.__base__.__subclasses__()", "x = type(1)",
    "x = globals()", "x = vars()", "x = compile('1', 'f', 'eval')", "x = __import__('os')",
    "x = heute.__globals__", "x = frist.__code__", "x = [c for c in (1).__class__.__mro__]",
])
def test_escape_attempts_never_reach_the_interpreter(script):
    """Refused when the model is parsed (deploy), or at the latest when the script runs."""
    with pytest.raises((ModelError, ScriptError)):
        model = engine.parse_model({"rechnen.bpmn": _script_model(script)})
        engine.start(model)


def test_a_script_sees_only_the_safe_builtins_and_helpers():
    environment = scripting.safe_globals()
    assert environment["__builtins__"] == scripting.SAFE_BUILTINS
    assert set(environment) == {"__builtins__"} | set(scripting.GUARDS)
    for name in ("print", "open", "input", "help", "memoryview", "bytearray", "object", "super"):
        model = engine.parse_model({"rechnen.bpmn": _script_model(f"x = {name}")})
        with pytest.raises(ScriptError, match=f"Unbekannter Name „{name}“"):
            engine.start(model)
