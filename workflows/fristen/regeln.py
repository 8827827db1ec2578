"""The deadline rules of the procedures, their registry `RULES` and the entry point `berechne`.

Each rule cites its legal basis; the readings a rule can be configured with (e.g. A1, A2, B of
§ 5 Abs. 2 LRV) and the test vectors are documented in ``shared/FRISTEN.md``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .bausteine import (SOLL, Frist, Regel, as_date, choice, option_count, dauer, ereignis_regel,
                        _ereignis_text, _frist, _shift_text)
from .kalender import Kalender, default_kalender, beginnfrist, ereignisfrist, fmt


class UnknownRule(KeyError, ValueError):
    """An unknown rule id; a KeyError for lookups, a ValueError for input checks."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return f"Unbekannte Regel {self.args[0]!r}; bekannt sind: {', '.join(RULES)}"


# --- § 5 / § 14 LRV: recognition chain 3 + 3 months (readings A1, A2, B) ---------------------

def _lrv5_kette(event: date, opts: dict) -> tuple[date, date, str, str]:
    """End of the 3 + 3 chain per configured reading: (start used, end, reading, text)."""
    reading = choice(opts, "reading", ("A1", "A2", "B"), "A1")
    if reading == "B":
        if "verhandlungstermin" not in opts:
            raise ValueError("Lesart B braucht die Option 'verhandlungstermin' (Datum des Termins)")
        termin = as_date(opts["verhandlungstermin"], "verhandlungstermin")
        end = ereignisfrist(termin, months=3)
        return termin, end, reading, "Lesart B: " + _ereignis_text(
            "tatsächlicher Verhandlungstermin", termin, end, months=3)
    zwischen = ereignisfrist(event, months=3)
    a2 = ereignisfrist(zwischen, months=3)
    if reading == "A2":
        return event, a2, reading, (
            f"Lesart A2 (§ 190 BGB): Unterlagen vollständig {fmt(event)} + 3 Monate = "
            f"{fmt(zwischen)} (Zwischenende unverschoben) + 3 Monate = {fmt(a2)}")
    a1 = ereignisfrist(event, months=6)
    text = "Lesart A1: " + _ereignis_text("Unterlagen vollständig", event, a1, months=6)
    if a2 != a1:
        text += f" (Lesart A2 ergäbe {fmt(a2)})"
    return event, a1, reading, text


