"""Benchmark: the deadline board with 100,000 open deadlines (index tables only).

Prints the median time of the board's first page (50 rows, sorted by urgency, with the
total count) for a supervisor of one organisation and for a cross-organisation view,
on SQLite and (with BENCH_POSTGRES_URL) PostgreSQL. Figures, not assertions: `make bench`.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflows.board import BoardQuery  # noqa: E402
from workflows.clock import FixedClock  # noqa: E402
from workflows.domain import PROCESS_OWNERS, Actor  # noqa: E402
from workflows.services import Workflows  # noqa: E402
from workflows.store import Store, case_parties, deadlines, instances, model_versions, open_tasks  # noqa: E402

ROWS = int(os.environ.get("BENCH_DEADLINES", "100000"))
TODAY = date(2026, 11, 23)
LEITUNG = Actor("bench.leitung", frozenset({"Leitung"}), "LVR")
OWNER = Actor("bench.owner", frozenset({PROCESS_OWNERS}), None)


def fill(store: Store, rows: int) -> None:
    now = datetime.now(timezone.utc)
    with store.transaction() as conn:
        version = conn.execute(model_versions.insert().values(
            process_id="bench", version=1, name="bench", bpmn_xml="", files="{}", sha256="0" * 64,
            deployed_at=now, deployed_by="bench")).inserted_primary_key[0]
    for start in range(0, rows, 5000):
        with store.transaction() as conn:
            batch = range(start, min(rows, start + 5000))
            conn.execute(instances.insert(), [dict(
                id=n + 1, business_key=f"B-{n:07d}", process_id="bench", model_version_id=version, title="Bench",
                parties=json.dumps({"egh": "LVR" if n % 2 else "LWL", "krankenkasse": "AOK Rheinland/Hamburg"}),
                status="running", workflow_json="{}", version=1, index_fingerprint="{}", created_at=now,
                updated_at=now) for n in batch])
            conn.execute(case_parties.insert(), [dict(instance_id=n + 1, party=party, organisation=org)
                                                 for n in batch for party, org in
                                                 (("egh", "LVR" if n % 2 else "LWL"), ("krankenkasse", "AOK Rheinland/Hamburg"))])
            conn.execute(deadlines.insert(), [dict(
                instance_id=n + 1, key="frist", business_key=f"B-{n:07d}", process_id="bench",
                rule="lrv5-verhandlungstermin", title="Verhandlungstermin", legal_basis="§ 5 Abs. 2 LRV",
                event_date=TODAY - timedelta(days=n % 200), end_date=TODAY + timedelta(days=90 - n % 200),
                shifted_end=TODAY + timedelta(days=92 - n % 200), explanation="…", reading=None, soll=True,
                status="laufend", met_on=None) for n in batch])
            conn.execute(open_tasks.insert(), [dict(
                task_id=f"{n:036d}", instance_id=n + 1, business_key=f"B-{n:07d}", process_id="bench",
                spec_name="t", title="Aufgabe", lane="EGH-Sachbearbeitung", organisation="LVR" if n % 2 else "LWL",
                form=None, created_at=now, deadline_key="frist", due_date=TODAY + timedelta(days=90 - n % 200),
                claimed_by=None) for n in batch if n % 3 == 0])


def median_ms(call, repeats: int = 15) -> float:
    call()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def bench(name: str, store: Store) -> None:
    store.migrate()
    started = time.perf_counter()
    fill(store, ROWS)
    filled = time.perf_counter() - started
    if store.dialect == "postgresql":           # as autovacuum would: the planner needs statistics
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    services = Workflows(store, FixedClock(datetime(2026, 11, 23, 9, tzinfo=timezone.utc)))
    for label, actor, query in (("LVR-Leitung, alle offenen", LEITUNG, BoardQuery()),
                                ("LVR-Leitung, überfällig", LEITUNG, BoardQuery(state="ueberfaellig")),
                                ("Prozessverantwortliche, alle", OWNER, BoardQuery())):
        rows, total = services.board(actor, query)
        ms = median_ms(lambda: services.board(actor, query))
        print(f"{name:10s} board {label:30s}: median {ms:7.2f} ms ({len(rows)} of {total:,} rows)")
    print(f"{name:10s} ({ROWS:,} open deadlines filled in {filled:.1f} s)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite", Store(f"sqlite:///{tmp}/board.db"))
    url = os.environ.get("BENCH_POSTGRES_URL")
    if url:
        store = Store(url)
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        bench("PostgreSQL", store)


if __name__ == "__main__":
    main()
