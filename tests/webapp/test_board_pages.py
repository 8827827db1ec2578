"""Board pages: access, CSV export (Excel-friendly), iCalendar feed, figures with chart."""
import csv
import io

import pytest

from ..helpers import DEMO, client_for, csrf_token


@pytest.fixture
def app_content() -> tuple:
    """The `app` of these tests holds the demo (simulation clock frozen at 23.11.2026 09:00)."""
    return DEMO


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


def test_failed_case_on_the_board_retried_by_owner_and_ended_by_leitung(app):
    """A failed case shows with its German reason to Leitung and process owners; the owner's
    retry and the Leitung's end (with a reason) work from the board (issue: untrusted data)."""
    import sqlalchemy as sa
    from workflows import store as tables
    store = app.extensions["workflows"].store
    with store.transaction() as conn:
        good = conn.execute(sa.select(tables.instances.c.workflow_json)
                            .where(tables.instances.c.business_key == "LVR-FF-2026-0104")).scalar()
        conn.execute(tables.instances.update().where(tables.instances.c.business_key == "LVR-FF-2026-0104")
                     .values(workflow_json="{}"))
    leitung = client_for(app, "lena.leitung")
    assert leitung.get("/akten/LVR-FF-2026-0104").status_code == 200        # opens, and marks it failed
    text = leitung.get("/fristen/").get_data(as_text=True)
    assert "Angehaltene Vorgänge" in text and "lässt sich nicht laden" in text and "Vorgang beenden" in text
    owner = client_for(app, "paula.prozess")
    page = owner.get("/fristen/").get_data(as_text=True)
    assert "Erneut anstoßen" in page
    with store.transaction() as conn:
        conn.execute(tables.instances.update().where(tables.instances.c.business_key == "LVR-FF-2026-0104")
                     .values(workflow_json=good))
    response = owner.post("/akten/LVR-FF-2026-0104/erneut-anstossen", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert "läuft wieder" in owner.get("/fristen/").get_data(as_text=True)
    with store.transaction() as conn:
        conn.execute(tables.instances.update().where(tables.instances.c.business_key == "LVR-FF-2026-0104")
                     .values(workflow_json="{}"))
    leitung.get("/akten/LVR-FF-2026-0104")
    page = leitung.get("/fristen/").get_data(as_text=True)
    leitung.post("/akten/LVR-FF-2026-0104/beenden", data={"csrf_token": csrf_token(page),
                                                         "begruendung": "Stand zerstört, neu angelegt"})
    case_page = leitung.get("/akten/LVR-FF-2026-0104").get_data(as_text=True)
    assert "beendet" in case_page and "Stand zerstört, neu angelegt" not in leitung.get("/fristen/").get_data(as_text=True)


def test_owner_completes_missing_parties_from_the_board(app):
    """A case flagged by migration 0007 (no deciding organisation) shows a form for the owner;
    after it the case can be retried (issue: security findings, cases without parties)."""
    import json

    import sqlalchemy as sa
    from workflows import store as tables
    store, key = app.extensions["workflows"].store, "LVR-FF-2026-0104"
    with store.transaction() as conn:
        parties = json.loads(conn.execute(sa.select(tables.instances.c.parties)
                                          .where(tables.instances.c.business_key == key)).scalar())
        instance_id = conn.execute(sa.select(tables.instances.c.id).where(tables.instances.c.business_key == key)).scalar()
        conn.execute(tables.instances.update().where(tables.instances.c.id == instance_id).values(
            parties=json.dumps({k: v for k, v in parties.items() if k != "egh"}), status="error",
            error="Für diesen Vorgang ist keine zuständige Organisation eingetragen."))
        conn.execute(tables.case_parties.delete().where(tables.case_parties.c.instance_id == instance_id,
                                                        tables.case_parties.c.party == "egh"))
    owner = client_for(app, "paula.prozess")
    page = owner.get("/fristen/").get_data(as_text=True)
    assert "Beteiligte ergänzen" in page and "Träger der Eingliederungshilfe (LVR oder LWL)" in page
    response = owner.post(f"/akten/{key}/beteiligte", data={"csrf_token": csrf_token(page), "egh": "LVR"})
    assert response.status_code == 302
    page = owner.get("/fristen/").get_data(as_text=True)
    assert "Beteiligte von LVR-FF-2026-0104 ergänzt" in page and "Erneut anstoßen" in page
