"""Data protection in the web app and the CLI, against the demo data: the child's card and the
"Zugriffe" list in the case file, correction with CSRF, the Administration's export download,
`flask privacy export | purge` and the retention setting."""
import json

import pytest

from webapp import create_app
from webapp.config import ConfigError
from webapp.demo import PERSONS

from ..helpers import DEMO, KIND, OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR, client_for, csrf_token, finish, read

CHILD = "LVR-FF-2026-0104"


@pytest.fixture
def app_content() -> tuple:
    """The `app` of these tests holds the demo (simulation clock frozen at 23.11.2026 09:00)."""
    return DEMO


def test_case_file_shows_the_child_and_lists_accesses_apart(app):
    page = client_for(app, "sabine.lvr").get(f"/akten/{CHILD}").get_data(as_text=True)
    child = PERSONS[CHILD]
    assert f"{child['kind_vorname']} {child['kind_nachname']}, geboren am 19.03.2022" in page
    assert f"{child['strasse']}, {child['plz']} {child['ort']}" in page
    zugriffe = page.split('id="zugriffe"')[1]
    assert "Akte eingesehen" in zugriffe and "sabine.lvr" in zugriffe
    verlauf = page.split('id="verlauf"')[1].split('id="zugriffe"')[0]
    assert "Akte eingesehen" not in verlauf and "Vorgang angelegt" in verlauf
    anerkennung = client_for(app, "sabine.lvr").get("/akten/LVR-AN-2026-0001").get_data(as_text=True)
    assert 'id="person"' not in anerkennung and 'id="zugriffe"' not in anerkennung


def test_correcting_the_address_needs_csrf_and_valid_data(app):
    client = client_for(app, "sabine.lvr")
    form = {**PERSONS[CHILD], "strasse": "Neue Gasse 4"}
    assert client.post(f"/akten/{CHILD}/person", data=form).status_code == 400          # no token
    token = csrf_token(client.get(f"/akten/{CHILD}").get_data(as_text=True))
    bad = client.post(f"/akten/{CHILD}/person", data={**form, "plz": "12", "csrf_token": token},
                      follow_redirects=True).get_data(as_text=True)
    assert "Postleitzahl: Bitte fünf Ziffern angeben." in bad
    page = client.post(f"/akten/{CHILD}/person", data={**form, "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "Personendaten gespeichert." in page and "Neue Gasse 4" in page
    assert "Straße und Hausnummer" in page.split('id="verlauf"')[1]                   # field, not value
    other = client_for(app, "wilma.lwl")
    token = csrf_token(other.get("/aufgaben/").get_data(as_text=True))
    assert other.post(f"/akten/{CHILD}/person", data={**form, "csrf_token": token}).status_code == 404


def test_only_administration_downloads_an_export(app):
    for role in ("sabine.lvr", "lena.leitung", "paula.prozess"):
        client = client_for(app, role)
        assert client.get("/datenschutz/").status_code == 403, role
        token = csrf_token(client.get("/aufgaben/").get_data(as_text=True))
        assert client.post("/datenschutz/auskunft", data={"aktenzeichen": CHILD,
                                                         "csrf_token": token}).status_code == 403, role
    admin = client_for(app, "dora.datenschutz")
    page = admin.get("/datenschutz/").get_data(as_text=True)
    assert "Auskunft (Art. 15 DSGVO" in page and "3650 Tage" in page
    assert 'href="/datenschutz/"' in page                                         # in the navigation
    assert admin.post("/datenschutz/auskunft", data={"aktenzeichen": CHILD}).status_code == 400
    response = admin.post("/datenschutz/auskunft", data={"aktenzeichen": CHILD, "csrf_token": csrf_token(page)})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    export = json.loads(response.get_data())
    assert export["person"]["kind_nachname"] == PERSONS[CHILD]["kind_nachname"]
    assert [c["aktenzeichen"] for c in export["vorgaenge"]] == [CHILD]
    history = app.extensions["workflows"].case(CHILD, app.extensions["workflows"].actor("sabine.lvr"))["accesses"]
    assert ("daten_exportiert", "dora.datenschutz") in [(h["action"], h["actor"]) for h in history]
    missing = admin.post("/datenschutz/auskunft", data={"aktenzeichen": "LVR-AN-2026-0001",
                                                       "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "keine Personendaten gespeichert" in missing.get_data(as_text=True)


def test_cli_export_and_purge_in_german(app, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "auskunft.json"
    result = runner.invoke(args=["privacy", "export", "--aktenzeichen", CHILD, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["vorgaenge"][0]["aktenzeichen"] == CHILD
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert "genau eines" in runner.invoke(args=["privacy", "export"]).output
    result = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0 and "Keine abgeschlossenen Vorgänge vor dem" in result.output
    assert "Aufbewahrungsfrist 3650 Tage" in result.output
    assert "FF_RETENTION_DAYS" in runner.invoke(args=["privacy", "purge", "--help"]).output
    assert "Datenschutzbeauftragte" in runner.invoke(args=["privacy", "purge", "--help"]).output


@pytest.mark.parametrize("value", ["0", "-5", "zehn"])
def test_retention_period_is_checked(value, monkeypatch):
    monkeypatch.setenv("FF_RETENTION_DAYS", value)
    with pytest.raises(ConfigError, match="FF_RETENTION_DAYS"):
        create_app({"ENV_NAME": "test", "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})


def test_cli_purge_deletes_after_the_period_and_says_so(make_app):
    from datetime import datetime, timedelta, timezone

    from workflows.clock import BERLIN, SimulationState

    small = make_app(RETENTION_DAYS=30)
    services, start = small.extensions["workflows"], datetime(2026, 5, 4, 9, tzinfo=BERLIN)

    def at(moment):
        services.store.save_simulation(SimulationState(moment, datetime.now(timezone.utc), True))
        services.clock.invalidate()

    at(start)
    services.deploy_model({"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")}, OWNER)
    services.start_case("fuenf_schritte", "ALT-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, person=KIND)
    finish(services, "ALT-1")
    runner = small.test_cli_runner()
    at(start + timedelta(days=29))
    assert "Keine abgeschlossenen Vorgänge vor dem 03.05.2026" in runner.invoke(args=["privacy", "purge"]).output
    at(start + timedelta(days=31))
    dry = runner.invoke(args=["privacy", "purge", "--dry-run"]).output
    assert "ALT-1" in dry and "Probelauf: 1 Vorgang/Vorgänge würden gelöscht" in dry
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 Vorgang/Vorgänge und 1 Person(en) gelöscht (abgeschlossen vor dem 05.05.2026, " \
           "Aufbewahrungsfrist 30 Tage)." in result.output
    assert "Keine abgeschlossenen" in runner.invoke(args=["privacy", "purge", "--days", "1"]).output
