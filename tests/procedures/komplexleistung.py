"""The Antrag Komplexleistung scenario up to the EGH's decision (bpmn/antrag_komplexleistung.bpmn),
shared by test_antrag_komplexleistung and test_bescheid_in_case_file."""
from datetime import date, datetime, timedelta

from workflows.clock import BERLIN
from workflows.domain import DeadlineStatus

from ..helpers import ANBIETER, PARTIES_LVR, SACHBEARBEITUNG_LVR
from .helpers import KRANKENKASSE, complete, deadlines, due_day, task, titles

PROCESS = "antrag_komplexleistung"
KEY = "LVR-FF-2026-0001"
FUB = date(2026, 12, 11)                 # Fr; FRISTEN.md row 24: FrühV end 25.12. (holiday) -> 28.12.

ENTSCHEIDEN = "Über den Antrag entscheiden"
BESCHEID = "Bescheid erstellen und an die Eltern versenden"
WEITERLEITEN = "Antrag unverzüglich an den zuständigen EGH weiterleiten"
HINWEIS = "Hinweis: Leistungsbeginn nach § 11 Abs. 4 LRV zulässig zur Kenntnis nehmen"
ESKALATION = "Überschreitung der Entscheidungsfrist (§ 8 FrühV) bewerten"
INFO_LE = "Entscheidung zur Kenntnis nehmen (Leistungserbringer)"
INFO_KK = "Entscheidung zur Kenntnis nehmen (Krankenkasse)"
FOERDERUNG = "Förderung und Behandlung nach FuB erbringen"
FORTSCHREIBEN = "FuB fortschreiben"
ABSCHLUSS = "Abschlussdiagnostik durchführen und Abschlussbericht versenden"
#: the child and the guardians' address (fictitious), kept apart from the case (workflows.privacy)
KIND = {"kind_vorname": "Emil", "kind_nachname": "Testkind", "kind_geburtsdatum": "2024-02-29",
        "erziehungsberechtigte": "Sara Testkind", "strasse": "Am Bach 3", "plz": "50667", "ort": "Köln"}


def at(clock, day: date, hour: int = 10) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN))


def bis_zur_entscheidung(services, clock, antrag_bei: str = "egh") -> None:
    """Prescription, diagnostics, FuB and application up to the EGH's decision task."""
    ref = services.start_case(PROCESS, KEY, {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, person=KIND)
    assert [t["title"] for t in ref.open_tasks] == ["Verordnung und Eingangsdiagnostik erfassen"]
    assert services.inbox(SACHBEARBEITUNG_LVR) == []
    complete(services, ANBIETER, "Verordnung und Eingangsdiagnostik erfassen", {
        "verordnung_datum": "2026-10-20", "verordnende_aerztin": "Dr. Kinderärztin",
        "widerspruchshinweis_erteilt_am": "2026-10-27", "widerspruch_76_sgb_x": False,
        "diagnostik_bereiche": ["heilpaedagogisch", "medizinisch_therapeutisch", "psychologisch"],
        "diagnostik_stunden": 10, "eingangsdiagnostik_abgeschlossen_am": "2026-12-09",
        "ergebnis_mit_eltern_besprochen": True})
    complete(services, ANBIETER, "Förder- und Behandlungsplan (FuB) erstellen", {
        "fub_datum": FUB.isoformat(), "icd_diagnose": "F83", "teilhabeziel": "Teilhabe in der Kita",
        "foerderangebote": ["heilpaedagogik", "logopaedie"], "foerdereinheiten_heilpaedagogisch": 40,
        "foerdereinheiten_medizinisch_therapeutisch": 20, "foerderort": ["ambulant"],
        "unterschriften": ["aerztin", "paedagogische_fachkraft", "erziehungsberechtigte"]})
    complete(services, ANBIETER, "Antrag auf Komplexleistung erfassen", {
        "antrag_eingang_am": FUB.isoformat(), "antrag_gestellt_bei": antrag_bei, "zustaendiger_egh": "LVR",
        "krankenkasse": "AOK Rheinland/Hamburg"})
    if antrag_bei == "krankenkasse":
        assert titles(services, SACHBEARBEITUNG_LVR) == []
        forwarding = task(services, KRANKENKASSE, WEITERLEITEN)
        assert forwarding["lane"] == "Krankenkasse" and forwarding["organisation"] == "AOK Rheinland/Hamburg"
        assert due_day(forwarding) == date(2026, 12, 18)      # 5 working days
        at(clock, date(2026, 12, 15))                 # forwarded on the 14th, recorded on the 15th
        complete(services, KRANKENKASSE, WEITERLEITEN, {"weitergeleitet_am": "2026-12-14",
                                                        "weitergeleitet_an": "LVR",
                                                        "antragsteller_unterrichtet": True})
    assert titles(services, KRANKENKASSE) == ["Leistungspflicht bestätigen"]
    asked = clock.now().astimezone(BERLIN).date()
    at(clock, asked + timedelta(days=1))              # confirmed on the day asked, recorded next day
    complete(services, KRANKENKASSE, "Leistungspflicht bestätigen", {
        "leistungspflicht_bestaetigt": "ja", "bestaetigt_am": asked.isoformat()})
    confirmation = deadlines(services, KEY, KRANKENKASSE)["bestaetigung_kk"]
    assert (confirmation.event, confirmation.status, confirmation.met_on) == (asked, DeadlineStatus.MET, asked)
    assert titles(services, SACHBEARBEITUNG_LVR) == [ENTSCHEIDEN]
