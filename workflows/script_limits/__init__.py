"""Run-time limits for BPMN scripts: steps, seconds, memory and the size of each value.

The allow-list in `scripting` decides what a script may say; this package bounds what an
allowed script may cost. `scripting` rewrites every call, `+`, `*`, `%`, f-string, slice
and comprehension of a script into the guards (`guards`), so a value is measured as it is
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

The package's modules, re-exported here (`from workflows import script_limits`):

    budget  the bounds, `limits()` for one run (steps, seconds, memory), measuring values
            (`built`, `expect`, `unfolded`, `within`, `shown`, `hashed`)
    guards  what rewritten scripts call (`compare`, `binary`, `call`, `method`, `store`,
            `finish`, ...), the allowed methods METHODS and the bounded builtins
"""
from __future__ import annotations

from .budget import (CHECK_EVERY, MAX_BUILT_ITEMS, MAX_INT_BITS, MAX_ITEMS, MAX_MEMORY_BYTES, MAX_ROUND_DIGITS,
                     MAX_SECONDS, MAX_STEPS, MAX_UNFOLDED, SCRIPT_FILE, WALK_CHECK_EVERY, built, expect, hashed,
                     limits, shown, unfolded, within)
from .guards import (METHODS, binary, bounded_range, bounded_round, call, compare, finish, method, numeric_sum,
                     operand, result, store)

__all__ = [
    "CHECK_EVERY", "MAX_BUILT_ITEMS", "MAX_INT_BITS", "MAX_ITEMS", "MAX_MEMORY_BYTES", "MAX_ROUND_DIGITS",
    "MAX_SECONDS", "MAX_STEPS", "MAX_UNFOLDED", "SCRIPT_FILE", "WALK_CHECK_EVERY", "built", "expect", "hashed",
    "limits", "shown", "unfolded", "within",
    "METHODS", "binary", "bounded_range", "bounded_round", "call", "compare", "finish", "method", "numeric_sum",
    "operand", "result", "store",
]
