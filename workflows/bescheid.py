"""The Bescheid to the parents about the Komplexleistung Frühförderung, as HTML and PDF.

Procedure 3 of DOMAIN.md (seed 003, LRV §§ 10, 11; § 8 FrühV): the Landschaftsverband
(LVR/LWL) decides on the basis of the Förder- und Behandlungsplan (FuB) and sends the
Bescheid to the Erziehungsberechtigten; provider and Krankenkasse are informed about its
content (§ 11 Abs. 3 LRV).

Plain Python: Jinja2 renders ``templates/bescheid.html`` (autoescape on), WeasyPrint turns
it into a PDF. WeasyPrint is imported only by :func:`bescheid_pdf`. Every field of the case
data is optional; what is missing becomes a German placeholder, an omitted paragraph, and
- where a Bescheid would be legally incomplete - an "ENTWURF" mark (:func:`bescheid_luecken`).

Health data are kept minimal (Art. 9 DSGVO, § 67b SGB X): of the FuB only the services, the
amounts, the period and the ICD *codes* appear; diagnosis texts, ICF-CY, anamnesis,
prior findings and goals never reach the letter.

The child and the guardians' postal address come from the case's person record
(``case["person"]``, see workflows/privacy.py), never from the case data.
"""
from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from . import clock
from .fristen import fruehester_leistungsbeginn

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "bescheid.html"
STYLESHEET = "bescheid.css"

BETREFF = "Bescheid über die Komplexleistung Frühförderung (§ 46 SGB IX, §§ 79, 113 SGB IX)"

#: Eingliederungshilfeträger: name, letterhead lines below the name, postal address.
TRAEGER: dict[str, dict[str, Any]] = {
    "LVR": {"kurz": "LVR", "name": "Landschaftsverband Rheinland",
            "abteilung": "Dezernat Kinder, Jugend und Familie",
            "strasse": "Kennedy-Ufer 2", "ort": "50679 Köln"},
    "LWL": {"kurz": "LWL", "name": "Landschaftsverband Westfalen-Lippe", "abteilung": None,
            "strasse": "Freiherr-vom-Stein-Platz 1", "ort": "48147 Münster"},
}

#: fub_erstellen.json "foerderangebote" -> German label (§ 8 Abs. 3 f aa LRV).
FOERDERANGEBOTE = {
    "heilpaedagogik": "Heilpädagogik",
    "physiotherapie": "Physiotherapie",
    "logopaedie": "Logopädie / Sprachtherapie",
    "ergotherapie": "Ergotherapie",
    "psychologie": "Psychologische Leistungen",
    "elternberatung": "Beratung der Erziehungsberechtigten",
}

#: fub_erstellen.json "foerderort" -> German label (§ 8 Abs. 3 f dd, § 6 Abs. 4 LRV).
FOERDERORTE = {
    "ambulant": "ambulant in der Frühförderstelle",
    "mobil_familie": "mobil im Lebens- und Wohnbereich der Familie",
    "mobil_kita": "mobil in der Kindertageseinrichtung",
}

ENTSCHEIDUNGEN = ("bewilligt", "teilweise_bewilligt", "abgelehnt")

#: domain.DeadlineStatus values -> German wording in the table.
FRIST_STATUS = {"laufend": "läuft", "erfuellt": "erfüllt", "entfallen": "entfallen"}

# ICD-10-GM codes such as F83, F80.1, G80.0: only these, never the diagnosis text.
_ICD_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Z][0-9]{2}(?:\.[0-9]{1,2})?)(?![A-Za-z0-9.])")
# Keep "§ 11", "Abs. 3", "S. 2", "Nr. 1", "Art. 9" together on one line.
_NBSP_AFTER = re.compile(r"(?<![\w.])(§§?|Abs\.|S\.|Nr\.|Art\.) (?=[0-9])")


class ResourceRefused(ValueError):
    """The PDF renderer asked for a resource outside the templates directory."""


# --- public API ------------------------------------------------------------------------------

