"""The case file beside the workflow: comments, documents and the person of a child's case.

Only the parties of a case read or add to it (kernel.visible_case); reading a document and
correcting the person are logged (§ 35 SGB I, Art. 16 DSGVO), the audit naming the changed
fields, never the values.
"""
from __future__ import annotations

from typing import Any

from .. import documents as document_rules
from .. import privacy, texts
from ..domain import Actor, InvalidInput, NewDocument
from . import kernel
from .context import Context


def add_comment(ctx: Context, business_key: str, text: str, actor: Actor) -> None:
    text = (text or "").strip()
    if not text or len(text) > 5000:
        raise InvalidInput("Bitte geben Sie einen Kommentar (höchstens 5000 Zeichen) ein.", field="text")
    texts.check_free_text(text, "text", "Kommentar")
    with kernel.transaction(ctx) as (conn, now):
        row = kernel.visible_case(ctx, conn, business_key, actor)
        ctx.store.add_comment(conn, instance_id=row.id, author=actor.username, at=now, text=text)
        ctx.store.audit(conn, at=now, actor=actor.username, action="kommentar", instance_id=row.id,
                        business_key=row.business_key, details={"text": text})


def add_document(ctx: Context, business_key: str, document: NewDocument, actor: Actor) -> int:
    document_rules.check_document(document.name, document.content_type, document.content, document.field)
    with kernel.transaction(ctx) as (conn, now):
        row = kernel.visible_case(ctx, conn, business_key, actor)
        document_id = ctx.store.add_document(
            conn, instance_id=row.id, kind="upload", name=document.name, content_type=document.content_type,
            content=document.content, uploaded_by=actor.username, uploaded_at=now)
        ctx.store.audit(conn, at=now, actor=actor.username, action="dokument_hochgeladen", instance_id=row.id,
                        business_key=row.business_key, details={"dokument_id": document_id, "name": document.name})
        return document_id


def document(ctx: Context, business_key: str, document_id: int, actor: Actor) -> dict[str, Any]:
    """A document with its content; reading it is logged (children's data, § 35 SGB I)."""
    with kernel.transaction(ctx) as (conn, now):
        row = kernel.visible_case(ctx, conn, business_key, actor)
        found = ctx.store.document(conn, row.id, document_id)
        ctx.store.audit(conn, at=now, actor=actor.username, action="dokument_gelesen", instance_id=row.id,
                        business_key=row.business_key, details={"dokument_id": document_id, "name": found["name"]})
        return found


def update_person(ctx: Context, business_key: str, values: dict[str, Any], actor: Actor) -> list[str]:
    """Correct (or first record) the child and the guardians' address of a case, by the people
    working it (Art. 16 DSGVO). Returns the changed fields."""
    with kernel.transaction(ctx) as (conn, now):
        row = kernel.visible_case(ctx, conn, business_key, actor)      # who may, before what is wrong
        person = privacy.check_person(values, kernel.today(ctx))
        before = ctx.store.person(conn, row.person_id)
        changed = privacy.changed_fields(before, person)
        if not changed:
            return []
        if before is None:
            ctx.store.link_person(conn, row.id, ctx.store.add_person(conn, person, now))
        else:
            ctx.store.update_person(conn, before["id"], person, now)
        ctx.store.audit(conn, at=now, actor=actor.username, action="personendaten_geaendert", instance_id=row.id,
                        business_key=row.business_key, details={"felder": changed})
        return changed
