"""Migration 0007 (issue: security findings, "cases without parties leak"): open tasks without
an organisation were in every organisation's inbox. The migration gives such a case the
organisation of the user who started it where that user worked for the missing party, and
marks every other such case failed, so no task is anybody's. SQLite and PostgreSQL."""
import json

import pytest
import sqlalchemy as sa
from alembic import command

from workflows import store as tables
from workflows.domain import Actor, Conflict, Forbidden, InvalidInput

from ..helpers import PARTIES_LVR, SACHBEARBEITUNG_LVR, SACHBEARBEITUNG_LWL, SYSTEM, read


def _as_before_the_fix(store, key: str) -> None:
    """What a start without parties left behind before this round."""
    with store.transaction() as conn:
        instance_id = conn.execute(sa.select(tables.instances.c.id)
                                   .where(tables.instances.c.business_key == key)).scalar()
        conn.execute(tables.instances.update().where(tables.instances.c.id == instance_id).values(parties="{}"))
        conn.execute(tables.case_parties.delete().where(tables.case_parties.c.instance_id == instance_id))
        conn.execute(tables.open_tasks.update().where(tables.open_tasks.c.instance_id == instance_id)
                     .values(organisation=None))


def _instance(store, key: str):
    with store.read() as conn:
        return conn.execute(sa.select(tables.instances).where(tables.instances.c.business_key == key)).one()


def _task_organisations(store, key: str) -> set:
    with store.read() as conn:
        return set(conn.execute(sa.select(tables.open_tasks.c.organisation)
                                .where(tables.open_tasks.c.business_key == key)).scalars())


def test_migration_repairs_from_the_starter_and_flags_the_rest(services, store):
    with store.transaction() as conn:
        store.add_user(conn, username="sabine.lvr", display_name="Sabine", password_hash="x", organisation="LVR",
                       groups=["EGH-Sachbearbeitung"])
    services.deploy_model({"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")},
                          Actor("paula.prozess", frozenset({"Prozessverantwortliche"})))
    services.start_case("fuenf_schritte", "ALT-SABINE", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    services.start_case("fuenf_schritte", "ALT-SYSTEM", {}, SYSTEM, parties=PARTIES_LVR)
    services.start_case("fuenf_schritte", "MIT-PARTEIEN", {}, SYSTEM, parties=PARTIES_LVR)
    config = tables.alembic_config(store.engine)
    command.downgrade(config, "0006")
    _as_before_the_fix(store, "ALT-SABINE")
    _as_before_the_fix(store, "ALT-SYSTEM")
    # the leak as it was: LWL's caseworker saw LVR's tasks without an organisation
    assert "ALT-SABINE" in {t["business_key"] for t in _old_inbox(store, "LWL")}

    command.upgrade(config, "head")

    repaired = _instance(store, "ALT-SABINE")
    assert json.loads(repaired.parties) == {"egh": "LVR"} and repaired.status == "running"
    assert _task_organisations(store, "ALT-SABINE") == {"LVR"}
    flagged = _instance(store, "ALT-SYSTEM")
    assert flagged.status == "error" and flagged.retry_at is None
    assert "keine zuständige Organisation eingetragen (Träger der Eingliederungshilfe)" in flagged.error
    untouched = _instance(store, "MIT-PARTEIEN")
    assert untouched.status == "running" and json.loads(untouched.parties) == PARTIES_LVR
    lwl = {t["business_key"] for t in services.inbox(SACHBEARBEITUNG_LWL)}
    lvr = {t["business_key"] for t in services.inbox(SACHBEARBEITUNG_LVR)}
    assert lwl == set() and lvr == {"ALT-SABINE", "MIT-PARTEIEN"}
    assert {c["business_key"] for c in services.failed_cases(SYSTEM)} == {"ALT-SYSTEM"}
    actions = [h["action"] for h in services.case("ALT-SABINE", SACHBEARBEITUNG_LVR)["history"]]
    assert actions[-1] == "beteiligte_ergaenzt"


def _old_inbox(store, organisation: str) -> list[dict]:
    """The inbox query as it was before this round (a NULL organisation matched everyone)."""
    with store.read() as conn:
        rows = conn.execute(sa.select(tables.open_tasks.c.business_key).where(
            tables.open_tasks.c.lane == "EGH-Sachbearbeitung",
            sa.or_(tables.open_tasks.c.organisation == organisation, tables.open_tasks.c.organisation.is_(None))))
        return [{"business_key": key} for key in rows.scalars()]


def test_a_process_owner_completes_the_parties_then_retries(services, store):
    owner = Actor("paula.prozess", frozenset({"Prozessverantwortliche"}))
    services.deploy_model({"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")}, owner)
    services.start_case("fuenf_schritte", "ALT-1", {}, SYSTEM, parties=PARTIES_LVR)
    config = tables.alembic_config(store.engine)
    command.downgrade(config, "0006")
    _as_before_the_fix(store, "ALT-1")
    command.upgrade(config, "head")
    [failed] = services.failed_cases(owner)
    assert failed["missing_parties"] == ["egh"]
    with pytest.raises(Conflict, match="Bitte ergänzen Sie zuerst die zuständigen Organisationen"):
        services.retry_failed_case("ALT-1", owner)
    with pytest.raises(Forbidden):
        services.complete_parties("ALT-1", {"egh": "LVR"}, SACHBEARBEITUNG_LVR)
    with pytest.raises(InvalidInput, match="keine Organisation zu ergänzen"):
        services.complete_parties("ALT-1", {"krankenkasse": "AOK"}, owner)
    services.complete_parties("ALT-1", {"egh": "LVR"}, owner)
    assert _task_organisations(store, "ALT-1") == {"LVR"}
    assert services.retry_failed_case("ALT-1", owner) == "running"
    assert {t["business_key"] for t in services.inbox(SACHBEARBEITUNG_LVR)} == {"ALT-1"}
    assert services.inbox(SACHBEARBEITUNG_LWL) == []
    with pytest.raises(InvalidInput):                       # an existing party is never replaced
        services.complete_parties("ALT-1", {"egh": "LWL"}, owner)


def test_migration_0009_renames_the_audit_action_of_an_umstellung(store):
    """Old audit entries of a version move keep their meaning under the new name."""
    from datetime import datetime, timezone
    config = tables.alembic_config(store.engine)
    command.downgrade(config, "0008")
    with store.transaction() as conn:
        conn.execute(sa.text("INSERT INTO audit_events (at, actor, action, details) VALUES (:at, 'p', 'modell_migriert', '{}')"),
                     {"at": datetime(2026, 1, 1, tzinfo=timezone.utc).replace(tzinfo=None)})
    command.upgrade(config, "head")
    with store.read() as conn:
        actions = set(conn.execute(sa.select(tables.audit_events.c.action)).scalars())
    assert actions == {"vorgang_umgestellt"}
