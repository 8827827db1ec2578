"""Tests for workflows.bescheid: the Bescheid to the parents as HTML and PDF (LRV §§ 10, 11).

PDF text is read back with poppler's pdftotext (Debian package poppler-utils).
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
from datetime import date
from pathlib import Path

import pytest

from workflows import bescheid
from workflows.bescheid import (
    TEMPLATES_DIR, ResourceRefused, bescheid_html, bescheid_luecken, bescheid_pdf, local_url_fetcher,
)
from workflows.domain import Deadline, DeadlineStatus
from workflows.fristen import berechne

FUB = date(2026, 12, 11)  # FRISTEN.md row 24: + 2 weeks = 25.12.2026 (holiday) -> 28.12.2026

DECISIONS = {
    "bewilligt": "Die Komplexleistung Frühförderung wird bewilligt.",
    "teilweise_bewilligt": "Die Komplexleistung Frühförderung wird teilweise bewilligt. "
                           "Im Übrigen wird der Antrag abgelehnt.",
    "abgelehnt": "Der Antrag auf die Komplexleistung Frühförderung wird abgelehnt.",
}


#: the case's person record (workflows.privacy): child and guardians' address, fictitious
PERSON = {"id": 7, "kind_vorname": "Mia", "kind_nachname": "Beispiel", "kind_geburtsdatum": date(2023, 4, 17),
          "erziehungsberechtigte": "Anna und Jonas Beispiel", "strasse": "Lindenweg 12", "plz": "50999",
          "ort": "Köln"}


def make_case(entscheidung: str = "bewilligt", egh: str = "LVR", person: dict | None = PERSON, **data) -> dict:
    """A complete case of antrag_komplexleistung, field names as in bpmn/*.json."""
    values = {
        "aktenzeichen": "LVR-FF-2026-0104",
        "verordnung_datum": "2026-11-02", "widerspruchshinweis_erteilt_am": "2026-11-03",
        "fub_datum": FUB.isoformat(),
        "icd_diagnose": "F83 Kombinierte umschriebene Entwicklungsstörung",
        "icf_cy_ressourcen": "Ressourcentext ICF-CY", "anamnese": "Anamnesetext vertraulich",
        "vorbefunde": "Vorbefund vertraulich", "teilhabeziel": "Teilhabeziel vertraulich",
        "foerderangebote": ["heilpaedagogik", "logopaedie", "elternberatung"],
        "foerdereinheiten_heilpaedagogisch": 40, "foerdereinheiten_medizinisch_therapeutisch": 30,
        "frequenz": "wöchentlich", "foerderort": ["ambulant", "mobil_kita"],
        "foerderzeitraum_von": "2026-11-01", "foerderzeitraum_bis": "2027-11-30",
        "unterschriften": ["aerztin", "paedagogische_fachkraft", "erziehungsberechtigte"],
        "antrag_eingang_am": "2026-12-14", "antrag_gestellt_bei": "egh", "zustaendiger_egh": egh,
        "krankenkasse": "AOK Rheinland/Hamburg",
        "leistungspflicht_bestaetigt": "ja", "bestaetigt_am": "2026-12-16",
        "entscheidung": entscheidung, "entschieden_am": "2026-12-23",
        "begruendung": "Der Bedarf ist im Förder- und Behandlungsplan nachvollziehbar dargelegt.",
        "bescheid_datum": "2026-12-23",
    }
    values.update(data)
    return {
        "business_key": "LVR-FF-2026-0104" if egh == "LVR" else "LWL-FF-2026-0201",
        "title": "Antrag – Entscheidung – Bescheid",
        "parties": {"egh": egh, "krankenkasse": "AOK Rheinland/Hamburg",
                    "leistungserbringer": "IFF Köln-Süd"},
        "data": {k: v for k, v in values.items() if v is not None},
        "person": person,
        "deadlines": [
            Deadline("entscheidung", berechne("fruehv8-entscheidung", FUB),
                     DeadlineStatus.MET, date(2026, 12, 23)),
            Deadline("leistungsbeginn", berechne("lrv11-leistungsbeginn-ohne-bescheid", FUB),
                     DeadlineStatus.CANCELLED),
            Deadline("fub_fortschreibung", berechne("fub-fortschreibung", FUB)),
        ],
        "today": date(2026, 12, 23),
    }


def squash(text: str) -> str:
    """Whitespace-free text: line breaks, NBSPs and table layout of pdftotext don't matter."""
    return re.sub(r"\s+", "", text)


def assert_has(text: str, *phrases: str) -> None:
    for phrase in phrases:
        assert squash(phrase) in squash(text), f"{phrase!r} fehlt"


def assert_lacks(text: str, *phrases: str) -> None:
    for phrase in phrases:
        assert squash(phrase) not in squash(text), f"{phrase!r} darf nicht vorkommen"


@pytest.fixture(scope="module")
def poppler() -> None:
    if not (shutil.which("pdftotext") and shutil.which("pdfinfo")):
        pytest.skip("poppler-utils (pdftotext, pdfinfo) nicht installiert")


@pytest.fixture
def pdf_text(poppler, tmp_path):
    """Render a case to PDF and return (text, number of pages)."""
    def render(case: dict) -> tuple[str, int]:
        pdf = bescheid_pdf(case)
        assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
        path = tmp_path / "bescheid.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                              capture_output=True, text=True).stdout
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
        return text, pages
    return render


# --- PDF ----------------------------------------------------------------------------------------

def test_pdf_has_letterhead_aktenzeichen_dates_legal_notes_and_page_numbers(pdf_text):
    text, pages = pdf_text(make_case())
    assert_has(text, "Landschaftsverband Rheinland", "Dezernat Kinder, Jugend und Familie",
               "Kennedy-Ufer 2, 50679 Köln", "LVR-FF-2026-0104",
               "Bescheid über die Komplexleistung Frühförderung (§ 46 SGB IX, §§ 79, 113 SGB IX)",
               "Datum 23.12.2026", "Ihr Antrag vom 14.12.2026", "FuB vom 11.12.2026",
               "Mia Beispiel, geboren am 17.04.2023",
               "§ 11 Abs. 3 S. 2 LRV", "IFF Köln-Süd", "AOK Rheinland/Hamburg",
               "Rechtsbehelfsbelehrung", "innerhalb eines Monats nach seiner Bekanntgabe Widerspruch",
               "§ 84 Abs. 1 SGG", "§ 35 SGB I", "§§ 67 ff. SGB X",
               "bestätigt (§ 11 Abs. 2 LRV)", "§ 8 Abs. 1 S. 4 FrühV")
    assert_lacks(text, "2026-12-14", "2026-12-23", "ENTWURF")  # no ISO dates, not a draft
    assert pages >= 2
    assert_has(text, f"Seite 1 von {pages}", f"Seite {pages} von {pages}")


@pytest.mark.parametrize("entscheidung", list(DECISIONS))
def test_pdf_states_each_decision_in_german(pdf_text, entscheidung):
    text, _ = pdf_text(make_case(entscheidung))
    assert_has(text, DECISIONS[entscheidung])
    for other, wording in DECISIONS.items():
        if other != entscheidung:
            assert_lacks(text, wording)
    assert_has(text, "Der Bedarf ist im Förder- und Behandlungsplan nachvollziehbar dargelegt.")
    if entscheidung == "abgelehnt":
        assert_has(text, "Abgelehnt sind die im FuB vom 11.12.2026 vorgesehenen")
        assert_lacks(text, "Bewilligungszeitraum")
    else:
        assert_has(text, "Bewilligungszeitraum: 01.12.2026 bis 30.11.2027")


def test_pdf_lists_services_with_german_labels(pdf_text):
    text, _ = pdf_text(make_case())
    assert_has(text, "Heilpädagogik", "Logopädie / Sprachtherapie", "Beratung der Erziehungsberechtigten",
               "Frequenz: wöchentlich", "ambulant in der Frühförderstelle",
               "mobil in der Kindertageseinrichtung", "Heilpädagogische Leistungen 40 40",
               "Medizinisch-therapeutische Leistungen 30 30")
    assert_lacks(text, "logopaedie", "elternberatung", "mobil_kita", "heilpaedagogik")


def test_pdf_has_the_deadline_table(pdf_text):
    text, _ = pdf_text(make_case())
    assert_has(text, "Anlage: Fristen in diesem Verfahren",
               "Entscheidung über die Komplexleistung (2 Wochen nach FuB)",
               "§ 8 Abs. 1 S. 4 FrühV i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB",
               "25.12.2026 28.12.2026 erfüllt am 23.12.2026",      # row 24 of FRISTEN.md
               "Leistungsbeginn ohne Bescheid zulässig ab", "26.12.2026 29.12.2026 entfallen",
               "Fortschreibung des FuB (12 Monate)", "11.12.2027 13.12.2027 läuft")


def test_pdf_for_an_lwl_case_has_the_lwl_letterhead(pdf_text):
    text, _ = pdf_text(make_case(egh="LWL", aktenzeichen=None))
    assert_has(text, "Landschaftsverband Westfalen-Lippe", "Freiherr-vom-Stein-Platz 1, 48147 Münster",
               "LWL-FF-2026-0201",
               "zur Niederschrift beim Landschaftsverband Westfalen-Lippe, Freiherr-vom-Stein-Platz 1")
    assert_lacks(text, "Landschaftsverband Rheinland", "Kennedy-Ufer", "Dezernat Kinder")


def test_pdf_of_a_case_without_data_is_a_draft(pdf_text):
    text, pages = pdf_text({"data": {}})
    assert_has(text, "Entwurf – nicht versenden", "[Zuständiger Landschaftsverband]",
               "[Über den Antrag ist noch nicht entschieden.]", "Widerspruch",
               f"Seite 1 von {pages}")
    assert_lacks(text, "Anlage: Fristen")


def test_pdf_shows_escaped_markup_literally(pdf_text):
    text, _ = pdf_text(make_case("abgelehnt", begruendung="Grund: <b>x</b> & mehr"))
    assert_has(text, "Grund: <b>x</b> & mehr")


def test_pdf_rendering_fetches_nothing_outside_the_templates(monkeypatch, poppler):
    """A remote stylesheet stops the rendering before any socket is opened."""
    monkeypatch.setattr(bescheid, "bescheid_html",
                        lambda case: '<link rel="stylesheet" href="https://example.org/x.css"><p>x</p>')

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)

    from weasyprint.urls import FatalURLFetchingError
    with pytest.raises(FatalURLFetchingError) as excinfo:
        bescheid_pdf({})
    assert isinstance(excinfo.value.__cause__, ResourceRefused)


# --- HTML -----------------------------------------------------------------------------------------

def test_begruendung_and_names_are_escaped():
    html = bescheid_html(make_case("abgelehnt", begruendung="Grund: <b>x</b>",
                                   person={**PERSON, "kind_vorname": '<script>alert("x")</script>'}))
    assert "Grund: &lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("case", [{}, {"data": {}}, {"data": None, "parties": None, "deadlines": None},
                                  {"data": {"entscheidung": "unbekannt", "foerderangebote": "logopaedie",
                                            "antrag_eingang_am": "kein Datum", "bewilligt_von": 17}}])
def test_missing_or_odd_fields_do_not_crash(case):
    html = bescheid_html(case)
    assert "Sehr geehrte Erziehungsberechtigte" in html
    assert "Entwurf – nicht versenden" in html
    assert "Rechtsbehelfsbelehrung" in html
    assert "None" not in html


def test_gaps_make_a_draft_and_a_complete_case_has_none():
    assert bescheid_luecken(make_case()) == []
    assert "Entwurf" not in bescheid_html(make_case())
    assert bescheid_luecken({"data": {}}) == [
        "Zuständiger Landschaftsverband (LVR/LWL) fehlt", "Aktenzeichen fehlt",
        "Eingangsdatum des Antrags fehlt", "Entscheidung über den Antrag fehlt", "Name des Kindes fehlt",
        "Anschrift der Erziehungsberechtigten fehlt (Bekanntgabe, § 37 SGB X)"]


@pytest.mark.parametrize("missing", ["erziehungsberechtigte", "strasse", "plz", "ort"])
def test_a_bescheid_without_the_guardians_full_address_is_a_gap(missing):
    case = make_case(person={**PERSON, missing: None})
    assert bescheid_luecken(case) == ["Anschrift der Erziehungsberechtigten fehlt (Bekanntgabe, § 37 SGB X)"]
    assert "[Anschrift fehlt]" in bescheid_html(case)


def test_pdf_is_addressed_to_the_guardians(pdf_text):
    text, _ = pdf_text(make_case())
    assert_has(text, "Anna und Jonas Beispiel", "Lindenweg 12", "50999 Köln")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    name = lines.index("Anna und Jonas Beispiel")
    assert lines[name + 1:name + 3] == ["Lindenweg 12", "50999 Köln"]         # an address block


@pytest.mark.parametrize("entscheidung", ["teilweise_bewilligt", "abgelehnt"])
def test_partial_approval_and_rejection_need_reasons(entscheidung):
    case = make_case(entscheidung, begruendung=None)
    assert bescheid_luecken(case) == [
        "Begründung fehlt (Pflicht bei Teilbewilligung und Ablehnung, § 35 SGB X)"]
    html = bescheid_html(case)
    assert "Entwurf – nicht versenden" in html and "[Begründung fehlt" in html


def test_full_approval_without_reasons_cites_35_abs_2():
    html = bescheid_html(make_case(begruendung=""))
    assert bescheid_luecken(make_case(begruendung="")) == []
    assert_has(html, "einer weiteren Begründung bedarf es daher nicht")
    assert "§&#160;35 Abs.&#160;2 Nr.&#160;1 SGB X" in html


@pytest.mark.parametrize("von, bis, expected, note_108", [
    ("2026-11-01", "2027-11-30", "Bewilligungszeitraum: 01.12.2026 bis 30.11.2027", True),  # clamped
    ("2027-01-01", "2027-12-31", "Bewilligungszeitraum: 01.01.2027 bis 31.12.2027", False),  # kept
    (None, None, "Die Leistung wird ab dem 01.12.2026 bewilligt.", True),  # default: 1st of the month
])
def test_period_starts_no_earlier_than_the_first_of_the_application_month(von, bis, expected, note_108):
    html = bescheid_html(make_case(foerderzeitraum_von=von, foerderzeitraum_bis=bis))
    assert_has(html, expected)
    assert ("§&#160;108 Abs.&#160;1 SGB IX" in html) is note_108
    assert ("der Beginn ist deshalb auf diesen Tag festgesetzt" in html) is (von == "2026-11-01")


def test_approved_amounts_of_the_decision_override_the_fub():
    html = bescheid_html(make_case("teilweise_bewilligt", bewilligt_von="2027-01-01",
                                   bewilligt_bis="2027-06-30",
                                   bewilligte_foerdereinheiten_heilpaedagogisch=20))
    assert_has(html, "Bewilligungszeitraum: 01.01.2027 bis 30.06.2027")
    assert re.search(r"Heilpädagogische Leistungen</td>\s*<td[^>]*>40</td>\s*<td[^>]*>20</td>", html)
    assert re.search(r"Medizinisch-therapeutische Leistungen</td>\s*<td[^>]*>30</td>\s*"
                     r"<td[^>]*>siehe Begründung</td>", html)


def test_health_data_only_as_icd_code():
    html = bescheid_html(make_case(icd_diagnose="F83 Kombinierte umschriebene Entwicklungsstörung; F80.1"))
    assert "ICD-10-GM: F83, F80.1" in html
    for secret in ("Kombinierte", "Entwicklungsstörung", "vertraulich", "Ressourcentext"):
        assert secret not in html
    # a diagnosis written as free text without a code is left out entirely
    html = bescheid_html(make_case(icd_diagnose="Sprachentwicklungsverzögerung"))
    assert "Sprachentwicklungsverzögerung" not in html and "ICD-10-GM" not in html


def test_child_data_only_if_present():
    html = bescheid_html(make_case(person=None))
    assert "Leistungsberechtigtes Kind" not in html and "geboren am" not in html
    assert "des leistungsberechtigten Kindes" in html


@pytest.mark.parametrize("ab, shown", [("2026-12-29", True), ("2027-01-05", False)])
def test_start_without_bescheid_paragraph_11_4(ab, shown):
    case = make_case(leistungsbeginn_ohne_bescheid_zulaessig_ab=ab, bescheid_datum="2027-01-04")
    html = bescheid_html(case)
    late = "Über den Antrag ist nicht innerhalb der Frist des §&#160;8 FrühV entschieden worden"
    assert (late in html) is shown
    assert ("ab dem 29.12.2026 im Interesse Ihres Kindes" in html) is shown
    assert ("im Umfang der Bewilligung auch darüber hinaus" in html) is shown


def test_deadlines_given_as_dicts_are_rendered():
    case = make_case()
    case["deadlines"] = [{**berechne("fruehv8-entscheidung", FUB).to_dict(), "status": "laufend"}]
    html = bescheid_html(case)
    assert_has(html, "Entscheidung über die Komplexleistung (2 Wochen nach FuB)",
               "<td class=\"datum\">25.12.2026</td>", "<td class=\"datum\">28.12.2026</td>", "läuft")


def test_inline_css_for_browser_preview():
    html = bescheid_html(make_case(), inline_css=True)
    assert "<style>" in html and "counter(pages)" in html and "<link" not in html
    assert '<link rel="stylesheet" href="bescheid.css">' in bescheid_html(make_case())


# --- URL fetcher ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://example.org/bescheid.css",
    "http://127.0.0.1:8080/bescheid.css",
    "ftp://example.org/bescheid.css",
    "data:text/css,body{color:red}",
    "file:///etc/passwd",
    (TEMPLATES_DIR / "bescheid.css").as_uri().replace("file://", "file://example.org"),
    TEMPLATES_DIR.as_uri() + "/../bescheid.py",
    TEMPLATES_DIR.as_uri() + "/%2E%2E/bescheid.py",
    TEMPLATES_DIR.as_uri() + "/fehlt.css",
])
def test_url_fetcher_refuses_everything_but_template_files(url):
    with pytest.raises(ResourceRefused):
        local_url_fetcher(url)


def test_url_fetcher_serves_the_stylesheet():
    response = local_url_fetcher((TEMPLATES_DIR / "bescheid.css").as_uri())
    try:
        assert response.content_type == "text/css"
        assert b"@page" in response.read()
    finally:
        response.close()
    assert Path(response.path).resolve() == (TEMPLATES_DIR / "bescheid.css").resolve()
