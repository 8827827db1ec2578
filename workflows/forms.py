"""Task forms from JSON Schema (draft 2020-12): loading, checking, field specs, validation in German.

The BPMN user tasks name a form, a JSON Schema file next to the model (bpmn/*.json). This module
knows what a form may contain and what its fields are, without HTML and without Flask:

    schema = load_schema(path)                     # or check_schema(dict); raises ValueError (German)
    errors = validate(schema, data, uploaded)      # JSON task data (API, services): field -> message
    specs = field_specs(schema)                    # one FieldSpec per property, as check_schema sees it

The HTML half – `Field`s for the template macro, parsing request.form / request.files, uploads,
redisplay after an error, table rows – is webapp/forms.py, built on `field_specs` and
`collect_errors`. Linear-time patterns and maximum lengths: workflows/formlimits.py; German
notation of numbers and dates (parse_number, number_text, …): workflows/notation.py.

Field kinds (derived from each property schema):
    file        string with "format": "data-url"/"binary", "x-upload": true or "contentMediaType"
    checkboxes  array whose items have "enum" (or "oneOf"/"anyOf" of {"const", "title"})
    table       array of objects: a repeating group rendered as a table (sub-fields in cells)
    textarea    array of strings/numbers/dates: one entry per line (`FieldSpec.multiple` is True)
    checkbox    boolean
    radio       "enum" (or "oneOf"/"anyOf" of consts) with at most 4 options, else "select"
    date        string with "format": "date"
    number / integer
    textarea    string with "format": "textarea" or "maxLength" > 200, else "text"
"x-widget" ("select", "radio", "textarea", "text") overrides the choice of widget.
Option labels come from "oneOf"/"anyOf" [{"const": v, "title": label}], from an "enumNames"-like
array ("enumNames", "x-enumNames", "x-enum-names", "x-enum-titles") or from a description of the
form "[Vorspann – ]wert: Beschriftung; wert2: Beschriftung 2" (the shape used by the checklists in
bpmn/*.json; the list is then removed from the help text), else the value itself.

Task data names become script variables in the workflow engine, so every property name (also
within repeating groups) must be a Python identifier, no keyword, and must not start with "_".
"""
from __future__ import annotations

import json
import keyword
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field as dc_field
from os import PathLike
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from . import formlimits
from .notation import number_text

log = logging.getLogger(__name__)

KINDS = ("text", "textarea", "date", "number", "integer", "select", "radio", "checkbox",
         "checkboxes", "file", "table")

MSG_REQUIRED = "Bitte füllen Sie dieses Feld aus."
MSG_NUMBER = "Bitte geben Sie eine Zahl ein."
MSG_INTEGER = "Bitte geben Sie eine ganze Zahl ein."
MSG_DATE = "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein."
MSG_ENUM = "Bitte wählen Sie einen der vorgegebenen Werte."
MSG_FORM = "Die Angaben passen so nicht zusammen. Bitte prüfen Sie das Formular."

MAX_RADIO_OPTIONS = 4
TEXTAREA_FROM_LENGTH = 200
UPLOADED = "hochgeladene Datei"      # stands in for a file field while validating
_TEXTAREA_FORMATS = ("textarea",)
_FILE_FORMATS = ("data-url", "binary")
_ENUM_NAME_KEYS = ("enumNames", "x-enumNames", "x-enum-names", "x-enum-titles")
_CELL_KINDS = ("text", "textarea", "date", "number", "integer", "select", "checkbox")


# --------------------------------------------------------------------------- schema loading

@dataclass
class FieldSpec:
    """One property of a form as derived from its schema (kind, label, choices, columns)."""
    name: str
    label: str
    kind: str                                                   # one of KINDS
    required: bool
    description: str | None
    schema: dict                                                # the property schema, "$ref"s resolved
    options: list[tuple[str, str]] = dc_field(default_factory=list)   # (option string, label)
    values: dict[str, Any] = dc_field(default_factory=dict)     # option string -> JSON value
    item_kind: str | None = None                                # kind of the entries of a list textarea
    item_schema: dict = dc_field(default_factory=dict)
    columns: list[FieldSpec] = dc_field(default_factory=list)

    @property
    def multiple(self) -> bool:
        return self.item_kind is not None


def load_schema(path: str | PathLike) -> dict:
    """Read a form file and check it (`check_schema`). Raises ValueError with a German message."""
    path = Path(path)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"Das Formular „{path.name}“ kann nicht gelesen werden: {err}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"Das Formular „{path.name}“ ist kein gültiges JSON: {err.msg} "
                         f"(Zeile {err.lineno})") from None
    check_schema(schema)
    return schema


def check_schema(schema: Any) -> None:
    """Raise ValueError (German message) unless `schema` is a usable form schema."""
    field_specs(schema)


