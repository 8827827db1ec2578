"""Run-time limits for BPMN scripts: steps, seconds, memory and the size of each value.

The allow-list in `scripting` decides what a script may say; this module bounds what an
allowed script may cost. `scripting` rewrites every call, `+`, `*`, `%`, f-string, slice
and comprehension of a script into the guards below, so a value is measured as it is
built: one value may hold at most MAX_ITEMS characters or elements (an integer at most
MAX_INT_BITS bits), one run may build at most MAX_BUILT_ITEMS in all. Operations whose
result can be far larger than their operands (`"x" * n`, `str.replace`, `str.join`,
`str.ljust`, `int * int`) are checked before they run, so nothing huge is ever allocated.
`limits()` counts the script's lines (loops and comprehensions included) and, every few
lines, the wall-clock time and the growth of the process's memory as a last net.

Single C calls. Clock and memory are only looked at between lines, so one builtin call
must never cost more than a bounded amount by itself. Two rules ensure that:

* *Unfolded size.* `[a, a]`, `[s] * n`, `dict.fromkeys(keys, big)` or `l.append(l2)` share
  one value many times; `str()`, `==`, `<`, `in`, `hash()`, `sorted()` walk such a
  structure once per reference, i.e. their cost is proportional to its *unfolded* size
  (elements counted once per reference, texts by their length; `unfolded()` computes it
  with a memo over shared parts, so measuring costs only the distinct parts, stops early
  above its bound and treats a cycle like `repr` does). That size is checked before
  every such operation: comparisons of containers (cost at most the smaller operand,
  `in` on a list at most the list or len × needle), formatting (`str()`, f-strings: the
  text would have at least as many characters, so the bound is MAX_ITEMS), hashing
  (`set()`, `dict()`, set and dict displays and comprehensions, dict keys, `in` a set
  or dict), sorting and `min`/`max` (a `key` function is wrapped: each call counts as a
  step and goes through the call guards). Values a script leaves in the case data are
  measured at its end as well, because the engine stores them (JSON unfolds sharing).
* *Allowed methods.* Methods are looked up in an allow-list per builtin type
  (`METHODS`); anything else is refused. Methods whose cost depends on an argument are
  checked first (`ljust`, `replace`, `join`, `int.to_bytes`, `list.count`/`index`/`remove`,
  `dict.fromkeys`, set algebra); unbound forms (`str.ljust(s, n)`) and bound methods
  called through a name (`f = s.ljust; f(n)`) go through the same checks.
"""
from __future__ import annotations

import operator
import types
from itertools import chain
import os
import sys
import threading
import time
from contextlib import contextmanager

from .domain import ScriptError

MAX_STEPS = 200_000
MAX_SECONDS = 5.0
MAX_MEMORY_BYTES = 256 * 1024 * 1024
MAX_ITEMS = 100_000
MAX_BUILT_ITEMS = 5_000_000
MAX_INT_BITS = 4_096
MAX_ROUND_DIGITS = 100
MAX_UNFOLDED = 1_000_000              # unfolded size before a comparison, hash or sort
WALK_CHECK_EVERY = 20_000             # nodes between two looks at the clock while measuring
CHECK_EVERY = 64                      # lines between two looks at the clock and the memory

SCRIPT_FILE = "<string>"              # the file name scripts are compiled under

_SEQUENCES = (str, bytes, list, tuple)
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
_CONTAINERS = (list, tuple, dict, set, frozenset)
_local = threading.local()


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


