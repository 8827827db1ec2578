"""About a minute of load over the REST API against real gunicorn workers and two timer
workers on PostgreSQL, with the simulation clock moving so deadlines fall due meanwhile.
Afterwards: no step lost, none doubled, no timer fired twice, every case consistent.

RELIABILITY_LOAD_SECONDS sets the duration (default 60); the request loop also stops after
a fixed number of requests.

Slow clients (security review, finding 9): 50 connections that never finish their headers
must not make the instance unavailable; normal requests keep being answered meanwhile."""
from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from workflows.clock import BERLIN, FixedClock
from workflows.services import Workflows
from workflows.store import Store, audit_events

from ..helpers import PARTIES_LVR, SYSTEM, assert_consistent, own_database, read, task_states
from .servers import Client, Launcher, SlowClients, fired_by, prepare, timed_get

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
#: the simulated time the run starts at: the prepared deadlines fall due from the first day on
START = NOW + timedelta(days=13)
SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "60"))
MAX_REQUESTS = 20000
#: the slow-client case: this many connections for this long (bounded), normal requests meanwhile
#: must each be answered within ANSWER_SECONDS
SLOW_CONNECTIONS = 50
SLOW_SECONDS = 25.0
ANSWER_SECONDS = 3.0
MAX_CLOCK_DAYS = 45
PROCESSES = ("fuenf_schritte", "fristpruefung", "frist_abbruch", "vertrag_warten")
#: (user, may start cases and send events)
THREADS = [("sabine.lvr", True), ("sabine.lvr", True), ("karl.lvr", True), ("ines.iff", False),
           ("lena.leitung", False)]


class Load:
    """The client side: what was sent and what came back."""

    def __init__(self, address: str, tokens: dict[str, str]):
        self.address, self.tokens = address, tokens
        self.deadline = time.monotonic() + SECONDS
        self.lock = threading.Lock()
        self.requests = Counter()                        # status -> count (None: no answer)
        self.completions: list[tuple[str, int | None]] = []
        self.waiting_cases: list[str] = []               # vertrag_warten cases for signals and messages
        self.clock_moves = 0
        self.simulated = START

    def call(self, client: Client, method: str, path: str, body=None):
        status, answer = client.call(method, path, body, timeout=60)
        with self.lock:
            self.requests[status] += 1
        return status, answer

    def going(self) -> bool:
        return time.monotonic() < self.deadline and sum(self.requests.values()) < MAX_REQUESTS

    def run(self, index: int) -> None:
        username, starts = THREADS[index]
        rnd, client = random.Random(index), Client(self.address, self.tokens[username])
        owner, iteration = Client(self.address, self.tokens["paula.prozess"]), 0
        while self.going():
            iteration += 1
            if index == 0 and iteration % 5 == 0 and self.clock_moves < MAX_CLOCK_DAYS:
                self.simulated += timedelta(days=1)
                self.clock_moves += 1
                self.call(owner, "PUT", "/clock", {"now": self.simulated.isoformat(), "frozen": True})
            choice = rnd.random()
            if starts and choice < 0.2:
                self.start(client, rnd, f"L-{index}-{iteration}")
            elif starts and choice < 0.35 and self.waiting_cases:
                key = rnd.choice(self.waiting_cases)
                self.call(client, "POST", f"/cases/{key}/signals", {"name": "mustervertrag_verabschiedet"})
                self.call(client, "POST", f"/cases/{key}/messages", {"name": "unterschrift_eingegangen"})
            else:
                self.work(client, rnd)

    def start(self, client: Client, rnd: random.Random, key: str) -> None:
        process = rnd.choice(PROCESSES)
        data = {"eingang_am": (NOW.date() - timedelta(days=rnd.randint(60, 100))).isoformat()} \
            if process == "fristpruefung" else {}
        status, _ = self.call(client, "POST", "/cases", {"process_id": process, "business_key": key,
                                                         "data": data, "parties": PARTIES_LVR})
        if status == 201 and process == "vertrag_warten":
            with self.lock:
                self.waiting_cases.append(key)

    def work(self, client: Client, rnd: random.Random) -> None:
        status, page = self.call(client, "GET", "/tasks?per_page=20")
        if status != 200 or not page["items"]:
            return
        task = rnd.choice(page["items"])
        if rnd.random() < 0.3:
            self.call(client, "POST", f"/tasks/{task['task_id']}/claim")
        data = {"vollstaendig": rnd.random() < 0.6} if task["form"] else {}
        status, _ = self.call(client, "POST", f"/tasks/{task['task_id']}/complete", {"data": data})
        with self.lock:
            self.completions.append((task["task_id"], status))


@pytest.fixture
def launcher(tmp_path):
    launcher = Launcher(own_database("last"), tmp_path)
    yield launcher
    launcher.kill_all()


