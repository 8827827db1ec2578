"""every task has its organisation: repair cases started without parties, flag the rest

Revision ID: 0007
Revises: 0006

Cases started without `parties` (the API's default until now) had open tasks without an
organisation, and such a task was in every organisation's inbox. From this revision on a
start names every party its lanes need (the starting user's own party is taken from their
organisation), and a task without an organisation is nobody's. This migration repairs the
cases it can: a missing party is the organisation of the user who started the case if that
user worked for that party (audit entry `vorgang_angelegt`). A case it cannot repair is
marked failed (status `error`, no automatic retry) with a German reason, so Leitung and the
process owners see it on the board and no one else sees its tasks.
"""
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

#: lanes worked by one organisation -> their party (as workflows.domain.LANES on this date)
LANE_PARTY = {"EGH-Sachbearbeitung": "egh", "Leitung": "egh", "Krankenkasse": "krankenkasse",
              "Leistungserbringer": "leistungserbringer"}
LABELS = {"egh": "Träger der Eingliederungshilfe", "krankenkasse": "Krankenkasse",
          "leistungserbringer": "Leistungserbringer"}

instances = sa.table("instances", sa.column("id", sa.Integer), sa.column("business_key", sa.String),
                     sa.column("parties", sa.Text), sa.column("status", sa.String), sa.column("error", sa.Text),
                     sa.column("retry_at", sa.DateTime), sa.column("version", sa.Integer))
open_tasks = sa.table("open_tasks", sa.column("instance_id", sa.Integer), sa.column("lane", sa.String),
                      sa.column("organisation", sa.String))
case_parties = sa.table("case_parties", sa.column("instance_id", sa.Integer), sa.column("party", sa.String),
                        sa.column("organisation", sa.String))
audit_events = sa.table("audit_events", sa.column("id", sa.Integer), sa.column("at", sa.DateTime),
                        sa.column("actor", sa.String), sa.column("action", sa.String),
                        sa.column("instance_id", sa.Integer), sa.column("business_key", sa.String),
                        sa.column("details", sa.Text))
users = sa.table("users", sa.column("username", sa.String), sa.column("organisation", sa.String),
                 sa.column("groups", sa.Text))


def upgrade() -> None:
    conn = op.get_bind()
    orphans = conn.execute(sa.select(open_tasks.c.instance_id, open_tasks.c.lane).distinct().where(
        open_tasks.c.organisation.is_(None), open_tasks.c.lane.in_(sorted(LANE_PARTY)))).all()
    lanes_of: dict[int, set[str]] = {}
    for instance_id, lane in orphans:
        lanes_of.setdefault(instance_id, set()).add(lane)
    now = datetime.now(timezone.utc)
    at = now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now
    for instance_id, lanes in sorted(lanes_of.items()):
        _repair(conn, instance_id, lanes, at)


def _repair(conn, instance_id: int, lanes: set[str], at) -> None:
    row = conn.execute(sa.select(instances.c.business_key, instances.c.parties)
                       .where(instances.c.id == instance_id)).one()
    parties = json.loads(row.parties or "{}")
    starter = _starter(conn, instance_id)
    missing = []
    for party in sorted({LANE_PARTY[lane] for lane in lanes}):
        organisation = parties.get(party)
        if not organisation and starter and party in starter[1]:
            organisation = parties[party] = starter[0]
            conn.execute(case_parties.insert().values(instance_id=instance_id, party=party, organisation=organisation))
        if organisation:
            conn.execute(open_tasks.update().where(
                open_tasks.c.instance_id == instance_id, open_tasks.c.organisation.is_(None),
                open_tasks.c.lane.in_([lane for lane, p in LANE_PARTY.items() if p == party]))
                .values(organisation=organisation))
        else:
            missing.append(LABELS[party])
    conn.execute(instances.update().where(instances.c.id == instance_id)
                 .values(parties=json.dumps(parties), version=instances.c.version + 1))
    if missing:
        reason = ("Für diesen Vorgang ist keine zuständige Organisation eingetragen (" + ", ".join(missing)
                  + "); seine Aufgaben sind gesperrt, bis die Beteiligten ergänzt sind.")
        conn.execute(instances.update().where(instances.c.id == instance_id)
                     .values(status="error", error=reason, retry_at=None))
        conn.execute(audit_events.insert().values(
            at=at, actor="migration", action="fehler", instance_id=instance_id,
            business_key=row.business_key, details=json.dumps({"fehler": reason}, ensure_ascii=False)))
    else:
        conn.execute(audit_events.insert().values(
            at=at, actor="migration", action="beteiligte_ergaenzt", instance_id=instance_id,
            business_key=row.business_key, details=json.dumps({"beteiligte": parties}, ensure_ascii=False)))


def _starter(conn, instance_id: int) -> tuple[str, set[str]] | None:
    """The organisation of the user who started the case and the parties that user works for."""
    actor = conn.execute(sa.select(audit_events.c.actor).where(
        audit_events.c.instance_id == instance_id, audit_events.c.action == "vorgang_angelegt")
        .order_by(audit_events.c.id).limit(1)).scalar()
    user = conn.execute(sa.select(users.c.organisation, users.c.groups).where(users.c.username == actor)).first()
    if user is None or not user.organisation:
        return None
    return user.organisation, {LANE_PARTY[g] for g in json.loads(user.groups or "[]") if g in LANE_PARTY}


def downgrade() -> None:
    """Nothing to undo: the repaired organisations are correct, flagged cases stay flagged."""
