"""Patterns and sizes (issue: untrusted data, "Patterns and sizes"): form patterns are matched
in linear time (RE2) and patterns RE2 cannot run are refused at deploy; every form field has
a maximum length (its maxLength, else 10.000 characters; a form may not declare more than
100.000), and a submission to a case is at most 100.000 characters per text and 1.000.000 in
all. Larger values get a German InvalidInput and nothing is stored."""
import json
import time

import pytest

from webapp.forms import fields
from workflows import casedata, formlimits, forms
from workflows import store as tables
from workflows.domain import InvalidInput, ModelError

from ..helpers import OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR, count_rows, read

#: Python's re needs about 10 s for 28 characters of this and doubles with each one more
REDOS = "^(a|a)+$"


def _form(**field) -> dict:
    return {"type": "object", "title": "Test", "properties": {"angabe": {"type": "string", "title": "Angabe", **field}}}


def test_a_backtracking_pattern_is_matched_in_linear_time():
    schema = _form(pattern=REDOS)
    hostile = "a" * 40 + "b"                # with re: hours; the test times out against the old code
    started = time.process_time()
    errors = forms.validate(schema, {"angabe": hostile})
    assert time.process_time() - started < 1.0
    assert errors == {"angabe": "Die Eingabe im Feld „Angabe“ hat nicht das erwartete Format."}
    assert forms.validate(schema, {"angabe": "a" * 40}) == {}


def test_patterns_keep_their_meaning():
    schema = _form(pattern="^[0-9]{5}$")
    assert forms.validate(schema, {"angabe": "50667"}) == {}
    assert "angabe" in forms.validate(schema, {"angabe": "5066"})
    # JSON Schema patterns are ECMA-262: \d means 0-9 (Python's re would accept Arabic digits)
    assert "angabe" in forms.validate(_form(pattern=r"^\d+$"), {"angabe": "٣٤"})
    table = {"type": "object", "properties": {"kitas": {"type": "array", "title": "Kitas", "items": {
        "type": "object", "properties": {"plz": {"type": "string", "title": "PLZ", "pattern": "^[0-9]{5}$"}}}}}}
    assert "kitas-0-plz" in forms.validate(table, {"kitas": [{"plz": "abc"}]})      # the cell, by data row


@pytest.mark.parametrize("pattern, what", [
    (r"^(a+)\1$", "Rückverweis"),
    (r"^(?=.*[0-9]).+$", "Lookahead"),
    (r"^.*(?<!x)$", "Lookbehind"),
    (r"^(?>a+)$", "atomare Gruppe"),
])
def test_patterns_re2_cannot_run_are_refused(pattern, what):
    with pytest.raises(ValueError, match="kann nicht sicher geprüft werden") as caught:
        forms.check_schema(_form(pattern=pattern))
    assert "properties/angabe" in str(caught.value), what


def test_patterns_in_nested_schemas_and_pattern_properties_are_checked():
    nested = {"type": "object", "properties": {"liste": {"type": "array", "items": {"type": "string",
                                                                                     "pattern": r"(x)\1"}}}}
    with pytest.raises(ValueError, match="properties/liste/items"):
        forms.check_schema(nested)
    with pytest.raises(ValueError, match="patternProperties"):
        forms.check_schema({"type": "object", "patternProperties": {"^(a|a)+$": {"type": "string"}},
                                  "properties": {}})


def test_deploy_refuses_a_form_with_a_backreference(services):
    form = json.dumps({"title": "Unterlagen prüfen", "type": "object", "properties": {
        "vollstaendig": {"type": "boolean"}, "kennung": {"type": "string", "pattern": r"^(ab)\1$"}}})
    before = count_rows(services.store, tables.model_versions)
    with pytest.raises(ModelError, match="kann nicht sicher geprüft werden"):
        services.deploy_model({"fristpruefung.bpmn": read("fristpruefung.bpmn"), "pruefen.json": form}, OWNER)
    assert count_rows(services.store, tables.model_versions) == before


