"""Case data is plain data: the one check and encoding of every value a case stores.

Values reach a case from start data, completions, message and signal payloads and the
results of model scripts. SpiffWorkflow's serializer would turn any dict with a
`typename` key back into an object (a whole `BpmnWorkflow` with an unrestricted script
engine, say), so the engine adapter never lets task data through that registry: it calls
`dump` on the way into the JSON and `load` on the way out.

- `dump` accepts only JSON values (dict with str keys, list, str, int, float, bool, None;
  a tuple becomes a list) within MAX_DEPTH levels, MAX_NODES values and integers of at most
  MAX_INT_BITS bits, refuses cycles, NaN and everything else with a German ScriptError that
  names the field, and escapes reserved keys: `typename` is stored as `~typename`
  (`~typename` as `~~typename`, and so on), so no stored dict has a `typename` key.
- `load` reverses the escape and never creates anything but plain values.
Dates are ISO texts (JJJJ-MM-TT), as the forms and `frist()` produce them.

What people and systems submit (start data, a completion, a message or signal payload) is
smaller still: `check_submission` allows texts of MAX_INPUT_TEXT characters and MAX_INPUT_SIZE
characters in all, so a 15 MB field is refused with a German InvalidInput before anything is
stored (documents belong in uploads; form fields have their own, lower maximum, formlimits).
"""
from __future__ import annotations

import math
import re
from typing import Any

from .domain import InvalidInput, ScriptError

MAX_DEPTH = 32            #: nesting levels of one value (a form field of a case)
MAX_NODES = 200_000       #: values (counting every element and key) one step may store per task
MAX_INT_BITS = 4_096      #: as in the script limits: an integer of at most this many bits
MAX_TEXT = 1_000_000      #: characters of one text in case data
MAX_INPUT_TEXT = 100_000  #: characters of one text in submitted data (= the largest form field)
MAX_INPUT_SIZE = 1_000_000  #: characters of one submission in all (texts, keys, 8 per other value)

_RESERVED = re.compile(r"~*typename\Z")
_ESCAPED = re.compile(r"~+typename\Z")


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0


def dump(value: Any, where: str = "") -> Any:
    """`value` as plain, escaped JSON data; ScriptError naming the field if it is not plain."""
    return _dump(value, "", 0, _Budget(), set(), where)


def _problem(path: str, where: str, text: str) -> ScriptError:
    field = path.lstrip(".") or "Daten"
    place = f" (Element {where})" if where else ""
    return ScriptError(f"Der Wert von „{field}“{place} kann nicht gespeichert werden: {text}")


def _dump(value: Any, path: str, depth: int, budget: _Budget, active: set[int], where: str) -> Any:
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        raise _problem(path, where, f"die Daten umfassen mehr als {MAX_NODES:,} Werte.".replace(",", "."))
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if type(value) is not int:          # an int subclass (e.g. an enum) is not plain
            raise _problem(path, where, f"Typ „{type(value).__name__}“ ist kein einfacher Wert.")
        if value.bit_length() > MAX_INT_BITS:
            raise _problem(path, where, f"die Zahl ist größer als {MAX_INT_BITS} Bit.")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _problem(path, where, "NaN und unendliche Zahlen sind keine gültigen Werte.")
        return float(value)
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise _problem(path, where, f"der Text ist länger als {MAX_TEXT:,} Zeichen.".replace(",", "."))
        return str(value)
    if not isinstance(value, (dict, list, tuple)) or type(value) not in (dict, list, tuple):
        raise _problem(path, where, f"Typ „{type(value).__name__}“ ist kein einfacher Wert "
                                    "(erlaubt: Text, Zahl, Wahrheitswert, Liste, Objekt, leer).")
    if depth >= MAX_DEPTH:
        raise _problem(path, where, f"die Daten sind tiefer als {MAX_DEPTH} Ebenen verschachtelt.")
    if id(value) in active:
        raise _problem(path, where, "der Wert enthält sich selbst.")
    active.add(id(value))
    try:
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _problem(path, where, f"Schlüssel müssen Texte sein, nicht {type(key).__name__}.")
                stored = "~" + key if _RESERVED.match(key) else key
                result[stored] = _dump(item, f"{path}.{key}", depth + 1, budget, active, where)
            return result
        return [_dump(item, f"{path}[{i}]", depth + 1, budget, active, where) for i, item in enumerate(value)]
    finally:
        active.discard(id(value))


def check_submission(data: dict[str, Any]) -> None:
    """Refuse submitted data beyond MAX_INPUT_TEXT / MAX_INPUT_SIZE / MAX_DEPTH (German
    InvalidInput naming the top-level field); counted without recursion and stopped early."""
    size = 0
    pending = [(key, value, 1, key) for key, value in data.items()]
    while pending:
        path, value, depth, field = pending.pop()
        if isinstance(value, str):
            if len(value) > MAX_INPUT_TEXT:
                raise InvalidInput(f"Die Angabe „{path}“ ist zu lang: höchstens {_number(MAX_INPUT_TEXT)} "
                                   f"Zeichen (hier {_number(len(value))}). Es wurde nichts gespeichert.",
                                   field=field)
            size += len(value)
        elif isinstance(value, (dict, list, tuple)):
            if depth >= MAX_DEPTH:
                raise InvalidInput(f"Die Angabe „{path}“ ist tiefer als {MAX_DEPTH} Ebenen verschachtelt.",
                                   field=field)
            if isinstance(value, dict):
                size += sum(len(str(key)) for key in value)
                pending.extend((f"{path}.{key}", item, depth + 1, field) for key, item in value.items())
            else:
                pending.extend((f"{path}[{i}]", item, depth + 1, field) for i, item in enumerate(value))
        size += 8 if not isinstance(value, str) else 0
        if size > MAX_INPUT_SIZE:
            raise InvalidInput(f"Die Angaben sind zu umfangreich: höchstens {_number(MAX_INPUT_SIZE)} Zeichen "
                               "je Übermittlung (Dateien bitte als Dokument hochladen). Es wurde nichts "
                               "gespeichert.", field=field)


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def load(value: Any) -> Any:
    """Stored data back as plain values: escaped keys restored, nothing revived."""
    if isinstance(value, dict):
        return {(key[1:] if _ESCAPED.match(key) else key): load(item) for key, item in value.items()}
    if isinstance(value, list):
        return [load(item) for item in value]
    return value


def escape_keys(value: Any) -> Any:
    """Escape reserved keys in plain containers and leave any other object as it is (for
    engine-internal values that hold datetimes beside data, such as a task's internal data)."""
    if isinstance(value, dict):
        return {("~" + key if isinstance(key, str) and _RESERVED.match(key) else key): escape_keys(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_keys(item) for item in value]
    return value
