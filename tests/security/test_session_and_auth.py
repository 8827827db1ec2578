"""Session and login hygiene: cookie flags (Secure in production), CSRF on every
state-changing page route, security headers on pages, API and error responses, login
rate limiting per address, modern password hashes, and a wrong password that does not
tell whether the user exists."""
from __future__ import annotations

import re
import shutil

import sqlalchemy as sa

import webapp.auth as auth
from webapp import create_app
from workflows import store as tables

from .conftest import counts, csrf_token, login, token_for
from .test_access_matrix import PAGES, _fill

IDS = {"bk": "LVR-FF-2026-0104", "task": "00000000-0000-0000-0000-000000000000", "doc": "1",
       "pid": "antrag_komplexleistung", "vid": "1"}


def test_session_cookie_is_httponly_and_samesite(shared_app):
    client = shared_app.test_client()
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    response = client.post("/anmelden", data={"csrf_token": token, "username": "sabine.lvr",
                                              "password": "demo-passwort-2026"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie   # test: plain HTTP


def test_production_cookies_are_secure(demo_file, tmp_path, monkeypatch):
    path = tmp_path / "prod.db"
    shutil.copy(demo_file, path)
    monkeypatch.delenv("FF_CLOCK", raising=False)
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "produktiv-geheim", "CLOCK": "system",
                      "DATABASE_URL": f"sqlite:///{path}"})
    client = app.test_client()
    token = csrf_token(client.get("/anmelden", base_url="https://localhost").get_data(as_text=True))
    response = client.post("/anmelden", base_url="https://localhost", headers={"Referer": "https://localhost/anmelden"},
                           data={
        "csrf_token": token, "username": "sabine.lvr", "password": "demo-passwort-2026"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.extensions["workflows"].store.dispose()


def test_every_state_changing_page_route_needs_the_csrf_token(shared_app):
    routes = {(m, str(r)) for r in shared_app.url_map.iter_rules() for m in r.methods - {"GET", "HEAD", "OPTIONS"}
              if not str(r).startswith("/api/v1")}
    assert routes and routes <= set(PAGES)
    client = login(shared_app, "paula.prozess")
    before, refused = counts(shared_app), []
    for method, rule in sorted(routes):
        body = PAGES[(method, rule)].body
        data = dict(_fill(body, IDS, "paula.prozess")) if isinstance(body, dict) else {}
        response = client.open(_fill(PAGES[(method, rule)].path, IDS, "paula.prozess"), method=method, data=data)
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
