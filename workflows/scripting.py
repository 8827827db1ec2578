"""The rules BPMN scripts and conditions must follow before they may run.

Models are edited by process owners in the browser, so their scripts are foreign code.
A whitelist of builtins alone is no sandbox (`().__class__.__base__.__subclasses__()`
escapes), hence an AST allow-list checked at deploy time and again before each run:
no imports, no function or class definitions, no `while`, no names or attributes that
start with an underscore, no attribute that reaches frames or string formatting.
Scripts run with the small set of builtins below and the helpers the engine adds.
"""
from __future__ import annotations

import ast
import sys
from contextlib import contextmanager
from functools import lru_cache

from .domain import ScriptError

ALLOWED_NODES = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For,
    ast.Pass, ast.Break, ast.Continue,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.Del, ast.Delete, ast.Attribute,
    ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr,
    ast.FormattedValue, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.comprehension, ast.Starred,
    ast.And, ast.Or, ast.Not, ast.Invert, ast.UAdd, ast.USub,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
)

#: Attribute names that lead out of the data into the interpreter.
FORBIDDEN_ATTRIBUTES = {"format", "format_map", "mro"}
FORBIDDEN_ATTRIBUTE_PREFIXES = ("_", "gi_", "f_", "tb_", "cr_", "ag_", "co_")

MAX_RANGE = 10_000


def _bounded_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ScriptError(f"range() mit mehr als {MAX_RANGE} Elementen ist nicht erlaubt.")
    return r


SAFE_BUILTINS = {
    "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "enumerate": enumerate,
    "float": float, "int": int, "len": len, "list": list, "max": max, "min": min,
    "range": _bounded_range, "round": round, "set": set, "sorted": sorted, "str": str,
    "sum": sum, "tuple": tuple, "zip": zip, "None": None, "True": True, "False": False,
}


MAX_STEPS = 200_000


@contextmanager
def step_budget(limit: int = MAX_STEPS):
    """Stop a script after `limit` executed lines (loops and comprehensions included), so an
    allowed but enormous loop cannot hold a worker. Only the script's own frames are counted."""
    steps = 0

    def local(frame, event, arg):
        nonlocal steps
        if event == "line":
            steps += 1
            if steps > limit:
                raise ScriptError(f"Das Skript wurde nach {limit:,} Schritten abgebrochen "
                                  "(Endlosschleife oder zu große Schleife?).".replace(",", "."))
        return local

    def global_(frame, event, arg):
        return local if frame.f_code.co_filename == "<string>" else None

    previous = sys.gettrace()
    sys.settrace(global_)
    try:
        yield
    finally:
        sys.settrace(previous)


def safe_globals() -> dict:
    """Fresh globals for one evaluation: only the safe builtins."""
    return {"__builtins__": dict(SAFE_BUILTINS)}


@lru_cache(maxsize=4096)
def check_expression(source: str) -> None:
    """Raise ScriptError unless `source` is an allowed expression (conditions, timers)."""
    _check(source, "eval")


@lru_cache(maxsize=4096)
def check_script(source: str) -> None:
    """Raise ScriptError unless `source` is an allowed script (script tasks)."""
    _check(source, "exec")


def _check(source: str, mode: str) -> None:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as err:
        raise ScriptError(f"Syntaxfehler in Zeile {err.lineno}: {err.msg}", line=err.lineno) from None
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if not isinstance(node, ALLOWED_NODES):
            raise ScriptError(
                f"Nicht erlaubtes Sprachmittel „{type(node).__name__}“ (Zeile {line}).", line=line)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ScriptError(f"Namen mit Unterstrich sind nicht erlaubt: {node.id} (Zeile {line}).",
                              line=line)
        if isinstance(node, ast.Attribute) and (
                node.attr in FORBIDDEN_ATTRIBUTES or node.attr.startswith(FORBIDDEN_ATTRIBUTE_PREFIXES)):
            raise ScriptError(f"Attribut nicht erlaubt: .{node.attr} (Zeile {line}).", line=line)