@pytest.mark.postgres
@pytest.mark.timeout(int(SECONDS) + 180)
def test_a_minute_of_load_loses_and_doubles_nothing(launcher):
    store = Store(launcher.env["FF_DATABASE_URL"])
    try:
        store.migrate()
        clock = FixedClock(NOW)
        services = Workflows(store, clock)
        for process in PROCESSES:
            files = {f"{process}.bpmn": read(f"{process}.bpmn")}
            if process == "fristpruefung":
                files["pruefen.json"] = read("pruefen.json")
            services.deploy_model(files, SYSTEM)
        for i in range(40):            # LWL's deadlines (no client works them), due six hours apart
            services.start_case("frist_abbruch", f"LWL-D-{i:02d}", {}, SYSTEM, parties={**PARTIES_LVR, "egh": "LWL"})
            clock.advance(timedelta(hours=6))
        tokens = prepare(store, START)
        server, address = launcher.gunicorn(workers=3)
        timers = [launcher.timer_worker("timer-a"), launcher.timer_worker("timer-b")]
        load = Load(address, tokens)
        started = time.monotonic()
        threads = [threading.Thread(target=load.run, args=(i,)) for i in range(len(THREADS))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 120)
            assert not t.is_alive(), "ein Lastthread hängt"
        elapsed = time.monotonic() - started
        assert [w.stop() for w in timers] == [0, 0] and server.stop() == 0

        with store.read() as conn:
            events = conn.execute(sa.select(audit_events.c.action, audit_events.c.task_id,
                                            audit_events.c.instance_id, audit_events.c.details)).all()
        done = Counter(e.task_id for e in events if e.action == "aufgabe_erledigt")
        # timers the workers fired; those that fell due within a user's step say so in the audit
        fired = Counter(e.instance_id for e in events if e.action == "timer_ausgeloest"
                        and "schritt_von" not in json.loads(e.details))
        in_steps = sum(1 for e in events if e.action == "timer_ausgeloest" and "schritt_von" in json.loads(e.details))
        acknowledged = [tid for tid, status in load.completions if status == 200]
        unanswered = sum(1 for _, status in load.completions if status is None)
        per_worker = {w.name: fired_by(w) for w in timers}
        states = task_states(services)
        figures = (f"{sum(load.requests.values())} Anfragen in {elapsed:.0f} s "
                   f"({sum(load.requests.values()) / elapsed:.0f}/s), Status {dict(load.requests)}; "
                   f"{len(load.completions)} Erledigungen versucht, {len(acknowledged)} bestätigt, "
                   f"{sum(1 for _, s in load.completions if s == 409)} Konflikte; "
                   f"Uhr {load.clock_moves} Tage vorgestellt; Timer ausgelöst je Worker {per_worker}, "
                   f"im Verlauf {sum(fired.values())}, in Bearbeitungsschritten fällig geworden {in_steps}")
        print(f"\n[Last] {figures}")
        assert not [s for s in load.requests if s is not None and s >= 500], figures
        assert len(acknowledged) == len(set(acknowledged)), figures                  # nothing doubled
        assert all(done[t] == 1 and states[t] == "erledigt" for t in acknowledged), figures   # nothing lost
        assert 0 <= sum(done.values()) - len(acknowledged) <= unanswered, figures
        assert all(n == 1 for n in done.values()), figures
        assert sum(per_worker.values()) == sum(fired.values()) > 0, figures
        assert not [e for e in events if e.action == "fehler"], figures
        assert len(acknowledged) > 100 and sum(load.requests.values()) > 500, figures
        assert_consistent(services)
    finally:
        store.dispose()


@pytest.mark.timeout(90)
def test_slow_clients_do_not_make_the_instance_unavailable(tmp_path):
    """Slowloris: 50 connections send a request line and then a header line every two seconds,
    never finishing. With two workers as in production the health check and the login page must
    still answer, each within a few seconds. Needs no PostgreSQL: what is tested is the server."""
    url = f"sqlite:///{tmp_path / 'langsam.db'}"
    store = Store(url)
    store.migrate()
    store.dispose()
    launcher = Launcher(url, tmp_path)
    try:
        server, address = launcher.gunicorn(workers=2)
        assert timed_get(address, "/api/v1/health")[0] == 200
        answers: list[tuple[str, int | None, float]] = []
        with SlowClients(address, count=SLOW_CONNECTIONS, interval=2.0, seconds=SLOW_SECONDS + 5) as slow:
            assert slow.all_open.wait(10), "die langsamen Verbindungen kamen nicht zustande"
            end, seen = time.monotonic() + SLOW_SECONDS, slow.rounds
            while time.monotonic() < end:
                for path in ("/api/v1/health", "/anmelden"):
                    answers.append((path, *timed_get(address, path, timeout=ANSWER_SECONDS + 2)))
                seen = slow.next_round(seen)         # one round of requests per header line of the attackers
            opened, cut = slow.opened, slow.cut
        slowest = max(took for _, _, took in answers)
        failed = [(path, status, round(took, 1)) for path, status, took in answers
                  if status != 200 or took > ANSWER_SECONDS]
        figures = (f"{len(answers)} Anfragen neben {SLOW_CONNECTIONS} langsamen Verbindungen "
                   f"({opened} geöffnet, {cut} vom Server getrennt): {len(answers) - len(failed)} rechtzeitig, "
                   f"langsamste {slowest:.2f} s, Median {sorted(t for *_, t in answers)[len(answers) // 2]:.3f} s; "
                   f"fehlgeschlagen {failed[:5]}")
        print(f"\n[Langsame Clients] {figures}")
        assert opened >= SLOW_CONNECTIONS, figures
        assert not failed, figures
        assert len(answers) >= 10, figures
        assert server.stop() == 0
    finally:
        launcher.kill_all()
