"""Person records: the child's identity and the guardians' postal address, nowhere else.

Workflow JSON, index tables, titles, audit and mails carry at most `persons.id`
(pseudonymisation, Art. 4 Nr. 5, Art. 25 DSGVO). A record is deleted with the child's last
case (`delete_person_if_unused`, called by the deletion run in workflows/privacy.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import instances, persons


class PersonRows:
    """Add, read, correct and delete person records; link one to a case."""

    def add_person(self, conn: Connection, values: dict[str, Any], now: datetime) -> int:
        return conn.execute(persons.insert().values(**values, created_at=now, updated_at=now)
                            ).inserted_primary_key[0]

    def person(self, conn: Connection, person_id: int | None) -> dict[str, Any] | None:
        if person_id is None:
            return None
        row = conn.execute(sa.select(persons).where(persons.c.id == person_id)).first()
        return None if row is None else dict(row._mapping)

    def update_person(self, conn: Connection, person_id: int, values: dict[str, Any], now: datetime) -> None:
        conn.execute(persons.update().where(persons.c.id == person_id).values(**values, updated_at=now))

    def link_person(self, conn: Connection, instance_id: int, person_id: int) -> None:
        conn.execute(instances.update().where(instances.c.id == instance_id).values(person_id=person_id))

    def delete_person_if_unused(self, conn: Connection, person_id: int) -> bool:
        """Delete the person record unless a case still refers to it; True if deleted."""
        others = conn.execute(sa.select(sa.func.count()).select_from(instances)
                              .where(instances.c.person_id == person_id)).scalar()
        if others:
            return False
        conn.execute(persons.delete().where(persons.c.id == person_id))
        return True
