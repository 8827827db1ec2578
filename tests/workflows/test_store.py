"""Schema, migrations and the row-level guarantees of the store."""
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workflows.domain import Conflict
from workflows.store import audit_events, metadata, open_tasks

from ..helpers import PARTIES_LVR, SYSTEM


def test_migrations_build_exactly_the_declared_schema(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []
    assert store.dialect in ("sqlite", "postgresql")


def test_datetimes_round_trip_as_aware_utc(store):
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc)
    with store.transaction() as conn:
        store.audit(conn, at=moment, actor="t", action="test")
    with store.read() as conn:
        assert conn.execute(sa.select(audit_events.c.at)).scalar() == moment
    with pytest.raises(sa.exc.StatementError):
        with store.transaction() as conn:
            store.audit(conn, at=datetime(2026, 1, 1), actor="t", action="naiv")


def test_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            store.audit(conn, at=datetime.now(timezone.utc), actor="t", action="halb")
            raise RuntimeError("crash mid-step")
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar() == 0


def test_claim_is_compare_and_set(store, services, deploy):
    deploy("fuenf_schritte.bpmn")
    services.start_case("fuenf_schritte", "S-1", {}, SYSTEM, parties=PARTIES_LVR)
    with store.read() as conn:
        task_id = conn.execute(sa.select(open_tasks.c.task_id)).scalar()
    with store.transaction() as conn:
        store.set_claim(conn, task_id, "a", expected=None)
    with pytest.raises(Conflict):
        with store.transaction() as conn:
            store.set_claim(conn, task_id, "b", expected=None)
    with store.transaction() as conn:
        store.set_claim(conn, task_id, "b", expected="a")
