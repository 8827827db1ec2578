"""The Schlichtungskommission's steps (bpmn/schlichtung.bpmn), shared by test_schlichtung and the
Anerkennungsverfahren that calls it (test_anerkennungsverfahren)."""
from workflows.domain import Actor

from .helpers import complete

KOMMISSION = Actor("sven.schlichtung", frozenset({"Schlichtungskommission"}), None)

ANRUFUNG = "Anrufung der Schlichtungskommission erfassen"
BENENNUNG = "Mitglieder der Schlichtungskommission benennen"
MODERATION = "Neutrale Moderation benennen (Runder Tisch IFF NRW)"
STELLUNGNAHME_EGH = "Stellungnahme des Eingliederungshilfeträgers abgeben"
STELLUNGNAHME_LE = "Stellungnahme des Leistungserbringers abgeben"
ANHOERUNG = "Sitzung mit Anhörung der Beteiligten durchführen"
SPRUCH = "Schlichtungsspruch fassen"
ALLE = ["freie_wohlfahrtspflege", "gkv", "landschaftsverbaende"]


def benennen(services, **beteiligt):
    complete(services, KOMMISSION, BENENNUNG, {
        "mitglied_freie_wohlfahrtspflege": "Frau Vogel (Diakonie)", "mitglied_gkv": "Herr Jansen (BKK-LV)",
        "mitglied_landschaftsverbaende": "Frau Bohne (LWL)", "benannt_am": "2026-06-10",
        **{f"beteiligt_{bank}": beteiligt.get(bank, False) for bank in ALLE}})
