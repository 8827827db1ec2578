"""Reading models: untrusted XML, BPMN parsing and validation, what a deployment needs.

`parse_xml` with `XML_PARSER` is the only XML parse site of the code base
(tests/security/test_xml_parse_sites.py). `parse_model` parses BPMN files with SpiffWorkflow's
parser and XSD validator, translates its messages into German naming element and line, refuses
recursive call activities and runs the script allow-list over every script, condition and
timer expression before anything runs. `deployment_files` and `main_process_id` read the XML
alone.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from .. import scripting
from ..domain import ModelError, ScriptError


# --- models -------------------------------------------------------------------------------

#: XML parser for untrusted BPMN: no entities, no network, no DTD, bounded size and depth
#: (libxml2 refuses more than 256 levels without huge_tree). The only parser of the code
#: base: tests/security/test_xml_parse_sites.py fails on any other parse call.
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                              huge_tree=False, remove_comments=False)
MAX_MODEL_BYTES = 5 * 1024 * 1024
#: Encodings in which every ASCII character is its own byte, so the byte checks for
#: "<!DOCTYPE" and "<!ENTITY" below see what the parser will see (UTF-16, UTF-7 or
#: EBCDIC would hide them). The MIWG reference models declare ISO-8859-1.
_ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1",
                     "iso-8859-15", "windows-1252", "cp1252"}
_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
#: libxml2's messages for limits it enforces -> German
_LIMITS = [("Excessive depth", "Das XML ist zu tief verschachtelt (höchstens 256 Ebenen)."),
           ("amplification", "Das XML vervielfacht sich beim Lesen (Entitäten) und wird abgelehnt.")]


@dataclass
class ProcessModel:
    """A parsed, validated process ready to start workflows from."""

    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict
    sha256: str
    lanes: list[str] = field(default_factory=list)
    forms: dict[str, str] = field(default_factory=dict)   # task spec name -> form file name


def parse_xml(content: bytes | str, file_name: str = "model.bpmn"):
    """Parse untrusted XML safely; ModelError with the line for malformed input.

    Refuses before parsing what could smuggle a DTD past the checks (other encodings,
    NUL bytes), and after parsing any DTD that got through (defence in depth)."""
    data = content.encode() if isinstance(content, str) else content
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(f"Die Datei ist größer als {MAX_MODEL_BYTES // (1024 * 1024)} MB.",
                         file_name=file_name)
    if not data.strip():
        raise ModelError("Die Datei ist leer.", file_name=file_name)
    start = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if b"\x00" in data or not start.startswith(b"<"):
        raise ModelError("Die Datei ist kein XML in UTF-8 (Binärdaten, UTF-16 oder ein anderes Format).",
                         file_name=file_name)
    declared = _DECLARATION.match(start)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _ASCII_COMPATIBLE:
        raise ModelError(f"Die Zeichenkodierung „{declared.group(1).decode('ascii', 'replace')}“ wird "
                         "nicht unterstützt; bitte als UTF-8 speichern.", file_name=file_name)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ModelError("DTDs und Entitäten sind in BPMN-Dateien nicht erlaubt.", file_name=file_name)
    try:
        root = etree.fromstring(data, parser=XML_PARSER)
    except etree.XMLSyntaxError as err:
        message = next((german for marker, german in _LIMITS if marker in (err.msg or "")),
                       f"Kein wohlgeformtes XML: {err.msg}")
        raise ModelError(message, line=err.lineno, file_name=file_name) from None
    if root.getroottree().docinfo.internalDTD is not None or root.getroottree().docinfo.doctype:
        raise ModelError("DTDs und Entitäten sind in BPMN-Dateien nicht erlaubt.", file_name=file_name)
    include = next(root.iter("{http://www.w3.org/2001/XInclude}*"), None)
    if include is not None:         # never expanded here; refused so no later step expands it
        raise ModelError("XInclude ist in BPMN-Dateien nicht erlaubt.", line=include.sourceline,
                         file_name=file_name)
    return root


#: SpiffWorkflow's parser messages (English) -> what a process owner reads.
_UNSUPPORTED = [
    (re.compile(r"Data Store with name (.+?) has no implementation", re.S),
     "Der Datenspeicher „{0}“ wird nicht unterstützt (keine Implementierung hinterlegt)."),
    (re.compile(r"A Service Task must have an operator"),
     "Serviceaufgaben ohne hinterlegten Dienst (operator) werden nicht unterstützt."),
    (re.compile(r"Exactly one start event is required in a SubWorkflow Task; found (\d+)"),
     "Ein Teilprozess braucht genau ein Startereignis (gefunden: {0})."),
    (re.compile(r"Cannot resolve (dataInputAssociation|dataOutputAssociation)"),
     "Die Datenzuordnung ({0}) verweist auf ein unbekanntes Datenobjekt."),
    (re.compile(r"A multiinstance task must specify a cardinality or a loop input data reference"),
     "Eine Mehrfachinstanz-Aktivität braucht eine Anzahl (loopCardinality) oder eine Eingabeliste."),
    (re.compile(r"No start event found|at least one start event", re.I),
     "Der Prozess braucht ein Startereignis."),
]


def _model_error(err: Exception, file_name: str | None) -> ModelError:
    """A ModelError in German naming the element (id and name) and the line."""
    raw = " ".join(str(err).split())
    raw = re.sub(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>", r"\1", raw).rstrip(". ")
    message = next((text.format(*m.groups()) for pattern, text in _UNSUPPORTED
                    for m in [pattern.search(raw)] if m), None)
    element_id = getattr(err, "id", None) or None
    name = getattr(err, "name", None)
    tag = getattr(err, "tag", None)
    if message is None:
        message = f"Ungültiges BPMN: {raw}"
    else:
        message = f"{message} Meldung der Engine: {raw}."
    if tag and element_id:
        message += f" Betroffen: {tag} „{name or element_id}“."
    return ModelError(message, element_id=element_id, line=_int(getattr(err, "line_number", None)),
                      file_name=getattr(err, "file_name", None) or file_name)


def _no_single_process(root_files: dict[str, bytes], executable: list[str]) -> ModelError:
    found = []
    for name, data in root_files.items():
        for proc in parse_xml(data, name).iter(f"{{{BPMN_NS}}}process"):
            flag = "nicht ausführbar" if proc.get("isExecutable") == "false" else "ausführbar"
            found.append(f"„{proc.get('name') or proc.get('id')}“ ({flag})")
    if not executable:
        return ModelError("Die Datei enthält keinen ausführbaren Prozess (isExecutable=\"false\"). "
                          f"Gefunden: {', '.join(found) or 'kein Prozess'}.")
    return ModelError(f"Die Datei enthält mehrere ausführbare Prozesse ({', '.join(found)}); "
                      "bitte genau einen als ausführbar kennzeichnen, die übrigen mit isExecutable=\"false\".")


def parse_model(files: dict[str, bytes | str], process_id: str | None = None) -> ProcessModel:
    """Parse BPMN files (the main one plus those its call activities need) into a model.

    Without `process_id` the file must hold exactly one executable process.
    Raises ModelError naming the element and line for anything that cannot run.
    """
    parser = SpiffBpmnParser(validator=VALIDATOR)
    digest = hashlib.sha256()
    for name, content in sorted(files.items()):
        data = content.encode() if isinstance(content, str) else content
        digest.update(data)
        try:
            parser.add_bpmn_xml(parse_xml(data, name), filename=name)
        except SpiffWorkflowException as err:
            raise _model_error(err, name) from None
    executable = parser.get_process_ids()
    if process_id is None:
        if len(executable) != 1:
            raise _no_single_process({n: c if isinstance(c, bytes) else c.encode() for n, c in files.items()},
                                     executable)
        process_id = executable[0]
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as err:
        raise _model_error(err, None) from None
    except (KeyError, ValueError, AttributeError, TypeError) as err:
        raise ModelError(f"Das Modell kann nicht ausgeführt werden: {first_line(err)}") from None
    model = ProcessModel(process_id=process_id, name=spec.description or process_id, spec=spec,
                         subprocess_specs=subprocess_specs, sha256=digest.hexdigest())
    _refuse_recursive_calls(model)
    for task_spec in _all_task_specs(model):
        _check_task_spec_scripts(task_spec)
        lane = getattr(task_spec, "lane", None)
        if lane and lane not in model.lanes:
            model.lanes.append(lane)
        form = _form_of(task_spec)
        if form:
            model.forms[task_spec.name] = form
    return model


def _refuse_recursive_calls(model: ProcessModel) -> None:
    """A call activity that calls its own process (directly or through others) would nest
    without end: refused at deploy, naming the element."""
    specs = {model.process_id: model.spec, **model.subprocess_specs}

    def calls(process_id: str):
        for task_spec in specs[process_id].task_specs.values():
            called = getattr(task_spec, "spec", None)
            if isinstance(called, str) and called in specs and hasattr(task_spec, "bpmn_id"):
                yield task_spec, called

    def visit(process_id: str, path: tuple[str, ...]) -> None:
        for task_spec, called in calls(process_id):
            if called in path:
                raise ModelError(f"Die Aufrufaktivität „{task_spec.bpmn_name or task_spec.bpmn_id}“ ruft den "
                                 f"Prozess „{called}“ auf, der sie selbst (mittelbar) aufruft; rekursive "
                                 "Aufrufe sind nicht erlaubt.", element_id=task_spec.bpmn_id)
            visit(called, path + (called,))

    visit(model.process_id, (model.process_id,))


def _all_task_specs(model: ProcessModel):
    yield from model.spec.task_specs.values()
    for sub in model.subprocess_specs.values():
        yield from sub.task_specs.values()


def _check_task_spec_scripts(task_spec) -> None:
    """Run the script allow-list over everything of a task that will be evaluated."""
    checks: list[tuple[str, Callable[[str], None]]] = []
    if getattr(task_spec, "script", None):
        checks.append((task_spec.script, scripting.check_script))
    for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
        expression = getattr(condition, "args", [None])[0] if condition is not None else None
        if isinstance(expression, str):
            checks.append((expression, scripting.check_expression))
    event_definition = getattr(task_spec, "event_definition", None)
    expression = getattr(event_definition, "expression", None)
    if isinstance(expression, str) and expression:
        checks.append((expression, scripting.check_expression))
    for attr in ("prescript", "postscript"):
        if getattr(task_spec, attr, None):
            checks.append((getattr(task_spec, attr), scripting.check_script))
    for source, check in checks:
        try:
            check(source)
        except ScriptError as err:
            raise ModelError(f"Skript nicht erlaubt: {err.message}",
                             element_id=getattr(task_spec, "bpmn_id", None) or task_spec.name) from None


def _form_of(task_spec) -> str | None:
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    return properties.get("formJsonSchemaFilename")


def first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- deployment: the files and the process a model consists of ----------------------------

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def deployment_files(directory, main: str) -> dict[str, str]:
    """What deploying `main` from a model directory needs: the file, the files defining the
    processes its call activities name (recursively) and every form those files use."""
    from pathlib import Path
    directory = Path(directory)
    defined = {}
    for path in sorted(directory.glob("*.bpmn")):
        for proc in parse_xml(path.read_bytes(), path.name).iter(f"{{{BPMN_NS}}}process"):
            defined.setdefault(proc.get("id"), path.name)
    files, pending = {}, [main]
    while pending:
        name = pending.pop()
        if name in files:
            continue
        files[name] = (directory / name).read_text(encoding="utf-8")
        root = parse_xml(files[name].encode(), name)
        for prop in root.iter(f"{{{SPIFF_NS}}}property"):
            if prop.get("name") == "formJsonSchemaFilename" and (directory / prop.get("value")).exists():
                files[prop.get("value")] = (directory / prop.get("value")).read_text(encoding="utf-8")
        for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
            if call.get("calledElement") in defined:
                pending.append(defined[call.get("calledElement")])
    return files


def main_process_id(content: bytes, file_name: str) -> str:
    """The one executable process a deployed file must define (others may be pools
    of partners that are only drawn)."""
    executable = [p.get("id") for p in parse_xml(content, file_name).iter(f"{{{BPMN_NS}}}process")
                  if p.get("isExecutable") != "false"]      # unset counts as executable, as in Spiff
    if len(executable) != 1:
        raise _no_single_process({file_name: content}, executable)
    return executable[0]
