"""Deployed model versions: BPMN and forms, immutable once deployed, numbered per process.

A case refers to the version it runs on (`instances.model_version_id`); moving a case to a
newer one is workflows/usecases/umstellung.py, which lists the running cases per version from here.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import CaseStatus, NotFound
from .schema import instances, model_versions

_LATEST_VERSION = (sa.select(model_versions.c.id, model_versions.c.version)
                   .where(model_versions.c.process_id == sa.bindparam("p_process"))
                   .order_by(model_versions.c.version.desc()).limit(1))


def _model_dict(row) -> dict[str, Any]:
    data = dict(row._mapping)
    data["files"] = json.loads(data["files"])
    return data


class ModelRows:
    """Model versions and the cases running on them."""

    def add_model_version(self, conn: Connection, *, process_id: str, name: str, bpmn_xml: str,
                          files: dict[str, str], sha256: str, deployed_at: datetime,
                          deployed_by: str) -> dict[str, Any]:
        latest = conn.execute(sa.select(sa.func.max(model_versions.c.version))
                              .where(model_versions.c.process_id == process_id)).scalar()
        version = (latest or 0) + 1
        new_id = conn.execute(model_versions.insert().values(
            process_id=process_id, version=version, name=name, bpmn_xml=bpmn_xml,
            files=json.dumps(files), sha256=sha256, deployed_at=deployed_at,
            deployed_by=deployed_by)).inserted_primary_key[0]
        return self.model_version(conn, new_id)

    def model_version(self, conn: Connection, version_id: int) -> dict[str, Any]:
        row = conn.execute(sa.select(model_versions).where(model_versions.c.id == version_id)).first()
        if row is None:
            raise NotFound("Diese Modellversion gibt es nicht.", model_version_id=version_id)
        return _model_dict(row)

    def latest_model_version_id(self, conn: Connection, process_id: str) -> tuple[int, int]:
        """(id, version) of the newest version of a process, without loading its files."""
        row = conn.execute(_LATEST_VERSION, {"p_process": process_id}).first()
        if row is None:
            raise NotFound(f"Für „{process_id}“ ist kein Modell bereitgestellt.", process_id=process_id)
        return row.id, row.version

    def latest_model_version(self, conn: Connection, process_id: str) -> dict[str, Any]:
        row = conn.execute(sa.select(model_versions).where(model_versions.c.process_id == process_id)
                           .order_by(model_versions.c.version.desc()).limit(1)).first()
        if row is None:
            raise NotFound(f"Für „{process_id}“ ist kein Modell bereitgestellt.", process_id=process_id)
        return _model_dict(row)

    def procedures(self, conn: Connection) -> list[dict[str, Any]]:
        """Process id, name and number of each procedure's newest version, by name (model
        versions only: this runs on every inbox and board page)."""
        newest = (sa.select(model_versions.c.process_id, sa.func.max(model_versions.c.version).label("version"))
                  .group_by(model_versions.c.process_id).subquery())
        rows = conn.execute(sa.select(model_versions.c.process_id, model_versions.c.name, model_versions.c.version)
                            .join(newest, sa.and_(newest.c.process_id == model_versions.c.process_id,
                                                  newest.c.version == model_versions.c.version))
                            .order_by(model_versions.c.name))
        return [dict(r._mapping) for r in rows]

    def model_versions(self, conn: Connection) -> list[dict[str, Any]]:
        running = (sa.select(instances.c.model_version_id, sa.func.count().label("n"))
                   .where(instances.c.status == CaseStatus.RUNNING.value)
                   .group_by(instances.c.model_version_id).subquery())
        rows = conn.execute(
            sa.select(model_versions.c.id, model_versions.c.process_id, model_versions.c.version,
                      model_versions.c.name, model_versions.c.sha256, model_versions.c.deployed_at,
                      model_versions.c.deployed_by, sa.func.coalesce(running.c.n, 0).label("running"))
            .outerjoin(running, running.c.model_version_id == model_versions.c.id)
            .order_by(model_versions.c.process_id, model_versions.c.version))
        return [dict(r._mapping) for r in rows]

    def running_cases_by_version(self, conn: Connection, process_id: str) -> list[dict[str, Any]]:
        """The running cases of a procedure with their model version, oldest version first
        (instances and model versions only; workflows/usecases/umstellung.py)."""
        query = (sa.select(instances.c.business_key, instances.c.title, instances.c.status,
                           instances.c.model_version_id, model_versions.c.version, instances.c.updated_at)
                 .join(model_versions, model_versions.c.id == instances.c.model_version_id)
                 .where(instances.c.process_id == process_id, instances.c.status == CaseStatus.RUNNING.value)
                 .order_by(model_versions.c.version, instances.c.business_key))
        return [dict(r._mapping) for r in conn.execute(query)]
