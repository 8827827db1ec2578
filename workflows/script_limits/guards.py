"""The guards rewritten scripts call, checked before the operation runs.

`scripting` rewrites comparisons (`compare`, `operand`), `+ * %` (`binary`), calls of builtins
and helpers (`call`), method calls (`method`, only the methods of METHODS per builtin type),
item assignment (`store`) and the end of a script (`finish`, `result`) into these functions;
`bounded_range`, `numeric_sum` and `bounded_round` replace the builtins they are named after.
They measure with `budget` so that no single C call costs more than a bounded amount.
"""
from __future__ import annotations

import operator
import sys
import types

from ..domain import ScriptError
from .budget import (MAX_INT_BITS, MAX_ROUND_DIGITS, MAX_UNFOLDED, CONTAINERS, SEQUENCES, SIZED, count_items,
                     _hash_all, _local, _materialized, _number, _too_costly, built, expect, hashed, shown,
                     unfolded, within)


_COMPARE = {"Eq": operator.eq, "NotEq": operator.ne, "Lt": operator.lt, "LtE": operator.le,
            "Gt": operator.gt, "GtE": operator.ge,
            "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b}


def _check_search(needle, haystack):
    """`needle in haystack` (also list.count/index/remove): for sets and dicts one hash and
    a few comparisons of the needle; otherwise one comparison per element, each costing at
    most the smaller of the two, so at most len × needle or the whole haystack. A needle
    that is no container (a number, a text) costs one cheap comparison per element."""
    if isinstance(haystack, (set, frozenset, dict)):
        within(needle, "Der Vergleich")
        return haystack
    if not isinstance(needle, CONTAINERS) or isinstance(haystack, (str, bytes, range)):
        return haystack
    haystack = _materialized(haystack)
    if isinstance(haystack, CONTAINERS):
        size = unfolded(needle)
        if size * max(len(haystack), 1) > MAX_UNFOLDED:
            within(haystack, "Der Vergleich")
    return haystack


def compare(op: str, left, right):
    """`left <op> right` for ==, !=, <, <=, >, >=, in, not in, checked before it runs:
    comparing two containers costs at most the smaller one, which must be within bounds."""
    if op in ("In", "NotIn"):
        right = _check_search(left, right)
    elif isinstance(left, CONTAINERS) and isinstance(right, CONTAINERS):
        smaller, larger = sorted((left, right), key=len)
        if unfolded(smaller) > MAX_UNFOLDED and unfolded(larger) > MAX_UNFOLDED:
            raise _too_costly("Der Vergleich")
    return _COMPARE[op](left, right)


def operand(value):
    """An operand of a chained comparison (`a < b < c`): measured on its own."""
    return within(value, "Der Vergleich")


def _ordered(values, kwargs: dict, what: str):
    """sorted/min/max/list.sort: each value is compared about log n times, so all values
    together (or all results of the `key` function together) must be within bounds."""
    values = _materialized(values)
    if kwargs.get("key") is not None:
        kwargs["key"] = _counted(kwargs["key"], what)
    else:
        within(values, what)
    return values, kwargs


def _counted(function, what: str):
    """A key function called from C: each call is a step and goes through the guards,
    and its results together must be within bounds."""
    total = [0]

    def key(value):
        run = getattr(_local, "run", None)
        if run is not None:
            run.line()
        result = call(function, value)
        total[0] += unfolded(result, MAX_UNFOLDED - total[0])
        if total[0] > MAX_UNFOLDED:
            raise _too_costly(what)
        return result
    return key


def finish() -> None:
    """Appended to every script: measures the variables of the calling script frame."""
    result(sys._getframe(1).f_locals)


def store(target, key, value) -> None:
    """`target[key] = value`: a container that grows is measured like `append`."""
    size_before = len(target) if isinstance(target, SIZED) else 0
    target[key] = value
    if isinstance(target, SIZED) and len(target) > size_before:
        expect(len(target))
        count_items(len(target) - size_before)


def result(namespace: dict) -> None:
    """At the end of a script: every value it leaves in the data is stored by the engine
    (as JSON, which unfolds shared parts), so each must unfold to at most MAX_UNFOLDED."""
    for name, value in list(namespace.items()):
        if not name.startswith("_") and isinstance(value, CONTAINERS) and \
                unfolded(value) > MAX_UNFOLDED:
            raise ScriptError(f"Das Ergebnis „{name}“ wäre zu groß zum Speichern (ausgefaltet mehr als "
                              f"{_number(MAX_UNFOLDED)} Elemente oder Zeichen).")


# --- the guards scripts are rewritten to call ------------------------------------------------

_BINARY = {"Add": operator.add, "Mult": operator.mul, "Mod": operator.mod}


def binary(op: str, left, right):
    """`left <op> right` for +, * and %, checked before it runs."""
    if op == "Mult":
        if isinstance(left, SEQUENCES) and isinstance(right, int):
            expect(len(left) * max(right, 0))
        elif isinstance(right, SEQUENCES) and isinstance(left, int):
            expect(len(right) * max(left, 0))
        elif isinstance(left, int) and isinstance(right, int) and \
                left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise ScriptError(f"Eine Zahl im Skript wäre zu groß (mehr als {_number(MAX_INT_BITS)} Bit).")
    elif op == "Add" and isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
        expect(len(left) + len(right))
    elif op == "Mod" and isinstance(left, (str, bytes)):
        raise ScriptError("Formatierung mit % ist nicht erlaubt; bitte f-Strings verwenden.")
    return built(_BINARY[op](left, right))


_CONSTRUCTORS = (list, tuple, set, dict, sorted, str)
_ORDERING = (sorted, min, max)


def call(function, *args, **kwargs):
    """A call of a builtin or helper; its result is measured. A builtin method called
    through a name (`f = s.ljust`, `str.ljust`, `dict.fromkeys`) is checked as a method."""
    if isinstance(function, (types.BuiltinMethodType, types.MethodWrapperType)) and \
            not isinstance(getattr(function, "__self__", None), (types.ModuleType, type(None))):
        return method(function.__self__, function.__name__, *args, **kwargs)
    if isinstance(function, (types.MethodDescriptorType, types.ClassMethodDescriptorType,
                             types.WrapperDescriptorType)):
        return method(function.__objclass__, function.__name__, *args, **kwargs)
    if function is str and args:
        shown(args[0])
    elif function in (set, frozenset, dict) and args:
        args = (_hash_all(args[0]), *args[1:])
    elif function in _ORDERING and args:
        values, kwargs = _ordered(args[0] if len(args) == 1 else args, kwargs, "Das Sortieren oder Vergleichen")
        args = (values,) if len(args) == 1 else args
    return built(function(*args, **kwargs), new=function in _CONSTRUCTORS)


_STR_METHODS = frozenset(
    "capitalize casefold center count encode endswith find index isalnum isalpha isascii isdecimal "
    "isdigit isidentifier islower isnumeric isprintable isspace istitle isupper join ljust lower lstrip "
    "partition removeprefix removesuffix replace rfind rindex rjust rpartition rsplit rstrip split "
    "splitlines startswith strip swapcase title upper zfill".split())
_SET_READ = frozenset("copy difference intersection isdisjoint issubset issuperset symmetric_difference "
                      "union".split())
#: The methods scripts may call, per builtin type; anything else is refused.
METHODS = {
    str: _STR_METHODS,
    bytes: frozenset(n for n in _STR_METHODS if hasattr(bytes, n)) | {"decode", "hex"},
    list: frozenset("append clear copy count extend index insert pop remove reverse sort".split()),
    tuple: frozenset({"count", "index"}),
    range: frozenset({"count", "index"}),
    dict: frozenset("clear copy fromkeys get items keys pop popitem setdefault update values".split()),
    set: _SET_READ | frozenset("add clear difference_update discard intersection_update pop remove "
                               "symmetric_difference_update update".split()),
    frozenset: _SET_READ,
    int: frozenset("as_integer_ratio bit_count bit_length conjugate from_bytes is_integer to_bytes".split()),
    float: frozenset("as_integer_ratio conjugate fromhex hex is_integer".split()),
}
_CLASS_METHODS = {dict: {"fromkeys"}, int: {"from_bytes"}, float: {"fromhex"}, bytes: {"fromhex"}}
_FETCHING = frozenset({"get", "pop", "popitem", "setdefault", "index", "count"})
_TYPE_NAMES = {str: "Text", bytes: "Bytes", list: "Liste", tuple: "Tupel", range: "range", dict: "Dict",
               set: "Menge", frozenset: "Menge", int: "Zahl", float: "Zahl"}


def _kind(obj):
    return next((t for t in METHODS if isinstance(obj, t)), None)


def _refuse_method(obj, name: str) -> ScriptError:
    kind = _kind(obj) if not isinstance(obj, type) else (obj if obj in METHODS else None)
    owner = _TYPE_NAMES.get(kind, type(obj).__name__ if not isinstance(obj, type) else obj.__name__)
    return ScriptError(f"Die Methode „.{name}()“ ist für {owner} nicht erlaubt.")


def method(obj, name: str, *args, **kwargs):
    """`obj.name(...)`: only the methods of `METHODS`; those whose cost depends on an
    argument are checked first, and a container the method changes in place (append,
    extend, update) is measured afterwards."""
    if isinstance(obj, type):
        if obj in METHODS and name in _CLASS_METHODS.get(obj, ()):
            kind = obj
        elif obj in METHODS and name in METHODS[obj] and args and isinstance(args[0], obj):
            obj, args = args[0], args[1:]                  # str.ljust(s, n) is s.ljust(n)
            kind = _kind(obj)
        else:
            raise _refuse_method(obj, name)
    else:
        kind = _kind(obj)
        if kind is None or name not in METHODS[kind]:
            raise _refuse_method(obj, name)
    if kind in (str, bytes) and name == "join":
        args = (list(args[0]) if args else [], *args[1:])
    args, kwargs = _check_method(obj, kind, name, args, kwargs)
    size_before = len(obj) if isinstance(obj, SIZED) else 0
    result = getattr(obj, name)(*args, **kwargs)
    if isinstance(obj, (list, dict, set)) and len(obj) > size_before:
        expect(len(obj))
        count_items(len(obj) - size_before)
    return result if result is obj else built(result, new=name not in _FETCHING)


def _check_method(obj, kind, name: str, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The checks before a method whose cost depends on its arguments."""
    if kind in (str, bytes):
        if name == "join":
            parts = args[0]                                # already a list (see method)
            expect(sum(len(p) for p in parts if isinstance(p, (str, bytes))) + len(obj) * max(len(parts) - 1, 0))
        else:
            expect(_text_growth(obj, name, args, kwargs))
    elif kind is int and name == "to_bytes":
        length = args[0] if args else kwargs.get("length", 1)
        if isinstance(length, int):
            expect(length)
    elif name in ("count", "index", "remove") and kind in (list, tuple, range) and args:
        _check_search(args[0], obj)
    elif name == "sort" and kind is list:
        _ordered(obj, kwargs, "Das Sortieren")
    elif name == "fromkeys":
        keys = _hash_all(args[0]) if args else ()
        if hasattr(keys, "__len__"):
            expect(len(keys))
        args = (keys, *args[1:])
    elif kind in (dict, set, frozenset):
        if name in ("get", "pop", "setdefault", "add", "discard", "remove") and args:
            hashed(args[0])
        else:
            args = tuple(_hash_all(arg) for arg in args)
    return args, kwargs


def _text_growth(text, name: str, args: tuple, kwargs: dict) -> int:
    """How long `text.name(*args)` would become, for the methods that can make it longer."""
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        hits = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        return len(text) + hits * max(len(new) - len(old), 0)
    if name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int):
        return max(len(text), args[0])
    return len(text)


def bounded_range(*args: int) -> range:
    r = range(*args)
    if len(r) > 10_000:
        raise ScriptError("range() mit mehr als 10.000 Elementen ist nicht erlaubt.")
    return r


def numeric_sum(values, start=0):
    """sum() of numbers only: summing lists or texts would copy them again and again."""
    if not isinstance(start, (int, float)):
        raise ScriptError("sum() addiert nur Zahlen.")
    total = start
    for value in values:
        if not isinstance(value, (int, float)):
            raise ScriptError("sum() addiert nur Zahlen.")
        total = binary("Add", total, value)
    return total


def bounded_round(number, ndigits=None):
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS):
        raise ScriptError(f"round() erlaubt höchstens {MAX_ROUND_DIGITS} Stellen.")
    return round(number) if ndigits is None else round(number, ndigits)
