"""Every XML parse goes through engine.parse_xml and its hardened parser: a scan of the
source (a new parse call elsewhere fails here) and a run that records which parser
lxml is handed while models are deployed, validated, started and shown (SpiffWorkflow's
own parser and validator included)."""
from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from lxml import etree

from workflows import engine

from ..helpers import PARTIES_LVR, SYSTEM, login, token_for
from . import hostile

ROOT = Path(__file__).resolve().parents[2]
#: production code (tests may build unsafe parsers as controls)
SOURCES = [p for d in ("workflows", "webapp", "bench", "scripts") for p in (ROOT / d).rglob("*.py")]
#: ways into an XML parser other than parse_xml
PARSE_CALL = re.compile(
    r"\b(etree\.(fromstring|parse|XML|iterparse|XMLPullParser|XMLParser|HTMLParser|XMLID|fromstringlist)\s*\(|"
    r"XMLParser\s*\(|xml\.etree|xml\.dom|minidom|pulldom|xml\.sax|expatbuilder|lxml\.html|lxml\.objectify|"
    r"\.xinclude\s*\(|add_bpmn_(str|io|file|files|files_by_glob)\s*\(|add_dmn_(str|io|file)|"
    r"xmltodict|ElementTree\s*\()")


def _allowed_lines() -> set[int]:
    """Lines of engine/parsing.py that may parse: the parser's definition and parse_xml's body."""
    path = ROOT / "workflows" / "engine" / "parsing.py"
    lines: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and node.name == "parse_xml":
            lines |= set(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "XML_PARSER" for t in node.targets):
            lines |= set(range(node.lineno, node.end_lineno + 1))
    return lines


def test_the_scan_sees_the_known_parse_site():
    """Control: the pattern finds the one real parse call (else the next test proves nothing)."""
    text = (ROOT / "workflows" / "engine" / "parsing.py").read_text(encoding="utf-8").splitlines()
    found = [n for n, line in enumerate(text, 1) if PARSE_CALL.search(line)]
    assert found and set(found) <= _allowed_lines()
    assert PARSE_CALL.search("tree = etree.parse(path)") and PARSE_CALL.search("from xml.dom import minidom")
    assert PARSE_CALL.search("parser.add_bpmn_str(text)")


def test_no_other_xml_parse_site_in_the_code_base():
    allowed, found = _allowed_lines(), []
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("#") or not PARSE_CALL.search(line):
                continue
            if path == ROOT / "workflows" / "engine" / "parsing.py" and number in allowed:
                continue
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "XML nur über workflows.engine.parse_xml parsen:\n" + "\n".join(found)


def test_the_safe_parser_has_entities_network_and_dtd_off():
    """lxml does not expose a parser's options, so probe them: an internal entity stays
    unexpanded, an external DTD is not loaded, nothing beyond 256 levels."""
    parser = engine.XML_PARSER
    root = etree.fromstring(b'<!DOCTYPE a [<!ENTITY e "ERSETZT">]><a>&e;</a>', parser)
    assert "ERSETZT" not in (root.text or "") and "ERSETZT" not in "".join(root.itertext())
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(b"<a>" * 300 + b"</a>" * 300, parser)


@pytest.fixture
def recorded(monkeypatch):
    """Every call of lxml's parse functions, with the parser it was given."""
    calls = []
    for name in ("fromstring", "parse", "XML", "iterparse", "fromstringlist"):
        original = getattr(etree, name)

        def wrapper(*args, _original=original, _name=name, **kwargs):
            parser = kwargs.get("parser", args[1] if len(args) > 1 else None)
            calls.append((_name, parser))
            return _original(*args, **kwargs)
        monkeypatch.setattr(etree, name, wrapper)
    return calls


def test_deploy_start_and_show_parse_only_with_the_safe_parser(users_app, recorded):
    """Through the API (deploy), the services (start), the pages (case file, task, editor)."""
    workflows = users_app.extensions["workflows"]
    headers = token_for(users_app, "paula.prozess")
    data = {"dateien": [(io.BytesIO(hostile.VALID.encode()), hostile.MAIN, "application/octet-stream"),
                        (io.BytesIO(hostile.read(hostile.FORM).encode()), hostile.FORM, "application/json")]}
    response = users_app.test_client().post("/api/v1/models", data=data, headers=headers,
                                            content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    workflows.models.clear()                               # parse again from the stored files
    workflows.start_case("fristpruefung", "LVR-XML-1", {"eingang_am": "2026-11-02"}, SYSTEM, parties=PARTIES_LVR)
    sabine = login(users_app, "sabine.lvr")
    assert sabine.get("/akten/LVR-XML-1").status_code == 200
    [task] = workflows.inbox(workflows.actor("sabine.lvr"))
    assert sabine.get(f"/aufgaben/{task['task_id']}").status_code == 200
    owner = login(users_app, "paula.prozess")
    checked = owner.post("/modelle/pruefen", json={"files": {hostile.MAIN: hostile.VALID,
                                                             hostile.FORM: hostile.read(hostile.FORM)},
                                                   "main": hostile.MAIN}, headers={"X-CSRFToken": owner.csrf})
    assert checked.status_code == 200 and checked.get_json()["problems"] == []
    assert recorded, "nothing was parsed: the recording did not work"
    assert {parser is engine.XML_PARSER for _name, parser in recorded} == {True}, recorded
