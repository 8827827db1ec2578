"""Schemas every part of the REST API shares: the error body and paging."""
from __future__ import annotations

from .fields import Dict, Integer, List, Nested, Schema, String, _d, between

# --- errors ---------------------------------------------------------------------------

class ErrorSchema(Schema):
    code = String(required=True, **_d("Maschinenlesbarer Fehlercode, z. B. nicht_gefunden, konflikt, "
                                      "ungueltige_eingabe, keine_berechtigung, nicht_angemeldet"))
    message = String(required=True, **_d("Meldung auf Deutsch, für Menschen"))
    details = Dict(required=True, **_d("Weitere Angaben; bei 422 `fields`: Feldname → deutsche Meldung"))


# --- paging -----------------------------------------------------------------------------

class PageArgs(Schema):
    page = Integer(load_default=1, validate=between(1, 100000), **_d("Seite (ab 1)"))
    per_page = Integer(load_default=25, validate=between(1, 100), **_d("Einträge je Seite (höchstens 100)"))


def _page_of(item_schema, name: str):
    return type(name, (Schema,), {
        "items": List(Nested(item_schema), required=True, **_d("Die Einträge dieser Seite")),
        "total": Integer(required=True, **_d("Anzahl aller passenden Einträge")),
        "page": Integer(required=True, **_d("Diese Seite")),
        "per_page": Integer(required=True, **_d("Einträge je Seite")),
    })
