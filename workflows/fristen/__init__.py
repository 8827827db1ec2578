"""Legal deadlines (Fristen) of the NRW early-intervention procedures.

Pure functions over ``datetime.date``: SGB X § 26 with BGB §§ 187-193 and the public
holidays of a Land (default NRW) from the ``holidays`` package. No clock, no I/O.
The rules, the configurable readings and the test vectors are in ``shared/FRISTEN.md``.
"LV extern" below is the LVR Leistungsvereinbarung with external providers (seed 002).

Callers use the package (`from workflows import fristen; fristen.berechne(...)`); its modules:

    kalender   working days of a Land (Kalender), fmt, BGB §§ 187-193 arithmetic
    bausteine  Frist and Regel, and the explanations and options rules are built from
    regeln     the rules of the procedures, the registry RULES, berechne, entscheidungsrahmen
"""
from __future__ import annotations

from .bausteine import SHIFT_BASIS, Compute, Frist, Regel
from .kalender import (WOCHENTAGE, Kalender, beginnfrist, ereignisfrist, fmt, fruehester_leistungsbeginn,
                       verschiebe)
from .regeln import RULES, KuendigungErgebnis, UnknownRule, berechne, entscheidungsrahmen, kuendigung_kitajahr

__all__ = [
    "WOCHENTAGE", "Kalender", "beginnfrist", "ereignisfrist", "fmt", "fruehester_leistungsbeginn", "verschiebe",
    "SHIFT_BASIS", "Compute", "Frist", "Regel",
    "RULES", "KuendigungErgebnis", "UnknownRule", "berechne", "entscheidungsrahmen", "kuendigung_kitajahr",
]
