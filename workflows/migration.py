"""Moving running cases to a newer version of their model (process owners only).

`model_diff` shows what the newer version adds, changes and removes for one case and
whether it can move; `migrate_cases` moves cases, each in its own transaction with the
version check, and refuses (with a German reason) a case that stands on a removed step.
The functions work on a `services.Workflows` (its store, clock and model cache).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import engine
from .domain import PROCESS_OWNERS, Actor, CaseStatus, Conflict, DomainError, Forbidden, InvalidInput
from .store import instances

if TYPE_CHECKING:
    from .services import Workflows


def require_owner(actor: Actor, what: str = "Modelle verwalten") -> None:
    if not (actor.is_system or PROCESS_OWNERS in actor.groups):
        raise Forbidden(f"Nur Prozessverantwortliche dürfen {what}.")


def model_diff(workflows: "Workflows", business_key: str, new_version_id: int, actor: Actor) -> dict[str, Any]:
    """Added, changed and removed elements between a case's version and `new_version_id`,
    and whether the case can be moved (`blocking` lists what prevents it)."""
    require_owner(actor, "Modellversionen vergleichen")
    with workflows.store.read() as conn:
        row = workflows.store.instance_by_key(conn, business_key)
        target = _target(workflows, conn, row, new_version_id)
        workflow = engine.loads(row.workflow_json, workflows._model(conn, row.model_version_id))
        diff = engine.diff_case(workflow, workflows._model(conn, new_version_id))
        current = workflows.store.model_version(conn, row.model_version_id)
    return {**diff, "business_key": row.business_key, "from_version": current["version"],
            "to_version": target["version"], "migratable": not diff["blocking"] and row.status == "running"}


def migrate_cases(workflows: "Workflows", business_keys: list[str], new_version_id: int,
                  actor: Actor) -> dict[str, Any]:
    """Move each case to `new_version_id`, one transaction per case.

    Returns {"migrated": [keys], "refused": {key: German reason}}; a refused case is
    left exactly as it was."""
    require_owner(actor, "Vorgänge auf eine neue Modellversion umstellen")
    migrated, refused = [], {}
    for key in dict.fromkeys(business_keys):
        try:
            _migrate_one(workflows, key, new_version_id, actor)
            migrated.append(key)
        except DomainError as err:
            refused[key] = err.message
    return {"migrated": migrated, "refused": refused}


def _migrate_one(workflows: "Workflows", business_key: str, new_version_id: int, actor: Actor) -> None:
    with workflows._step() as (conn, now):
        row = workflows.store.instance_by_key(conn, business_key)
        row = workflows.store.instance(conn, row.id, for_update=True)
        target = _target(workflows, conn, row, new_version_id)
        if row.status != CaseStatus.RUNNING.value:
            raise Conflict("Nur laufende Vorgänge können umgestellt werden.")
        old = workflows.store.model_version(conn, row.model_version_id)
        workflow = engine.loads(row.workflow_json, workflows._model(conn, row.model_version_id))
        migrated = engine.migrate(workflow, workflows._model(conn, new_version_id))
        workflows._save(conn, row, migrated, now)            # version check, index rewritten
        conn.execute(instances.update().where(instances.c.id == row.id)
                     .values(model_version_id=new_version_id))
        workflows.store.audit(conn, at=now, actor=actor.username, action="modell_migriert",
                              instance_id=row.id, business_key=row.business_key,
                              details={"process_id": row.process_id, "von_version": old["version"],
                                       "auf_version": target["version"]})


def _target(workflows: "Workflows", conn, row, new_version_id: int) -> dict[str, Any]:
    target = workflows.store.model_version(conn, new_version_id)
    if target["process_id"] != row.process_id:
        raise InvalidInput("Die Version gehört zu einem anderen Verfahren.")
    if row.model_version_id == new_version_id:
        raise Conflict("Der Vorgang läuft bereits auf dieser Version.")
    return target


def cases_by_version(workflows: "Workflows", process_id: str, actor: Actor) -> list[dict[str, Any]]:
    """The running cases of a procedure with their model version (instances table only)."""
    require_owner(actor)
    from .store import model_versions
    query = (sa.select(instances.c.business_key, instances.c.title, instances.c.status,
                       instances.c.model_version_id, model_versions.c.version, instances.c.updated_at)
             .join(model_versions, model_versions.c.id == instances.c.model_version_id)
             .where(instances.c.process_id == process_id, instances.c.status == CaseStatus.RUNNING.value)
             .order_by(model_versions.c.version, instances.c.business_key))
    with workflows.store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