def _lrv5_abschluss(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    start, end, reading, text = _lrv5_kette(event, opts)
    return _frist(regel, start, end, kal, text, reading=reading, note=SOLL)


def _ab_frist(regel: Regel, event: date, end: date, kal: Kalender, text: str, basis: str,
              reading: str, folge: str) -> Frist:
    """'Allowed from' dates: day after the calendar end (end) and after the shifted end."""
    shifted = kal.next_working_day(end)
    ab, ab_shifted = end + timedelta(days=1), shifted + timedelta(days=1)
    gilt = (f"Tag nach dem verschobenen Ende: {fmt(ab_shifted)}" if basis == "shifted"
            else f"Tag nach dem kalendarischen Ende: {fmt(ab)}")
    explanation = (f"{text}; {_shift_text(end, shifted, kal)}; {folge} ab dem {gilt} "
                   f"(konfiguriert: basis={basis}).")
    return Frist(regel.id, regel.title, regel.legal_basis, event, ab, ab_shifted, explanation,
                 reading, regel.soll)


def _schlichtung(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    basis = choice(opts, "basis", ("shifted", "calendar"), "shifted")
    start, end, reading, text = _lrv5_kette(event, opts)
    return _ab_frist(regel, start, end, kal, "Abschlussziel § 5 Abs. 2 LRV, " + text, basis,
                     f"{reading}/{basis}", "Schlichtung (§ 14 Abs. 1 LRV) zulässig")


def _leistungsbeginn(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    basis = choice(opts, "basis", ("shifted", "calendar"), "shifted")
    end = ereignisfrist(event, weeks=2)
    text = "FrühV-Frist: " + _ereignis_text("FuB liegt vor am", event, end, weeks=2)
    return _ab_frist(regel, event, end, kal, text, basis, basis,
                     "ohne Bescheid Leistungsbeginn und Abrechnung (§ 11 Abs. 4 LRV) zulässig")


# --- SGB IX § 18, FuB, agreements -----------------------------------------------------------

def _sgb9_18(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    art = choice(opts, "traeger_art", ("egh", "krankenkasse"), "egh")
    end = ereignisfrist(event, months=2)
    if art == "egh":
        note = ("; Träger der Eingliederungshilfe: § 18 Abs. 1–5 SGB IX gelten nicht "
                "(§ 18 Abs. 7 SGB IX), keine begründete Mitteilung und keine "
                "Genehmigungsfiktion, nur Erstattung nach § 18 Abs. 6")
    else:
        note = ("; vor Fristablauf begründete Mitteilung (§ 18 Abs. 1, 2 SGB IX), sonst gilt die "
                "Leistung als genehmigt (§ 18 Abs. 3 SGB IX)")
    text = _ereignis_text("Antragseingang beim leistenden Träger", event, end, months=2)
    return _frist(regel, event, end, kal, text, soll=(art == "egh"), note=note)


def _leistungsdokumentation(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    stichtag = date(event.year, 10, 15)
    end = stichtag if stichtag > event else date(event.year + 1, 10, 15)
    text = (f"Jährliche Leistungsdokumentation zum 15. Oktober: nächster Stichtag nach "
            f"{fmt(event)} ist {fmt(end)}")
    return _frist(regel, event, end, kal, text)


def _ereignisfrist_regel(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    months, weeks, days = (option_count(opts, k) for k in ("months", "weeks", "days"))
    end = ereignisfrist(event, months=months, weeks=weeks, days=days)
    text = _ereignis_text("Ereignis", event, end, months, weeks, days)
    return _frist(regel, event, end, kal, text)


def _laufzeit(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    months = option_count(opts, "months", 12, minimum=1)
    end = beginnfrist(event, months=months)
    text = (f"Beginn {fmt(event)} (Anfangstag zählt mit, § 187 Abs. 2 BGB) + {dauer(months)} "
            f"= {fmt(end)} (§ 188 Abs. 2 Alt. 2 BGB); Zeitraumende, keine Verschiebung "
            "(§ 26 Abs. 4 SGB X).")
    return Frist(regel.id, regel.title, regel.legal_basis, event, end, end, text, None, regel.soll)


def _unverzueglich(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    n = option_count(opts, "werktage", 5, minimum=1)
    end = kal.add_working_days(event, n)
    text = (f"Eingang {fmt(event)} + {n} Werktage = {fmt(end)} (interne Festlegung, kein Gesetz; "
            "unverzüglich = ohne schuldhaftes Zögern, § 121 Abs. 1 S. 1 BGB)")
    return _frist(regel, event, end, kal, text)


@dataclass(frozen=True)
class KuendigungErgebnis:
    zugang: date
    vertragsende: date
    spaetester_zugang: date
    spaetester_zugang_werktag: date  # last working day on/before spaetester_zugang: no § 193 help
    explanation: str


def kuendigung_kitajahr(zugang: date, kalender: Kalender | None = None) -> KuendigungErgebnis:
    """12 months' notice to the end of a Kita year (31 July, § 1 Abs. 3 S. 2 KiBiz); no § 193 BGB
    shifting for notice periods (BGH III ZR 172/04), so a late weekend means 'arrive before'."""
    kal = kalender or default_kalender()
    fruehest = ereignisfrist(zugang, months=12)
    ende = date(fruehest.year, 7, 31)
    if ende < fruehest:
        ende = date(fruehest.year + 1, 7, 31)
    spaetest = date(ende.year - 1, 7, 31)
    werktag = kal.previous_working_day(spaetest)
    if werktag == spaetest:
        zugang_text = f"spätester Zugang für dieses Ende {fmt(spaetest)}"
    else:
        zugang_text = (f"spätester Zugang für dieses Ende {fmt(spaetest)} "
                       f"({kal.day_label(spaetest)}; keine Verschiebung, die Kündigung muss "
                       f"vorher zugehen: letzter Werktag {fmt(werktag)})")
    explanation = (f"Zugang {fmt(zugang)}: 12 Monate zum Ende eines Kitajahres (01.08.–31.07., "
                   f"§ 1 Abs. 3 S. 2 KiBiz) → frühestes Vertragsende {fmt(ende)}; "
                   f"{zugang_text}; kein § 193 BGB bei Kündigungsfristen (BGH III ZR 172/04), "
                   "Vertragsende als Zeitraumende nie verschoben.")
    return KuendigungErgebnis(zugang, ende, spaetest, werktag, explanation)


def _kuendigung(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    erg = kuendigung_kitajahr(event, kal)
    return Frist(regel.id, regel.title, regel.legal_basis, event, erg.vertragsende,
                 erg.vertragsende, erg.explanation, None, regel.soll)


# --- registry -------------------------------------------------------------------------------

_SGB9 = "SGB IX i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB"


def _einfach(id: str, title: str, legal_basis: str, description: str, label: str, *,
             months: int = 0, weeks: int = 0, note: str = "", soll: bool = False) -> Regel:
    """A rule that is one plain event deadline with § 193 shifting."""
    compute = ereignis_regel(label, months=months, weeks=weeks, note=note)
    return Regel(id, title, legal_basis, description, compute, soll=soll)


RULES: dict[str, Regel] = {r.id: r for r in (
    _einfach("lrv5-verhandlungstermin", "Verhandlungstermin (Sollziel 3 Monate)",
             "§ 5 Abs. 2 S. 1 LRV i. V. m. § 26 SGB X, §§ 187, 188 BGB",
             "Verhandlungstermin soll binnen 3 Monaten nach vollständigen Antragsunterlagen "
             "stattfinden; Sollziel, kalendarisches und verschobenes Ende werden angezeigt.",
             "Unterlagen vollständig", months=3, note=SOLL, soll=True),
    Regel("lrv5-abschluss", "Abschluss Anerkennungsverfahren (Sollziel 3 + 3 Monate)",
          "§ 5 Abs. 2 S. 2 LRV i. V. m. § 26 SGB X, §§ 187, 188, 190 BGB",
          "Anerkennung soll nach weiteren 3 Monaten abgeschlossen sein; Lesart A1 (E + 6 Monate, "
          "Standard), A2 ((E + 3 Monate) + 3 Monate, § 190 BGB) oder B (Verhandlungstermin "
          "+ 3 Monate, Option verhandlungstermin).",
          _lrv5_abschluss, options=("reading", "verhandlungstermin"), soll=True),
    Regel("lrv14-schlichtung-zulaessig", "Schlichtung zulässig ab",
          "§ 14 Abs. 1 LRV i. V. m. § 5 Abs. 2 LRV, § 26 SGB X",
          "Schlichtung ab dem Tag nach dem Ende der § 5-Kette (end: nach dem kalendarischen, "
          "shifted_end: nach dem verschobenen Ende; Option basis wählt den maßgeblichen Wert).",
          _schlichtung, options=("reading", "verhandlungstermin", "basis"), shifts=False),
    _einfach("lrv14-verguetung", "Vergütungsvereinbarung (6 Monate)",
             "§ 14 Abs. 1 LRV i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB",
             "Vergütungs- und Abrechnungsvereinbarung binnen 6 Monaten ab Verhandlungsbeginn, "
             "sonst kann die Schlichtungskommission angerufen werden.", "Verhandlungsbeginn",
             months=6, note="; danach Schlichtung möglich (§ 14 Abs. 1 LRV)"),
    _einfach("fruehv8-entscheidung", "Entscheidung über die Komplexleistung (2 Wochen nach FuB)",
             "§ 8 Abs. 1 S. 4 FrühV i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB",
             "Die beteiligten Träger entscheiden binnen 2 Wochen nach Vorliegen des FuB.",
             "FuB liegt vor am", weeks=2),
    Regel("lrv11-leistungsbeginn-ohne-bescheid", "Leistungsbeginn ohne Bescheid zulässig ab",
          "§ 11 Abs. 4 LRV i. V. m. § 8 Abs. 1 S. 4 FrühV, § 26 SGB X",
          "Ohne rechtzeitigen Bescheid darf die IFF ab dem Tag nach Ende der FrühV-Frist "
          "beginnen und abrechnen (Option basis: verschobenes oder kalendarisches Ende).",
          _leistungsbeginn, options=("basis",), shifts=False),
    _einfach("sgb9-14-zustaendigkeit", "Zuständigkeitsklärung (2 Wochen)",
             "§ 14 Abs. 1 S. 1 " + _SGB9,
             "Feststellung der Zuständigkeit binnen 2 Wochen nach Antragseingang.",
             "Antragseingang", weeks=2),
    _einfach("sgb9-14-entscheidung", "Entscheidung ohne Gutachten (3 Wochen)",
             "§ 14 Abs. 2 S. 2 " + _SGB9,
             "Entscheidung binnen 3 Wochen nach Antragseingang, wenn kein Gutachten nötig ist.",
             "Antragseingang", weeks=3),
    _einfach("sgb9-14-gutachten", "Entscheidung nach Gutachten (2 Wochen)",
             "§ 14 Abs. 2 S. 3 " + _SGB9,
             "Entscheidung binnen 2 Wochen nach Vorliegen des Gutachtens.",
             "Gutachten liegt vor am", weeks=2),
    _einfach("sgb9-17-gutachten", "Gutachtenerstellung (2 Wochen)", "§ 17 Abs. 2 S. 1 " + _SGB9,
             "Der Sachverständige erstellt das Gutachten binnen 2 Wochen nach Auftragserteilung.",
             "Auftrag erteilt am", weeks=2),
    _einfach("sgb9-15-feststellung", "Feststellungen beteiligter Träger (2 Wochen)",
             "§ 15 Abs. 2 S. 2 " + _SGB9,
             "Feststellungen binden nur, wenn sie binnen 2 Wochen nach Anforderung eingehen.",
             "Anforderung am", weeks=2),
    _einfach("sgb9-15-mehrere-traeger", "Entscheidung bei mehreren Trägern (6 Wochen)",
             "§ 15 Abs. 4 S. 1 " + _SGB9,
             "Bei Beteiligung weiterer Träger Entscheidung binnen 6 Wochen nach Antragseingang.",
             "Antragseingang", weeks=6),
    _einfach("sgb9-15-teilhabeplankonferenz", "Entscheidung mit Teilhabeplankonferenz (2 Monate)",
             "§ 15 Abs. 4 S. 2 " + _SGB9,
             "Mit Teilhabeplankonferenz (§ 20 SGB IX) Entscheidung binnen 2 Monaten nach "
             "Antragseingang.", "Antragseingang", months=2),
    Regel("sgb9-18-entscheidung", "Entscheidung oder begründete Mitteilung (2 Monate)",
          "§ 18 Abs. 1 " + _SGB9,
          "2 Monate ab Antragseingang beim leistenden Träger; Genehmigungsfiktion nur, wenn "
          "§ 18 Abs. 7 nicht greift (Option traeger_art: egh | krankenkasse).",
          _sgb9_18, options=("traeger_art",)),
    _einfach("fub-fortschreibung", "Fortschreibung des FuB (12 Monate)",
             "§ 7 Abs. 1 S. 2 FrühV, § 8 Abs. 2 LRV i. V. m. § 26 SGB X, §§ 187, 188 BGB",
             "FuB spätestens nach 12 Monaten anpassen; interne Wiedervorlage auf dem "
             "kalendarischen Ende (end), verschobenes Ende nur zur Anzeige.", "FuB liegt vor am",
             months=12, note="; Wiedervorlage auf dem kalendarischen Ende (nicht verschoben)"),
    Regel("leistungsdokumentation", "Leistungsdokumentation (jährlich zum 15. Oktober)",
          "§ 8 Abs. 4 LV extern i. V. m. § 26 Abs. 3 SGB X, § 193 BGB",
          "Standardisierte Leistungsdokumentation einmal jährlich zum 15. Oktober (nächster "
          "Stichtag nach dem Ereignis).", _leistungsdokumentation),
    _einfach("fuehrungszeugnis", "Erweitertes Führungszeugnis (spätestens alle 5 Jahre)",
             "§ 8 Abs. 3 LV extern, § 72a SGB VIII i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB",
             "Erneute Prüfung des erweiterten Führungszeugnisses spätestens 5 Jahre nach dessen "
             "Datum.", "Führungszeugnis vom", months=60),
    Regel("kuendigung-kitajahr", "Kündigung zum Ende des Kitajahres (12 Monate)",
          "§ 14 Abs. 1 LV extern, § 1 Abs. 3 S. 2 KiBiz; kein § 193 BGB (BGH III ZR 172/04)",
          "Ereignis = Zugang der Kündigung; Ende = frühestes Vertragsende (31.07.); "
          "keine Verschiebung.", _kuendigung, shifts=False),
    Regel("laufzeit", "Laufzeit (Beginnfrist)",
          "§ 26 Abs. 1, 4 SGB X, §§ 187 Abs. 2, 188 Abs. 2 Alt. 2, Abs. 3 BGB",
          "Zeitraum von N Monaten (Option months, Standard 12) ab Tagesbeginn; Ende nie "
          "verschoben.", _laufzeit, options=("months",), shifts=False),
    Regel("ereignisfrist", "Ereignisfrist (allgemein)",
          "§ 26 Abs. 1, 3 SGB X, §§ 187 Abs. 1, 188 Abs. 2, 3, 193 BGB",
          "Allgemeine Ereignisfrist mit months/weeks/days, z. B. für BPMN-Timer.",
          _ereignisfrist_regel, options=("months", "weeks", "days")),
    Regel("unverzueglich", "Interne Frist „unverzüglich“ (SLA in Werktagen)",
          "§ 121 Abs. 1 S. 1 BGB; § 8 Abs. 1 S. 3 FrühV, § 14 Abs. 1 S. 2 SGB IX, "
          "§§ 10 Abs. 2, 11 Abs. 2 LRV",
          "Fachliche Festlegung für „unverzüglich“ (Option werktage, Standard 5), kein "
          "Gesetz.",
          _unverzueglich, options=("werktage",), soll=True),
)}


def berechne(rule_id: str, event: date, *, kalender: Kalender | None = None, **options) -> Frist:
    """Compute one rule; options set to None count as not given (handy for CLI/forms)."""
    regel = RULES.get(rule_id)
    if regel is None:
        raise UnknownRule(rule_id)
    opts = {k: v for k, v in options.items() if v is not None}
    unbekannt = sorted(set(opts) - set(regel.options))
    if unbekannt:
        erlaubt = ", ".join(regel.options) or "keine"
        raise ValueError(f"Regel {rule_id!r} kennt die Option(en) {', '.join(unbekannt)} nicht; "
                         f"erlaubt: {erlaubt}")
    return regel.compute(regel, as_date(event, "Ereignis"), kalender or default_kalender(), opts)


def entscheidungsrahmen(eingang: date, fub: date, *, gutachten: date | None = None,
                        mehrere_traeger: bool = False,
                        kalender: Kalender | None = None) -> list[Frist]:
    """All decision deadlines of a Komplexleistung, earliest shifted end first (FRISTEN.md ⚠:
    the first is shown as the target, the others as the statutory frame)."""
    fristen = [berechne("fruehv8-entscheidung", fub, kalender=kalender),
               berechne("sgb9-14-entscheidung", eingang, kalender=kalender)]
    if gutachten is not None:
        fristen.append(berechne("sgb9-14-gutachten", gutachten, kalender=kalender))
    if mehrere_traeger:
        fristen.append(berechne("sgb9-15-mehrere-traeger", eingang, kalender=kalender))
    return sorted(fristen, key=lambda f: (f.shifted_end, f.end))
