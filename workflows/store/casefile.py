"""The case file besides the workflow: documents (uploads, Bescheide), comments, the audit.

The audit trail is append-only for the application: every step writes its event in the same
transaction as the case (`audit`); only the deletion run rewrites a deleted case's events
(`CaseRows.delete_instance`). Document content is read only one document at a time.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import NotFound
from .schema import audit_events, comments, documents

_INSERT_AUDIT = audit_events.insert()


class CaseFileRows:
    """Documents, comments and audit events of a case."""

    # -- documents and comments

    def add_document(self, conn: Connection, *, instance_id: int, kind: str, name: str,
                     content_type: str, content: bytes, uploaded_by: str, uploaded_at: datetime,
                     task_id: str | None = None) -> int:
        return conn.execute(documents.insert().values(
            instance_id=instance_id, kind=kind, name=name, content_type=content_type, size=len(content),
            sha256=hashlib.sha256(content).hexdigest(), content=content, task_id=task_id,
            uploaded_by=uploaded_by, uploaded_at=uploaded_at)).inserted_primary_key[0]

    def documents_of(self, conn: Connection, instance_id: int) -> list[dict[str, Any]]:
        """Document metadata of a case (without the content)."""
        rows = conn.execute(sa.select(*[c for c in documents.c if c.name != "content"])
                            .where(documents.c.instance_id == instance_id).order_by(documents.c.id))
        return [dict(r._mapping) for r in rows]

    def document(self, conn: Connection, instance_id: int, document_id: int) -> dict[str, Any]:
        row = conn.execute(sa.select(documents).where(documents.c.id == document_id,
                                                      documents.c.instance_id == instance_id)).first()
        if row is None:
            raise NotFound("Dieses Dokument gibt es in diesem Vorgang nicht.", document_id=document_id)
        return dict(row._mapping)

    def add_comment(self, conn: Connection, *, instance_id: int, author: str, at: datetime, text: str) -> None:
        conn.execute(comments.insert().values(instance_id=instance_id, author=author, at=at, text=text))

    def comments_of(self, conn: Connection, instance_id: int) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(comments).where(comments.c.instance_id == instance_id)
                            .order_by(comments.c.id))
        return [dict(r._mapping) for r in rows]

    # -- audit

    def audit(self, conn: Connection, *, at: datetime, actor: str, action: str,
              instance_id: int | None = None, business_key: str | None = None,
              task_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        conn.execute(_INSERT_AUDIT, dict(
            at=at, actor=actor, action=action, instance_id=instance_id, business_key=business_key,
            task_id=task_id, details=json.dumps(details or {}, ensure_ascii=False, default=str)))

    def history(self, conn: Connection, instance_id: int) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(audit_events).where(audit_events.c.instance_id == instance_id)
                            .order_by(audit_events.c.id))
        return [{**dict(r._mapping), "details": json.loads(r.details)} for r in rows]
