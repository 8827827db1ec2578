"""Hostile BPMN inputs, built around a valid model (tests/data/fristpruefung.bpmn), so that
only the attack makes them fail: entity bombs, external entities (file and loopback HTTP),
parameter entities, a DOCTYPE after the first 4 KiB, other encodings, XInclude, huge and
deep documents, binary garbage, unsupported elements and broken forms."""
from __future__ import annotations

from pathlib import Path

from ..helpers import DATA, read

MAIN = "fristpruefung.bpmn"
FORM = "pruefen.json"
VALID = read(MAIN)
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
BODY = VALID.removeprefix(HEADER)
assert BODY != VALID
#: copies of the MIWG reference models unsupported() sends (tests/data/miwg/README.md)
MIWG = DATA / "miwg"


def _with_doctype(doctype: str, reference: str = "&x;", header: str = HEADER) -> str:
    """The valid model with a DOCTYPE and an entity reference in the process's documentation
    (text a case file shows)."""
    opening = '<bpmn:process id="fristpruefung" name="Fristprüfung" isExecutable="true">'
    assert opening in BODY
    return header + doctype + "\n" + BODY.replace(
        opening, f"{opening}<bpmn:documentation>{reference}</bpmn:documentation>", 1)


def models(secret: Path, url: str) -> dict[str, bytes]:
    """name -> content of the main BPMN file (the form is sent beside it)."""
    lol = '<!ENTITY x0 "lol">' + "".join(
        f'<!ENTITY x{i} "{f"&x{i - 1};" * 10}">' for i in range(1, 10)) + '<!ENTITY x "&x9;">'
    quadratic = '<!ENTITY x "' + "A" * 50_000 + '">'
    padding = "<!--" + " " * 5000 + "-->\n"
    xinclude = BODY.replace(
        '<bpmn:process id="fristpruefung"',
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="' + secret.as_uri() +
        '" parse="text"/>\n<bpmn:process id="fristpruefung"', 1)
    deep = HEADER + BODY.replace(
        "</bpmn:process>", "<bpmn:extensionElements>" + "<a>" * 5000 + "</a>" * 5000 +
        "</bpmn:extensionElements></bpmn:process>", 1)
    return {
        "billion_laughs": _with_doctype(f"<!DOCTYPE d [{lol}]>").encode(),
        "quadratic_blowup": _with_doctype(f"<!DOCTYPE d [{quadratic}]>", "&x;" * 20_000).encode(),
        "external_entity_file": _with_doctype(f'<!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>').encode(),
        "external_entity_http": _with_doctype(f'<!DOCTYPE d [<!ENTITY x SYSTEM "{url}/entity">]>').encode(),
        "parameter_entity": _with_doctype(
            f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{url}/param.dtd"> %p;]>', "").encode(),
        "external_dtd": _with_doctype(f'<!DOCTYPE d SYSTEM "{url}/extern.dtd">', "").encode(),
        "doctype_after_4k": _with_doctype(
            f'<!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>', header=HEADER + padding).encode(),
        "utf16_external_entity": _with_doctype(
            f'<!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>',
            header=HEADER.replace("UTF-8", "UTF-16")).encode("utf-16"),
        "utf16le_no_bom_entity": _with_doctype(
            f'<!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>',
            header=HEADER.replace("UTF-8", "UTF-16LE")).encode("utf-16-le"),
        "utf7_external_entity": HEADER.replace("UTF-8", "UTF-7").encode() + _with_doctype(
            f'<!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>', header="")
            .encode("utf-7").replace(b"<!", b"+ADwAIQ-"),          # "<!" hidden in UTF-7
        "xinclude": (HEADER + xinclude).encode(),
        "xinclude_in_extension": VALID.replace(
            "<spiffworkflow:properties>", '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="'
            + secret.as_uri() + '" parse="text"/><spiffworkflow:properties>', 1).encode(),
        "too_large": (HEADER + "<!--" + "x" * (5 * 1024 * 1024 + 10) + "-->\n" + BODY).encode(),
        "deep_nesting": deep.encode(),
        "latin1_without_declaration": BODY.encode("latin-1"),
        "binary_garbage": bytes(range(256)) * 64,
        "empty": b"",
        "only_whitespace": b"   \n\t ",
        "not_xml_json": b'{"bpmn": "nein"}',
        "truncated": VALID.encode()[: len(VALID) // 2],
    }


def schema_location_hint(url: str) -> str:
    """A harmless model whose xsi:schemaLocation points at `url` (a validator must not fetch it)."""
    return HEADER + BODY.replace(
        'id="defs"', f'id="defs" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="http://www.omg.org/spec/BPMN/20100524/MODEL {url}/schema.xsd"', 1)


def broken_forms() -> dict[str, str]:
    """name -> content of pruefen.json beside the valid model."""
    return {
        "form_not_json": "{kaputt",
        "form_empty": "",
        "form_array": "[1, 2, 3]",
        "form_deeply_nested_array": "[" * 100_000 + "]" * 100_000,
        "form_deeply_nested_object": '{"a":' * 50_000 + "{}" + "}" * 50_000,
        "form_nested_900": '{"type": "object", "properties": {"x": ' + '{"type": "object", "properties": {"y": ' * 450
                           + '{"type": "string"}' + "}}" * 450 + "}}",
        "form_unknown_type": '{"type": "object", "properties": {"vollstaendig": {"type": "zauberei"}}}',
        "form_bad_field_name": '{"type": "object", "properties": {"__class__": {"type": "string"}}}',
        "form_wrong_encoding": "\udcff",
    }


def unsupported() -> dict[str, dict[str, str]]:
    """MIWG reference models our engine refuses (data store, service task, several processes)."""
    return {name: {name: (MIWG / name).read_text(encoding="utf-8")}
            for name in ("C.1.0.bpmn", "C.1.1.bpmn", "C.5.0.bpmn", "C.6.0.bpmn")}
