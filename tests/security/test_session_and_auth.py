"""Session and login hygiene: cookie flags (Secure in production), CSRF on every
state-changing page route, security headers on pages, API and error responses, login
rate limiting per address, modern password hashes, and a wrong password that does not
tell whether the user exists."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

import webapp.auth as auth
from webapp.config import ConfigError, load
from webapp.demo import DEMO_PASSWORD
from workflows import store as tables
from workflows.clock import SimulationState

from ..helpers import DEMO_NOW, SECURITY_DEMO, TEST_CONFIG, counts, csrf_token, login, token_for
from .matrix import PAGES, fill

IDS = {"bk": "LVR-FF-2026-0104", "task": "00000000-0000-0000-0000-000000000000", "doc": "1",
       "pid": "antrag_komplexleistung", "vid": "1"}


def test_session_cookie_is_httponly_and_samesite(shared_app):
    client = shared_app.test_client()
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    response = client.post("/anmelden", data={"csrf_token": token, "username": "sabine.lvr",
                                              "password": "demo-passwort-2026"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie   # test: plain HTTP


def test_production_cookies_are_secure(make_app, monkeypatch):
    monkeypatch.delenv("FF_CLOCK", raising=False)
    app = make_app(*SECURITY_DEMO, ENV_NAME="production", SECRET_KEY="produktiv-geheim", CLOCK="system")
    client = app.test_client()
    token = csrf_token(client.get("/anmelden", base_url="https://localhost").get_data(as_text=True))
    response = client.post("/anmelden", base_url="https://localhost", headers={"Referer": "https://localhost/anmelden"},
                           data={
        "csrf_token": token, "username": "sabine.lvr", "password": "demo-passwort-2026"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_every_state_changing_page_route_needs_the_csrf_token(shared_app):
    routes = {(m, str(r)) for r in shared_app.url_map.iter_rules() for m in r.methods - {"GET", "HEAD", "OPTIONS"}
              if not str(r).startswith("/api/v1")}
    assert routes and routes <= set(PAGES)
    client = login(shared_app, "paula.prozess")
    before, refused = counts(shared_app), []
    for method, rule in sorted(routes):
        body = PAGES[(method, rule)].body
        data = dict(fill(body, IDS, "paula.prozess")) if isinstance(body, dict) else {}
        response = client.open(fill(PAGES[(method, rule)].path, IDS, "paula.prozess"), method=method, data=data)
        if response.status_code != 400 or "Sicherheitsmerkmal fehlt" not in response.get_data(as_text=True):
            refused.append(f"{method} {rule}: {response.status_code}")
    assert refused == []
    assert counts(shared_app) == before
    other = shared_app.test_client()                 # a token of another session does not count
    response = other.post("/anmelden", data={"csrf_token": client.csrf, "username": "x", "password": "y"})
    assert response.status_code == 400


def _assert_headers(response):
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_security_headers_everywhere(shared_app):
    client = login(shared_app, "sabine.lvr")
    api = shared_app.test_client()
    responses = [client.get("/aufgaben/"), client.get("/gibt-es-nicht"), client.get("/fristen/"),
                 client.post("/akten/X/kommentare", data={}),                          # CSRF 400
                 client.post("/akten/X/dokumente", data=b"x" * (17 * 1024 * 1024),
                             content_type="application/octet-stream", headers={"X-CSRFToken": client.csrf}),
                 shared_app.test_client().get("/anmelden"), api.get("/api/v1/health"), api.get("/api/v1/cases"),
                 api.get("/api/v1/gibt-es-nicht", headers=token_for(shared_app, "sabine.lvr")),
                 api.get("/api/v1/docs"), client.get("/vendor/bpmn-js/bpmn-js.css")]
    assert {r.status_code for r in responses} >= {200, 400, 401, 403, 404, 413}
    for response in responses:
        _assert_headers(response)


def test_passwords_are_hashed_with_scrypt(shared_app):
    store = shared_app.extensions["workflows"].store
    with store.read() as conn:
        hashes = conn.execute(sa.select(tables.users.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith(("scrypt:", "argon2")) for h in hashes)
    assert "demo-passwort-2026" not in "".join(hashes)
    assert len(set(hashes)) == len(hashes)                       # salted: same password, other hashes


def test_a_wrong_password_does_not_tell_whether_the_user_exists(app, monkeypatch):
    checks = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))

    def attempt(username):
        client = app.test_client()
        token = csrf_token(client.get("/anmelden").get_data(as_text=True))
        response = client.post("/anmelden", data={"csrf_token": token, "username": username, "password": "falsch!"})
        # the form carries a fresh CSRF token (signed with a timestamp): not part of the comparison
        page = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*"', r"\1", response.get_data(as_text=True))
        return response.status_code, page.replace(token, "")

    known, unknown = attempt("sabine.lvr"), attempt("gibt.es.nicht")
    assert known[0] == unknown[0] == 401
    assert "Benutzername oder Passwort ist falsch." in known[1]
    assert known[1].replace("sabine.lvr", "") == unknown[1].replace("gibt.es.nicht", "")
    assert len(checks) == 2 and all(h.startswith("scrypt:") for h in checks)      # same work both times


def test_login_is_rate_limited_per_address(app):
    """20 failures from one address with ever new names block even a right password."""
    client = app.test_client()
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    for n in range(20):
        response = client.post("/anmelden", data={"csrf_token": token, "username": f"rate{n}", "password": "x"})
        assert response.status_code == 401
    response = client.post("/anmelden", data={"csrf_token": token, "username": "sabine.lvr",
                                              "password": "demo-passwort-2026"})
    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in response.get_data(as_text=True)
    other = app.test_client()           # another address is not blocked
    token = csrf_token(other.get("/anmelden", environ_base={"REMOTE_ADDR": "10.0.0.9"}).get_data(as_text=True))
    response = other.post("/anmelden", environ_base={"REMOTE_ADDR": "10.0.0.9"}, data={
        "csrf_token": token, "username": "sabine.lvr", "password": "demo-passwort-2026"})
    assert response.status_code == 302


# --- sessions end on the server's word (review issue 13, finding 3) -------------------------


def _at(app, delta: timedelta) -> None:
    """Move the (frozen) simulation clock to DEMO_NOW + delta; nothing sleeps."""
    workflows = app.extensions["workflows"]
    workflows.store.save_simulation(SimulationState(DEMO_NOW + delta, datetime.now(timezone.utc), True))
    workflows.clock.invalidate()


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value: str):
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def _refused(response) -> None:
    """Sent to the login page, which then tells why."""
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/anmelden"


def test_a_session_cookie_copied_before_logout_is_dead_afterwards(app):
    client = login(app, "sabine.lvr")
    copied = _session_cookie(client)
    other_device = login(app, "sabine.lvr")
    assert _with_cookie(app, copied).get("/aufgaben/").status_code == 200
    logout = client.post("/abmelden", data={"csrf_token": client.csrf})
    thief = _with_cookie(app, copied)
    response = thief.get("/aufgaben/")
    _refused(response)
    assert "Ihre Sitzung wurde beendet" in thief.get(response.headers["Location"]).get_data(as_text=True)
    assert "auf allen Geräten" in client.get(logout.headers["Location"]).get_data(as_text=True)
    _refused(other_device.get("/aufgaben/"))                        # every device
    assert login(app, "sabine.lvr").get("/aufgaben/").status_code == 200    # a new login works


def test_a_new_password_and_deactivation_end_every_session(app):
    runner = app.test_cli_runner()
    client = login(app, "sabine.lvr")
    result = runner.invoke(args=["users", "password", "sabine.lvr", "--password", "kurz"])
    assert result.exit_code != 0 and "mindestens 10 Zeichen" in result.output
    assert client.get("/aufgaben/").status_code == 200
    result = runner.invoke(args=["users", "password", "sabine.lvr", "--password", "neues-passwort-2027"])
    assert result.exit_code == 0, result.output
    assert "Sitzungen" in result.output
    _refused(client.get("/aufgaben/"))
    assert _attempt(app, "sabine.lvr", DEMO_PASSWORD).status_code == 401
    assert _attempt(app, "sabine.lvr", "neues-passwort-2027").status_code == 302
    client = login(app, "wilma.lwl")
    result = runner.invoke(args=["users", "deactivate", "wilma.lwl"])
    assert result.exit_code == 0, result.output
    _refused(client.get("/aufgaben/"))
    assert _attempt(app, "wilma.lwl", DEMO_PASSWORD).status_code == 401
    assert "gibt es nicht" in runner.invoke(args=["users", "deactivate", "gibt.es.nicht"]).output
    assert [a for a, _d in _user_audit(app)] == ["passwort_geaendert", "benutzer_deaktiviert"]


def test_an_idle_session_expires(app):
    client = login(app, "sabine.lvr")
    for minutes in (29, 58):                                   # each request keeps it alive
        _at(app, timedelta(minutes=minutes))
        assert client.get("/aufgaben/").status_code == 200
    _at(app, timedelta(minutes=58 + 31))
    response = client.get("/aufgaben/?reiter=meine")
    _refused(response)
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/aufgaben/?reiter=meine"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihre Sitzung ist abgelaufen" in page
    _refused(client.get("/aufgaben/"))                    # logged out, not only redirected once


def test_a_session_ends_after_its_lifetime_even_when_used(app):
    client = login(app, "sabine.lvr")
    for step in range(1, 30):                                 # every 20 minutes, for 9 h 40 min
        _at(app, timedelta(minutes=20 * step))
        assert client.get("/aufgaben/").status_code == 200, step
    _at(app, timedelta(hours=10, minutes=1))
    response = client.get("/aufgaben/")
    _refused(response)
    assert "Ihre Sitzung ist abgelaufen" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_session_limits_come_from_the_environment(monkeypatch):
    assert (load(TEST_CONFIG)["SESSION_IDLE_MINUTES"], load(TEST_CONFIG)["SESSION_MAX_HOURS"]) == (30, 10)
    monkeypatch.setenv("FF_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("FF_SESSION_MAX_HOURS", "8")
    assert (load(TEST_CONFIG)["SESSION_IDLE_MINUTES"], load(TEST_CONFIG)["SESSION_MAX_HOURS"]) == (15, 8)
    for name, value in (("FF_SESSION_IDLE_MINUTES", "0"), ("FF_SESSION_MAX_HOURS", "zehn")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=name):
            load(TEST_CONFIG)
        monkeypatch.setenv(name, "5")


# --- only paths on this site after the login (finding 4) ------------------------------------

OFFSITE = ["//evil.example/", "/\\evil.example/", "/\t/evil.example/", "\\/evil.example/",
           "https://evil.example/", " //evil.example/", "////evil.example/", "/\r\n/evil.example/",
           "javascript:alert(1)", "evil.example", "http:/evil.example", "/\\/evil.example",
           "\t//evil.example/", "/\u00a0/evil.example", "/\u200b/evil.example", ""]


@pytest.mark.parametrize("target", OFFSITE)
def test_login_does_not_redirect_off_site(shared_app, target):
    client = shared_app.test_client()
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    response = client.post("/anmelden", query_string={"next": target}, data={
        "csrf_token": token, "username": "sabine.lvr", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("raw", ["/%09/evil.example/", "/%2F%2Fevil.example", "%2F%2Fevil.example",
                                 "/%5Cevil.example"])
def test_login_does_not_redirect_off_site_percent_encoded(shared_app, raw):
    """As in the review: the query string is decoded by Flask before it is checked."""
    client = shared_app.test_client()
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    response = client.post(f"/anmelden?next={raw}", data={
        "csrf_token": token, "username": "sabine.lvr", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/akten/X?y=1", "/aufgaben/?reiter=meine&seite=2", "/%2F%2Fevil.example"])
def test_login_keeps_a_path_on_this_site(shared_app, target):
    client = shared_app.test_client()
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    response = client.post("/anmelden", query_string={"next": target}, data={
        "csrf_token": token, "username": "sabine.lvr", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == target             # the last: a path here, not a host


# --- throttling without locking colleagues out (finding 5) ----------------------------------


def _attempt(app, username: str, password: str, address: str = "127.0.0.1"):
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/anmelden", environ_base=environ).get_data(as_text=True))
    return client.post("/anmelden", environ_base=environ, data={
        "csrf_token": token, "username": username, "password": password})


def _user_audit(app) -> list[tuple[str, dict]]:
    store = app.extensions["workflows"].store
    with store.read() as conn:
        rows = conn.execute(sa.select(tables.audit_events.c.action, tables.audit_events.c.actor,
                                      tables.audit_events.c.details)
                            .where(tables.audit_events.c.action.in_(
                                ("passwort_geaendert", "benutzer_deaktiviert", "benutzer_entsperrt")))
                            .order_by(tables.audit_events.c.id)).all()
    assert all(actor.startswith("cli:") for _a, actor, _d in rows)
    return [(action, json.loads(details)) for action, _actor, details in rows]


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(app):
    for _ in range(5):
        assert _attempt(app, "sabine.lvr", "falsch", "10.0.0.66").status_code == 401
    blocked = _attempt(app, "sabine.lvr", DEMO_PASSWORD, "10.0.0.66")
    assert blocked.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in blocked.get_data(as_text=True)
    assert _attempt(app, "sabine.lvr", DEMO_PASSWORD, "10.0.0.7").status_code == 302
    assert _attempt(app, "wilma.lwl", DEMO_PASSWORD, "10.0.0.66").status_code == 302
    assert int(blocked.headers["Retry-After"]) > 0
    _at(app, timedelta(minutes=16))
    assert _attempt(app, "sabine.lvr", DEMO_PASSWORD, "10.0.0.66").status_code == 302


def test_failures_from_many_addresses_slow_the_user_down_without_locking(app):
    for n in range(11):                                       # one failure each from 11 addresses
        assert _attempt(app, "sabine.lvr", "falsch", f"10.0.1.{n}").status_code == 401, n
    refused = _attempt(app, "sabine.lvr", DEMO_PASSWORD, "10.0.2.1")     # 11 > 10: wait 2 s
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    assert "in 2 Sekunden" in refused.get_data(as_text=True)
    _at(app, timedelta(seconds=2))
    assert _attempt(app, "sabine.lvr", "falsch", "10.0.1.99").status_code == 401   # 12: wait 4 s
    _at(app, timedelta(seconds=5))
    assert _attempt(app, "sabine.lvr", DEMO_PASSWORD, "10.0.2.1").status_code == 429
    _at(app, timedelta(seconds=6))
    assert _attempt(app, "sabine.lvr", DEMO_PASSWORD, "10.0.2.1").status_code == 302
    assert _attempt(app, "wilma.lwl", DEMO_PASSWORD, "10.0.1.1").status_code == 302   # others unaffected


def test_the_delay_grows_to_at_most_five_minutes():
    from workflows import login_throttle as throttle
    delays = [throttle.user_delay(n).total_seconds() for n in (0, 10, 11, 12, 13, 18, 19, 1000)]
    assert delays == [0, 0, 2, 4, 8, 256, 300, 300]


def test_administration_unlocks_a_user(app):
    for _ in range(5):
        _attempt(app, "sabine.lvr", "falsch")
    assert _attempt(app, "sabine.lvr", DEMO_PASSWORD).status_code == 429
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "unlock", "sabine.lvr"])
    assert result.exit_code == 0, result.output
    assert "sabine.lvr entsperrt (5 Fehlversuche gelöscht)" in result.output
    assert _attempt(app, "sabine.lvr", DEMO_PASSWORD).status_code == 302
    assert _user_audit(app) == [("benutzer_entsperrt", {"benutzer": "sabine.lvr", "fehlversuche": 5})]
    result = runner.invoke(args=["users", "unlock", "gibt.es.nicht"])
    assert result.exit_code != 0 and "gibt es nicht" in result.output
