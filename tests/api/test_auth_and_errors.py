"""API tokens (command line, hashing, revocation), no session authentication, JSON errors."""
import io
import re

import sqlalchemy as sa

from webapp.api import tokens
from workflows import store as tables

from ..helpers import assert_error, csrf_token


def test_health_needs_no_token(api_as):
    response = api_as(None).get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_token_stands_for_its_user_with_groups_and_organisation(api_as):
    response = api_as("sabine.lvr").get("/me")
    assert response.get_json() == {"username": "sabine.lvr", "groups": ["EGH-Sachbearbeitung"],
                                   "organisation": "LVR"}


def test_without_token_401_in_german_with_challenge(api_as):
    response = api_as(None).get("/cases")
    body = assert_error(response, 401, "nicht_angemeldet", "API-Token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["details"] == {}


def test_unknown_token_wrong_scheme_and_revoked_token_are_refused(app, api_as):
    api = api_as("sabine.lvr")
    assert api.get("/me").status_code == 200
    assert_error(api.get("/me", headers={"Authorization": "Bearer ff_ausgedacht"}), 401, "nicht_angemeldet",
                 "ungültig")
    assert_error(api.get("/me", headers={"Authorization": f"Basic {api.token}"}), 401, "nicht_angemeldet")
    workflows = app.extensions["workflows"]
    [row] = [r for r in tokens.listing(workflows) if r["username"] == "sabine.lvr"]
    assert tokens.revoke(workflows, row["id"]) is True
    assert_error(api.get("/me"), 401, "nicht_angemeldet", "widerrufen")


def test_token_of_a_deactivated_user_is_refused(app, api_as):
    api = api_as("karl.lvr")
    store = app.extensions["workflows"].store
    with store.transaction() as conn:
        conn.execute(tables.users.update().where(tables.users.c.username == "karl.lvr").values(active=False))
    assert_error(api.get("/me"), 401, "nicht_angemeldet", "deaktiviert")


def test_only_the_hash_is_stored_and_last_use_is_recorded(app, api_as):
    api = api_as("sabine.lvr")
    store = app.extensions["workflows"].store
    with store.read() as conn:
        [row] = conn.execute(sa.select(tables.api_tokens)).all()
    assert row.token_hash == tokens.token_hash(api.token) and api.token not in (row.token_hash, row.name)
    assert re.fullmatch(r"[0-9a-f]{64}", row.token_hash) and row.last_used_at is None
    assert api.get("/me").status_code == 200
    [used] = tokens.listing(app.extensions["workflows"])
    assert used["last_used_at"] is not None and used["revoked_at"] is None


def test_web_session_does_not_authenticate_the_api(app):
    client = app.test_client()
    page = client.get("/anmelden").get_data(as_text=True)
    response = client.post("/anmelden", data={"csrf_token": csrf_token(page), "username": "sabine.lvr",
                                              "password": "richtig-langes-passwort"})
    assert response.status_code == 302                      # logged in on the web pages
    assert client.get("/aufgaben/").status_code == 200
    assert_error(client.get("/api/v1/me"), 401, "nicht_angemeldet")
    assert_error(client.post("/api/v1/cases", json={}), 401, "nicht_angemeldet")


def test_api_posts_need_no_csrf_token_and_set_no_cookie(api_as):
    response = api_as("sabine.lvr").post("/cases", json={"process_id": "gibt_es_nicht", "business_key": "X-1"})
    assert_error(response, 404, "nicht_gefunden", "kein Modell")        # reached the use case, no CSRF 400
    assert "Set-Cookie" not in response.headers


def test_cli_token_commands(app):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["tokens", "create", "sabine.lvr", "--name", "Fachverfahren LVR"])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("ff_") and len(token) >= 40 and "nur jetzt angezeigt" in created.output
    token_id = int(re.search(r"API-Token (\d+)", created.output).group(1))
    client = app.test_client()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    listed = runner.invoke(args=["tokens", "list"])
    assert listed.exit_code == 0
    assert "sabine.lvr" in listed.output and "Fachverfahren LVR" in listed.output and "aktiv" in listed.output
    assert token not in listed.output and tokens.token_hash(token) not in listed.output

    revoked = runner.invoke(args=["tokens", "revoke", str(token_id)])
    assert revoked.exit_code == 0 and "widerrufen" in revoked.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "bereits widerrufen" in runner.invoke(args=["tokens", "revoke", str(token_id)]).output
    assert "widerrufen am" in runner.invoke(args=["tokens", "list"]).output

    unknown_user = runner.invoke(args=["tokens", "create", "niemand", "--name", "x"])
    assert unknown_user.exit_code != 0 and "gibt es nicht" in unknown_user.output
    unknown_token = runner.invoke(args=["tokens", "revoke", "999"])
    assert unknown_token.exit_code != 0 and "gibt es nicht" in unknown_token.output


