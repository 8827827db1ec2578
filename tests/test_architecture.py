"""The layout rules of issue 14 / DESIGN.md, checked on the source: small modules and classes,
SpiffWorkflow only in the engine adapter, no Flask in workflows/, SQL only in the store, and
no import cycle among the workflows modules (imports inside functions included)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for package in ("workflows", "webapp") for p in (ROOT / package).rglob("*.py")
           if "migrations" not in p.parts]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names) of every import statement, relative ones resolved."""
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            module = (base + "." + node.module if node.module else base) if node.level else node.module or ""
            found.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def test_no_module_over_450_lines_and_no_class_over_250():
    long_modules = [f"{p.relative_to(ROOT)}: {n}" for p in SOURCES
                    if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450]
    long_classes = [f"{p.relative_to(ROOT)}:{c.name}: {c.end_lineno - c.lineno + 1}" for p in SOURCES
                    for c in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                    if isinstance(c, ast.ClassDef) and c.end_lineno - c.lineno + 1 > 250]
    assert long_modules == [] and long_classes == []


def test_spiffworkflow_only_in_the_engine_and_no_flask_in_workflows():
    wrong = []
    for path in SOURCES:
        module = _module(path)
        for imported, _names in _imports(path):
            if imported.startswith("SpiffWorkflow") and not module.startswith("workflows.engine"):
                wrong.append(f"{module} imports {imported}")
            if imported.split(".")[0] in ("flask", "flask_sqlalchemy", "flask_login", "webapp") \
                    and module.startswith("workflows"):
                wrong.append(f"{module} imports {imported}")
    assert wrong == []
    assert any(imported == "flask_sqlalchemy" for imported, _ in _imports(ROOT / "webapp" / "__init__.py"))


def test_sql_runs_only_in_the_store():
    outside = [f"{p.relative_to(ROOT)}:{n}" for p in SOURCES if not _module(p).startswith("workflows.store")
               for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
               if (".execute(" in line or "exec_driver_sql" in line or "sa.select(" in line)
               and "super().execute(" not in line]          # the script engine's execute is not SQL
    assert outside == []


def test_no_import_cycle_among_workflows_modules():
    modules = {_module(p): p for p in SOURCES if _module(p).startswith("workflows")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for imported, names in _imports(path):
            targets = [f"{imported}.{n}" for n in names if f"{imported}.{n}" in modules] or [imported]
            graph[module] |= {t for t in targets if t in modules and t != module}
    cycles, done = [], set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            cycles.append(trail[trail.index(node):] + [node])
            return
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, trail + [node])
        done.add(node)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []
