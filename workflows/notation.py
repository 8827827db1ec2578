"""What people type into forms and read in them, in German notation: numbers, dates, sizes, text.

Pure functions without Flask, shared by workflows/forms.py (numbers in German messages) and
webapp/forms.py (reading submitted form fields, showing stored values and hints):

    parse_number("1.234,5") == 1234.5        number_text(1234.5) == "1234,5"
    parse_date("1.3.2026") == "2026-03-01"   size_text(2 << 20) == "2 MB"
    clean_text(" a\\x00b\\n c ") == "ab  c"    (multiline=True keeps the line break)
"""
from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")   # and lone surrogates


def clean_text(value: Any, multiline: bool = False) -> str:
    """Trimmed text without control characters (PostgreSQL rejects NUL and lone surrogates in JSON)."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text.strip()


def number_text(value: Any) -> str:
    """German notation without thousands separator: 1234,5 (re-parsable by `parse_number`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = format(Decimal(repr(value)), "f")
        return text.replace(".", ",")
    return str(value)


def size_text(size: int) -> str:
    """A file size for people: "1,5 MB", "300 Bytes"."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{number_text(round(size / factor, 1))} {unit}"
    return f"{size} Bytes"


_DATE_DE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_date(text: str) -> str | None:
    """ "TT.MM.JJJJ", "T.M.JJJJ" or "JJJJ-MM-TT" -> ISO "JJJJ-MM-TT"; None if not a real date."""
    text = text.strip() if isinstance(text, str) else ""
    if m := _DATE_DE.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
    elif m := _DATE_ISO.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    else:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_PLAIN = re.compile(r"[+-]?(\d+)(?:[.,](\d+))?")
_GROUPED_DE = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_GROUPED_EN = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+")


def parse_number(text: str, integer: bool = False) -> int | float | None:
    """German or plain notation -> number; None if not a (finite) number.

    "1234,5", "1.234,5", "1 234,5", "1234.5" and "1,234.5" give 1234.5. A single dot followed by
    exactly three digits ("1.500") is read as a German thousands separator (1500), as German users
    write it; "0.125" and "1.5" are decimals. Integers accept a zero fraction ("12,0").
    """
    if not isinstance(text, str):
        return None
    text = _SPACES.sub("", text).replace("\u2212", "-")
    if not text or len(text) > 40:
        return None
    if _GROUPED_DE.fullmatch(text) and not re.fullmatch(r"[+-]?0\.\d{3}", text):
        normal = text.replace(".", "").replace(",", ".")
    elif _GROUPED_EN.fullmatch(text):
        normal = text.replace(",", "")
    elif _PLAIN.fullmatch(text):
        normal = text.replace(",", ".")
    else:
        return None
    try:
        number = Decimal(normal)
    except InvalidOperation:
        return None
    if integer:
        if number != number.to_integral_value():
            return None
        return int(number)
    if "." not in normal:
        return int(number)
    result = float(number)
    return result if math.isfinite(result) else None
