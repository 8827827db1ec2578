"""What a form may ask of the server: linear-time patterns and a maximum length for every field.

A form (JSON Schema next to a model) is written by a process owner, and its `pattern`s are
matched against what caseworkers and the API submit. Python's `re` backtracks, so a pattern
like `^(a|a)+$` costs seconds on a few dozen characters. Forms are therefore validated with
`FormValidator`, which matches `pattern` with RE2 (google-re2, linear time), and a deployed
form must only contain patterns RE2 accepts (no back-references, no lookaround) and no
`patternProperties` (jsonschema would match those with `re`).

Every text field has a maximum: its own `maxLength`, else MAX_FIELD_TEXT characters. A form
may not declare more than MAX_FIELD_CEILING (`check`); `bounded` gives the schema the
validation runs with, where every subschema without `maxLength` has the default.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

MAX_FIELD_TEXT = 10_000        #: characters of a text field whose form sets no maxLength
MAX_FIELD_CEILING = 100_000    #: the largest maxLength a form may declare

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False    # a refused pattern is reported in German, not on stderr

# keywords whose value is a schema, a list of schemas or a mapping name -> schema (2020-12)
_ONE = ("not", "if", "then", "else", "items", "additionalProperties", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "additionalItems")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAPPED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


@lru_cache(maxsize=1024)
def compiled(pattern: str):
    """The RE2 program of a pattern; re2.error if RE2 cannot run it."""
    return re2.compile(pattern, _OPTIONS)


def _pattern(validator, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not compiled(pattern).search(instance):
        yield ValidationError(f"{instance[:80]!r} passt nicht zum Muster {pattern!r}")


#: Draft 2020-12 with `pattern` matched by RE2
FormValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})


def subschemas(schema: Any, where: str = "") -> Iterator[tuple[str, dict]]:
    """Every schema object within `schema` with its path ("properties/name/items")."""
    if not isinstance(schema, dict):
        return
    yield where, schema
    for key in _ONE:
        yield from subschemas(schema.get(key), f"{where}/{key}".lstrip("/"))
    for key in _MANY:
        if isinstance(schema.get(key), list):
            for number, item in enumerate(schema[key]):
                yield from subschemas(item, f"{where}/{key}/{number}".lstrip("/"))
    for key in _MAPPED:
        if isinstance(schema.get(key), dict):
            for name, item in schema[key].items():
                yield from subschemas(item, f"{where}/{key}/{name}".lstrip("/"))


def check(schema: dict) -> None:
    """Raise ValueError (German) for a pattern RE2 cannot run or a maximum beyond the ceiling."""
    for where, sub in subschemas(schema):
        place = f" (bei „{where}“)" if where else ""
        if "patternProperties" in sub:
            raise ValueError(f"„patternProperties“ wird in Formularen nicht unterstützt{place}; "
                             "bitte die Felder einzeln unter „properties“ angeben.")
        pattern = sub.get("pattern")
        if isinstance(pattern, str):
            try:
                compiled(pattern)
            except re2.error as err:
                raise ValueError(
                    f"Das Muster „{pattern}“{place} kann nicht sicher geprüft werden: "
                    f"{_text(err)}. Erlaubt sind reguläre Ausdrücke ohne Rückverweise (\\1) "
                    "und ohne Lookahead/Lookbehind (RE2-Syntax).") from None
        longest = sub.get("maxLength")
        if isinstance(longest, int) and not isinstance(longest, bool) and longest > MAX_FIELD_CEILING:
            raise ValueError(f"„maxLength“ {longest}{place} ist zu groß: ein Feld darf höchstens "
                             f"{MAX_FIELD_CEILING:,} Zeichen fassen.".replace(",", "."))


def _text(err: re2.error) -> str:
    message = err.args[0] if err.args else err
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def bounded(schema: dict) -> dict:
    """A copy of `schema` in which every subschema without maxLength allows MAX_FIELD_TEXT
    characters (maxLength only constrains strings, so non-text schemas are unaffected)."""
    result = copy.deepcopy(schema)
    for _, sub in subschemas(result):
        sub.setdefault("maxLength", MAX_FIELD_TEXT)
    return result