def test_unknown_address_and_wrong_method_are_json(api_as):
    api = api_as("sabine.lvr")
    assert_error(api.get("/gibt-es-nicht"), 404, "nicht_gefunden")
    assert_error(api.get("/cases/" + "x" * 101), 404, "nicht_gefunden")         # longer than an Aktenzeichen
    assert_error(api.get("/cases/A-1/documents/99999999999"), 404, "nicht_gefunden")
    response = api.delete("/cases")
    assert_error(response, 405, "methode_nicht_erlaubt")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert_error(api.client.open("/api/v1/health", method="TRACE"), 405, "methode_nicht_erlaubt")


def test_web_pages_keep_their_html_errors(app):
    response = app.test_client().get("/gibt-es-nicht")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_unexpected_errors_are_json_without_stack_trace(app, api_as, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("geheimes Detail aus der Tiefe")
    monkeypatch.setattr(app.extensions["workflows"], "cases_page", broken)
    response = api_as("sabine.lvr").get("/cases")
    body = assert_error(response, 500, "interner_fehler", "Es wurde nichts gespeichert")
    assert "geheimes Detail" not in response.get_data(as_text=True) and "Traceback" not in str(body)


def test_request_validation_errors_are_german_with_fields(api_as):
    api = api_as("sabine.lvr")
    body = assert_error(api.get("/cases?page=0&per_page=abc&farbe=blau"), 422, "ungueltige_eingabe",
                        "Bitte prüfen Sie")
    assert body["details"]["fields"] == {"page": "Bitte eine Zahl von 1 bis 100000 angeben.",
                                         "per_page": "Bitte eine ganze Zahl angeben.",
                                         "farbe": "Unbekanntes Feld."}
    body = assert_error(api.post("/cases", json={"business_key": "", "data": [], "wer": 1}), 422,
                        "ungueltige_eingabe")
    assert body["details"]["fields"] == {"process_id": "Diese Angabe fehlt.",
                                         "business_key": "Bitte 1 bis 100 Zeichen angeben. Das Aktenzeichen braucht "
                                         "ein sichtbares Zeichen und darf keine Steuerzeichen und keines der Zeichen "
                                         "/ \\ ? # % enthalten (es ist Teil von Adressen der API).",
                                         "data": "Bitte ein JSON-Objekt angeben.", "wer": "Unbekanntes Feld."}
    assert_error(api.post("/cases", json=[1, 2]), 422, "ungueltige_eingabe")


def test_invalid_json_wrong_content_type_and_too_large_bodies(api_as):
    api = api_as("sabine.lvr")
    assert_error(api.post("/cases", data="{kaputt", content_type="application/json"), 400, "ungueltige_anfrage",
                 "kein gültiges JSON")
    assert_error(api.post("/cases", data="process_id=x", content_type="application/x-www-form-urlencoded"), 415,
                 "falsches_format", "JSON")
    huge = b"x" * (17 * 1024 * 1024)
    assert_error(api.post("/cases/A-1/documents", data={"datei": (io.BytesIO(huge), "gross.pdf", "application/pdf")},
                          content_type="multipart/form-data"), 413, "zu_gross")
