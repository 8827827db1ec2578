"""Console command ``fristen``: compute one deadline rule of workflows.fristen.

    fristen lrv5-verhandlungstermin 2025-11-30 --json
    fristen lrv5-abschluss 30.11.2025 --reading B --verhandlungstermin 2026-01-15
    fristen --list
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime

from workflows.fristen import RULES, Kalender, UnknownRule, berechne, fmt, kuendigung_kitajahr


def _parse_date(text: str, what: str) -> date:
    """ISO (JJJJ-MM-TT) or German (TT.MM.JJJJ) input; German error message otherwise."""
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{what}: ungültiges Datum {text!r} (erwartet JJJJ-MM-TT oder TT.MM.JJJJ)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fristen", description="Fristen nach SGB X § 26 / BGB §§ "
                                "187–193 mit Feiertagen NRW berechnen.")
    p.add_argument("rule", nargs="?", help="Regel-ID (siehe --list)")
    p.add_argument("date", nargs="?", help="Ereignis-/Beginndatum (JJJJ-MM-TT oder TT.MM.JJJJ)")
    p.add_argument("--list", action="store_true", help="alle Regeln mit Titel ausgeben")
    p.add_argument("--json", action="store_true", help="Ergebnis als ein JSON-Objekt ausgeben")
    p.add_argument("--reading", help="Lesart der Kette 3 + 3 (A1, A2, B)")
    p.add_argument("--verhandlungstermin", help="tatsächlicher Verhandlungstermin (Lesart B)")
    p.add_argument("--basis", help="shifted oder calendar")
    p.add_argument("--months", type=int, help="Monate")
    p.add_argument("--weeks", type=int, help="Wochen")
    p.add_argument("--days", type=int, help="Tage")
    p.add_argument("--werktage", type=int, help="Werktage (interne Frist „unverzüglich“)")
    p.add_argument("--traeger-art", dest="traeger_art", help="egh oder krankenkasse")
    p.add_argument("--land", default="NW", help="Landescode für Feiertage (Standard NW)")
    p.add_argument("--feiertag", action="append", default=[],
                   help="zusätzlicher Feiertag (wiederholbar)")
    p.add_argument("--kein-feiertag", dest="kein_feiertag", action="append", default=[],
                   help="Feiertag nicht berücksichtigen (wiederholbar)")
    return p


def _list_rules() -> str:
    width = max(map(len, RULES))
    return "\n".join(f"{rid:<{width}}  {regel.title}" for rid, regel in RULES.items())


def _end_rows(frist) -> list[tuple[str, str]]:
    """Label the two end values by what they mean for this kind of rule."""
    if RULES[frist.rule].shifts:
        return [("Ende (kalendarisch)", fmt(frist.end)),
                ("Ende (§ 26 Abs. 3 SGB X / § 193 BGB)", fmt(frist.shifted_end))]
    if frist.end == frist.shifted_end:
        return [("Ende (keine Verschiebung)", fmt(frist.end))]
    return [("Ab (nach kalendarischem Ende)", fmt(frist.end)),
            ("Ab (nach verschobenem Ende)", fmt(frist.shifted_end))]


def _text(frist, kal: Kalender) -> str:
    rows = [("Regel", f"{frist.rule} – {frist.title}"), ("Rechtsgrundlage", frist.legal_basis),
            ("Ereignis/Beginn", fmt(frist.event)), *_end_rows(frist)]
    if frist.reading:
        rows.append(("Lesart", frist.reading))
    rows.append(("Art", "Sollziel" if frist.soll else "Frist"))
    if frist.rule == "kuendigung-kitajahr":
        erg = kuendigung_kitajahr(frist.event, kal)
        latest = fmt(erg.spaetester_zugang)
        if erg.spaetester_zugang_werktag != erg.spaetester_zugang:
            latest += f", kein Werktag: Zugang bis {fmt(erg.spaetester_zugang_werktag)} sichern"
        rows.append(("Spätester Zugang", latest))
    rows.append(("Erläuterung", frist.explanation))
    width = max(len(label) for label, _ in rows) + 1
    return "\n".join(f"{label + ':':<{width}} {value}" for label, value in rows)


def _run(args: argparse.Namespace) -> int:
    if args.list:
        print(_list_rules())
        return 0
    if not args.rule or not args.date:
        raise ValueError("Regel-ID und Datum angeben, z. B. "
                         "'fristen lrv5-verhandlungstermin 2025-11-30' (oder --list)")
    if args.rule not in RULES:
        raise UnknownRule(args.rule)
    kal = Kalender(args.land,
                   extra_holidays=[_parse_date(d, "--feiertag") for d in args.feiertag],
                   removed_holidays=[_parse_date(d, "--kein-feiertag") for d in args.kein_feiertag])
    termin = args.verhandlungstermin
    options = {
        "reading": args.reading, "basis": args.basis, "traeger_art": args.traeger_art,
        "months": args.months, "weeks": args.weeks, "days": args.days, "werktage": args.werktage,
        "verhandlungstermin": _parse_date(termin, "--verhandlungstermin") if termin else None,
    }
    frist = berechne(args.rule, _parse_date(args.date, "Datum"), kalender=kal, **options)
    if args.json:
        print(json.dumps(frist.to_dict(), ensure_ascii=False))
    else:
        print(_text(frist, kal))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for invalid input) instead of exiting."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _run(args)
    except ValueError as exc:  # includes UnknownRule
        print(f"fristen: Fehler: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