class _Run:
    """What one evaluation has used so far (per thread: settrace is per thread too)."""

    def __init__(self, steps: int, seconds: float, memory: int):
        self.max_steps, self.max_memory = steps, memory
        self.steps = self.built = 0
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.memory_at_start: int | None = None    # measured at the first look: short scripts never pay

    def line(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise ScriptError(f"Das Skript wurde nach {_number(self.max_steps)} Schritten abgebrochen "
                              "(Endlosschleife oder zu große Schleife?).")
        if self.steps % CHECK_EVERY == 0:
            self.look()

    def look(self) -> None:
        if time.monotonic() > self.deadline:
            raise ScriptError(f"Das Skript wurde nach {self.seconds:g} Sekunden abgebrochen (Zeitgrenze).")
        if self.memory_at_start is None:
            self.memory_at_start = _resident_bytes()
        elif _resident_bytes() - self.memory_at_start > self.max_memory:
            raise ScriptError(f"Das Skript wurde abgebrochen: es brauchte mehr als "
                              f"{self.max_memory // (1024 * 1024)} MB Arbeitsspeicher.")


def _resident_bytes() -> int:
    """The process's resident memory now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextmanager
def limits(steps: int = MAX_STEPS, seconds: float = MAX_SECONDS, memory: int = MAX_MEMORY_BYTES):
    """Bound one script or condition: at most `steps` executed lines, `seconds` of wall-clock
    time and `memory` bytes of growth. Only the script's own frames are counted."""
    run = _Run(steps, seconds, memory)

    def local(frame, event, arg):
        if event == "line":
            run.line()
        return local

    def global_(frame, event, arg):
        return local if frame.f_code.co_filename == SCRIPT_FILE else None

    outer, previous_trace = getattr(_local, "run", None), sys.gettrace()
    _local.run = run
    sys.settrace(global_)
    try:
        yield run
    finally:
        sys.settrace(previous_trace)
        _local.run = outer


# --- measuring values -----------------------------------------------------------------------

def _too_big(items: int) -> ScriptError:
    return ScriptError(f"Ein Wert im Skript wäre zu groß ({_number(items)} Zeichen oder Elemente; "
                       f"erlaubt sind {_number(MAX_ITEMS)}).")


def expect(items: int) -> None:
    """Refuse before building a value of `items` characters or elements."""
    if items > MAX_ITEMS:
        raise _too_big(items)


def _count(items: int) -> None:
    run = getattr(_local, "run", None)
    if run is not None:
        run.built += items
        if run.built > MAX_BUILT_ITEMS:
            raise ScriptError(f"Das Skript wurde abgebrochen: es baute mehr als {_number(MAX_BUILT_ITEMS)} "
                              "Zeichen oder Elemente auf.")


def built(value, new: bool = True):
    """Measure a value the script has just built (`new`) or merely fetched; returns it."""
    if isinstance(value, _SIZED):
        expect(len(value))
        if new:
            _count(len(value))
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ScriptError(f"Eine Zahl im Skript wäre zu groß (mehr als {_number(MAX_INT_BITS)} Bit).")
    return value


# --- unfolded size ---------------------------------------------------------------------------

def _leaf(value) -> int:
    if isinstance(value, (str, bytes)):
        return max(len(value), 1)
    if isinstance(value, int):
        return 1 + value.bit_length() // 32
    return 1


def _children(value):
    return chain.from_iterable(value.items()) if isinstance(value, dict) else iter(value)


def unfolded(value, bound: int = MAX_UNFOLDED) -> int:
    """The size of `value` with every reference counted: a container is 1 plus its elements
    (dicts: keys and values), a text its length. Shared parts are measured once (memo);
    a container on the current path (a cycle) counts 1, as `repr` prints `[...]`.
    Returns bound + 1 as soon as the size exceeds `bound`; the walk visits at most
    `bound` references and looks at the clock while it runs."""
    if not isinstance(value, _CONTAINERS):
        return _leaf(value)
    run = getattr(_local, "run", None)
    memo: dict[int, int] = {}
    on_path = {id(value)}
    frames = [[value, _children(value), 1]]
    work = 0
    while frames:
        frame = frames[-1]
        for child in frame[1]:
            work += 1
            if work > bound:
                return bound + 1
            if run is not None and work % WALK_CHECK_EVERY == 0:
                run.look()
            if isinstance(child, _CONTAINERS):
                key = id(child)
                if key in memo:
                    frame[2] += memo[key]
                elif key in on_path:
                    frame[2] += 1
                else:
                    on_path.add(key)
                    frames.append([child, _children(child), 1])
                    break
            else:
                frame[2] += _leaf(child)
            if frame[2] > bound:
                return bound + 1
        else:
            frames.pop()
            on_path.discard(id(frame[0]))
            memo[id(frame[0])] = frame[2]
            if not frames:
                return frame[2]
            frames[-1][2] += frame[2]
            if frames[-1][2] > bound:
                return bound + 1
    return 1                                                   # pragma: no cover


def _too_costly(what: str) -> ScriptError:
    return ScriptError(f"{what} ist zu aufwendig: der Wert ist zu groß oder zu tief verschachtelt "
                       f"(ausgefaltet mehr als {_number(MAX_UNFOLDED)} Elemente oder Zeichen).")


def within(value, what: str, bound: int = MAX_UNFOLDED):
    """Refuse unless `value` unfolds to at most `bound`; returns it."""
    if isinstance(value, _CONTAINERS) and unfolded(value, bound) > bound:
        raise _too_costly(what)
    return value


def shown(value):
    """A value formatted as text (f-string, str()): its text has at least as many characters
    as its unfolded size, so a container above MAX_ITEMS is refused before it is formatted."""
    if isinstance(value, _CONTAINERS) and unfolded(value, MAX_ITEMS) > MAX_ITEMS:
        raise _too_big(unfolded(value, MAX_UNFOLDED))
    return value


def hashed(value):
    """A value about to be hashed (set element, dict key): hashing a tuple walks it."""
    if isinstance(value, (tuple, frozenset)):
        within(value, "Das Hashen eines Werts (Menge, Schlüssel)")
    return value


def _materialized(values):
    """An iterator (generator, view) as a list, so that what C will walk can be measured."""
    if isinstance(values, (*_CONTAINERS, str, bytes, range)) or not hasattr(values, "__iter__"):
        return values
    return built(list(values))


def _hash_all(values):
    """Values about to be hashed one by one (set(), dict(), fromkeys, set algebra)."""
    values = _materialized(values)
    if isinstance(values, dict):
        within(list(values), "Das Hashen der Schlüssel")
    elif isinstance(values, _CONTAINERS):
        within(values, "Das Hashen der Elemente")
    return values


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
    if not isinstance(needle, _CONTAINERS) or isinstance(haystack, (str, bytes, range)):
        return haystack
    haystack = _materialized(haystack)
    if isinstance(haystack, _CONTAINERS):
        size = unfolded(needle)
        if size * max(len(haystack), 1) > MAX_UNFOLDED:
            within(haystack, "Der Vergleich")
    return haystack


def compare(op: str, left, right):
    """`left <op> right` for ==, !=, <, <=, >, >=, in, not in, checked before it runs:
    comparing two containers costs at most the smaller one, which must be within bounds."""
    if op in ("In", "NotIn"):
        right = _check_search(left, right)
    elif isinstance(left, _CONTAINERS) and isinstance(right, _CONTAINERS):
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
    size_before = len(target) if isinstance(target, _SIZED) else 0
    target[key] = value
    if isinstance(target, _SIZED) and len(target) > size_before:
        expect(len(target))
        _count(len(target) - size_before)


def result(namespace: dict) -> None:
    """At the end of a script: every value it leaves in the data is stored by the engine
    (as JSON, which unfolds shared parts), so each must unfold to at most MAX_UNFOLDED."""
    for name, value in list(namespace.items()):
        if not name.startswith("_") and isinstance(value, _CONTAINERS) and \
                unfolded(value) > MAX_UNFOLDED:
            raise ScriptError(f"Das Ergebnis „{name}“ wäre zu groß zum Speichern (ausgefaltet mehr als "
                              f"{_number(MAX_UNFOLDED)} Elemente oder Zeichen).")


# --- the guards scripts are rewritten to call ------------------------------------------------

_BINARY = {"Add": operator.add, "Mult": operator.mul, "Mod": operator.mod}


def binary(op: str, left, right):
    """`left <op> right` for +, * and %, checked before it runs."""
    if op == "Mult":
        if isinstance(left, _SEQUENCES) and isinstance(right, int):
            expect(len(left) * max(right, 0))
        elif isinstance(right, _SEQUENCES) and isinstance(left, int):
            expect(len(right) * max(left, 0))
        elif isinstance(left, int) and isinstance(right, int) and \
                left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise ScriptError(f"Eine Zahl im Skript wäre zu groß (mehr als {_number(MAX_INT_BITS)} Bit).")
    elif op == "Add" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
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
    size_before = len(obj) if isinstance(obj, _SIZED) else 0
    result = getattr(obj, name)(*args, **kwargs)
    if isinstance(obj, (list, dict, set)) and len(obj) > size_before:
        expect(len(obj))
        _count(len(obj) - size_before)
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
