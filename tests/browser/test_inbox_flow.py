"""A caseworker's day in a real browser: log in, claim, fill a form with an error and then
correctly, see the case move on, and see it hidden from another organisation."""
import re

from playwright.sync_api import expect

from ..helpers import browser_login, browser_logout, screenshot

CASE = "LVR-FF-2026-0104"          # demo case waiting for the EGH decision (FrühV deadline passed)


def test_claim_fill_form_with_error_then_complete(page):
    browser_login(page, "sabine.lvr")
    expect(page).to_have_url(re.compile(r"/aufgaben/$"))
    expect(page.get_by_role("heading", name="Aufgaben", exact=True)).to_be_visible()
    row = page.locator("tr", has_text=CASE).filter(has_text="Über den Antrag entscheiden")
    expect(row).to_have_count(1)
    expect(row.locator(".ampel.rot")).to_have_count(1)           # the FrühV deadline is over
    expect(row).to_contain_text("§ 8 Abs. 1 S. 4 FrühV")
    screenshot(page, "01-aufgaben")

    row.get_by_role("button", name="Übernehmen").click()
    expect(page.get_by_text("Sie haben die Aufgabe übernommen.")).to_be_visible()
    expect(page.get_by_role("heading", name="Über den Antrag entscheiden").first).to_be_visible()

    page.get_by_label("bewilligt", exact=True).check()
    page.get_by_label("Entschieden am").fill("31.02.2026")
    page.get_by_role("button", name="Aufgabe abschließen").click()
    expect(page.get_by_text("Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein.")).to_be_visible()
    expect(page.get_by_label("Entschieden am")).to_have_value("31.02.2026")   # nothing typed is lost
    screenshot(page, "02-formular-fehler")

    page.get_by_label("Entschieden am").fill("20.11.2026")
    page.get_by_role("button", name="Aufgabe abschließen").click()
    expect(page.get_by_text(re.compile("ist erledigt"))).to_be_visible()
    expect(page.locator("tr", has_text=CASE).filter(has_text="Über den Antrag entscheiden")).to_have_count(0)
    expect(page.locator("tr", has_text=CASE).filter(has_text="Bescheid erstellen")).to_have_count(1)
    screenshot(page, "03-weiter")

    page.get_by_role("link", name=CASE).first.click()
    expect(page.get_by_role("heading", name=f"Akte {CASE}")).to_be_visible()
    expect(page.locator("#diagramm.geladen svg").first).to_be_visible()
    expect(page.locator("#diagramm .aktuell").first).to_be_attached()
    expect(page.locator("#fristen")).to_contain_text("Entscheidung über die Komplexleistung")
    expect(page.locator("#verlauf")).to_contain_text("Aufgabe erledigt: Über den Antrag entscheiden")
    screenshot(page, "04-akte")


def test_other_organisation_sees_nothing_of_the_case(page):
    browser_login(page, "wilma.lwl")
    expect(page.get_by_role("heading", name="Aufgaben", exact=True)).to_be_visible()
    expect(page.locator("tbody")).not_to_contain_text("LVR-FF-")
    expect(page.locator("tbody")).to_contain_text("LWL-FF-2026-0201")
    response = page.goto(f"/akten/{CASE}")
    assert response.status == 404            # as an unknown Aktenzeichen
    expect(page.get_by_role("heading", name="Nicht gefunden")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("F83")                    # no child data leaks
    screenshot(page, "05-fremde-akte")
    browser_logout(page)
    expect(page).to_have_url(re.compile("/anmelden"))


def test_second_user_completing_the_same_task_gets_a_clear_message(browser, live_app):
    """Two colleagues open the same task; the second to submit is told, nothing is lost."""
    contexts = [browser.new_context(base_url=live_app.config["BASE_URL"]) for _ in range(2)]
    first, second = (c.new_page() for c in contexts)
    try:
        for p, user in ((first, "sabine.lvr"), (second, "karl.lvr")):
            browser_login(p, user)
            p.locator("tr", has_text="LVR-AN-2026-0001").get_by_role("link", name="Vollständigkeit prüfen").click()
            p.get_by_label("Ja", exact=True).check()
            p.get_by_label("Vollständig eingereicht am").fill("18.11.2026")
            p.get_by_label("Geprüft am").fill("20.11.2026")
        first.get_by_role("button", name="Aufgabe abschließen").click()
        expect(first.get_by_text(re.compile("ist erledigt"))).to_be_visible()
        second.get_by_role("button", name="Aufgabe abschließen").click()
        expect(second.get_by_text(re.compile("nicht \\(mehr\\) offen|nicht mehr offen"))).to_be_visible()
        expect(second.get_by_text("Ihre Eingaben wurden nicht gespeichert.")).to_be_visible()
        screenshot(second, "06-konflikt")
    finally:
        for c in contexts:
            c.close()


def test_documents_and_comments_in_the_case_file(page, tmp_path):
    browser_login(page, "sabine.lvr")
    page.goto("/akten/LVR-AN-2026-0002")
    pdf = tmp_path / "Vergütungsvereinbarung.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.locator("#dokumente input[type=file]").set_input_files(str(pdf))
    page.locator("#dokumente").get_by_role("button", name="Hochladen").click()
    expect(page.get_by_text("Dokument „Vergütungsvereinbarung.pdf“ gespeichert.")).to_be_visible()
    link = page.locator("#dokumente").get_by_role("link", name="Vergütungsvereinbarung.pdf")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "Vergütungsvereinbarung.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF")
    page.get_by_label("Neuer Kommentar").fill("Kalkulationsmatrix folgt bis Freitag.")
    page.get_by_role("button", name="Kommentieren").click()
    expect(page.locator("#kommentare")).to_contain_text("Kalkulationsmatrix folgt bis Freitag.")
    expect(page.locator("#zugriffe")).to_contain_text("Dokument geöffnet")     # accesses apart from the steps
    expect(page.locator("#verlauf")).not_to_contain_text("Dokument geöffnet")
    screenshot(page, "07-dokumente")


def test_supervisor_board_and_csv_export(page):
    browser_login(page, "lena.leitung")
    page.get_by_role("link", name="Fristen", exact=True).click()
    expect(page.get_by_role("heading", name="Fristenübersicht")).to_be_visible()
    overdue = page.locator("tr.state-ueberfaellig", has_text="LVR-FF-2026-0104").filter(
        has_text="Entscheidung über die Komplexleistung")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("§ 8 Abs. 1 S. 4 FrühV")
    expect(overdue.locator(".badge.red", has_text="eskaliert")).to_have_count(1)
    overdue.get_by_text("Berechnung").click()
    expect(overdue).to_contain_text("§ 187 Abs. 1 BGB")                     # how it was computed
    page.get_by_label("Stand").select_option("ueberfaellig")
    page.get_by_role("button", name="Filtern").click()
    expect(page.locator("tbody tr.state-laufend")).to_have_count(0)
    screenshot(page, "08-fristen")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV-Export").click()
    content = download.value.path().read_bytes()
    assert content.startswith("\ufeff".encode()) and b";" in content
    assert "LVR-FF-2026-0104".encode() in content and "überfällig".encode() in content
    page.get_by_role("link", name="Kennzahlen").click()
    expect(page.locator("svg.chart")).to_be_visible()
    screenshot(page, "09-kennzahlen")
    page.goto("/akten/LVR-FF-2026-0104")
    expect(page.locator("svg.timeline")).to_be_visible()
    screenshot(page, "10-akte-zeitleiste")
