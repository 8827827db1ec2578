"""Benchmark: what the services layer costs on top of the engine, and inbox query time.

Prints, for SQLite and (if BENCH_POSTGRES_URL is set) PostgreSQL:
- runs/s of "start a case and complete its 5 tasks" through workflows.services,
- runs/s of the same run in memory with a deserialize + serialize around each task
  (the engine as the services use it, without the database), and their ratio,
- the inbox query (index only, 50 rows by due date) with 100,000 open tasks.
Figures, not assertions: run with `make bench`.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflows import engine  # noqa: E402
from workflows.clock import FixedClock  # noqa: E402
from workflows.domain import PROCESS_OWNERS, Actor  # noqa: E402
from workflows.services import Workflows  # noqa: E402
from workflows.store import Store, instances, model_versions, open_tasks  # noqa: E402

BPMN = (ROOT / "tests" / "data" / "fuenf_schritte.bpmn").read_text(encoding="utf-8")
OWNER = Actor("bench.owner", frozenset({PROCESS_OWNERS}), None)
CLERK = Actor("bench.clerk", frozenset({"EGH-Sachbearbeitung"}), "LVR")
PARTIES = {"egh": "LVR"}
RUNS = int(os.environ.get("BENCH_RUNS", "200"))
TRIALS = int(os.environ.get("BENCH_TRIALS", "3"))
INDEX_ROWS = int(os.environ.get("BENCH_INDEX_ROWS", "100000"))


def raw_engine(runs: int) -> float:
    """Runs per second: start + 5 × (loads, complete, dumps), in memory."""
    model = engine.parse_model({"fuenf_schritte.bpmn": BPMN})
    started = time.perf_counter()
    for _ in range(runs):
        serialized = engine.dumps(engine.start(model, {"aktenzeichen": "X"}))
        for _ in range(5):
            workflow = engine.loads(serialized, model)
            [task] = engine.ready_human_tasks(workflow)
            engine.complete(workflow, task.task_id, {"ok": True})
            serialized = engine.dumps(workflow)
    return runs / (time.perf_counter() - started)


def services_layer(services: Workflows, runs: int, prefix: str) -> float:
    """Runs per second: start_case + 5 × complete_task, each one database transaction."""
    started = time.perf_counter()
    for i in range(runs):
        ref = services.start_case("fuenf_schritte", f"{prefix}-{i}", {}, CLERK, parties=PARTIES)
        for _ in range(5):
            ref = services.complete_task(ref.open_tasks[0]["task_id"], {"ok": True}, CLERK)
        assert ref.status == "completed"
    return runs / (time.perf_counter() - started)


def fill_index(store: Store, rows: int) -> None:
    """Bulk-insert `rows` cases with one open task each (index rows only; the JSON is a stub)."""
    now = datetime.now(timezone.utc)
    with store.transaction() as conn:
        version_id = conn.execute(model_versions.insert().values(
            process_id="bench", version=1, name="bench", bpmn_xml="", files="{}", sha256="0" * 64,
            deployed_at=now, deployed_by="bench")).inserted_primary_key[0]
    # lane/organisation mix: the benchmark's clerk (EGH-Sachbearbeitung, LVR) sees a quarter
    mix = [("EGH-Sachbearbeitung", "LVR"), ("EGH-Sachbearbeitung", "LWL"), ("Leitung", "LVR"),
           ("Leitung", "LWL"), ("Krankenkasse", "AOK Rheinland/Hamburg"),
           ("Leistungserbringer", "IFF Köln-Süd"), ("EGH-Sachbearbeitung", "LVR"),
           ("Krankenkasse", "AOK Rheinland/Hamburg")]
    batch = 5000
    for start in range(0, rows, batch):
        with store.transaction() as conn:
            conn.execute(instances.insert(), [dict(
                business_key=f"IDX-{n:07d}", process_id="bench", model_version_id=version_id, title="",
                parties="{}", status="running", workflow_json="{}", version=1, created_at=now,
                updated_at=now) for n in range(start, min(rows, start + batch))])
            ids = conn.execute(instances.select().with_only_columns(instances.c.id, instances.c.business_key)
                               .where(instances.c.business_key >= f"IDX-{start:07d}",
                                      instances.c.business_key < f"IDX-{start + batch:07d}")).all()
            conn.execute(open_tasks.insert(), [dict(
                task_id=f"{iid:036d}", instance_id=iid, business_key=key, process_id="bench",
                spec_name="t", title="Aufgabe", lane=mix[iid % 8][0], organisation=mix[iid % 8][1],
                form=None, created_at=now, due_date=(now + timedelta(days=iid % 400)).date(), claimed_by=None)
                for iid, key in ids])


def inbox_query_ms(services: Workflows, repeats: int = 30) -> tuple[float, int]:
    timings, found = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        found = len(services.inbox(CLERK, limit=50))
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), found


def bench(name: str, store: Store, raw: float) -> None:
    store.migrate()
    services = Workflows(store, FixedClock(datetime(2026, 3, 2, 9, tzinfo=timezone.utc)))
    services.deploy_model({"fuenf_schritte.bpmn": BPMN}, OWNER)
    services_layer(services, 10, "warm")
    per_second = statistics.median(services_layer(services, RUNS, f"run{t}") for t in range(TRIALS))
    print(f"{name:10s} services layer: {per_second:8.1f} runs/s ({per_second * 6:6.0f} steps/s)   "
          f"raw engine+serialization: {raw:8.1f} runs/s   cost ratio per step: {raw / per_second:4.2f}x")
    started = time.perf_counter()
    fill_index(store, INDEX_ROWS)
    fill_seconds = time.perf_counter() - started
    if store.dialect == "postgresql":           # as autovacuum would: the planner needs statistics
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    median_ms, found = inbox_query_ms(services)
    print(f"{name:10s} inbox query with {INDEX_ROWS:,} open tasks: median {median_ms:6.2f} ms "
          f"({found} rows returned; index filled in {fill_seconds:.1f} s)")


def main() -> None:
    print(f"start + 5 completed tasks, {RUNS} runs per trial, median of {TRIALS} trials")
    engine.parse_model({"fuenf_schritte.bpmn": BPMN})
    raw_engine(10)
    raw = statistics.median(raw_engine(RUNS) for _ in range(TRIALS))
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite", Store(f"sqlite:///{tmp}/bench.db"), raw)
    url = os.environ.get("BENCH_POSTGRES_URL")
    if url:
        store = Store(url)
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        bench("PostgreSQL", store, raw)
    else:
        print("PostgreSQL: skipped (BENCH_POSTGRES_URL not set; `make bench` sets it)")


if __name__ == "__main__":
    main()