def bescheid_html(case: Mapping[str, Any], *, inline_css: bool = False) -> str:
    """The Bescheid as an HTML document (German, autoescaped).

    The stylesheet is linked as ``bescheid.css`` relative to the templates directory (that is
    what :func:`bescheid_pdf` uses); ``inline_css=True`` embeds it instead, for a preview in a
    browser that cannot resolve the link.
    """
    context = _context(case)
    context["inline_css"] = _stylesheet() if inline_css else None
    html = _environment().get_template(TEMPLATE).render(**context)
    return _NBSP_AFTER.sub(lambda m: m.group(1) + "&#160;", html)


def bescheid_pdf(case: Mapping[str, Any]) -> bytes:
    """The Bescheid as an A4 PDF. Only files of the templates directory are loaded."""
    from weasyprint import HTML

    document = HTML(string=bescheid_html(case), base_url=TEMPLATES_DIR.as_uri() + "/",
                    url_fetcher=_weasyprint_fetcher())
    return document.write_pdf()


def bescheid_luecken(case: Mapping[str, Any]) -> list[str]:
    """What a Bescheid for this case still lacks (German); empty if it may be sent.

    A non-empty list marks the rendered document as "ENTWURF".
    """
    data = _data(case)
    luecken = []
    if _traeger(case) is None:
        luecken.append("Zuständiger Landschaftsverband (LVR/LWL) fehlt")
    if not _text(case.get("business_key")) and not _text(data.get("aktenzeichen")):
        luecken.append("Aktenzeichen fehlt")
    if _date(data.get("antrag_eingang_am")) is None:
        luecken.append("Eingangsdatum des Antrags fehlt")
    entscheidung = _entscheidung(data)
    if entscheidung is None:
        luecken.append("Entscheidung über den Antrag fehlt")
    elif entscheidung != "bewilligt" and not _text(data.get("begruendung")):
        luecken.append("Begründung fehlt (Pflicht bei Teilbewilligung und Ablehnung, § 35 SGB X)")
    person = _person(case)
    if not (_text(person.get("kind_vorname")) and _text(person.get("kind_nachname"))):
        luecken.append("Name des Kindes fehlt")
    if _anschrift(person) is None:
        luecken.append("Anschrift der Erziehungsberechtigten fehlt (Bekanntgabe, § 37 SGB X)")
    return luecken


def local_url_fetcher(url: str):
    """WeasyPrint URL fetcher that serves only files inside the templates directory.

    Anything else - http(s), data:, ftp:, files elsewhere, paths escaping the directory with
    ``..`` or symlinks - raises :class:`ResourceRefused`. Returns a
    ``weasyprint.urls.URLFetcherResponse``.
    """
    path = _template_file(url)
    from weasyprint.urls import URLFetcherResponse

    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type})


# --- rendering helpers -------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                       undefined=StrictUndefined, lstrip_blocks=True)


def _stylesheet() -> str:
    from markupsafe import Markup

    css = (TEMPLATES_DIR / STYLESHEET).read_text(encoding="utf-8")
    if "</" in css:  # cannot happen with our file; never let CSS close the <style> element
        raise ValueError(f"{STYLESHEET} darf '</' nicht enthalten")
    return Markup(css)


@lru_cache(maxsize=1)
def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class LocalTemplateFetcher(URLFetcher):
        """Routes every fetch through local_url_fetcher; a refusal stops the rendering."""

        def fetch(self, url, headers=None):
            return local_url_fetcher(url)

    return LocalTemplateFetcher


def _weasyprint_fetcher():
    # WeasyPrint 70 wants a URLFetcher instance (on errors it reads its _fail_on_errors);
    # fail_on_errors: a refused resource stops the rendering instead of a silent gap.
    return _fetcher_class()(fail_on_errors=True, allowed_protocols=("file",))