def test_a_field_without_max_length_takes_ten_thousand_characters():
    schema = _form()
    assert forms.validate(schema, {"angabe": "x" * formlimits.MAX_FIELD_TEXT}) == {}
    assert forms.validate(schema, {"angabe": "x" * (formlimits.MAX_FIELD_TEXT + 1)}) == {
        "angabe": "Bitte geben Sie höchstens 10.000 Zeichen ein."}
    [field] = fields(schema)
    assert field.attrs["maxlength"] == 10_000          # the browser stops there too
    lines = {"type": "object", "properties": {"punkte": {"type": "array", "title": "Punkte",
                                                         "items": {"type": "string"}}}}
    assert "punkte" in forms.validate(lines, {"punkte": ["kurz", "y" * 10_001]})


def test_a_declared_max_length_counts_and_has_a_ceiling():
    assert forms.validate(_form(maxLength=4000), {"angabe": "x" * 4001}) == {
        "angabe": "Bitte geben Sie höchstens 4.000 Zeichen ein."}
    assert forms.validate(_form(maxLength=50_000), {"angabe": "x" * 50_000}) == {}
    forms.check_schema(_form(maxLength=formlimits.MAX_FIELD_CEILING))
    with pytest.raises(ValueError, match="höchstens 100.000 Zeichen"):
        forms.check_schema(_form(maxLength=formlimits.MAX_FIELD_CEILING + 1))


def test_the_bounded_schema_leaves_the_original_alone():
    schema = _form()
    formlimits.bounded(schema)
    assert "maxLength" not in schema["properties"]["angabe"]


def test_fifteen_megabytes_in_one_field_are_refused_and_nothing_is_stored(services):
    services.deploy_model({"fristpruefung.bpmn": read("fristpruefung.bpmn"), "pruefen.json": read("pruefen.json")},
                          OWNER)
    huge = "x" * (15 * 1024 * 1024)
    before = {table: count_rows(services.store, table) for table in (tables.instances, tables.audit_events)}
    with pytest.raises(InvalidInput, match="ist zu lang: höchstens 100.000 Zeichen") as caught:
        services.start_case("fristpruefung", "LVR-2026-0900", {"eingang_am": "2026-01-05", "notiz": huge},
                            SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    assert caught.value.details["field"] == "notiz"
    ref = services.start_case("fristpruefung", "LVR-2026-0901", {"eingang_am": "2026-01-05"},
                              SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    [task] = ref.open_tasks
    after_start = {table: count_rows(services.store, table) for table in before}
    assert after_start[tables.instances] == before[tables.instances] + 1
    with pytest.raises(InvalidInput, match="zu lang"):
        services.complete_task(task["task_id"], {"vollstaendig": True, "notiz": huge}, SACHBEARBEITUNG_LVR)
    with pytest.raises(InvalidInput, match="zu lang"):
        services.send_signal("LVR-2026-0901", "egal", {"anlage": {"text": [huge]}}, SACHBEARBEITUNG_LVR)
    assert {table: count_rows(services.store, table) for table in before} == after_start
    assert services.case("LVR-2026-0901", SACHBEARBEITUNG_LVR)["version"] == ref.version


def test_a_submission_has_a_total_maximum():
    many = {f"feld{i}": "x" * 60_000 for i in range(17)}          # 17 × 60.000 > 1.000.000
    with pytest.raises(InvalidInput, match="zu umfangreich: höchstens 1.000.000 Zeichen"):
        casedata.check_submission(many)
    casedata.check_submission({f"feld{i}": "x" * 60_000 for i in range(16)})
    rows = {"liste": [{"a": 1, "b": "kurz"}] * 200_000}            # many small values count too
    with pytest.raises(InvalidInput, match="zu umfangreich"):
        casedata.check_submission(rows)


def test_deep_submissions_are_refused_without_recursion():
    deep: dict = {}
    for _ in range(100_000):
        deep = {"a": deep}
    with pytest.raises(InvalidInput, match="tiefer als 32 Ebenen") as caught:
        casedata.check_submission({"tief": deep})
    assert caught.value.details["field"] == "tief"
