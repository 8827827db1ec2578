"""Task forms from JSON Schema (draft 2020-12): fields to render, parsing, German messages.

The BPMN user tasks name a form, a JSON Schema file next to the model (bpmn/*.json). This module
turns such a schema into a list of `Field`s for the template macro `render_fields` in
templates/_form_fields.html and turns a submitted form back into JSON-ready task data:

    schema = load_schema(path)                     # or check_schema(dict); raises ValueError (German)
    result = parse(schema, request.form, request.files)
    if result.errors:
        page(fields(schema, errors=result.errors, raw=request.form), form_error=result.errors.get(""))
    else:
        complete_task(result.data, result.uploads)
    ... page(fields(schema, data=task.data)) to show a form prefilled with the current task data

Field kinds (derived from each property schema):
    file        string with "format": "data-url"/"binary", "x-upload": true or "contentMediaType"
    checkboxes  array whose items have "enum" (or "oneOf"/"anyOf" of {"const", "title"})
    table       array of objects: a repeating group rendered as a table (sub-fields in cells)
    textarea    array of strings/numbers/dates: one entry per line (`Field.multiple` is True)
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
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field as dc_field
from datetime import date
from decimal import Decimal, InvalidOperation
from os import PathLike
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from . import formlimits

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
TABLE_BLANK_ROWS = 3          # empty rows offered in addition to the existing ones
TABLE_MAX_ROWS = 100          # hard cap for submitted row indices
_TEXTAREA_FORMATS = ("textarea",)
_FILE_FORMATS = ("data-url", "binary")
_ENUM_NAME_KEYS = ("enumNames", "x-enumNames", "x-enum-names", "x-enum-titles")
_MISSING = object()
_TRUE = frozenset(("true", "on", "1", "ja", "yes", "y"))
_CELL_KINDS = ("text", "textarea", "date", "number", "integer", "select", "checkbox")


# --------------------------------------------------------------------------- public types

@dataclass
class Option:
    value: str
    label: str


@dataclass
class Field:
    name: str                       # HTML name; for table cells "<table>-<row>-<column>"
    label: str
    kind: str                       # one of KINDS
    required: bool
    description: str | None
    options: list[Option]
    value: Any                      # "TT.MM.JJJJ" for dates, list for checkboxes, bool for checkbox, "" if empty
    error: str | None
    hint: str | None = None         # short German note on the allowed input ("höchstens 4000 Zeichen")
    attrs: dict[str, Any] = dc_field(default_factory=dict)   # extra HTML attributes (maxlength, accept, …)
    multiple: bool = False          # textarea holding a list: one entry per line
    columns: list[Field] = dc_field(default_factory=list)    # kind "table": the column heads
    rows: list[list[Field]] = dc_field(default_factory=list)  # kind "table": the cells

    @property
    def id(self) -> str:
        return f"f-{self.name}"

    @property
    def help_id(self) -> str:
        return f"{self.id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def describedby(self) -> str:
        ids = []
        if self.description or self.hint:
            ids.append(self.help_id)
        if self.error:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def has_errors(self) -> bool:
        return bool(self.error) or any(cell.error for row in self.rows for cell in row)


@dataclass
class ParsedForm:
    data: dict[str, Any]
    errors: dict[str, str]
    uploads: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------- schema loading

@dataclass
class _Spec:
    name: str
    label: str
    kind: str
    required: bool
    description: str | None
    schema: dict
    options: list[Option] = dc_field(default_factory=list)
    values: dict[str, Any] = dc_field(default_factory=dict)     # option string -> JSON value
    item_kind: str | None = None                                # kind of the entries of a list textarea
    item_schema: dict = dc_field(default_factory=dict)
    columns: list[_Spec] = dc_field(default_factory=list)
    hint: str | None = None
    attrs: dict[str, Any] = dc_field(default_factory=dict)

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
    _specs(schema)


def form_title(schema: dict) -> str:
    title = schema.get("title") if isinstance(schema, dict) else None
    return title.strip() if isinstance(title, str) and title.strip() else "Formular"


def form_description(schema: dict) -> str | None:
    text = schema.get("description") if isinstance(schema, dict) else None
    return text.strip() if isinstance(text, str) and text.strip() else None


def _specs(schema: Any) -> list[_Spec]:
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


def _object_specs(obj: dict, root: dict, within: str | None) -> list[_Spec]:
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


def _opt(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _labels(schema: dict, values: list[Any], description: str | None) -> tuple[list[str], str | None]:
    """Labels for `values` and the description left after taking a label list out of it."""
    labels: dict[str, str] = {}
    for key in ("oneOf", "anyOf"):
        for alt in schema.get(key, []) if isinstance(schema.get(key), list) else []:
            if isinstance(alt, dict) and "const" in alt and isinstance(alt.get("title"), str):
                labels.setdefault(_opt(alt["const"]), alt["title"])
    for key in _ENUM_NAME_KEYS:
        names = schema.get(key)
        if isinstance(names, list) and len(names) == len(values):
            for value, label in zip(values, names):
                if isinstance(label, str):
                    labels.setdefault(_opt(value), label)
    if len(labels) < len(values) and description:
        found = _labels_from_description(description, [_opt(v) for v in values])
        if found is not None:
            mapping, description = found
            for value, label in mapping.items():
                labels.setdefault(value, label)
    return [labels.get(_opt(v), _opt(v)) for v in values], description


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


def _spec(name: str, prop: dict, required: bool, root: dict, within: str | None) -> _Spec:
    title = prop.get("title")
    label = title.strip() if isinstance(title, str) and title.strip() else name.replace("_", " ").capitalize()
    description = prop.get("description") if isinstance(prop.get("description"), str) else None
    description = description.strip() or None if description else None
    spec = _Spec(name=name, label=label, kind="text", required=required, description=description,
                 schema=prop)
    kind = _type_of(prop)
    widget = prop.get("x-widget")
    where = f"„{name}“" + (f" in „{within}“" if within else "")

    if kind in ("string", None) and (prop.get("format") in _FILE_FORMATS or prop.get("x-upload") is True
                                     or "contentMediaType" in prop or widget == "file"):
        spec.kind = "file"
        accept = prop.get("x-accept") or prop.get("contentMediaType")
        if isinstance(accept, str):
            spec.attrs["accept"] = accept
        limit = prop.get("x-max-bytes")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            spec.hint = f"höchstens {_size_text(limit)}"
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
            spec.hint = "ein Eintrag je Zeile"
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
        spec.attrs["inputmode"] = "decimal" if kind == "number" else "numeric"
        spec.hint = _range_hint(prop, kind)
    elif kind in ("string", None):
        long_text = isinstance(prop.get("maxLength"), int) and prop["maxLength"] > TEXTAREA_FROM_LENGTH
        if widget == "textarea" or prop.get("format") in _TEXTAREA_FORMATS or (long_text and widget != "text"):
            spec.kind = "textarea"
        for key, attr in (("maxLength", "maxlength"), ("minLength", "minlength")):
            if isinstance(prop.get(key), int) and not isinstance(prop.get(key), bool):
                spec.attrs[attr] = prop[key]
        spec.attrs.setdefault("maxlength", formlimits.MAX_FIELD_TEXT)
        if isinstance(prop.get("maxLength"), int) and spec.kind == "textarea":
            spec.hint = f"höchstens {prop['maxLength']} Zeichen"
    else:
        raise ValueError(f"Das Feld {where} hat eine nicht unterstützte Form (Typ „{kind}“).")
    return spec


def _set_options(spec: _Spec, schema: dict, values: list[Any]) -> None:
    labels, spec.description = _labels(schema, values, spec.description)
    spec.options = [Option(_opt(v), label) for v, label in zip(values, labels)]
    spec.values = {_opt(v): v for v in values}


def _range_hint(prop: dict, kind: str) -> str | None:
    low, high = prop.get("minimum"), prop.get("maximum")
    noun = "ganze Zahl" if kind == "integer" else "Zahl"
    if _is_num(low) and _is_num(high):
        return f"{noun} von {_num_text(low)} bis {_num_text(high)}"
    if _is_num(low):
        return f"{noun}, mindestens {_num_text(low)}"
    if _is_num(high):
        return f"{noun}, höchstens {_num_text(high)}"
    return None


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num_text(value: Any) -> str:
    """German notation without thousands separator: 1234,5 (re-parsable by `_parse_number`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = format(Decimal(repr(value)), "f")
        return text.replace(".", ",")
    return str(value)


def _size_text(size: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{_num_text(round(size / factor, 1))} {unit}"
    return f"{size} Bytes"


# --------------------------------------------------------------------------- fields for display

def fields(schema: dict, data: dict | None = None, errors: dict[str, str] | None = None,
           raw: Mapping[str, Any] | None = None) -> list[Field]:
    """Fields to render: prefilled from `raw` (the submitted form, after an error) or `data`."""
    data = data if isinstance(data, Mapping) else {}
    errors = errors or {}
    return [_field(spec, spec.name, data.get(spec.name, _MISSING), errors, raw) for spec in _specs(schema)]


def _field(spec: _Spec, name: str, stored: Any, errors: Mapping[str, str], raw: Mapping | None) -> Field:
    result = Field(name=name, label=spec.label, kind=spec.kind, required=spec.required,
                   description=spec.description, options=list(spec.options), value="",
                   error=errors.get(name) or None, hint=spec.hint, attrs=dict(spec.attrs),
                   multiple=spec.multiple)
    try:
        if spec.kind == "table":
            result.columns = [_field(c, f"{name}-col-{c.name}", _MISSING, {}, None) for c in spec.columns]
            result.rows = _table_rows(spec, name, stored, errors, raw)
        elif spec.kind == "file":
            result.value = _file_label(stored)
        elif raw is not None:
            result.value = _raw_value(spec, raw, name)
        else:
            result.value = _display(spec, stored)
    except Exception:       # odd stored data must not break the page
        log.exception("Feld %s: gespeicherter Wert nicht darstellbar", name)
        result.value = [] if spec.kind == "checkboxes" else False if spec.kind == "checkbox" else ""
    return result


def _table_rows(spec: _Spec, name: str, stored: Any, errors: Mapping[str, str],
                raw: Mapping | None) -> list[list[Field]]:
    limit = _max_rows(spec)
    if raw is not None:
        indices = _row_indices(raw, name, limit)
        count = max(indices) + 1 if indices else min(TABLE_BLANK_ROWS, limit)
        rows = [[_field(c, f"{name}-{i}-{c.name}", _MISSING, errors, raw) for c in spec.columns]
                for i in range(count)]
    else:
        stored_rows = [r for r in stored if isinstance(r, Mapping)] if isinstance(stored, list) else []
        count = min(len(stored_rows) + TABLE_BLANK_ROWS, max(limit, len(stored_rows)))
        rows = [[_field(c, f"{name}-{i}-{c.name}",
                        stored_rows[i].get(c.name, _MISSING) if i < len(stored_rows) else _MISSING, errors, None)
                 for c in spec.columns] for i in range(count)]
    for row in rows:
        for cell in row:                # help texts belong to the column heads, not to every cell
            cell.description = cell.hint = None
    return rows


def _max_rows(spec: _Spec) -> int:
    limit = spec.schema.get("maxItems")
    return min(limit, TABLE_MAX_ROWS) if isinstance(limit, int) and limit > 0 else TABLE_MAX_ROWS


def _display(spec: _Spec, value: Any) -> Any:
    if spec.kind == "checkbox":
        return value is True
    if spec.kind == "checkboxes":
        return [_opt(v) for v in value] if isinstance(value, list) else []
    if value is _MISSING or value is None:
        return ""
    if spec.multiple:
        items = value if isinstance(value, list) else [value]
        return "\n".join(_display_scalar(spec.item_kind, v) for v in items)
    if spec.kind in ("select", "radio"):
        return _opt(value)
    return _display_scalar(spec.kind, value)


def _display_scalar(kind: str | None, value: Any) -> str:
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            return value
    if kind in ("number", "integer"):
        return _num_text(value)
    return value if isinstance(value, str) else _opt(value)


def _raw_value(spec: _Spec, raw: Mapping, name: str) -> Any:
    if spec.kind == "checkbox":
        return _truthy(_first(raw, name))
    if spec.kind == "checkboxes":
        return [_clean(v) for v in _getlist(raw, name) if _clean(v)]
    value = _first(raw, name)
    if value is None:
        return ""
    # shown again after an error: never more than the field takes (a 15 MB paste is not echoed)
    longest = spec.attrs.get("maxlength", formlimits.MAX_FIELD_CEILING)
    return _clean(value, multiline=spec.kind == "textarea")[:longest]


def _file_label(stored: Any) -> str:
    if isinstance(stored, str):
        return stored
    if isinstance(stored, Mapping):
        for key in ("name", "filename", "dateiname"):
            if isinstance(stored.get(key), str):
                return stored[key]
    return ""


# --------------------------------------------------------------------------- parsing

def parse(schema: dict, form: Mapping, files: Mapping | None = None, *,
          current: Mapping | None = None) -> ParsedForm:
    """Convert and validate a submitted form. Never raises on user input.

    `current` (optional): the task data so far; a file field that already holds an upload there
    is not required again.
    """
    specs = _specs(schema)
    form = form if form is not None else {}
    files = files if files is not None else {}
    current = current if isinstance(current, Mapping) else {}
    data: dict[str, Any] = {}
    check: dict[str, Any] = {}          # what jsonschema sees (file fields as placeholders)
    errors: dict[str, str] = {}
    uploads: dict[str, Any] = {}
    rows: dict[str, list[int]] = {}     # table name -> submitted row index per data row

    for spec in specs:
        try:
            if spec.kind == "file":
                upload, error = _take_upload(spec, files)
                if error:
                    errors[spec.name] = error
                elif upload is not None:
                    uploads[spec.name] = upload
                if upload is not None or current.get(spec.name) not in (None, "", [], {}):
                    check[spec.name] = _UPLOADED
                continue
            if spec.kind == "table":
                value, indices = _convert_table(spec, form, errors)
                if value:
                    data[spec.name] = check[spec.name] = value
                    rows[spec.name] = indices
                continue
            value, error = _convert(spec, form, spec.name)
        except Exception:           # a bug must not turn into a server error for the user
            log.exception("Feld %s: Eingabe nicht auswertbar", spec.name)
            value, error = _MISSING, _generic(spec.label)
        if error:
            errors[spec.name] = error
        elif value is not _MISSING:
            data[spec.name] = check[spec.name] = value

    _validate(schema, specs, check, rows, errors)
    return ParsedForm(data=data, errors=errors, uploads=uploads)


def validate(schema: dict, data: Mapping[str, Any], uploaded: set[str] | frozenset = frozenset()) -> dict[str, str]:
    """Check JSON task data (e.g. from the API) against the form: field -> German message.

    `uploaded`: file fields for which a document comes with the submission."""
    specs = _specs(schema)
    known = {s.name for s in specs}
    errors = {name: "Dieses Feld gibt es im Formular nicht." for name in data if name not in known}
    check = {k: v for k, v in data.items() if k in known}
    check.update({name: _UPLOADED for name in uploaded if name in known})
    _validate(schema, specs, check, {}, errors)
    return errors


_UPLOADED = "hochgeladene Datei"      # stands in for a file field while validating


def _getlist(form: Mapping, key: str) -> list[Any]:
    if hasattr(form, "getlist"):
        return list(form.getlist(key))
    value = form.get(key) if isinstance(form, Mapping) else None
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first(form: Mapping, key: str) -> Any:
    values = _getlist(form, key)
    return values[0] if values else None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")   # and lone surrogates


def _clean(value: Any, multiline: bool = False) -> str:
    """Trimmed text without control characters (PostgreSQL rejects NUL and lone surrogates in JSON)."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text.strip()


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def _convert(spec: _Spec, form: Mapping, key: str) -> tuple[Any, str | None]:
    """(value or _MISSING, German error or None) for one non-table, non-file field."""
    if spec.kind == "checkbox":
        return _truthy(_first(form, key)), None
    if spec.kind == "checkboxes":
        chosen = []
        for item in _getlist(form, key):
            item = _clean(item)
            if not item:
                continue
            if item not in spec.values:
                return _MISSING, MSG_ENUM
            if item not in chosen:
                chosen.append(item)
        order = {o.value: i for i, o in enumerate(spec.options)}
        return ([spec.values[v] for v in sorted(chosen, key=order.__getitem__)] or _MISSING), None
    text = _clean(_first(form, key), multiline=spec.kind == "textarea")
    if not text:
        return _MISSING, None
    if spec.kind in ("select", "radio"):
        return (spec.values[text], None) if text in spec.values else (_MISSING, MSG_ENUM)
    if spec.multiple:
        items = []
        for line in text.split("\n"):
            line = line.strip()
            if line:
                value, error = _scalar(spec.item_kind, line)
                if error:
                    return _MISSING, f"Zeile {len(items) + 1}: {error}"
                items.append(value)
        return (items or _MISSING), None
    return _scalar(spec.kind, text)


def _scalar(kind: str | None, text: str) -> tuple[Any, str | None]:
    if kind == "date":
        iso = parse_date(text)
        return (iso, None) if iso else (_MISSING, MSG_DATE)
    if kind in ("number", "integer"):
        number = parse_number(text, integer=kind == "integer")
        if number is None:
            return _MISSING, MSG_INTEGER if kind == "integer" else MSG_NUMBER
        return number, None
    return text, None


_DATE_DE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_date(text: str) -> str | None:
    """ "TT.MM.JJJJ", "T.M.JJJJ" or "JJJJ-MM-TT" -> ISO "JJJJ-MM-TT"; None if not a real date."""
    text = text.strip() if isinstance(text, str) else ""
    if m := _DATE_DE.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
    elif m := _DATE_ISO.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    else:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_PLAIN = re.compile(r"[+-]?(\d+)(?:[.,](\d+))?")
_GROUPED_DE = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_GROUPED_EN = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+")


def parse_number(text: str, integer: bool = False) -> int | float | None:
    """German or plain notation -> number; None if not a (finite) number.

    "1234,5", "1.234,5", "1 234,5", "1234.5" and "1,234.5" give 1234.5. A single dot followed by
    exactly three digits ("1.500") is read as a German thousands separator (1500), as German users
    write it; "0.125" and "1.5" are decimals. Integers accept a zero fraction ("12,0").
    """
    if not isinstance(text, str):
        return None
    text = _SPACES.sub("", text).replace("\u2212", "-")
    if not text or len(text) > 40:
        return None
    if _GROUPED_DE.fullmatch(text) and not re.fullmatch(r"[+-]?0\.\d{3}", text):
        normal = text.replace(".", "").replace(",", ".")
    elif _GROUPED_EN.fullmatch(text):
        normal = text.replace(",", "")
    elif _PLAIN.fullmatch(text):
        normal = text.replace(",", ".")
    else:
        return None
    try:
        number = Decimal(normal)
    except InvalidOperation:
        return None
    if integer:
        if number != number.to_integral_value():
            return None
        return int(number)
    if "." not in normal:
        return int(number)
    result = float(number)
    return result if math.isfinite(result) else None


def _take_upload(spec: _Spec, files: Mapping) -> tuple[Any, str | None]:
    upload = _first(files, spec.name)
    if upload is None or not getattr(upload, "filename", None):
        return None, None
    size = _upload_size(upload)
    if size == 0:
        return None, "Die Datei ist leer."
    limit = spec.schema.get("x-max-bytes")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 and size is not None and size > limit:
        return None, f"Die Datei ist zu groß (höchstens {_size_text(limit)})."
    accept = spec.attrs.get("accept")
    if accept and not _type_accepted(upload, accept):
        return None, f"Bitte laden Sie eine Datei dieses Typs hoch: {accept}."
    return upload, None


def _upload_size(upload: Any) -> int | None:
    stream = getattr(upload, "stream", None)
    try:
        position = stream.tell()
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(position)
        return size
    except Exception:
        length = getattr(upload, "content_length", None)
        return length or None


def _type_accepted(upload: Any, accept: str) -> bool:
    mimetype = (getattr(upload, "mimetype", "") or "").lower()
    filename = (getattr(upload, "filename", "") or "").lower()
    for pattern in (p.strip().lower() for p in accept.split(",")):
        if not pattern:
            continue
        if pattern.startswith("."):
            if filename.endswith(pattern):
                return True
        elif pattern.endswith("/*"):
            if mimetype.startswith(pattern[:-1]):
                return True
        elif mimetype == pattern:
            return True
    return False


_ROW_KEY = re.compile(r"(\d{1,4})-([^\W\d]\w*)")


def _row_indices(form: Mapping, name: str, limit: int) -> list[int]:
    prefix = f"{name}-"
    found = set()
    try:
        keys = list(form.keys())
    except Exception:
        return []
    for key in keys:
        if isinstance(key, str) and key.startswith(prefix) and (m := _ROW_KEY.fullmatch(key[len(prefix):])):
            if int(m.group(1)) < limit:
                found.add(int(m.group(1)))
    return sorted(found)


def _convert_table(spec: _Spec, form: Mapping, errors: dict[str, str]) -> tuple[list[dict], list[int]]:
    rows, indices = [], []
    for index in _row_indices(form, spec.name, _max_rows(spec)):
        row: dict[str, Any] = {}
        filled = False
        for column in spec.columns:
            key = f"{spec.name}-{index}-{column.name}"
            value, error = _convert(column, form, key)
            if column.kind == "checkbox":
                filled = filled or value is True
            else:
                filled = filled or bool(_clean(_first(form, key)))
            if error:
                errors[key] = error
            elif value is not _MISSING:
                row[column.name] = value
        if filled:
            rows.append(row)
            indices.append(index)
    return rows, indices


# --------------------------------------------------------------------------- validation

_PRIORITY = {"required": 0, "dependentRequired": 0, "dependencies": 0, "type": 1, "format": 2,
             "enum": 3, "const": 3}


def _validate(schema: dict, specs: list[_Spec], check: dict, rows: dict[str, list[int]],
              errors: dict[str, str]) -> None:
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


def _target(path: list, by_name: dict[str, _Spec],
            rows: dict[str, list[int]]) -> tuple[str, _Spec | None]:
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


def _messages(error, by_name: dict[str, _Spec], rows: dict[str, list[int]]) -> list[tuple[str, str]]:
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
                result.append((key, _generic(by_name[path[0]].label)))
            else:
                result.append((key, MSG_REQUIRED))
        return result or [("", MSG_FORM)]
    key, spec = _target(path, by_name, rows)
    if spec is None:
        return [("", MSG_FORM)]
    if spec.kind == "file":
        return []                               # uploads are checked in _take_upload
    return [(key, _message(error, spec, path))]


def _message(error, spec: _Spec, path: list) -> str:
    kind, value = error.validator, error.validator_value
    item_level = len(path) > 1          # an entry of a list or a cell of a table row
    if kind == "type":
        if spec.kind == "integer" or (spec.multiple and spec.item_kind == "integer"):
            return MSG_INTEGER
        if spec.kind == "number" or (spec.multiple and spec.item_kind == "number"):
            return MSG_NUMBER
        return _generic(spec.label)
    if kind == "format":
        return MSG_DATE if value == "date" else _generic(spec.label)
    if kind in ("enum", "const") and spec.options:
        return MSG_ENUM
    if kind == "const" and spec.kind == "checkbox" and value is True:
        return f"Bitte bestätigen Sie „{spec.label}“."
    if kind in ("oneOf", "anyOf") and spec.options:
        return MSG_ENUM
    if kind == "minimum":
        return f"Der Wert muss mindestens {_num_text(value)} betragen."
    if kind == "maximum":
        return f"Der Wert muss höchstens {_num_text(value)} betragen."
    if kind == "exclusiveMinimum":
        return f"Der Wert muss größer als {_num_text(value)} sein."
    if kind == "exclusiveMaximum":
        return f"Der Wert muss kleiner als {_num_text(value)} sein."
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
    return _generic(spec.label)


def _generic(label: str) -> str:
    return f"Die Angabe im Feld „{label}“ ist ungültig."
