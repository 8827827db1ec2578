"""The open deadlines as an iCalendar feed (RFC 5545), written with the icalendar library.

Titles, legal texts and explanations come from models and their authors. Deadline keys are
identifiers where they enter (workflows.engine.DEADLINE_KEY), but the feed does not rely on
that: the library escapes every text value where it leaves (backslash, ;, , and line breaks)
and folds lines at 75 octets, so no value can end an event or add a property or an event.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event


def feed(rows: list[dict], now: datetime) -> bytes:
    """One all-day event per deadline on its last day (after § 26 Abs. 3 SGB X), with the
    calendar end and the legal basis in the description."""
    calendar = Calendar()
    calendar.add("prodid", "-//Fruehfoerderung NRW//Fristen//DE")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Fristen")
    for row in rows:
        end = row["shifted_end"]
        event = Event()
        event.add("uid", f"{row['business_key']}-{row['key']}@fruehfoerderung.nrw")
        event.add("dtstamp", now)
        event.add("dtstart", end)
        event.add("dtend", end + timedelta(days=1))
        event.add("summary", f"{row['title']} – {row['business_key']}")
        event.add("description", f"{row['legal_basis']}\nkalendarisches Ende: {row['end_date']:%d.%m.%Y}\n"
                                 f"{row['explanation'] or ''}")
        calendar.add_component(event)
    return calendar.to_ical()