def form_title(schema: dict) -> str:
    title = schema.get("title") if isinstance(schema, dict) else None
    return title.strip() if isinstance(title, str) and title.strip() else "Formular"


def form_description(schema: dict) -> str | None:
    text = schema.get("description") if isinstance(schema, dict) else None
    return text.strip() if isinstance(text, str) and text.strip() else None


def field_specs(schema: Any) -> list[FieldSpec]:
    """The fields of a form; ValueError (German) unless `schema` is a usable form schema."""
    if not isinstance(schema, dict):
        raise ValueError("Das Formular muss ein JSON-Schema-Objekt sein.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path)
        raise ValueError(f"Das Formular ist kein gültiges JSON-Schema"
                         f"{f' (bei „{where}“)' if where else ''}: {err.message}") from None
    if schema.get("type", "object") != "object":
        raise ValueError("Das Formular muss ein Objekt beschreiben („type“: „object“).")
    formlimits.check(schema)
    return _object_specs(schema, schema, within=None)


def _object_specs(obj: dict, root: dict, within: str | None) -> list[FieldSpec]:
    props = obj.get("properties", {})
    required = set(obj.get("required", []))
    specs = []
    for name, prop in props.items():
        _check_name(name, within)
        if not isinstance(prop, dict):
            raise ValueError(f"Das Feld „{name}“ braucht eine Beschreibung als JSON-Objekt.")
        specs.append(_spec(name, _deref(prop, root, name), name in required, root, within))
    return specs


def _check_name(name: str, within: str | None) -> None:
    if not (isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)
            and not name.startswith("_")):
        where = f" (in „{within}“)" if within else ""
        raise ValueError(f"Der Feldname „{name}“{where} ist nicht zulässig: Feldnamen müssen gültige "
                         "Python-Bezeichner sein (Buchstaben, Ziffern, „_“, kein Schlüsselwort) und "
                         "dürfen nicht mit „_“ beginnen.")


def _deref(prop: dict, root: dict, name: str) -> dict:
    """Resolve local "$ref"s ("#/$defs/…"); keywords next to "$ref" take precedence."""
    for _ in range(20):
        ref = prop.get("$ref")
        if ref is None:
            return prop
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise ValueError(f"Das Feld „{name}“ verweist auf „{ref}“; nur Verweise innerhalb des "
                             "Formulars („#/…“) sind möglich.")
        target: Any = root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise ValueError(f"Das Feld „{name}“ verweist auf „{ref}“, das es nicht gibt.")
            target = target[part]
        if not isinstance(target, dict):
            raise ValueError(f"Das Feld „{name}“ verweist auf „{ref}“, das kein Schema ist.")
        prop = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    raise ValueError(f"Das Feld „{name}“ hat zu tief verschachtelte Verweise („$ref“).")


def _type_of(schema: dict) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def _choices(schema: dict) -> list[Any] | None:
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    for key in ("oneOf", "anyOf"):
        alts = schema.get(key)
        if isinstance(alts, list) and alts and all(isinstance(a, dict) and "const" in a for a in alts):
            return [a["const"] for a in alts]
    return None