def _template_file(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise ResourceRefused(f"Externe Ressource abgelehnt: {url}")
    root = TEMPLATES_DIR.resolve()
    path = Path(url2pathname(parts.path)).resolve()  # url2pathname also unquotes
    if not path.is_relative_to(root) or not path.is_file():
        raise ResourceRefused(f"Nur Dateien aus {root} sind erlaubt: {url}")
    return path


# --- the letter's content ----------------------------------------------------------------------

def _context(case: Mapping[str, Any]) -> dict[str, Any]:
    data = _data(case)
    parties = case.get("parties") or {}
    if not isinstance(parties, Mapping):
        parties = {}
    entscheidung = _entscheidung(data)
    antrag = _date(data.get("antrag_eingang_am"))
    fub = _date(data.get("fub_datum"))
    luecken = bescheid_luecken(case)
    begruendung = _text(data.get("begruendung"))
    bescheid_datum = _date(data.get("bescheid_datum")) or _date(case.get("today")) or clock.today()
    # § 11 Abs. 4 LRV: only if the FrühV deadline passed before this Bescheid.
    ohne_bescheid_ab = _date(data.get("leistungsbeginn_ohne_bescheid_zulaessig_ab"))
    if ohne_bescheid_ab and ohne_bescheid_ab > bescheid_datum:
        ohne_bescheid_ab = None

    return {
        "traeger": _traeger(case),
        "aktenzeichen": _text(case.get("business_key")) or _text(data.get("aktenzeichen")),
        "datum": _fmt(bescheid_datum),
        "betreff": BETREFF,
        "entwurf": bool(luecken),
        "luecken": luecken,
        "kind_name": _kind_name(_person(case)),
        "kind_geburtsdatum": _fmt(_date(_person(case).get("kind_geburtsdatum"))),
        "anschrift": _anschrift(_person(case)),
        "antrag_vom": _fmt(antrag),
        "fub_vom": _fmt(fub),
        "leistungserbringer": _text(parties.get("leistungserbringer")),
        "krankenkasse": _text(data.get("krankenkasse")) or _text(parties.get("krankenkasse")),
        "entscheidung": entscheidung,
        "leistungen": _labels(data.get("foerderangebote"), FOERDERANGEBOTE),
        "foerderorte": _labels(data.get("foerderort"), FOERDERORTE),
        "frequenz": _text(data.get("frequenz")),
        "einheiten": _einheiten(data, entscheidung),
        "zeitraum": _zeitraum(data, antrag),
        "icd_codes": _icd_codes(data.get("icd_diagnose")),
        "kk_bestaetigung": _kk_bestaetigung(data),
        "begruendung": begruendung,
        "leistungsbeginn_ohne_bescheid": _fmt(ohne_bescheid_ab),
        "fristen": _fristen(case.get("deadlines")),
    }


def _data(case: Mapping[str, Any]) -> Mapping[str, Any]:
    data = case.get("data")
    return data if isinstance(data, Mapping) else {}


def _person(case: Mapping[str, Any]) -> Mapping[str, Any]:
    person = case.get("person")
    return person if isinstance(person, Mapping) else {}


def _kind_name(person: Mapping[str, Any]) -> str | None:
    parts = [_text(person.get("kind_vorname")), _text(person.get("kind_nachname"))]
    return " ".join(p for p in parts if p) or None


def _anschrift(person: Mapping[str, Any]) -> dict[str, str] | None:
    """The guardians' postal address, only if complete."""
    lines = {name: _text(person.get(name)) for name in ("erziehungsberechtigte", "strasse", "plz", "ort")}
    return lines if all(lines.values()) else None


def _traeger(case: Mapping[str, Any]) -> dict[str, Any] | None:
    data = _data(case)
    parties = case.get("parties") if isinstance(case.get("parties"), Mapping) else {}
    for value in (data.get("zustaendiger_egh"), data.get("weitergeleitet_an"), parties.get("egh")):
        key = (_text(value) or "").upper()
        if key in TRAEGER:
            return TRAEGER[key]
    return None


def _entscheidung(data: Mapping[str, Any]) -> str | None:
    value = _text(data.get("entscheidung"))
    return value if value in ENTSCHEIDUNGEN else None


def _zeitraum(data: Mapping[str, Any], antrag: date | None) -> dict[str, Any] | None:
    """Period of the services; starts no earlier than the 1st of the application month
    (§ 108 Abs. 1 SGB IX)."""
    von = _date(data.get("bewilligt_von")) or _date(data.get("foerderzeitraum_von"))
    bis = _date(data.get("bewilligt_bis")) or _date(data.get("foerderzeitraum_bis"))
    fruehester = fruehester_leistungsbeginn(antrag) if antrag else None
    begrenzt = False
    if fruehester and (von is None or von < fruehester):
        begrenzt = von is not None
        von = fruehester
    if von is None and bis is None:
        return None
    return {"von": _fmt(von), "bis": _fmt(bis), "begrenzt_108": begrenzt,
            "ab_antragsmonat": bool(fruehester and von == fruehester)}


def _einheiten(data: Mapping[str, Any], entscheidung: str | None) -> list[dict[str, Any]]:
    rows = []
    for key, label in (("heilpaedagogisch", "Heilpädagogische Leistungen"),
                       ("medizinisch_therapeutisch", "Medizinisch-therapeutische Leistungen")):
        laut_fub = _int(data.get(f"foerdereinheiten_{key}"))
        bewilligt = _int(data.get(f"bewilligte_foerdereinheiten_{key}"))
        if bewilligt is None and entscheidung == "bewilligt":
            bewilligt = laut_fub  # full approval: the amounts of the FuB
        if laut_fub is None and bewilligt is None:
            continue
        rows.append({"bereich": label, "laut_fub": laut_fub, "bewilligt": bewilligt})
    return rows


def _icd_codes(value: Any) -> str | None:
    """Only the ICD codes of the FuB's diagnosis field, e.g. 'F83, F80.1'; no text."""
    text = _text(value)
    if not text:
        return None
    codes = list(dict.fromkeys(_ICD_CODE.findall(text)))
    return ", ".join(codes) or None


def _kk_bestaetigung(data: Mapping[str, Any]) -> dict[str, Any] | None:
    bestaetigt = _text(data.get("leistungspflicht_bestaetigt"))
    if bestaetigt not in ("ja", "nein"):
        return None
    return {"ja": bestaetigt == "ja", "am": _fmt(_date(data.get("bestaetigt_am")))}


def _fristen(deadlines: Any) -> list[dict[str, Any]]:
    """Rows of the deadline table from domain.Deadline objects or their dict forms."""
    rows = []
    for deadline in deadlines or ():
        frist = _get(deadline, "frist")
        if frist is None and _get(deadline, "title") is not None:
            frist = deadline  # flat dict: Frist.to_dict() plus status/met_on
        if frist is None:
            continue
        status = _get(deadline, "status")
        status = _text(getattr(status, "value", status)) or "laufend"
        met_on = _date(_get(deadline, "met_on"))
        stand = FRIST_STATUS.get(status, status)
        if status == "erfuellt" and met_on:
            stand = f"erfüllt am {_fmt(met_on)}"
        end = _date(_get(frist, "end"))
        rows.append({"titel": _text(_get(frist, "title")) or _text(_get(deadline, "key")) or "Frist",
                     "rechtsgrundlage": _text(_get(frist, "legal_basis")) or "",
                     "ende": _fmt(end), "verschoben": _fmt(_date(_get(frist, "shifted_end"))),
                     "stand": stand, "_sort": end or date.max})
    rows.sort(key=lambda row: row.pop("_sort"))
    return rows


# --- small value helpers -----------------------------------------------------------------------

def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, tuple, set)):
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _fmt(value: date | None) -> str | None:
    """TT.MM.JJJJ."""
    return f"{value:%d.%m.%Y}" if value else None


def _labels(values: Any, labels: Mapping[str, str]) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        return []
    return [labels.get(v, str(v)) for v in values if _text(v)]
