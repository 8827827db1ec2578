"""Schemas of /deadlines: the deadline board."""
from __future__ import annotations

from .common import PageArgs, page_of
from .fields import Boolean, Date, Dict, Integer, Schema, String, described, between, length, one_of

BOARD_STATES = ("laufend", "bald_faellig", "ueberfaellig", "erfuellt", "verspaetet_erfuellt", "entfallen")


class DeadlineListArgs(PageArgs):
    process_id = String(validate=length(200), **described("Nur Fristen dieses Verfahrens"))
    organisation = String(validate=length(200), **described("Nur Vorgänge, an denen diese Organisation beteiligt ist"))
    state = String(validate=one_of(BOARD_STATES), **described("Stand der Frist (ohne: alle offenen)"))
    due_from = Date(**described("Verschobenes Fristende frühestens an diesem Tag"))
    due_to = Date(**described("Verschobenes Fristende spätestens an diesem Tag"))
    soon_days = Integer(load_default=14, validate=between(0, 365), **described("Tage, ab denen eine Frist „bald fällig“ ist"))
    per_page = Integer(load_default=50, validate=between(1, 100), **described("Einträge je Seite (höchstens 100)"))


class BoardRowSchema(Schema):
    business_key = String(required=True)
    process_id = String(required=True)
    case_title = String(required=True)
    key = String(required=True)
    rule = String(required=True)
    title = String(required=True)
    legal_basis = String(required=True)
    event_date = Date(required=True)
    end_date = Date(required=True, **described("Kalendarisches Fristende"))
    shifted_end = Date(required=True, **described("Verschobenes Fristende (§ 26 Abs. 3 SGB X)"))
    explanation = String(required=True)
    reading = String(allow_none=True)
    soll = Boolean(required=True)
    status = String(required=True, **described("laufend, erfuellt oder entfallen (gespeicherter Stand)"))
    met_on = Date(allow_none=True)
    state = String(required=True, **described("Stand heute: " + ", ".join(BOARD_STATES)))
    days_left = Integer(required=True, **described("Kalendertage bis zum verschobenen Fristende"))
    working_days_left = Integer(required=True, **described("Arbeitstage (NRW) bis zum verschobenen Fristende"))
    lane = String(allow_none=True, **described("Gruppe der Aufgabe, die auf die Frist hinarbeitet"))
    organisation = String(allow_none=True, **described("Zuständige Organisation"))
    claimed_by = String(allow_none=True)
    escalated = Boolean(**described("Bei der Leitung eskaliert"))
    parties = Dict(keys=String(), values=String())


BoardPageSchema = page_of(BoardRowSchema, "BoardPageSchema")
