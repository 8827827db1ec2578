"""Task forms from JSON Schema: fields, parsing, German messages and the render_fields macro."""
from __future__ import annotations

import copy
import io
import json
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader
from jsonschema import Draft202012Validator
from werkzeug.datastructures import FileStorage, MultiDict

from webapp.forms import TABLE_BLANK_ROWS, Field, Option, ParsedForm, fields, parse
from workflows.forms import (KINDS, MSG_DATE, MSG_ENUM, MSG_INTEGER, MSG_NUMBER, MSG_REQUIRED, check_schema,
                             form_title, load_schema)

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
TEMPLATES = ROOT / "webapp" / "templates"
FORM_FILES = sorted(BPMN_DIR.glob("*.json"))
TODAY = date.today()


def schema_of(properties: dict, required=(), **extra) -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "title": "Testformular", "properties": properties, "required": list(required), **extra}


def validate(schema: dict, data: dict) -> None:
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(data)


def upload(content: bytes = b"%PDF-1.4 Inhalt", filename: str = "bescheid.pdf",
           content_type: str = "application/pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=filename, content_type=content_type)


# --------------------------------------------------------------------------- every form in bpmn/

def _first_choice(schema: dict):
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema and all("const" in alt for alt in schema[key]):
            return schema[key][0]["const"]
    return None


def _form_value(name: str, prop: dict) -> str:
    """A valid form entry (as a browser would send it) for a scalar property."""
    kind = prop.get("type")
    choice = _first_choice(prop)
    if choice is not None:
        return choice if isinstance(choice, str) else json.dumps(choice)
    if kind == "boolean":
        return "true"
    if kind == "string" and prop.get("format") == "date":
        return TODAY.strftime("%d.%m.%Y")
    if kind in ("number", "integer"):
        low = prop.get("minimum", 0)
        high = prop.get("maximum", low + 10)
        if kind == "integer":
            return str(int(low + (high - low) // 2))
        return f"{(low + high) / 2:.1f}".replace(".", ",")    # German decimal comma
    text = "Beispielangabe für " + name
    return text[:prop["maxLength"]] if "maxLength" in prop else text


def build_submission(schema: dict) -> tuple[MultiDict, MultiDict]:
    """A complete, valid submission for every property of the schema (optional ones too)."""
    form, files = MultiDict(), MultiDict()
    for name, prop in schema["properties"].items():
        if prop.get("type") == "string" and (prop.get("format") in ("data-url", "binary")
                                             or prop.get("x-upload") or "contentMediaType" in prop):
            files.add(name, upload(content_type=prop.get("contentMediaType", "application/pdf")))
        elif prop.get("type") == "array":
            items = prop["items"]
            if _first_choice(items) is not None:
                form.add(name, _form_value(name, items))
            elif items.get("type") == "object":
                for column, column_prop in items["properties"].items():
                    form.add(f"{name}-0-{column}", _form_value(column, column_prop))
            else:
                form.add(name, _form_value(name, items))
        else:
            form.add(name, _form_value(name, prop))
    return form, files


def test_there_are_forms_to_check():
    assert len(FORM_FILES) >= 20


@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_every_bpmn_form_loads_renders_and_accepts_a_valid_submission(path):
    schema = load_schema(path)
    assert form_title(schema) == schema["title"]

    shown = fields(schema)
    assert [f.name for f in shown] == list(schema["properties"])
    for f, (name, prop) in zip(shown, schema["properties"].items()):
        assert f.label == prop["title"] and f.label != name
        assert f.kind in KINDS
        assert f.required == (name in schema.get("required", []))
        if f.kind in ("radio", "select", "checkboxes"):
            assert f.options and all(o.label for o in f.options)

    form, files = build_submission(schema)
    form.add("nicht_im_schema", "x")
    result = parse(schema, form, files)
    assert result.errors == {}
    assert set(result.data) <= set(schema["properties"])
    validate(schema, result.data)
    json.dumps(result.data)                                       # JSON-ready
    for name, prop in schema["properties"].items():
        if prop.get("format") == "date":
            assert result.data[name] == TODAY.isoformat()

    # prefilled from the stored data, the form parses to the same data again
    again = fields(schema, data=result.data)
    resubmit = MultiDict()
    for f in again:
        if f.kind == "checkboxes":
            for value in f.value:
                resubmit.add(f.name, value)
        elif f.kind == "checkbox":
            if f.value:
                resubmit.add(f.name, "true")
        elif f.kind == "table":
            for row in f.rows:
                for cell in row:
                    resubmit.add(cell.name, "true" if cell.value is True else cell.value or "")
        elif f.kind != "file":
            resubmit.add(f.name, f.value)
    assert parse(schema, resubmit, files).data == result.data


@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_every_bpmn_form_reports_missing_required_fields(path):
    schema = load_schema(path)
    result = parse(schema, MultiDict())
    expected = {name for name in schema.get("required", [])
                if schema["properties"][name].get("type") != "boolean"}
    assert {k for k, v in result.errors.items() if v == MSG_REQUIRED} >= expected
    assert "" not in result.errors


# --------------------------------------------------------------------------- loading schemas

@pytest.mark.parametrize("name", ["1abc", "_intern", "class", "mit-strich", "mit leerzeichen", ""])
def test_field_names_must_be_python_identifiers(name):
    with pytest.raises(ValueError, match="Feldname"):
        check_schema(schema_of({name: {"type": "string", "title": "X"}}))
    with pytest.raises(ValueError, match="Feldname"):
        fields(schema_of({name: {"type": "string", "title": "X"}}))


def test_field_names_inside_repeating_groups_are_checked_too():
    schema = schema_of({"liste": {"type": "array", "title": "Liste", "items": {
        "type": "object", "properties": {"_geheim": {"type": "string"}}}}})
    with pytest.raises(ValueError, match="_geheim"):
        check_schema(schema)


def test_umlauts_in_field_names_are_fine_they_are_identifiers():
    check_schema(schema_of({"größe": {"type": "integer", "title": "Größe"}}))


@pytest.mark.parametrize("schema, match", [
    ([], "JSON-Schema-Objekt"),
    (schema_of({"a": {"type": "strin"}}), "kein gültiges JSON-Schema"),
    ({"type": "array", "items": {}}, "Objekt"),
    (schema_of({"a": {"type": "object", "title": "A", "properties": {}}}), "nicht unterstützte"),
    (schema_of({"a": {"$ref": "https://example.org/x.json"}}), "Verweise"),
])
def test_unusable_schemas_raise_value_error_in_german(schema, match):
    with pytest.raises(ValueError, match=match):
        check_schema(schema)


def test_load_schema_reports_broken_json(tmp_path):
    path = tmp_path / "kaputt.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="kein gültiges JSON"):
        load_schema(path)


def test_form_title_falls_back():
    assert form_title({"title": "  Antrag  "}) == "Antrag"
    assert form_title({}) == "Formular"


def test_local_refs_are_resolved():
    schema = schema_of({"am": {"$ref": "#/$defs/datum", "title": "Am"}},
                       **{"$defs": {"datum": {"type": "string", "format": "date"}}})
    [f] = fields(schema)
    assert (f.kind, f.label) == ("date", "Am")
    assert parse(schema, {"am": "3.4.2026"}).data == {"am": "2026-04-03"}


# --------------------------------------------------------------------------- field kinds and labels

KIND_SCHEMA = schema_of({
    "text": {"type": "string", "title": "Text", "maxLength": 100},
    "lang": {"type": "string", "title": "Lang", "maxLength": 4000},
    "notiz": {"type": "string", "title": "Notiz", "format": "textarea"},
    "am": {"type": "string", "format": "date", "title": "Am"},
    "betrag": {"type": "number", "title": "Betrag", "minimum": 0, "maximum": 10000},
    "anzahl": {"type": "integer", "title": "Anzahl", "minimum": 0, "maximum": 500},
    "wahl": {"type": "string", "title": "Wahl", "enum": ["a", "b"],
             "oneOf": [{"const": "a", "title": "Erste"}, {"const": "b", "title": "Zweite"}]},
    "viele": {"type": "string", "title": "Viele", "enum": ["1", "2", "3", "4", "5"]},
    "ok": {"type": "boolean", "title": "In Ordnung"},
    "liste": {"type": "array", "title": "Liste", "uniqueItems": True,
              "items": {"enum": ["x", "y", "z"]},
              "description": "§ 1 – x: Iks; y: Ypsilon; z: Zett"},
    "datei": {"type": "string", "title": "Datei", "contentMediaType": "application/pdf"},
    "anhang": {"type": "string", "title": "Anhang", "format": "binary", "x-max-bytes": 10},
    "foto": {"type": "string", "title": "Foto", "x-upload": True},
    "zeilen": {"type": "array", "title": "Zeilen", "items": {"type": "string"}},
})


def test_kinds_follow_the_schema():
    kinds = {f.name: f.kind for f in fields(KIND_SCHEMA)}
    assert kinds == {"text": "text", "lang": "textarea", "notiz": "textarea", "am": "date",
                     "betrag": "number", "anzahl": "integer", "wahl": "radio", "viele": "select",
                     "ok": "checkbox", "liste": "checkboxes", "datei": "file", "anhang": "file",
                     "foto": "file", "zeilen": "textarea"}


def test_option_labels_from_one_of_enum_names_and_description():
    by_name = {f.name: f for f in fields(KIND_SCHEMA)}
    assert by_name["wahl"].options == [Option("a", "Erste"), Option("b", "Zweite")]
    assert [o.label for o in by_name["liste"].options] == ["Iks", "Ypsilon", "Zett"]
    assert by_name["liste"].description == "§ 1"            # the label list left the help text
    assert [o.label for o in by_name["viele"].options] == ["1", "2", "3", "4", "5"]
    schema = schema_of({"s": {"type": "string", "title": "S", "enum": ["p", "q"],
                              "enumNames": ["Pe", "Ku"]}})
    assert [o.label for o in fields(schema)[0].options] == ["Pe", "Ku"]


def test_checklist_labels_from_the_bpmn_description_shape():
    schema = load_schema(BPMN_DIR / "abschlussdiagnostik.json")
    f = {f.name: f for f in fields(schema)}["abschlussbericht_empfaenger"]
    assert f.options[0] == Option("egh", "Eingliederungshilfeträger")
    assert f.options[2].label == "behandelnde Vertragsärztin / behandelnder Vertragsarzt"
    assert f.description == "§ 6 Abs. 8 S. 4 LRV"


def test_a_description_that_is_no_label_list_stays_as_it_is():
    schema = schema_of({"l": {"type": "array", "title": "L", "items": {"enum": ["a", "b"]},
                              "description": "a: erstes; c: unbekannt"}})
    [f] = fields(schema)
    assert [o.label for o in f.options] == ["a", "b"]
    assert f.description == "a: erstes; c: unbekannt"


def test_x_widget_overrides_radio_and_select():
    schema = schema_of({"w": {"type": "string", "title": "W", "enum": ["a", "b"], "x-widget": "select"}})
    assert fields(schema)[0].kind == "select"


def test_html_attributes_and_hints():
    by_name = {f.name: f for f in fields(KIND_SCHEMA)}
    assert by_name["text"].attrs["maxlength"] == 100
    assert by_name["lang"].hint == "höchstens 4000 Zeichen"
    assert by_name["anzahl"].hint == "ganze Zahl von 0 bis 500"
    assert by_name["datei"].attrs["accept"] == "application/pdf"
    assert by_name["anhang"].hint == "höchstens 10 Bytes"


# --------------------------------------------------------------------------- conversions

def test_dates_accept_german_short_and_iso_forms_and_store_iso():
    schema = schema_of({"am": {"type": "string", "format": "date", "title": "Am"}})
    for typed in ("05.03.2026", "5.3.2026", "2026-03-05", " 05.03.2026 "):
        assert parse(schema, {"am": typed}) == ParsedForm({"am": "2026-03-05"}, {}, {})


@pytest.mark.parametrize("typed", ["31.02.2026", "29.02.2025", "32.01.2026", "01/02/2026", "2026-2-1",
                                   "heute", "1.1.26", "0000-01-01"])
def test_invalid_dates_get_the_german_date_message(typed):
    schema = schema_of({"am": {"type": "string", "format": "date", "title": "Am"}}, required=["am"])
    result = parse(schema, {"am": typed})
    assert result.errors == {"am": MSG_DATE}
    assert result.data == {}


@pytest.mark.parametrize("typed, expected", [
    ("1.234,5", 1234.5), ("1234,5", 1234.5), ("1234.5", 1234.5), ("1 234,5", 1234.5),
    ("1,234.5", 1234.5), ("12", 12), ("-3,25", -3.25), ("1.500", 1500), ("0.125", 0.125),
    ("10,0", 10.0), ("1.234.567,89", 1234567.89),
])
def test_numbers_accept_german_and_plain_notation(typed, expected):
    schema = schema_of({"betrag": {"type": "number", "title": "Betrag"}})
    result = parse(schema, {"betrag": typed})
    assert result.errors == {}
    assert result.data["betrag"] == expected


@pytest.mark.parametrize("typed", ["abc", "1,2,3", "1.2.3", "nan", "inf", "1e5", "12 Euro", ",5", "9" * 50])
def test_non_numbers_get_the_number_message(typed):
    schema = schema_of({"betrag": {"type": "number", "title": "Betrag"}})
    assert parse(schema, {"betrag": typed}).errors == {"betrag": MSG_NUMBER}


def test_integers():
    schema = schema_of({"n": {"type": "integer", "title": "N"}})
    assert parse(schema, {"n": "42"}).data == {"n": 42}
    assert isinstance(parse(schema, {"n": "12,0"}).data["n"], int)
    assert parse(schema, {"n": "1.000"}).data == {"n": 1000}
    assert parse(schema, {"n": "1,5"}).errors == {"n": MSG_INTEGER}
    assert parse(schema, {"n": "zwei"}).errors == {"n": MSG_INTEGER}


def test_strings_are_trimmed_and_empty_optional_fields_omitted():
    schema = schema_of({"name": {"type": "string", "title": "Name"},
                        "notiz": {"type": "string", "title": "Notiz", "maxLength": 4000},
                        "am": {"type": "string", "format": "date", "title": "Am"},
                        "n": {"type": "number", "title": "N"},
                        "w": {"type": "string", "title": "W", "enum": ["a"]},
                        "l": {"type": "array", "title": "L", "items": {"enum": ["a"]}}})
    result = parse(schema, MultiDict([("name", "  Sabine \t"), ("notiz", "  "), ("am", ""), ("n", " "),
                                      ("w", ""), ("l", "")]))
    assert result == ParsedForm({"name": "Sabine"}, {}, {})


def test_textarea_keeps_lines_but_normalises_line_ends_and_control_characters():
    schema = schema_of({"notiz": {"type": "string", "title": "Notiz", "maxLength": 4000},
                        "name": {"type": "string", "title": "Name"}})
    result = parse(schema, {"notiz": "Zeile 1\r\nZeile 2\x00\r\n", "name": "a\nb\x07"})
    assert result.data == {"notiz": "Zeile 1\nZeile 2", "name": "a b"}


def test_checkbox_unchecked_is_false_and_checked_is_true():
    schema = schema_of({"ok": {"type": "boolean", "title": "OK"}})
    assert parse(schema, MultiDict()).data == {"ok": False}
    assert parse(schema, {"ok": "true"}).data == {"ok": True}
    assert parse(schema, {"ok": "on"}).data == {"ok": True}


def test_checkbox_lists_keep_schema_order_without_duplicates():
    schema = schema_of({"l": {"type": "array", "title": "L", "uniqueItems": True,
                              "items": {"enum": ["a", "b", "c"]}}})
    result = parse(schema, MultiDict([("l", "c"), ("l", "a"), ("l", "c")]))
    assert result.data == {"l": ["a", "c"]} and result.errors == {}


def test_non_string_enums_come_back_with_their_type():
    schema = schema_of({"stufe": {"type": "integer", "title": "Stufe", "enum": [1, 2, 3]},
                        "l": {"type": "array", "title": "L", "items": {"enum": [10, 20]}}})
    result = parse(schema, MultiDict([("stufe", "2"), ("l", "20")]))
    assert result.data == {"stufe": 2, "l": [20]}
    assert fields(schema, data=result.data)[0].value == "2"


def test_unknown_keys_are_never_copied():
    schema = schema_of({"name": {"type": "string", "title": "Name"}})
    result = parse(schema, MultiDict([("name", "x"), ("csrf_token", "t"), ("__class__", "y"),
                                      ("is_admin", "true"), ("name-0-x", "z")]))
    assert result.data == {"name": "x"}
    assert result.errors == {}


def test_list_of_plain_values_is_one_entry_per_line():
    schema = schema_of({"termine": {"type": "array", "title": "Termine",
                                    "items": {"type": "string", "format": "date"}}})
    result = parse(schema, {"termine": "1.2.2026\n\n2026-03-04\n"})
    assert result.data == {"termine": ["2026-02-01", "2026-03-04"]}
    assert fields(schema, data=result.data)[0].value == "01.02.2026\n04.03.2026"
    assert parse(schema, {"termine": "1.2.2026\nkein Datum"}).errors == {"termine": "Zeile 2: " + MSG_DATE}


# --------------------------------------------------------------------------- validation messages

MESSAGE_SCHEMA = schema_of({
    "name": {"type": "string", "title": "Name", "minLength": 3, "maxLength": 10},
    "anzahl": {"type": "integer", "title": "Anzahl", "minimum": 1, "maximum": 500},
    "anteil": {"type": "number", "title": "Anteil", "minimum": 0, "maximum": 65.5},
    "wahl": {"type": "string", "title": "Wahl", "enum": ["ja", "nein"]},
    "liste": {"type": "array", "title": "Liste", "items": {"enum": ["a", "b", "c", "d", "e"]},
              "minItems": 2, "maxItems": 3},
    "kennung": {"type": "string", "title": "Kennung", "pattern": "^[A-Z]{2}$"},
    "bestaetigt": {"type": "boolean", "title": "Bestätigt", "const": True},
}, required=["name", "wahl"])


def test_missing_required_fields():
    result = parse(MESSAGE_SCHEMA, MultiDict([("bestaetigt", "true")]))
    assert result.errors == {"name": MSG_REQUIRED, "wahl": MSG_REQUIRED}


@pytest.mark.parametrize("name, typed, message", [
    ("anzahl", "0", "Der Wert muss mindestens 1 betragen."),
    ("anzahl", "501", "Der Wert muss höchstens 500 betragen."),
    ("anteil", "-0,5", "Der Wert muss mindestens 0 betragen."),
    ("anteil", "65,6", "Der Wert muss höchstens 65,5 betragen."),
    ("name", "ab", "Bitte geben Sie mindestens 3 Zeichen ein."),
    ("name", "abcdefghijk", "Bitte geben Sie höchstens 10 Zeichen ein."),
    ("wahl", "vielleicht", MSG_ENUM),
    ("kennung", "abc", "Die Eingabe im Feld „Kennung“ hat nicht das erwartete Format."),
])
def test_german_messages_per_rule(name, typed, message):
    form = MultiDict([("name", "Sabine"), ("wahl", "ja"), ("bestaetigt", "true")])
    form.setlist(name, [typed])
    result = parse(MESSAGE_SCHEMA, form)
    assert result.errors == {name: message}
    assert name not in result.data or name in ("anzahl", "anteil", "name", "kennung")


def test_min_and_max_items():
    base = [("name", "Sabine"), ("wahl", "ja"), ("bestaetigt", "true")]
    assert parse(MESSAGE_SCHEMA, MultiDict(base + [("liste", "a")])).errors == {
        "liste": "Bitte wählen Sie mindestens 2 Einträge."}
    assert parse(MESSAGE_SCHEMA, MultiDict(base + [("liste", v) for v in "abcd"])).errors == {
        "liste": "Bitte wählen Sie höchstens 3 Einträge."}
    one = schema_of({"l": {"type": "array", "title": "L", "items": {"enum": ["a"]}, "minItems": 1}},
                    required=["l"])
    assert parse(one, MultiDict()).errors == {"l": MSG_REQUIRED}


def test_tampered_checkbox_values_are_rejected():
    result = parse(MESSAGE_SCHEMA, MultiDict([("name", "Sabine"), ("wahl", "ja"), ("bestaetigt", "true"),
                                              ("liste", "a"), ("liste", "x'; DROP TABLE")]))
    assert result.errors == {"liste": MSG_ENUM}
    assert "liste" not in result.data


def test_other_rules_get_a_generic_message_naming_the_field():
    result = parse(MESSAGE_SCHEMA, MultiDict([("name", "Sabine"), ("wahl", "ja")]))
    assert result.errors == {"bestaetigt": "Bitte bestätigen Sie „Bestätigt“."}
    schema = schema_of({"n": {"type": "number", "title": "Menge", "multipleOf": 5}})
    assert parse(schema, {"n": "7"}).errors == {"n": "Die Angabe im Feld „Menge“ ist ungültig."}


def test_if_then_rules_of_the_bpmn_forms_land_on_the_dependent_field():
    schema = load_schema(BPMN_DIR / "antrag_entscheiden.json")
    base = [("entscheidung", "abgelehnt"), ("entschieden_am", "1.3.2026")]
    assert parse(schema, MultiDict(base)).errors == {"begruendung": MSG_REQUIRED}
    assert parse(schema, MultiDict(base + [("begruendung", "Gründe")])).errors == {}
    assert parse(schema, MultiDict([("entscheidung", "bewilligt"), ("entschieden_am", "1.3.2026")])).errors == {}

    schema = load_schema(BPMN_DIR / "vollstaendigkeit_pruefen.json")
    assert parse(schema, {"unterlagen_vollstaendig": "nein", "geprueft_am": "2.3.2026"}).errors == {
        "fehlende_unterlagen": MSG_REQUIRED}
    assert parse(schema, {"unterlagen_vollstaendig": "ja", "geprueft_am": "2.3.2026"}).errors == {
        "unterlagen_vollstaendig_am": MSG_REQUIRED}


def test_dependent_required_lands_on_the_dependent_field():
    schema = schema_of({"von": {"type": "string", "format": "date", "title": "Von"},
                        "bis": {"type": "string", "format": "date", "title": "Bis"}},
                       dependentRequired={"von": ["bis"]})
    assert parse(schema, {"von": "1.1.2026"}).errors == {"bis": MSG_REQUIRED}
    assert parse(schema, {}).errors == {}


def test_form_level_errors_use_the_empty_key():
    schema = schema_of({"a": {"type": "string", "title": "A"}, "b": {"type": "string", "title": "B"}},
                       **{"not": {"required": ["a", "b"]}})
    result = parse(schema, {"a": "x", "b": "y"})
    assert list(result.errors) == [""] and result.errors[""].startswith("Die Angaben")


def test_a_conversion_error_wins_over_a_required_message():
    schema = schema_of({"am": {"type": "string", "format": "date", "title": "Am"}}, required=["am"])
    assert parse(schema, {"am": "31.02.2026"}).errors == {"am": MSG_DATE}


@pytest.mark.parametrize("form", [
    {}, {"anzahl": None}, {"anzahl": ["1", "2"]}, {"name": 12}, {"liste": "a"},
    MultiDict([("anzahl", "\x00"), ("anteil", "1" * 10_000), ("name", "\ud800")]),
    {"wahl": ["ja", "nein"]}, {"bestaetigt": {"x": 1}},
])
def test_odd_input_never_raises(form):
    result = parse(MESSAGE_SCHEMA, form)
    assert isinstance(result, ParsedForm)
    assert result.errors                           # name and wahl are missing or odd at least
    json.dumps(result.data)


# --------------------------------------------------------------------------- uploads

FILE_SCHEMA = schema_of({
    "bescheid": {"type": "string", "title": "Bescheid", "contentMediaType": "application/pdf",
                 "x-max-bytes": 100},
    "foto": {"type": "string", "title": "Foto", "x-upload": True},
}, required=["bescheid"])


def test_required_upload_missing():
    assert parse(FILE_SCHEMA, {}, {}).errors == {"bescheid": MSG_REQUIRED}
    assert parse(FILE_SCHEMA, {}, MultiDict([("bescheid", FileStorage(io.BytesIO(b""), filename=""))])
                 ).errors == {"bescheid": MSG_REQUIRED}


def test_upload_goes_to_uploads_not_data():
    file = upload()
    result = parse(FILE_SCHEMA, MultiDict([("bescheid", "C:\\fake.pdf")]), MultiDict([("bescheid", file)]))
    assert result.errors == {}
    assert result.uploads == {"bescheid": file}
    assert result.data == {}
    assert file.stream.read() == b"%PDF-1.4 Inhalt"           # stream left where it was


def test_upload_too_large_empty_or_of_the_wrong_type():
    big = upload(b"x" * 101)
    assert parse(FILE_SCHEMA, {}, {"bescheid": big}).errors == {
        "bescheid": "Die Datei ist zu groß (höchstens 100 Bytes)."}
    assert parse(FILE_SCHEMA, {}, {"bescheid": upload(b"")}).errors == {"bescheid": "Die Datei ist leer."}
    result = parse(FILE_SCHEMA, {}, {"bescheid": upload(filename="bild.png", content_type="image/png")})
    assert result.errors["bescheid"].startswith("Bitte laden Sie eine Datei dieses Typs hoch")
    assert result.uploads == {}


def test_an_earlier_upload_satisfies_required():
    result = parse(FILE_SCHEMA, {}, {}, current={"bescheid": {"name": "alt.pdf"}})
    assert result.errors == {}
    f = fields(FILE_SCHEMA, data={"bescheid": {"name": "alt.pdf"}})[0]
    assert f.value == "alt.pdf"


# --------------------------------------------------------------------------- repeating groups

def table_schema() -> dict:
    return load_schema(BPMN_DIR / "vertrag_verhandeln.json")


def test_table_rows_are_parsed_and_blank_rows_skipped():
    form = MultiDict([("verhandlung_abgeschlossen_am", "1.3.2026"), ("vertragsgrundlagen", "kalkulationsmatrix"),
                      ("uebergangsfristen_vereinbart", "true"),
                      ("uebergangsfristen-0-voraussetzung", "Personal"),
                      ("uebergangsfristen-0-erfuellen_bis", "30.6.2026"),
                      ("uebergangsfristen-1-voraussetzung", ""), ("uebergangsfristen-1-erfuellen_bis", ""),
                      ("uebergangsfristen-2-voraussetzung", "Räume"),
                      ("uebergangsfristen-2-erfuellen_bis", "2026-12-31")])
    result = parse(table_schema(), form)
    assert result.errors == {}
    assert result.data["uebergangsfristen"] == [
        {"voraussetzung": "Personal", "erfuellen_bis": "2026-06-30"},
        {"voraussetzung": "Räume", "erfuellen_bis": "2026-12-31"}]


def test_table_cell_errors_carry_the_submitted_row_index():
    form = MultiDict([("verhandlung_abgeschlossen_am", "1.3.2026"), ("vertragsgrundlagen", "kalkulationsmatrix"),
                      ("uebergangsfristen-0-voraussetzung", ""), ("uebergangsfristen-0-erfuellen_bis", ""),
                      ("uebergangsfristen-1-voraussetzung", "Personal"),
                      ("uebergangsfristen-1-erfuellen_bis", ""),
                      ("uebergangsfristen-2-voraussetzung", ""),
                      ("uebergangsfristen-2-erfuellen_bis", "31.2.2026")])
    result = parse(table_schema(), form)
    assert result.errors == {"uebergangsfristen-1-erfuellen_bis": MSG_REQUIRED,
                             "uebergangsfristen-2-erfuellen_bis": MSG_DATE,
                             "uebergangsfristen-2-voraussetzung": MSG_REQUIRED}
    shown = {f.name: f for f in fields(table_schema(), errors=result.errors, raw=form)}["uebergangsfristen"]
    assert len(shown.rows) == 3
    assert shown.rows[1][0].value == "Personal"
    assert shown.rows[2][1].value == "31.2.2026" and shown.rows[2][1].error == MSG_DATE


def test_table_required_by_if_then():
    form = MultiDict([("verhandlung_abgeschlossen_am", "1.3.2026"), ("vertragsgrundlagen", "kalkulationsmatrix"),
                      ("uebergangsfristen_vereinbart", "true")])
    assert parse(table_schema(), form).errors == {"uebergangsfristen": MSG_REQUIRED}


def test_table_prefill_offers_blank_rows():
    data = {"uebergangsfristen": [{"voraussetzung": "Personal", "erfuellen_bis": "2026-06-30"}]}
    f = {f.name: f for f in fields(table_schema(), data=data)}["uebergangsfristen"]
    assert [c.label for c in f.columns] == ["Voraussetzung (z. B. § 3 Nr. 2 Personal)", "Zu erfüllen bis"]
    assert len(f.rows) == 1 + TABLE_BLANK_ROWS
    assert [c.value for c in f.rows[0]] == ["Personal", "30.06.2026"]
    assert f.rows[0][1].name == "uebergangsfristen-0-erfuellen_bis"
    assert all(c.value == "" for c in f.rows[1])


def test_row_indices_are_capped():
    form = MultiDict([("verhandlung_abgeschlossen_am", "1.3.2026"), ("vertragsgrundlagen", "kalkulationsmatrix"),
                      ("uebergangsfristen-99999-voraussetzung", "x")])
    result = parse(table_schema(), form)
    assert "uebergangsfristen" not in result.data and result.errors == {}


# --------------------------------------------------------------------------- fields(): prefill

def test_fields_prefill_from_data_in_german_notation():
    data = {"am": "2026-03-05", "betrag": 1234.5, "anzahl": 7, "wahl": "b", "ok": True,
            "liste": ["x", "z"], "text": "Hallo", "fremd": "ignoriert"}
    by_name = {f.name: f for f in fields(KIND_SCHEMA, data=data)}
    assert by_name["am"].value == "05.03.2026"
    assert by_name["betrag"].value == "1234,5"
    assert by_name["anzahl"].value == "7"
    assert by_name["wahl"].value == "b"
    assert by_name["ok"].value is True
    assert by_name["liste"].value == ["x", "z"]
    assert by_name["text"].value == "Hallo"
    assert by_name["notiz"].value == "" and by_name["viele"].value == ""
    assert "fremd" not in by_name


def test_fields_reshow_what_was_typed_with_errors():
    raw = MultiDict([("am", "31.02.2026"), ("betrag", "12,5"), ("liste", "y"), ("ok", "true")])
    result = parse(KIND_SCHEMA, raw)
    by_name = {f.name: f for f in fields(KIND_SCHEMA, data={"am": "2026-01-01"}, errors=result.errors, raw=raw)}
    assert by_name["am"].value == "31.02.2026" and by_name["am"].error == MSG_DATE
    assert by_name["betrag"].value == "12,5" and by_name["betrag"].error is None
    assert by_name["liste"].value == ["y"] and by_name["ok"].value is True


def test_fields_survive_odd_stored_data():
    data = {"am": "kein Datum", "betrag": "viel", "liste": "x", "ok": "ja", "wahl": 3}
    by_name = {f.name: f for f in fields(KIND_SCHEMA, data=data)}
    assert by_name["am"].value == "kein Datum"
    assert by_name["liste"].value == [] and by_name["ok"].value is False
    assert by_name["wahl"].value == "3"


def test_field_ids_and_described_by():
    f = Field("am", "Am", "date", True, "Hilfe", [], "", "Fehler")
    assert (f.id, f.help_id, f.error_id) == ("f-am", "f-am-help", "f-am-error")
    assert f.describedby == "f-am-help f-am-error"
    assert Field("x", "X", "text", False, None, [], "", None).describedby == ""


# --------------------------------------------------------------------------- the template macro

class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def render(field_list, autoescape=True, summary=False, form_error=None) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=autoescape)
    source = ('{% from "_form_fields.html" import render_fields, render_error_summary %}'
              '{% if summary %}{{ render_error_summary(fields, form_error) }}{% endif %}'
              '{{ render_fields(fields) }}')
    return env.from_string(source).render(fields=field_list, summary=summary, form_error=form_error)


def tags_of(html: str) -> list[tuple[str, dict]]:
    parser = _Collector()
    parser.feed(html)
    return parser.tags


def test_rendering_labels_markers_help_errors_and_values():
    raw = MultiDict([("am", "31.02.2026"), ("text", "Hallo Welt"), ("wahl", "b"), ("liste", "z")])
    schema = copy.deepcopy(KIND_SCHEMA)
    schema["required"] = ["am", "text"]
    shown = fields(schema, errors=parse(schema, raw).errors, raw=raw)
    html = render(shown)
    tags = tags_of(html)

    assert '<label for="f-text">Text <span class="required" aria-hidden="true">*</span></label>' in html
    assert '<label for="f-betrag">Betrag</label>' in html
    assert f'<p class="field-error" id="f-am-error">{MSG_DATE}</p>' in html
    am = next(a for t, a in tags if a.get("id") == "f-am")
    assert am["type"] == "text" and am["inputmode"] == "numeric" and am["placeholder"] == "TT.MM.JJJJ"
    assert am["value"] == "31.02.2026" and am["aria-invalid"] == "true"
    assert "f-am-error" in am["aria-describedby"].split() and "pattern" in am
    assert "required" in am
    text = next(a for t, a in tags if a.get("id") == "f-text")
    assert text["class"] == "input" and text["name"] == "text" and text["value"] == "Hallo Welt"
    assert text["maxlength"] == "100"
    assert '<p class="field-help muted" id="f-lang-help"><span class="field-hint">höchstens 4000 Zeichen' in html
    lang = next(a for t, a in tags if a.get("id") == "f-lang")
    assert lang["aria-describedby"] == "f-lang-help"

    radios = [a for t, a in tags if t == "input" and a.get("name") == "wahl"]
    assert [(r["value"], "checked" in r) for r in radios] == [("a", False), ("b", True), ("", False)]
    boxes = [a for t, a in tags if t == "input" and a.get("name") == "liste"]
    assert [(b["type"], b["value"], "checked" in b) for b in boxes] == [
        ("checkbox", "x", False), ("checkbox", "y", False), ("checkbox", "z", True)]
    assert "> Ypsilon</label>" in html and "<legend>Liste</legend>" in html
    files = [a for t, a in tags if t == "input" and a.get("type") == "file"]
    assert {f["name"] for f in files} == {"datei", "anhang", "foto"}
    assert next(f for f in files if f["name"] == "datei")["accept"] == "application/pdf"
    options = [a for t, a in tags if t == "option"]
    assert len(options) == 1 + 5 and options[0]["value"] == ""

    assert html.count('<div class="field') == len(shown)
    assert "style" not in html and "<script" not in html and "onclick" not in html.lower()


def test_rendering_gives_every_label_a_control_and_unique_ids():
    for path in FORM_FILES:
        html = render(fields(load_schema(path)))
        tags = tags_of(html)
        ids = [a["id"] for _, a in tags if "id" in a]
        assert len(ids) == len(set(ids)), path.name
        for _, attrs in tags:
            if "for" in attrs:
                assert attrs["for"] in ids, (path.name, attrs["for"])
            for ref in (attrs.get("aria-describedby") or "").split() + (attrs.get("aria-labelledby") or "").split():
                assert ref in ids, (path.name, ref)


@pytest.mark.parametrize("autoescape", [True, False])
def test_rendering_escapes_values_labels_and_messages(autoescape):
    evil = '<script>alert("x")</script>'
    schema = schema_of({"name": {"type": "string", "title": evil, "description": evil},
                        "notiz": {"type": "string", "title": "Notiz", "maxLength": 4000},
                        "w": {"type": "string", "title": "W", "enum": ["a"],
                              "oneOf": [{"const": "a", "title": evil}]}})
    shown = fields(schema, data={"name": evil, "notiz": "</textarea>" + evil},
                   errors={"name": evil})
    html = render(shown, autoescape=autoescape, summary=True, form_error=evil)
    assert "<script>" not in html and "</textarea><script" not in html
    assert "&lt;script&gt;" in html
    tag = next(a for t, a in tags_of(html) if a.get("id") == "f-name")
    assert tag["value"] == evil                                       # the browser shows it verbatim


def test_rendering_checkbox_and_prefilled_values():
    shown = fields(KIND_SCHEMA, data={"ok": True, "am": "2026-03-05", "betrag": 12.5, "notiz": "Eins\nZwei"})
    html = render(shown)
    tags = {a.get("id"): a for _, a in tags_of(html) if a.get("id")}
    assert tags["f-ok"]["type"] == "checkbox" and "checked" in tags["f-ok"] and tags["f-ok"]["value"] == "true"
    assert '<label class="choice" for="f-ok">' in html
    assert tags["f-am"]["value"] == "05.03.2026" and tags["f-betrag"]["value"] == "12,5"
    assert tags["f-betrag"]["inputmode"] == "decimal"
    assert ">Eins\nZwei</textarea>" in html


def test_rendering_tables_with_cell_errors():
    form = MultiDict([("uebergangsfristen-0-voraussetzung", "Personal"),
                      ("uebergangsfristen-0-erfuellen_bis", "31.2.2026")])
    errors = parse(table_schema(), form).errors
    html = render(fields(table_schema(), errors=errors, raw=form), summary=True)
    tags = {a.get("id"): a for _, a in tags_of(html) if a.get("id")}
    cell = tags["f-uebergangsfristen-0-erfuellen_bis"]
    assert cell["name"] == "uebergangsfristen-0-erfuellen_bis" and cell["value"] == "31.2.2026"
    assert cell["aria-labelledby"] == "f-uebergangsfristen-col-erfuellen_bis f-uebergangsfristen-row-0"
    assert cell["aria-describedby"] == "f-uebergangsfristen-0-erfuellen_bis-error"
    assert "required" not in cell
    assert f'id="f-uebergangsfristen-0-erfuellen_bis-error">{MSG_DATE}</p>' in html
    assert ('<a href="#f-uebergangsfristen-0-erfuellen_bis">Übergangsfristen zur Erfüllung der '
            f'Eignungsvoraussetzungen, Zeile 1, Zu erfüllen bis: {MSG_DATE}</a>') in html
    assert '<a href="#f-verhandlung_abgeschlossen_am">' in html


def test_error_summary_is_empty_without_errors():
    assert "error-summary" not in render(fields(KIND_SCHEMA), summary=True)
    assert "Formfehler" in render(fields(KIND_SCHEMA), summary=True, form_error="Formfehler")


def test_a_use_case_error_in_a_table_cell_lands_on_the_row_the_user_filled_in():
    """The web completion validates once, in the use case (issue 14): the use case names a cell
    by its data row, the page by the submitted row, skipping blank rows in between."""
    from webapp.inbox import _form_keys
    from workflows.forms import validate as validate_data
    schema = {"type": "object", "properties": {"kitas": {"type": "array", "title": "Kitas", "items": {
        "type": "object", "properties": {"plz": {"type": "string", "title": "PLZ", "pattern": "^[0-9]{5}$"}}}}}}
    parsed = parse(schema, MultiDict({"kitas-0-plz": "50667", "kitas-2-plz": "abc"}), validate=False)
    assert parsed.errors == {} and parsed.rows == {"kitas": [0, 2]}
    errors = validate_data(schema, parsed.data)
    assert list(errors) == ["kitas-1-plz"]
    assert list(_form_keys(errors, parsed.rows)) == ["kitas-2-plz"]
