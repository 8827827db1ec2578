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
"""
from __future__ import annotations

import operator
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
CHECK_EVERY = 64                      # lines between two looks at the clock and the memory

SCRIPT_FILE = "<string>"              # the file name scripts are compiled under

_SEQUENCES = (str, bytes, list, tuple)
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
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


def call(function, *args, **kwargs):
    """A call of a builtin or helper; its result is measured."""
    return built(function(*args, **kwargs), new=function in _CONSTRUCTORS)


def method(obj, name: str, *args, **kwargs):
    """`obj.name(...)`: string methods that can grow a text are checked first; a container
    the method changes in place (append, extend, update) is measured afterwards."""
    if isinstance(obj, (str, bytes)):
        if name == "join":
            parts = list(args[0]) if args else []
            expect(sum(len(p) for p in parts if isinstance(p, (str, bytes))) + len(obj) * max(len(parts) - 1, 0))
            args = (parts, *args[1:])
        else:
            expect(_text_growth(obj, name, args, kwargs))
    size_before = len(obj) if isinstance(obj, _SIZED) else 0
    result = getattr(obj, name)(*args, **kwargs)
    if isinstance(obj, (list, dict, set)) and len(obj) > size_before:
        expect(len(obj))
        _count(len(obj) - size_before)
    return result if result is obj else built(result, new=isinstance(obj, (str, bytes)) or name == "copy")


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
