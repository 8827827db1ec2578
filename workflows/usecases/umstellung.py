"""Umstellung: moving running cases to a newer version of their model (process owners only).
("Migration" means Alembic's schema migrations; this is the move of a case between versions.)

`model_diff` shows what the newer version adds, changes and removes for one case and
whether it can move; `migrate_cases` moves cases, each in its own transaction with the
version check, and refuses (with a German reason) a case that stands on a removed step.
Each move is a step through the kernel (lock, load, save with the version check, index, audit).
"""
from __future__ import annotations

from typing import Any

from .. import engine, policy
from ..domain import Actor, CaseStatus, Conflict, DomainError, InvalidInput
from . import kernel
from .context import Context



def require_owner(actor: Actor, what: str = "Modelle verwalten") -> None:
    policy.require(policy.may_deploy(actor), f"Nur Prozessverantwortliche dürfen {what}.")


def model_diff(ctx: Context, business_key: str, new_version_id: int, actor: Actor) -> dict[str, Any]:
    """Added, changed and removed elements between a case's version and `new_version_id`,
    and whether the case can be moved (`blocking` lists what prevents it)."""
    require_owner(actor, "Modellversionen vergleichen")
    with ctx.store.read() as conn:
        row = ctx.store.instance_by_key(conn, business_key)
        target = _target(ctx, conn, row, new_version_id)
        workflow = engine.loads(row.workflow_json, kernel.model(ctx, conn, row.model_version_id))
        diff = engine.diff_case(workflow, kernel.model(ctx, conn, new_version_id))
        current = ctx.store.model_version(conn, row.model_version_id)
    return {**diff, "business_key": row.business_key, "from_version": current["version"],
            "to_version": target["version"], "migratable": not diff["blocking"] and row.status == "running"}


def migrate_cases(ctx: Context, business_keys: list[str], new_version_id: int,
                  actor: Actor) -> dict[str, Any]:
    """Move each case to `new_version_id`, one transaction per case.

    Returns {"migrated": [keys], "refused": {key: German reason}}; a refused case is
    left exactly as it was."""
    require_owner(actor, "Vorgänge auf eine neue Modellversion umstellen")
    migrated, refused = [], {}
    for key in dict.fromkeys(business_keys):
        try:
            _migrate_one(ctx, key, new_version_id, actor)
            migrated.append(key)
        except DomainError as err:
            refused[key] = err.message
    return {"migrated": migrated, "refused": refused}


def _migrate_one(ctx: Context, business_key: str, new_version_id: int, actor: Actor) -> None:
    with kernel.transaction(ctx) as (conn, now):
        row = ctx.store.instance_by_key(conn, business_key)
        row = ctx.store.instance(conn, row.id, for_update=True)
        target = _target(ctx, conn, row, new_version_id)
        if row.status != CaseStatus.RUNNING.value:
            raise Conflict("Nur laufende Vorgänge können umgestellt werden.")
        old = ctx.store.model_version(conn, row.model_version_id)
        workflow = engine.loads(row.workflow_json, kernel.model(ctx, conn, row.model_version_id))
        migrated = engine.migrate(workflow, kernel.model(ctx, conn, new_version_id))
        kernel.save(ctx, conn, row, migrated, now)            # version check, index rewritten
        ctx.store.set_model_version(conn, row.id, new_version_id)
        ctx.store.audit(conn, at=now, actor=actor.username, action="vorgang_umgestellt",
                              instance_id=row.id, business_key=row.business_key,
                              details={"process_id": row.process_id, "von_version": old["version"],
                                       "auf_version": target["version"]})


def _target(ctx: Context, conn, row, new_version_id: int) -> dict[str, Any]:
    target = ctx.store.model_version(conn, new_version_id)
    if target["process_id"] != row.process_id:
        raise InvalidInput("Die Version gehört zu einem anderen Verfahren.")
    if row.model_version_id == new_version_id:
        raise Conflict("Der Vorgang läuft bereits auf dieser Version.")
    return target


def cases_by_version(ctx: Context, process_id: str, actor: Actor) -> list[dict[str, Any]]:
    """The running cases of a procedure with their model version (instances table only)."""
    require_owner(actor)
    with ctx.store.read() as conn:
        return ctx.store.running_cases_by_version(conn, process_id)
