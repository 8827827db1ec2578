"""Real processes for the load and crash tests: gunicorn with the app, timer workers, a
small REST client and slow clients (slowloris). Readiness and progress are read from the processes' own log lines;
every process runs in its own process group so a test can SIGKILL it whole."""
from __future__ import annotations

import http.client
import json
import os
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from webapp.api import tokens
from workflows.clock import SimulationState
from workflows.store import Store
from workflows.usecases.context import Context

from ..helpers import API_USERS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class Process:
    """A child process whose stderr+stdout lines are collected by a reader thread."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name, self.lines, self._new = name, [], queue.Queue()
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))
            self._new.put(line)
        self._new.put(None)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        """Block until a line matching `pattern` appears (lines seen before are not searched)."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._new.get(timeout=max(0.01, remaining))
            except queue.Empty:
                line = ""
            if line is None or remaining <= 0:
                raise AssertionError(f"{self.name}: „{pattern}“ kam nicht. Ausgabe:\n" + "\n".join(self.lines[-30:]))
            found = compiled.search(line)
            if found:
                return found

    def kill(self) -> int:
        """SIGKILL to the whole process group (gunicorn's workers too); returns the exit code."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.popen.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM and wait for the orderly end."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            return self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            return self.kill()


class Launcher:
    """Starts the app's processes on one database; kills whatever is left at the end."""

    def __init__(self, database_url: str, tmp: Path):
        self.env = {**os.environ, "FF_ENV": "test", "FF_CLOCK": "simulation", "FF_DATABASE_URL": database_url,
                    "FF_SECRET_KEY": "zuverlaessigkeit", "FF_INSTANCE_DIR": str(tmp), "PYTHONUNBUFFERED": "1"}
        self.started: list[Process] = []

    def gunicorn(self, workers: int = 2) -> tuple[Process, str]:
        """gunicorn with the production settings (gunicorn.conf.py: worker class, keep-alive) on a
        free loopback port (the kernel picks it; gunicorn logs which)."""
        proc = Process("gunicorn", [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
                                    "--workers", str(workers), "--bind", "127.0.0.1:0",
                                    "--timeout", "60", "--graceful-timeout", "5", "webapp:create_app()"], self.env)
        self.started.append(proc)
        port = proc.wait_for(r"Listening at: http://127\.0\.0\.1:(\d+)").group(1)
        return proc, f"127.0.0.1:{port}"

    def timer_worker(self, name: str, poll: float = 0.2) -> Process:
        proc = Process(name, [str(BIN / "flask"), "--app", "webapp", "timers", "run", "--poll", str(poll)], self.env)
        self.started.append(proc)
        proc.wait_for(r"timer worker started")
        return proc

    def kill_all(self) -> None:
        for proc in self.started:
            proc.kill()


def fired_by(proc: Process) -> int:
    """Cases a timer worker moved on, from its log lines."""
    return sum(int(m.group(1)) for line in proc.lines for m in [re.search(r"fired timers of (\d+) case", line)] if m)


class Client:
    """The REST API with one user's token; a cut connection is reported as status None."""

    def __init__(self, address: str, token: str):
        self.address, self.token = address, token

    def call(self, method: str, path: str, body: Any = None, timeout: float = 60) -> tuple[int | None, Any]:
        host, port = self.address.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Connection": "close"}
        payload = None
        if body is not None:
            payload, headers["Content-Type"] = json.dumps(body), "application/json"
        try:
            connection.request(method, "/api/v1" + path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
        except (OSError, http.client.HTTPException):
            return None, None
        finally:
            connection.close()


def timed_get(address: str, path: str, timeout: float = 5) -> tuple[int | None, float]:
    """GET `path` on a new connection: (status or None without an answer, seconds taken)."""
    host, port = address.split(":")
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except (OSError, http.client.HTTPException):
        return None, time.monotonic() - started
    finally:
        connection.close()


class SlowClients:
    """Slowloris on loopback: `count` connections that each send a request line, then one
    header line every `interval` seconds and never the blank line that ends the headers. A
    connection the server cuts is opened again, so `count` stay pending. Bounded: never more
    than `count` connections at once, and the thread stops by itself after `seconds`."""

    def __init__(self, address: str, count: int = 50, interval: float = 2.0, seconds: float = 30.0):
        host, port = address.split(":")
        self.target, self.count, self.interval, self.seconds = (host, int(port)), count, interval, seconds
        self.opened = self.cut = self.refused = 0
        self.all_open = threading.Event()
        self.rounds = 0                          # header lines sent to every connection so far
        self._round = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SlowClients":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def next_round(self, seen: int, timeout: float = 10.0) -> int:
        """Wait until the slow clients have sent another header line (the attacker's own pace,
        not a sleep of the test); returns the rounds sent by then."""
        with self._round:
            self._round.wait_for(lambda: self.rounds > seen or self._stop.is_set(), timeout)
            return self.rounds

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(self.target, timeout=2)
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: %s:%d\r\n" % (self.target[0].encode(), self.target[1]))
        except OSError:
            self.refused += 1
            return None
        self.opened += 1
        return sock

    @staticmethod
    def _closed_by_server(sock: socket.socket) -> bool:
        """A pending request is never answered: anything readable is the end (or a refusal)."""
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable)
        except (OSError, ValueError):
            return True

    def _run(self) -> None:
        deadline = time.monotonic() + self.seconds
        sockets: list[socket.socket | None] = [None] * self.count
        line = 0
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                for i, sock in enumerate(sockets):
                    if sock is not None and self._closed_by_server(sock):
                        sock.close()
                        sockets[i], sock = None, None
                        self.cut += 1
                    if sock is None:
                        sockets[i] = self._open()
                        continue
                    try:
                        sock.sendall(b"X-Langsam-%d: %d\r\n" % (line, i))
                    except OSError:
                        sock.close()
                        sockets[i] = None
                        self.cut += 1
                line += 1
                if all(sockets):
                    self.all_open.set()
                with self._round:
                    self.rounds += 1
                    self._round.notify_all()
                self._stop.wait(self.interval)
        finally:
            for sock in sockets:
                if sock is not None:
                    sock.close()


def prepare(store: Store, now: datetime) -> dict[str, str]:
    """Users of every role with a token each; the simulation clock frozen at `now`."""
    from webapp.auth import hash_password
    store.save_simulation(SimulationState(now, datetime.now(timezone.utc), frozen=True))
    with store.transaction() as conn:
        for username, (organisation, groups) in API_USERS.items():
            store.add_user(conn, username=username, display_name=username, organisation=organisation,
                           groups=groups, password_hash=hash_password("richtig-langes-passwort"))
    return {username: tokens.create(Context(store), username, "Zuverlässigkeit")[1] for username in API_USERS}
