"""The rules BPMN scripts and conditions must follow before they may run.

Models are edited by process owners in the browser, so their scripts are foreign code.
A whitelist of builtins alone is no sandbox (`().__class__.__base__.__subclasses__()`
escapes), hence an AST allow-list checked at deploy time and again before each run:
no imports, no function or class definitions, no `while`, no names or attributes that
start with an underscore, no attribute that reaches frames or string formatting.
Checked code is then rewritten so that every call and every operation that can build a
large value goes through the guards of `script_limits` (sizes, steps, time, memory), and
runs with the small set of builtins below and the helpers the engine adds.

One builtin call is not interrupted by the clock, so the rewrite also puts a guard before
every operation whose cost in C grows with the *unfolded* size of a value (see
`script_limits`): comparisons (`==`, `<`, `in`), formatting in f-strings, hashing in set
and dict displays, comprehensions and subscripts, stores into containers, and, at the
end of a script, the values it leaves in the data. Methods are allowed per builtin type.

Gateway conditions and timer expressions are pure: an expression may read data and call
`heute()`, but not the helpers that record deadlines (`frist`, `frist_erfuellt`,
`frist_entfaellt`) nor methods that change a container (`append`, `update`, …); both are
refused when the model is checked and again before the expression runs.
"""
from __future__ import annotations

import ast
import copy
import re
from functools import lru_cache

from . import script_limits
from .domain import ScriptError

ALLOWED_NODES = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For,
    ast.Pass, ast.Break, ast.Continue,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.Del, ast.Delete, ast.Attribute,
    ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr,
    ast.FormattedValue, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.comprehension,
    ast.And, ast.Or, ast.Not, ast.Invert, ast.UAdd, ast.USub,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
)

#: Attribute names that lead out of the data into the interpreter.
#: (`translate`, `maketrans` and `expandtabs` can grow a text by any factor in one call.)
FORBIDDEN_ATTRIBUTES = {"format", "format_map", "mro", "translate", "maketrans", "expandtabs"}
FORBIDDEN_ATTRIBUTE_PREFIXES = ("_", "gi_", "f_", "tb_", "cr_", "ag_", "co_")

MAX_SOURCE_CHARS = 20_000

#: Format specifications f-strings may use: alignment, sign, width and precision of at
#: most two digits, a type ("{betrag:.2f}", "{nummer:04d}"); a huge width would build a huge text.
SAFE_FORMAT_SPEC = re.compile(r"(.?[<>=^])?[+\- ]?#?0?\d{0,2}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?\Z", re.S)

SAFE_BUILTINS = {
    "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "enumerate": enumerate,
    "float": float, "int": int, "len": len, "list": list, "max": max, "min": min,
    "range": script_limits.bounded_range, "round": script_limits.bounded_round, "set": set,
    "sorted": sorted, "str": str, "sum": script_limits.numeric_sum, "tuple": tuple, "zip": zip,
    "None": None, "True": True, "False": False,
}

#: The guards rewritten scripts call (names with an underscore: scripts cannot reach them).
GUARDS = {"_g_call": script_limits.call, "_g_method": script_limits.method,
          "_g_binary": script_limits.binary, "_g_built": script_limits.built,
          "_g_compare": script_limits.compare, "_g_operand": script_limits.operand,
          "_g_shown": script_limits.shown, "_g_hashed": script_limits.hashed,
          "_g_store": script_limits.store, "_g_finish": script_limits.finish}

#: Helpers that change the case data; expressions (conditions, timers) must not use them.
IMPURE_HELPERS = ("frist", "frist_erfuellt", "frist_entfaellt")
#: Methods that change their object; expressions must not use them.
MUTATING_METHODS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
                              "popitem", "add", "discard", "sort", "reverse", "difference_update",
                              "intersection_update", "symmetric_difference_update"})

def safe_globals() -> dict:
    """Fresh globals for one evaluation: only the safe builtins and the guards."""
    return {"__builtins__": dict(SAFE_BUILTINS), **GUARDS}


def check_expression(source: str) -> None:
    """Raise ScriptError unless `source` is an allowed expression (conditions, timers)."""
    compile_expression(source)


def check_script(source: str) -> None:
    """Raise ScriptError unless `source` is an allowed script (script tasks)."""
    compile_script(source)


def _check(source: str, mode: str) -> ast.AST:
    if len(source) > MAX_SOURCE_CHARS:
        raise ScriptError(f"Das Skript ist länger als {MAX_SOURCE_CHARS:,} Zeichen.".replace(",", "."))
    try:
        tree = ast.parse(source, mode=mode)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as err:
        line = getattr(err, "lineno", None)
        raise ScriptError(f"Syntaxfehler in Zeile {line}: {getattr(err, 'msg', err)}", line=line) from None
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
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Slice):
            raise ScriptError(f"Zuweisungen an Ausschnitte (liste[a:b] = …) sind nicht erlaubt (Zeile {line}).",
                              line=line)
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            parts = node.format_spec.values
            spec = "".join(str(p.value) for p in parts if isinstance(p, ast.Constant))
            if not all(isinstance(p, ast.Constant) for p in parts) or not SAFE_FORMAT_SPEC.match(spec):
                raise ScriptError(f"Formatangabe nicht erlaubt: „{spec}“ (Zeile {line}); erlaubt sind "
                                  "Ausrichtung, Breite und Nachkommastellen bis 99, z. B. „.2f“.", line=line)
    if mode == "eval":
        _check_pure(tree)
    return tree


