"""Process models: deploy, check, overview and source for the editor, the versions, moving
running cases to a new version (`umstellung`); test runs are `testrun`. Process owners only
(policy.may_deploy), except the list of procedures every user needs for filters.

Nothing invalid is ever stored: every rule of workflows.validation applies before a
version is written, and every form a user task names must be a usable form.
"""
from __future__ import annotations

import json
from typing import Any

from .. import engine, forms, policy, validation

from ..domain import Actor, InvalidInput, ModelError
from . import kernel, umstellung
from .context import Context


def deploy_model(ctx: Context, files: dict[str, bytes | str], actor: Actor, main: str | None = None) -> dict[str, Any]:
    """Validate and store a new version of a process model.

    `files` holds the BPMN file (`main`, or the only .bpmn), BPMN files its call activities
    need, and the JSON forms its user tasks name (ModelError with all problems otherwise)."""
    policy.require(policy.may_deploy(actor), "Nur Prozessverantwortliche dürfen Modelle bereitstellen.")
    texts = {name: _text(name, content) for name, content in files.items()}
    bpmn_names = [n for n in texts if n.endswith(".bpmn")]
    main = main or (bpmn_names[0] if len(bpmn_names) == 1 else None)
    if main not in texts:
        raise InvalidInput("Bitte geben Sie an, welche BPMN-Datei bereitgestellt werden soll.")
    problems = validation.validate(texts, main)
    if validation.has_errors(problems):
        first = next(p for p in problems if p.severity == validation.ERROR)
        error = ModelError(first.message, element_id=first.element_id, line=first.line, file_name=first.file_name)
        error.details["problems"] = [p.to_dict() for p in problems]
        raise error
    model = engine.parse_model(kernel.bpmn_files(texts), engine.main_process_id(texts[main].encode(), main))
    _check_forms(model, texts)
    with kernel.transaction(ctx) as (conn, now):
        version = ctx.store.add_model_version(
            conn, process_id=model.process_id, name=model.name, bpmn_xml=texts[main], files=texts,
            sha256=model.sha256, deployed_at=now, deployed_by=actor.username)
        ctx.store.audit(conn, at=now, actor=actor.username, action="modell_bereitgestellt",
                        details={"process_id": model.process_id, "version": version["version"],
                                 "sha256": model.sha256})
    ctx.models[version["id"]] = model
    return {k: v for k, v in version.items() if k not in ("files", "bpmn_xml")}


def validate_model(ctx: Context, files: dict[str, bytes | str], main: str, actor: Actor) -> list[dict[str, Any]]:
    """Every problem of a model (element, line, German message), for the editor."""
    policy.require(policy.may_deploy(actor), "Nur Prozessverantwortliche dürfen Modelle prüfen.")
    texts = {name: _text(name, content) for name, content in files.items()}
    return [p.to_dict() for p in validation.validate(texts, main)]


def procedures(ctx: Context) -> list[dict[str, Any]]:
    """The deployed procedures (newest version's name), for filters and start pages."""
    with ctx.store.read() as conn:
        return ctx.store.procedures(conn)


def model_xml(ctx: Context, version_id: int) -> str:
    with ctx.store.read() as conn:
        return ctx.store.model_version(conn, version_id)["bpmn_xml"]


def model_versions(ctx: Context) -> list[dict[str, Any]]:
    """Every deployed version of every procedure, with its number of running cases."""
    with ctx.store.read() as conn:
        return ctx.store.model_versions(conn)


def model_overview(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """The procedures with all their versions (who deployed when, running cases), newest first."""
    policy.require(policy.may_deploy(actor), "Nur Prozessverantwortliche dürfen Modelle verwalten.")
    grouped: dict[str, dict[str, Any]] = {}
    for version in model_versions(ctx):
        entry = grouped.setdefault(version["process_id"], {"process_id": version["process_id"], "versions": []})
        entry["versions"].append(version)
        entry["name"] = version["name"]
    for entry in grouped.values():
        entry["versions"].sort(key=lambda v: v["version"], reverse=True)
        entry["latest"] = entry["versions"][0]
        entry["running"] = sum(v["running"] for v in entry["versions"])
    return sorted(grouped.values(), key=lambda e: e["name"])


def model_source(ctx: Context, process_id: str, actor: Actor) -> dict[str, Any]:
    """The newest version's files for the editor: main file name, BPMN XML and forms."""
    policy.require(policy.may_deploy(actor), "Nur Prozessverantwortliche dürfen Modelle verwalten.")
    with ctx.store.read() as conn:
        version = ctx.store.latest_model_version(conn, process_id)
    files = version["files"]
    main = next((n for n, text in files.items() if n.endswith(".bpmn") and text == version["bpmn_xml"]),
                f"{process_id}.bpmn")
    return {"process_id": process_id, "version": version["version"], "version_id": version["id"],
            "main": main, "xml": version["bpmn_xml"],
            "forms": {n: t for n, t in files.items() if n.endswith(".json")},
            "others": {n: t for n, t in files.items() if n.endswith(".bpmn") and n != main}}


def model_diff(ctx: Context, business_key: str, new_version_id: int, actor: Actor) -> dict[str, Any]:
    return umstellung.model_diff(ctx, business_key, new_version_id, actor)


def migrate_cases(ctx: Context, business_keys: list[str], new_version_id: int, actor: Actor) -> dict[str, Any]:
    return umstellung.migrate_cases(ctx, business_keys, new_version_id, actor)


def running_cases_of(ctx: Context, process_id: str, actor: Actor) -> list[dict[str, Any]]:
    return umstellung.cases_by_version(ctx, process_id, actor)


def _text(name: str, content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError("Die Datei ist nicht UTF-8-kodiert.", file_name=name) from None


def _check_forms(model: engine.ProcessModel, files: dict[str, str]) -> None:
    """Every form a user task names must be among the files and be a usable form."""
    for task_name, form in model.forms.items():
        if form not in files:
            raise ModelError(f"Das Formular „{form}“ fehlt.", element_id=task_name)
        try:
            schema = json.loads(files[form])
        except json.JSONDecodeError as err:
            raise ModelError(f"Das Formular „{form}“ ist kein gültiges JSON: {err.msg}",
                             element_id=task_name, line=err.lineno, file_name=form) from None
        except RecursionError:
            raise ModelError(f"Das Formular „{form}“ ist zu tief verschachtelt.", element_id=task_name,
                             file_name=form) from None
        try:
            forms.check_schema(schema)
        except ValueError as err:
            raise ModelError(f"Das Formular „{form}“ ist kein gültiges Formular: {err}",
                             element_id=task_name, file_name=form) from None
        for name in schema.get("properties", {}) or {}:
            problem = engine.field_name_problem(name)
            if problem:
                raise ModelError(f"Formular „{form}“: {problem}", element_id=task_name, file_name=form)
