"""Board pages: access, CSV export (Excel-friendly), iCalendar feed, figures with chart."""
import csv
import io
import shutil

import pytest

from webapp import create_app
from workflows.clock import BERLIN, SimulationState

from datetime import datetime, timezone

from .test_app import csrf_token


@pytest.fixture
def app(tmp_path, sqlite_template):
    path = tmp_path / "board.db"
    shutil.copy(sqlite_template, path)
    app = create_app({"ENV_NAME": "test", "DATABASE_URL": f"sqlite:///{path}", "CLOCK": "simulation",
                      "SECRET_KEY": "x"})
    store = app.extensions["workflows"].store
    store.save_simulation(SimulationState(datetime(2026, 11, 23, 9, tzinfo=BERLIN), datetime.now(timezone.utc), True))
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    yield app
    store.dispose()


def client_for(app, username):
    client = app.test_client()
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    response = client.post("/anmelden", data={"csrf_token": token, "username": username,
                                              "password": "demo-passwort-2026"})
    assert response.status_code == 302
    return client


def test_board_is_for_leitung_only(app):
    assert client_for(app, "sabine.lvr").get("/fristen/").status_code == 403
    page = client_for(app, "lena.leitung").get("/fristen/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Fristenübersicht" in text and "LVR-FF-2026-0104" in text and "überfällig" in text
    assert "LWL-FF-2026-0201" not in text                   # another Landschaftsverband's case
    assert "§ 8 Abs. 1 S. 4 FrühV" in text


def test_csv_export_is_excel_friendly(app):
    response = client_for(app, "lena.leitung").get("/fristen/export.csv?stand=ueberfaellig")
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Aktenzeichen", "Verfahren", "Frist"]
    assert len(rows) > 1 and all(r[9] == "überfällig" for r in rows[1:])
    assert any(r[0] == "LVR-FF-2026-0104" for r in rows[1:])
    assert all(len(r[6]) == 10 and r[6][2] == "." for r in rows[1:])   # TT.MM.JJJJ


def test_icalendar_feed(app):
    body = client_for(app, "lena.leitung").get("/fristen/kalender.ics").data.decode("utf-8")
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") >= 3
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert "DTSTART;VALUE=DATE:" in body and "@fruehfoerderung.nrw" in body


def test_figures_page_has_a_chart(app):
    text = client_for(app, "lena.leitung").get("/fristen/kennzahlen").get_data(as_text=True)
    assert "<svg" in text and "Zielerreichung je Verfahren und Frist" in text
    assert "Entscheidung über die Komplexleistung" in text