def _check_pure(tree: ast.AST) -> None:
    """Expressions decide, they do not act: no deadline helpers, no mutating methods
    (also not merely named, e.g. as `key=` of sorted)."""
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if isinstance(node, ast.Name) and node.id in IMPURE_HELPERS:
            raise ScriptError(f"In Bedingungen sind nur reine Ausdrücke erlaubt: {node.id}(…) ändert Daten "
                              f"(die Fristen des Falls); bitte in einer Skriptaufgabe aufrufen (Zeile {line}).",
                              line=line)
        if isinstance(node, ast.Attribute) and node.attr in MUTATING_METHODS:
            raise ScriptError(f"In Bedingungen sind nur reine Ausdrücke erlaubt: .{node.attr}(…) ändert Daten "
                              f"(den Wert, an dem es aufgerufen wird); bitte in einer Skriptaufgabe ändern "
                              f"(Zeile {line}).", line=line)


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    """The checked expression as code that runs under the guards of `script_limits`."""
    return _compile(_check(source, "eval"))


@lru_cache(maxsize=4096)
def compile_script(source: str):
    """The checked script as code that runs under the guards of `script_limits`."""
    return _compile(_check(source, "exec"))


def _compile(tree: ast.AST):
    tree = ast.fix_missing_locations(_Guarded().visit(tree))
    return compile(tree, script_limits.SCRIPT_FILE, "eval" if isinstance(tree, ast.Expression) else "exec")


_GUARDED_OPERATORS = {ast.Add: "Add", ast.Mult: "Mult", ast.Mod: "Mod"}


def _guard(name: str, *args: ast.expr, keywords=()) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=list(keywords))


class _Guarded(ast.NodeTransformer):
    """Rewrites a checked tree so every value that can grow goes through a guard: calls,
    method calls, `+ * %` (also augmented), f-strings, slices and comprehensions."""

    def visit_Call(self, node: ast.Call) -> ast.Call:
        node = self.generic_visit(node)
        if isinstance(node.func, ast.Attribute):
            return _guard("_g_method", node.func.value, ast.Constant(node.func.attr), *node.args,
                          keywords=node.keywords)
        return _guard("_g_call", node.func, *node.args, keywords=node.keywords)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        node = self.generic_visit(node)
        op = _GUARDED_OPERATORS.get(type(node.op))
        return node if op is None else _guard("_g_binary", ast.Constant(op), node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        node = self.generic_visit(node)
        op = _GUARDED_OPERATORS.get(type(node.op))
        if op is None:
            return node
        current = _as_load(node.target)
        return _store(ast.Assign(targets=[node.target], value=_guard("_g_binary", ast.Constant(op), current,
                                                                      node.value)))

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.FormattedValue:
        node.value = _guard("_g_shown", self.visit(node.value))   # the format spec stays a plain JoinedStr
        return node

    def visit_Module(self, node: ast.Module) -> ast.Module:
        node = self.generic_visit(node)
        node.body.append(ast.Expr(_guard("_g_finish")))
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        node = self.generic_visit(node)
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node
        if len(node.ops) == 1:
            return _guard("_g_compare", ast.Constant(type(node.ops[0]).__name__), node.left, node.comparators[0])
        node.left = _guard("_g_operand", node.left)
        node.comparators = [_guard("_g_operand", c) for c in node.comparators]
        return node

    def _display(self, node: ast.expr) -> ast.expr:
        node = self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or any(isinstance(e, ast.Slice) for e in node.elts):
            return node
        return _guard("_g_built", node)

    visit_List = visit_Tuple = _display

    def visit_Set(self, node: ast.Set) -> ast.Call:
        node = self.generic_visit(node)
        node.elts = [_guard("_g_hashed", e) for e in node.elts]
        return _guard("_g_built", node)

    def visit_Dict(self, node: ast.Dict) -> ast.Call:
        node = self.generic_visit(node)
        node.keys = [k if k is None else _guard("_g_hashed", k) for k in node.keys]
        return _guard("_g_built", node)

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        return _store(self.generic_visit(node))

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.Call:
        return _guard("_g_built", self.generic_visit(node))

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        node = self.generic_visit(node)
        if isinstance(node.slice, ast.Slice):
            return _guard("_g_built", node) if isinstance(node.ctx, ast.Load) else node
        if not (isinstance(node.slice, ast.Tuple) and any(isinstance(e, ast.Slice) for e in node.slice.elts)):
            node.slice = _guard("_g_hashed", node.slice)     # a dict key is hashed
        return node

    def _comprehension(self, node: ast.expr) -> ast.Call:
        node = self.generic_visit(node)
        if isinstance(node, ast.SetComp):
            node.elt = _guard("_g_hashed", node.elt)
        elif isinstance(node, ast.DictComp):
            node.key = _guard("_g_hashed", node.key)
        return _guard("_g_built", node)

    visit_ListComp = visit_SetComp = visit_DictComp = _comprehension


def _store(node: ast.Assign) -> ast.stmt:
    """`t[k] = v` becomes a guarded store, so a container that grows is measured."""
    if len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript) and \
            not isinstance(node.targets[0].slice, ast.Slice):
        target = node.targets[0]
        return ast.Expr(_guard("_g_store", target.value, target.slice, node.value))
    return node


def _as_load(target: ast.expr) -> ast.expr:
    """The target of `x += …` read as a value (its sub-expressions are evaluated twice,
    which is harmless: scripts have no functions with side effects on the target)."""
    value = copy.deepcopy(target)
    value.ctx = ast.Load()
    return value