def option_value(value: Any) -> str:
    """The string under which a choice (enum value, const) appears in a form."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _labels(schema: dict, values: list[Any], description: str | None) -> tuple[list[str], str | None]:
    """Labels for `values` and the description left after taking a label list out of it."""
    labels: dict[str, str] = {}
    for key in ("oneOf", "anyOf"):
        for alt in schema.get(key, []) if isinstance(schema.get(key), list) else []:
            if isinstance(alt, dict) and "const" in alt and isinstance(alt.get("title"), str):
                labels.setdefault(option_value(alt["const"]), alt["title"])
    for key in _ENUM_NAME_KEYS:
        names = schema.get(key)
        if isinstance(names, list) and len(names) == len(values):
            for value, label in zip(values, names):
                if isinstance(label, str):
                    labels.setdefault(option_value(value), label)
    if len(labels) < len(values) and description:
        found = _labels_from_description(description, [option_value(v) for v in values])
        if found is not None:
            mapping, description = found
            for value, label in mapping.items():
                labels.setdefault(value, label)
    return [labels.get(option_value(v), option_value(v)) for v in values], description


_LEAD = re.compile(r"\s+[–—-]\s+")


def _labels_from_description(text: str, values: list[str]) -> tuple[dict[str, str], str | None] | None:
    """Parse "[Vorspann – ]a: Label A; b: Label B" naming each of `values` exactly once."""
    starts = [(0, None)] + [(m.end(), text[:m.start()].strip()) for m in _LEAD.finditer(text)]
    wanted = set(values)
    for start, lead in starts:
        mapping: dict[str, str] = {}
        for part in text[start:].split(";"):
            key, sep, label = part.partition(":")
            key, label = key.strip(), label.strip().rstrip(".").strip()
            if not sep or key not in wanted or key in mapping or not label:
                break
            mapping[key] = label
        else:
            if set(mapping) == wanted:
                return mapping, lead or None
    return None


def _spec(name: str, prop: dict, required: bool, root: dict, within: str | None) -> FieldSpec:
    title = prop.get("title")
    label = title.strip() if isinstance(title, str) and title.strip() else name.replace("_", " ").capitalize()
    description = prop.get("description") if isinstance(prop.get("description"), str) else None
    description = description.strip() or None if description else None
    spec = FieldSpec(name=name, label=label, kind="text", required=required, description=description,
                     schema=prop)
    kind = _type_of(prop)
    widget = prop.get("x-widget")
    where = f"„{name}“" + (f" in „{within}“" if within else "")

    if kind in ("string", None) and (prop.get("format") in _FILE_FORMATS or prop.get("x-upload") is True
                                     or "contentMediaType" in prop or widget == "file"):
        spec.kind = "file"
    elif kind == "array":
        items = prop.get("items")
        if not isinstance(items, dict):
            raise ValueError(f"Das Listenfeld {where} braucht eine Beschreibung der Einträge („items“).")
        items = _deref(items, root, name)
        values = _choices(items)
        item_type = _type_of(items)
        if values is not None:
            spec.kind = "checkboxes"
            _set_options(spec, items, values)
        elif item_type == "object":
            if within:
                raise ValueError(f"Das Feld {where}: verschachtelte Tabellen werden nicht unterstützt.")
            spec.kind = "table"
            spec.columns = _object_specs(items, root, within=name)
            for column in spec.columns:
                if column.kind == "radio":
                    column.kind = "select"
                if column.kind not in _CELL_KINDS:
                    raise ValueError(f"Das Feld „{column.name}“ in „{name}“ kann nicht in einer Tabelle "
                                     f"stehen (Feldart „{column.kind}“).")
        elif item_type in ("string", "number", "integer"):
            spec.kind = "textarea"
            spec.item_schema = items
            spec.item_kind = ("date" if item_type == "string" and items.get("format") == "date"
                              else "text" if item_type == "string" else item_type)
        else:
            raise ValueError(f"Das Listenfeld {where} hat eine nicht unterstützte Form der Einträge.")
    elif kind == "boolean":
        spec.kind = "checkbox"
    elif (values := _choices(prop)) is not None:
        _set_options(spec, prop, values)
        if widget in ("select", "radio"):
            spec.kind = widget
        else:
            spec.kind = "radio" if len(values) <= MAX_RADIO_OPTIONS else "select"
        if within and spec.kind == "radio":
            spec.kind = "select"
    elif kind == "string" and prop.get("format") == "date":
        spec.kind = "date"
    elif kind in ("number", "integer"):
        spec.kind = kind
    elif kind in ("string", None):
        long_text = isinstance(prop.get("maxLength"), int) and prop["maxLength"] > TEXTAREA_FROM_LENGTH
        if widget == "textarea" or prop.get("format") in _TEXTAREA_FORMATS or (long_text and widget != "text"):
            spec.kind = "textarea"
    else:
        raise ValueError(f"Das Feld {where} hat eine nicht unterstützte Form (Typ „{kind}“).")
    return spec


def _set_options(spec: FieldSpec, schema: dict, values: list[Any]) -> None:
    labels, spec.description = _labels(schema, values, spec.description)
    spec.options = [(option_value(v), label) for v, label in zip(values, labels)]
    spec.values = {option_value(v): v for v in values}


# --------------------------------------------------------------------------- validation

def validate(schema: dict, data: Mapping[str, Any], uploaded: set[str] | frozenset = frozenset()) -> dict[str, str]:
    """Check JSON task data (e.g. from the API) against the form: field -> German message.

    `uploaded`: file fields for which a document comes with the submission."""
    specs = field_specs(schema)
    known = {s.name for s in specs}
    errors = {name: "Dieses Feld gibt es im Formular nicht." for name in data if name not in known}
    check = {k: v for k, v in data.items() if k in known}
    check.update({name: UPLOADED for name in uploaded if name in known})
    rows = {s.name: list(range(len(check[s.name]))) for s in specs     # a cell as "<table>-<data row>-<column>"
            if s.kind == "table" and isinstance(check.get(s.name), list)}
    collect_errors(schema, specs, check, rows, errors)
    return errors


_PRIORITY = {"required": 0, "dependentRequired": 0, "dependencies": 0, "type": 1, "format": 2,
             "enum": 3, "const": 3}


def collect_errors(schema: dict, specs: list[FieldSpec], check: dict, rows: dict[str, list[int]],
                   errors: dict[str, str]) -> None:
    """Validate `check` (file fields as UPLOADED) against `schema`; add one German message per form
    key to `errors` (existing entries win). `rows`: table name -> form row index of each data row,
    so that a cell's error lands on "<table>-<row>-<column>"; {} reports it on the table."""
    by_name = {s.name: s for s in specs}
    validator = formlimits.FormValidator(formlimits.bounded(schema),
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
    found: list[tuple[int, int, str, str]] = []
    try:
        for number, error in enumerate(validator.iter_errors(check)):
            for key, message in _messages(error, by_name, rows):
                found.append((_PRIORITY.get(error.validator, 5), number, key, message))
    except Exception:               # e.g. a format checker failing on odd input
        log.exception("Validierung des Formulars fehlgeschlagen")
        found.append((9, 0, "", MSG_FORM))
    for _, _, key, message in sorted(found):
        errors.setdefault(key, message)


def _target(path: list, by_name: dict[str, FieldSpec],
            rows: dict[str, list[int]]) -> tuple[str, FieldSpec | None]:
    """Form key and field spec for a data path ([] -> form level "")."""
    if not path or path[0] not in by_name:
        return "", None
    spec = by_name[path[0]]
    if spec.kind == "table" and len(path) >= 3 and isinstance(path[1], int):
        indices = rows.get(spec.name, [])
        column = next((c for c in spec.columns if c.name == path[2]), None)
        if path[1] < len(indices) and column is not None:
            return f"{spec.name}-{indices[path[1]]}-{column.name}", column
    return spec.name, spec


def _messages(error, by_name: dict[str, FieldSpec], rows: dict[str, list[int]]) -> list[tuple[str, str]]:
    path = list(error.absolute_path)
    kind = error.validator
    instance = error.instance
    if kind in ("required", "dependentRequired", "dependencies") and isinstance(instance, dict):
        if kind == "required":
            missing = [p for p in error.validator_value if p not in instance]
        else:
            missing = [d for prop, deps in error.validator_value.items()
                       if prop in instance and isinstance(deps, list) for d in deps if d not in instance]
        result = []
        for prop in missing:
            key, spec = _target(path + [prop], by_name, rows)
            if not path and spec is None:
                result.append(("", MSG_FORM))
            elif path and key == path[0]:       # a column of a row we could not map
                result.append((key, generic_message(by_name[path[0]].label)))
            else:
                result.append((key, MSG_REQUIRED))
        return result or [("", MSG_FORM)]
    key, spec = _target(path, by_name, rows)
    if spec is None:
        return [("", MSG_FORM)]
    if spec.kind == "file":
        return []                               # uploads are checked where they arrive (webapp.forms)
    return [(key, _message(error, spec, path))]


def _message(error, spec: FieldSpec, path: list) -> str:
    kind, value = error.validator, error.validator_value
    item_level = len(path) > 1          # an entry of a list or a cell of a table row
    if kind == "type":
        if spec.kind == "integer" or (spec.multiple and spec.item_kind == "integer"):
            return MSG_INTEGER
        if spec.kind == "number" or (spec.multiple and spec.item_kind == "number"):
            return MSG_NUMBER
        return generic_message(spec.label)
    if kind == "format":
        return MSG_DATE if value == "date" else generic_message(spec.label)
    if kind in ("enum", "const") and spec.options:
        return MSG_ENUM
    if kind == "const" and spec.kind == "checkbox" and value is True:
        return f"Bitte bestätigen Sie „{spec.label}“."
    if kind in ("oneOf", "anyOf") and spec.options:
        return MSG_ENUM
    if kind == "minimum":
        return f"Der Wert muss mindestens {number_text(value)} betragen."
    if kind == "maximum":
        return f"Der Wert muss höchstens {number_text(value)} betragen."
    if kind == "exclusiveMinimum":
        return f"Der Wert muss größer als {number_text(value)} sein."
    if kind == "exclusiveMaximum":
        return f"Der Wert muss kleiner als {number_text(value)} sein."
    if kind == "minLength":
        return f"Bitte geben Sie mindestens {value} Zeichen ein."
    if kind == "maxLength":
        return f"Bitte geben Sie höchstens {value:,} Zeichen ein.".replace(",", ".")
    if kind in ("minItems", "maxItems") and not item_level:
        bound = "mindestens" if kind == "minItems" else "höchstens"
        amount = "einen Eintrag" if value == 1 else f"{value} Einträge"
        verb = "erfassen" if spec.kind == "table" else "geben" if spec.multiple else "wählen"
        return f"Bitte {verb} Sie {bound} {amount}{' an' if verb == 'geben' else ''}."
    if kind == "uniqueItems":
        return "Jeder Eintrag darf nur einmal vorkommen."
    if kind == "pattern":
        return f"Die Eingabe im Feld „{spec.label}“ hat nicht das erwartete Format."
    return generic_message(spec.label)


def generic_message(label: str) -> str:
    return f"Die Angabe im Feld „{label}“ ist ungültig."
