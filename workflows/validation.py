"""Checks a process owner's model before it is deployed, reporting every problem found.

`validate(files, main)` combines what the engine refuses (`engine.parse_model`) with the
rules of this application: user tasks lie in a lane named after a known group, timers use
a deadline variable (`frist_var["timer"]`) or a quoted ISO duration without months, every
script and condition passes the allow-list, every form a task names exists and is a form.
Each problem names the element and the line, so the editor can mark it on the canvas.
Pure Python: no database, no Flask.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from . import engine, forms, scripting
from .domain import LANES, ModelError, ScriptError

BPMN = engine.BPMN_NS
SPIFF = engine.SPIFF_NS
ERROR, WARNING = "fehler", "warnung"

#: `frist_var["timer"]`: a deadline recorded by frist() (or any dict entry with a moment)
_VARIABLE_REF = re.compile(r"""^[A-Za-z][A-Za-z0-9_]*\[\s*(["'])[A-Za-z0-9_]+\1\s*\]$""")
#: a quoted ISO 8601 duration (weeks, days, hours, minutes, seconds), optionally a cycle
_QUOTED = re.compile(r"""^(["'])(?P<value>[^"']*)\1$""")
_DURATION = re.compile(r"^P(?!$)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_CYCLE = re.compile(r"^R\d*/(?P<duration>P\S+)$")
_MONTHS_OR_YEARS = re.compile(r"^P(?:[^T]*[MY])")
HUMAN_TASKS = ("userTask", "manualTask")


@dataclass(frozen=True)
class Problem:
    """One finding: where (element id, line, file) and what (German message)."""

    element_id: str | None
    line: int | None
    message: str
    severity: str = ERROR
    file_name: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)


def validate(files: dict[str, str], main: str) -> list[Problem]:
    """Every problem of the model `main` (with the BPMN files and forms in `files`)."""
    problems: list[Problem] = []
    if main not in files:
        return [Problem(None, None, f"Die Datei „{main}“ fehlt.", file_name=main)]
    trees = {}
    for name, text in files.items():
        if not name.endswith(".bpmn"):
            continue
        try:
            trees[name] = engine.parse_xml(text, name)
        except ModelError as err:
            problems.append(Problem(err.element_id, err.line, err.message, file_name=name))
    if main not in trees:
        return problems
    lines: dict[str, int] = {}
    for name, root in trees.items():
        for element in root.iter():
            if isinstance(element.tag, str) and element.get("id"):
                lines.setdefault(element.get("id"), element.sourceline)
                if name == main:
                    lines[element.get("id")] = element.sourceline
        problems += _check_lanes(root, name)
        problems += _check_timers(root, name)
        problems += _check_scripts(root, name)
        problems += _check_forms(root, name, files)
    if problems:
        # the engine would only repeat the first of these (and may trip over them)
        problems += _engine_problems(files, main, lines, known=problems)
    else:
        problems += _engine_problems(files, main, lines, known=[])
    return sorted(_unique(problems), key=lambda p: (p.file_name != main, p.line or 0))


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, result = set(), []
    for problem in problems:
        key = (problem.element_id, problem.message, problem.file_name)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def _engine_problems(files, main, lines, known) -> list[Problem]:
    bpmn = {n: t for n, t in files.items() if n.endswith(".bpmn")}
    try:
        engine.parse_model(bpmn, engine.main_process_id(files[main].encode(), main))
    except ModelError as err:
        if err.message.startswith("Skript nicht erlaubt") and any(
                p.element_id == err.element_id for p in known):
            return []                   # already reported (all of them) by _check_scripts
        line = err.line or lines.get(err.element_id or "")
        return [Problem(err.element_id, line, err.message, file_name=err.file_name or main)]
    return []


def _label(element) -> str:
    name = element.get("name")
    return f"„{name}“" if name else element.get("id", "?")


def _executable_processes(root):
    return [p for p in root.iter(f"{{{BPMN}}}process") if p.get("isExecutable") != "false"]


def _check_lanes(root, file_name: str) -> list[Problem]:
    """Every user or manual task lies in a lane named like one of the groups."""
    problems = []
    known = ", ".join(LANES)
    for process in _executable_processes(root):
        lane_of = {}
        for lane in process.iter(f"{{{BPMN}}}lane"):
            for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
                lane_of[(ref.text or "").strip()] = lane
        for kind in HUMAN_TASKS:
            for task in process.iter(f"{{{BPMN}}}{kind}"):
                lane = lane_of.get(task.get("id"))
                if lane is None:
                    problems.append(Problem(task.get("id"), task.sourceline,
                                            f"Die Aufgabe {_label(task)} liegt in keiner Bahn (Lane); "
                                            f"niemand könnte sie bearbeiten. Bekannte Gruppen: {known}.",
                                            file_name=file_name))
                elif (lane.get("name") or "").strip() not in LANES:
                    problems.append(Problem(task.get("id"), task.sourceline,
                                            f"Die Aufgabe {_label(task)} liegt in der Bahn "
                                            f"„{lane.get('name') or lane.get('id')}“, die zu keiner Gruppe "
                                            f"gehört. Bekannte Gruppen: {known}.", file_name=file_name))
    return problems


def timer_problem(expression: str) -> str | None:
    """Why a timer expression is not allowed (German), or None."""
    text = (expression or "").strip()
    if not text:
        return "Der Timer hat keinen Ausdruck."
    if _VARIABLE_REF.match(text):
        return None
    quoted = _QUOTED.match(text)
    value = quoted.group("value").strip() if quoted else text
    cycle = _CYCLE.match(value)
    duration = cycle.group("duration") if cycle else value
    if duration.startswith("P") and _MONTHS_OR_YEARS.match(duration):
        return (f"Der Timer „{text}“ rechnet mit Monaten oder Jahren; das ist nicht erlaubt "
                "(SpiffWorkflow rechnet Monatslängen anders als das BGB). Bitte die Frist mit "
                "frist(\"schluessel\", \"regel-id\", datum) in einem Skript berechnen und den Timer "
                "auf schluessel[\"timer\"] setzen.")
    if quoted and _DURATION.match(duration):
        if cycle and _seconds(duration) < engine.MIN_CYCLE.total_seconds():
            return (f"Der Zyklus-Timer „{text}“ wiederholt sich zu oft: der Abstand muss mindestens "
                    "1 Stunde betragen (z. B. \"R/P1D\" für täglich).")
        return None
    if not quoted and _DURATION.match(duration):
        return f"Die Dauer „{text}“ muss in Anführungszeichen stehen (z. B. \"P14D\"), sonst ist sie kein Ausdruck."
    return (f"Der Timer-Ausdruck „{text}“ ist nicht erlaubt: erlaubt sind ein Fristwert wie "
            "frist_var[\"timer\"] oder eine Dauer in Anführungszeichen wie \"P14D\" (ohne Monate).")


_PARTS = re.compile(r"(\d+(?:\.\d+)?)([WDHMS])")


def _seconds(duration: str) -> float:
    """Seconds of an ISO duration without months and years ("PT30M" -> 1800)."""
    date_part, _, time_part = duration[1:].partition("T")
    unit = {"W": 604800, "D": 86400}
    total = sum(float(n) * unit[u] for n, u in _PARTS.findall(date_part))
    return total + sum(float(n) * {"H": 3600, "M": 60, "S": 1}[u] for n, u in _PARTS.findall(time_part))


def _check_timers(root, file_name: str) -> list[Problem]:
    problems = []
    for definition in root.iter(f"{{{BPMN}}}timerEventDefinition"):
        event = definition.getparent()
        for kind in ("timeDate", "timeDuration", "timeCycle"):
            for child in definition.findall(f"{{{BPMN}}}{kind}"):
                message = timer_problem(child.text or "")
                if message:
                    problems.append(Problem(event.get("id"), child.sourceline, message, file_name=file_name))
    return problems


def _check_scripts(root, file_name: str) -> list[Problem]:
    """Every script, condition and pre-/postscript, each problem with its element."""
    found = []
    for task in root.iter(f"{{{BPMN}}}scriptTask"):
        for script in task.findall(f"{{{BPMN}}}script"):
            found.append((task, script, script.text or "", scripting.check_script))
    for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
        for condition in flow.findall(f"{{{BPMN}}}conditionExpression"):
            found.append((flow, condition, condition.text or "", scripting.check_expression))
    for tag in ("preScript", "postScript"):
        for script in root.iter(f"{{{SPIFF}}}{tag}"):
            owner = next((a for a in script.iterancestors() if a.get("id")), None)
            found.append((owner, script, script.text or "", scripting.check_script))
    problems = []
    for owner, node, source, check in found:
        if not source.strip():
            continue
        try:
            check(source)
        except ScriptError as err:
            line = node.sourceline + (int(err.details.get("line") or 1) - 1
                                      if isinstance(getattr(err, "details", None), dict) else 0)
            problems.append(Problem(owner.get("id") if owner is not None else None, line,
                                    f"Skript nicht erlaubt: {err.message}", file_name=file_name))
    return problems


def _check_forms(root, file_name: str, files: dict[str, str]) -> list[Problem]:
    problems = []
    for prop in root.iter(f"{{{SPIFF}}}property"):
        if prop.get("name") != "formJsonSchemaFilename":
            continue
        form = (prop.get("value") or "").strip()
        owner = next((a for a in prop.iterancestors() if a.get("id")), None)
        element_id = owner.get("id") if owner is not None else None
        message = form_problem(form, files)
        if message:
            problems.append(Problem(element_id, prop.sourceline, message, file_name=file_name))
    return problems


def form_problem(form: str, files: dict[str, str]) -> str | None:
    """Why the form `form` is missing or unusable (German), or None."""
    if not form:
        return "Der Formularname ist leer."
    if form not in files:
        return f"Das Formular „{form}“ fehlt."
    try:
        schema = json.loads(files[form])
    except json.JSONDecodeError as err:
        return f"Das Formular „{form}“ ist kein gültiges JSON: {err.msg} (Zeile {err.lineno})."
    except RecursionError:
        return f"Das Formular „{form}“ ist zu tief verschachtelt."
    try:
        forms.check_schema(schema)
    except ValueError as err:
        return f"Das Formular „{form}“ ist kein gültiges Formular: {err}"
    except RecursionError:
        return f"Das Formular „{form}“ ist zu tief verschachtelt."
    for name in (schema.get("properties") or {}) if isinstance(schema, dict) else ():
        problem = engine.field_name_problem(name)
        if problem:
            return f"Formular „{form}“: {problem}"
    return None
