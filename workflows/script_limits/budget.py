"""The bounds of one script run and the measuring of values.

`limits()` counts the script's lines (loops and comprehensions included) and, every
CHECK_EVERY lines, looks at the wall-clock time and the growth of the process's memory.
`expect` and `built` refuse a value above MAX_ITEMS (an integer above MAX_INT_BITS) and count
what a run builds in all (MAX_BUILT_ITEMS). `unfolded` computes the size of a structure with
every reference counted, which bounds what one C call walking it can cost; `within`, `shown`,
`hashed` and `_hash_all` apply it before comparing, formatting and hashing. The guards in
`guards` call these; see the package docstring for the reasoning.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from itertools import chain

from ..domain import ScriptError

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

SEQUENCES = (str, bytes, list, tuple)
SIZED = (str, bytes, list, tuple, dict, set, frozenset)
CONTAINERS = (list, tuple, dict, set, frozenset)
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


def count_items(items: int) -> None:
    run = getattr(_local, "run", None)
    if run is not None:
        run.built += items
        if run.built > MAX_BUILT_ITEMS:
            raise ScriptError(f"Das Skript wurde abgebrochen: es baute mehr als {_number(MAX_BUILT_ITEMS)} "
                              "Zeichen oder Elemente auf.")


def built(value, new: bool = True):
    """Measure a value the script has just built (`new`) or merely fetched; returns it."""
    if isinstance(value, SIZED):
        expect(len(value))
        if new:
            count_items(len(value))
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
    if not isinstance(value, CONTAINERS):
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
            if isinstance(child, CONTAINERS):
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
    if isinstance(value, CONTAINERS) and unfolded(value, bound) > bound:
        raise _too_costly(what)
    return value


def shown(value):
    """A value formatted as text (f-string, str()): its text has at least as many characters
    as its unfolded size, so a container above MAX_ITEMS is refused before it is formatted."""
    if isinstance(value, CONTAINERS) and unfolded(value, MAX_ITEMS) > MAX_ITEMS:
        raise _too_big(unfolded(value, MAX_UNFOLDED))
    return value


def hashed(value):
    """A value about to be hashed (set element, dict key): hashing a tuple walks it."""
    if isinstance(value, (tuple, frozenset)):
        within(value, "Das Hashen eines Werts (Menge, Schlüssel)")
    return value


def _materialized(values):
    """An iterator (generator, view) as a list, so that what C will walk can be measured."""
    if isinstance(values, (*CONTAINERS, str, bytes, range)) or not hasattr(values, "__iter__"):
        return values
    return built(list(values))


def _hash_all(values):
    """Values about to be hashed one by one (set(), dict(), fromkeys, set algebra)."""
    values = _materialized(values)
    if isinstance(values, dict):
        within(list(values), "Das Hashen der Schlüssel")
    elif isinstance(values, CONTAINERS):
        within(values, "Das Hashen der Elemente")
    return values
