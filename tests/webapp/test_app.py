"""The thin web layer: login, CSRF, start page, health, configuration rules and CLI."""
import re

import pytest

from webapp.config import ConfigError, load

from ..helpers import CASEWORKER, PARTIES_LVR, SYSTEM, csrf_token, read


@pytest.fixture
def app_content() -> tuple:
    """The `app` of these tests has one user, "sabine" (EGH-Sachbearbeitung of LVR)."""
    return CASEWORKER


def login(client, password="richtig-langes-passwort"):
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    return client.post("/anmelden", data={"csrf_token": token, "username": "sabine", "password": password})


def test_pages_need_login(app):
    response = app.test_client().get("/")
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]


def test_login_without_csrf_token_is_refused(app):
    response = app.test_client().post("/anmelden", data={"username": "sabine",
                                                          "password": "richtig-langes-passwort"})
    assert response.status_code == 400
    assert "Sicherheitsmerkmal fehlt" in response.get_data(as_text=True)


def test_wrong_password_is_refused_in_german(app):
    response = login(app.test_client(), password="falsch")
    assert response.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in response.get_data(as_text=True)


def test_inbox_lists_the_groups_tasks_with_german_dates(app):
    services = app.extensions["workflows"]
    services.deploy_model({"fristpruefung.bpmn": read("fristpruefung.bpmn"),
                           "pruefen.json": read("pruefen.json")}, SYSTEM)
    services.start_case("fristpruefung", "LVR-2026-0042", {"eingang_am": "2026-11-02"}, SYSTEM,
                        parties=PARTIES_LVR)
    client = app.test_client()
    assert login(client).status_code == 302
    assert client.get("/").headers["Location"].endswith("/aufgaben/")
    page = client.get("/aufgaben/").get_data(as_text=True)
    assert "LVR-2026-0042" in page and "Unterlagen prüfen" in page
    assert "Aufgaben meiner Gruppen" in page
    assert re.search(r"\b02\.02\.2027\b", page)        # due: the deadline's last day (02.11. + 3 months)
    assert "03.02.2027" not in page
    assert 'lang="de"' in page


def test_security_headers_and_cookie_flags(app):
    client = app.test_client()
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_logout_needs_post_with_csrf(app):
    client = app.test_client()
    login(client)
    assert client.get("/abmelden").status_code == 405
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert client.post("/abmelden", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert client.get("/").status_code == 302


def test_health(app):
    assert app.test_client().get("/health").get_json() == {"status": "ok"}


def test_production_refuses_simulation_clock_and_missing_secret(monkeypatch):
    with pytest.raises(ConfigError, match="Simulationsuhr"):
        load({"ENV_NAME": "production", "CLOCK": "simulation", "SECRET_KEY": "x"})
    monkeypatch.delenv("FF_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="FF_SECRET_KEY"):
        load({"ENV_NAME": "production"})
    assert load({"ENV_NAME": "production", "SECRET_KEY": "x"})["SESSION_COOKIE_SECURE"] is True


def test_cli_users_create_and_clock(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "karl", "--name", "Karl Kollege", "--org", "LVR",
                                 "--group", "EGH-Sachbearbeitung", "--password", "noch-ein-langes-passwort"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "karl", "--name", "K", "--group", "Leitung",
                                 "--password", "noch-ein-langes-passwort"])
    assert result.exit_code != 0 and "gibt es bereits" in result.output
    result = runner.invoke(args=["clock", "set", "2027-01-04T08:00", "--frozen"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["clock", "show"]).output.startswith("04.01.2027 08:00")
    assert runner.invoke(args=["clock", "reset"]).exit_code == 0


def test_clock_commands_refused_with_system_clock(make_app):
    app = make_app(CLOCK="system")
    result = app.test_cli_runner().invoke(args=["clock", "set", "2027-01-04"])
    assert result.exit_code != 0 and "ausgeschaltet" in result.output


def test_values_are_shown_the_german_way():
    from webapp.formatting import datum, wert
    assert wert("2026-11-20") == "20.11.2026"
    assert wert(["heilpaedagogik", "logopaedie"]) == "heilpaedagogik, logopaedie"
    assert wert(True) == "ja" and wert(None) == "–"
    assert wert({"dokument_id": 3, "name": "Konzeption.pdf"}) == "Konzeption.pdf"
    assert wert("2026-13-45") == "2026-13-45"                       # not a date: shown as typed
    assert datum("2026-03-29T23:30:00+00:00") == "30.03.2026"       # German local day


def test_login_is_rate_limited_per_user_name(app):
    from datetime import datetime, timedelta, timezone

    from workflows.clock import SimulationState
    store = app.extensions["workflows"].store
    start = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    store.save_simulation(SimulationState(start, datetime.now(timezone.utc), True))
    app.extensions["workflows"].clock.invalidate()
    client = app.test_client()
    for _ in range(5):
        assert login(client, password="falsch").status_code == 401
    blocked = login(client)                                   # even the right password waits
    assert blocked.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in blocked.get_data(as_text=True)
    store.save_simulation(SimulationState(start + timedelta(minutes=16), datetime.now(timezone.utc), True))
    app.extensions["workflows"].clock.invalidate()
    assert login(client).status_code == 302                   # after the window it works again
