"""Task forms as HTML: fields to render, parsing a submitted form, uploads, table rows.

The HTML half of workflows/forms.py (what a form contains, JSON validation, German messages);
German numbers and dates: workflows/notation.py. This module turns the field specs into `Field`s
for the macro `render_fields` in templates/_form_fields.html (HTML attributes, hints, values
shown again after an error) and request.form / request.files back into JSON-ready task data:

    result = parse(schema, request.form, request.files, validate=False)   # the use case validates
    if result.errors: page(fields(schema, errors=result.errors, raw=request.form))
    else: complete_task(result.data, result.uploads)   # its errors: cells keyed by result.rows
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field as dc_field
from datetime import date
from typing import Any

from workflows import formlimits
from workflows.forms import (MSG_DATE, MSG_ENUM, MSG_INTEGER, MSG_NUMBER, UPLOADED, FieldSpec, collect_errors,
                             field_specs, generic_message, option_value)
from workflows.notation import clean_text, number_text, parse_date, parse_number, size_text

log = logging.getLogger(__name__)

TABLE_BLANK_ROWS = 3          # empty rows offered in addition to the existing ones
TABLE_MAX_ROWS = 100          # hard cap for submitted row indices
_MISSING = object()
_TRUE = frozenset(("true", "on", "1", "ja", "yes", "y"))


# --------------------------------------------------------------------------- public types

@dataclass
class Option:
    value: str
    label: str


@dataclass
class Field:
    name: str                       # HTML name; for table cells "<table>-<row>-<column>"
    label: str
    kind: str                       # one of workflows.forms.KINDS
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
    rows: dict[str, list[int]] = dc_field(default_factory=dict)    # table -> submitted row index per data row

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------- HTML attributes and hints

def _attrs(spec: FieldSpec) -> dict[str, Any]:
    """Extra HTML attributes of a field: accept (uploads), inputmode (numbers), max/minlength (texts)."""
    prop, attrs = spec.schema, {}
    if spec.kind == "file":
        accept = prop.get("x-accept") or prop.get("contentMediaType")
        if isinstance(accept, str):
            attrs["accept"] = accept
    elif spec.kind in ("number", "integer"):
        attrs["inputmode"] = "decimal" if spec.kind == "number" else "numeric"
    elif spec.kind in ("text", "textarea") and not spec.multiple:
        for key, attr in (("maxLength", "maxlength"), ("minLength", "minlength")):
            if isinstance(prop.get(key), int) and not isinstance(prop.get(key), bool):
                attrs[attr] = prop[key]
        attrs.setdefault("maxlength", formlimits.MAX_FIELD_TEXT)
    return attrs


def _hint(spec: FieldSpec) -> str | None:
    """A short German note on the allowed input, shown with the help text."""
    prop = spec.schema
    if spec.kind == "file":
        limit = prop.get("x-max-bytes")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            return f"höchstens {size_text(limit)}"
    elif spec.multiple:
        return "ein Eintrag je Zeile"
    elif spec.kind in ("number", "integer"):
        return _range_hint(prop, spec.kind)
    elif spec.kind == "textarea" and isinstance(prop.get("maxLength"), int):
        return f"höchstens {prop['maxLength']} Zeichen"
    return None


def _range_hint(prop: dict, kind: str) -> str | None:
    low, high = prop.get("minimum"), prop.get("maximum")
    noun = "ganze Zahl" if kind == "integer" else "Zahl"
    if _is_num(low) and _is_num(high):
        return f"{noun} von {number_text(low)} bis {number_text(high)}"
    if _is_num(low):
        return f"{noun}, mindestens {number_text(low)}"
    if _is_num(high):
        return f"{noun}, höchstens {number_text(high)}"
    return None


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- fields for display

def fields(schema: dict, data: dict | None = None, errors: dict[str, str] | None = None,
           raw: Mapping[str, Any] | None = None) -> list[Field]:
    """Fields to render: prefilled from `raw` (the submitted form, after an error) or `data`."""
    data = data if isinstance(data, Mapping) else {}
    errors = errors or {}
    return [_field(spec, spec.name, data.get(spec.name, _MISSING), errors, raw) for spec in field_specs(schema)]


def _field(spec: FieldSpec, name: str, stored: Any, errors: Mapping[str, str], raw: Mapping | None) -> Field:
    result = Field(name=name, label=spec.label, kind=spec.kind, required=spec.required,
                   description=spec.description, options=[Option(v, label) for v, label in spec.options],
                   value="", error=errors.get(name) or None, hint=_hint(spec), attrs=_attrs(spec),
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


def _table_rows(spec: FieldSpec, name: str, stored: Any, errors: Mapping[str, str],
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


def _max_rows(spec: FieldSpec) -> int:
    limit = spec.schema.get("maxItems")
    return min(limit, TABLE_MAX_ROWS) if isinstance(limit, int) and limit > 0 else TABLE_MAX_ROWS


def _display(spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "checkbox":
        return value is True
    if spec.kind == "checkboxes":
        return [option_value(v) for v in value] if isinstance(value, list) else []
    if value is _MISSING or value is None:
        return ""
    if spec.multiple:
        items = value if isinstance(value, list) else [value]
        return "\n".join(_display_scalar(spec.item_kind, v) for v in items)
    if spec.kind in ("select", "radio"):
        return option_value(value)
    return _display_scalar(spec.kind, value)


def _display_scalar(kind: str | None, value: Any) -> str:
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            return value
    if kind in ("number", "integer"):
        return number_text(value)
    return value if isinstance(value, str) else option_value(value)


def _raw_value(spec: FieldSpec, raw: Mapping, name: str) -> Any:
    if spec.kind == "checkbox":
        return _truthy(_first(raw, name))
    if spec.kind == "checkboxes":
        return [clean_text(v) for v in _getlist(raw, name) if clean_text(v)]
    value = _first(raw, name)
    if value is None:
        return ""
    # shown again after an error: never more than the field takes (a 15 MB paste is not echoed)
    longest = _attrs(spec).get("maxlength", formlimits.MAX_FIELD_CEILING)
    return clean_text(value, multiline=spec.kind == "textarea")[:longest]


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
          current: Mapping | None = None, validate: bool = True) -> ParsedForm:
    """Convert and validate a submitted form. Never raises on user input.

    `current` (optional): the task data so far; a file field that already holds an upload there
    is not required again.
    """
    specs = field_specs(schema)
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
                    check[spec.name] = UPLOADED
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
            value, error = _MISSING, generic_message(spec.label)
        if error:
            errors[spec.name] = error
        elif value is not _MISSING:
            data[spec.name] = check[spec.name] = value

    if validate:        # off when the use case validates (the web completion): once per request
        collect_errors(schema, specs, check, rows, errors)
    return ParsedForm(data=data, errors=errors, uploads=uploads, rows=rows)


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


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def _convert(spec: FieldSpec, form: Mapping, key: str) -> tuple[Any, str | None]:
    """(value or _MISSING, German error or None) for one non-table, non-file field."""
    if spec.kind == "checkbox":
        return _truthy(_first(form, key)), None
    if spec.kind == "checkboxes":
        chosen = []
        for item in _getlist(form, key):
            item = clean_text(item)
            if not item:
                continue
            if item not in spec.values:
                return _MISSING, MSG_ENUM
            if item not in chosen:
                chosen.append(item)
        order = {value: i for i, (value, _label) in enumerate(spec.options)}
        return ([spec.values[v] for v in sorted(chosen, key=order.__getitem__)] or _MISSING), None
    text = clean_text(_first(form, key), multiline=spec.kind == "textarea")
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


def _take_upload(spec: FieldSpec, files: Mapping) -> tuple[Any, str | None]:
    upload = _first(files, spec.name)
    if upload is None or not getattr(upload, "filename", None):
        return None, None
    size = _upload_size(upload)
    if size == 0:
        return None, "Die Datei ist leer."
    limit = spec.schema.get("x-max-bytes")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 and size is not None and size > limit:
        return None, f"Die Datei ist zu groß (höchstens {size_text(limit)})."
    accept = _attrs(spec).get("accept")
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


def _convert_table(spec: FieldSpec, form: Mapping, errors: dict[str, str]) -> tuple[list[dict], list[int]]:
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
                filled = filled or bool(clean_text(_first(form, key)))
            if error:
                errors[key] = error
            elif value is not _MISSING:
                row[column.name] = value
        if filled:
            rows.append(row)
            indices.append(index)
    return rows, indices
