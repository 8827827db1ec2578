"""Schemas every part of the REST API shares: the error body and paging."""
from __future__ import annotations

from .fields import Dict, Integer, List, Nested, Schema, String, described, between

# --- errors ---------------------------------------------------------------------------

class ErrorSchema(Schema):
    code = String(required=True, **described("Maschinenlesbarer Fehlercode, z. B. nicht_gefunden, konflikt, "
                                      "ungueltige_eingabe, keine_berechtigung, nicht_angemeldet"))
    message = String(required=True, **described("Meldung auf Deutsch, für Menschen"))
    details = Dict(required=True, **described("Weitere Angaben; bei 422 `fields`: Feldname → deutsche Meldung"))


# --- paging -----------------------------------------------------------------------------

class PageArgs(Schema):
    page = Integer(load_default=1, validate=between(1, 100000), **described("Seite (ab 1)"))
    per_page = Integer(load_default=25, validate=between(1, 100), **described("Einträge je Seite (höchstens 100)"))


def page_of(item_schema, name: str):
    return type(name, (Schema,), {
        "items": List(Nested(item_schema), required=True, **described("Die Einträge dieser Seite")),
        "total": Integer(required=True, **described("Anzahl aller passenden Einträge")),
        "page": Integer(required=True, **described("Diese Seite")),
        "per_page": Integer(required=True, **described("Einträge je Seite")),
    })
