"""Schemas of the simulation clock and of /health and /me."""
from __future__ import annotations

from .fields import MOMENT, Boolean, DateTime, List, Schema, String, described, length, pattern

class ClockSchema(Schema):
    now = DateTime(required=True, **described("Jetzt (simuliert oder echt), UTC"))
    simulated = Boolean(required=True, **described("Ob die Simulationsuhr gestellt ist"))
    frozen = Boolean(required=True, **described("Ob die simulierte Zeit angehalten ist"))


class ClockArgs(Schema):
    # years outside 2000–2099 would overflow deadline arithmetic and mean nothing here
    now = String(required=True, validate=[length(40), pattern(MOMENT, "Bitte einen Zeitpunkt von 2000 bis 2099 "
                                                              "im Format JJJJ-MM-TTTHH:MM[:SS][Z|±HH:MM] angeben.")],
                 **described("Neuer Zeitpunkt (2000–2099), z. B. 2027-03-01T09:00; ohne Zeitzone gilt deutsche Zeit"))
    frozen = Boolean(load_default=False, **described("Zeit anhalten (true) oder ab dort weiterlaufen lassen"))


class HealthSchema(Schema):
    status = String(required=True, **described("ok"))


class MeSchema(Schema):
    username = String(required=True)
    groups = List(String(), required=True)
    organisation = String(allow_none=True)
