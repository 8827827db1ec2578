"""Names and titles are one line of visible text.

A document name, a title, an Aktenzeichen or an organisation ends up in HTTP headers
(Content-Disposition), CSV and iCalendar lines, mails and log lines. A CR/LF or another
control character there breaks the format or the download (a 500 for everybody), and
invisible formatting characters (e.g. U+202E, right-to-left override) disguise a file name.
So they are refused where such a value enters, with a German InvalidInput naming the field.
Free texts (comments, reasons) may keep line breaks and tabs, nothing else.
"""
from __future__ import annotations

import unicodedata

from .domain import InvalidInput

#: Unicode categories refused: control, format, line/paragraph separators, surrogates, private use, unassigned
_REFUSED = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_FREE_TEXT = frozenset("\n\r\t")


def invisible_character(value: str, allow: frozenset[str] = frozenset()) -> str | None:
    """The first character of `value` that is refused (as U+XXXX), or None."""
    for char in value:
        if char not in allow and unicodedata.category(char) in _REFUSED:
            return f"U+{ord(char):04X}"
    return None


def check_name(value: str, field: str, label: str) -> str:
    """`value` unless it holds a control or invisible formatting character."""
    found = invisible_character(value)
    if found:
        raise InvalidInput(f"{label}: Steuer- und Formatierungszeichen (z. B. Zeilenumbrüche, {found}) "
                           "sind nicht erlaubt.", field=field)
    return value


def check_free_text(value: str, field: str, label: str) -> str:
    """Like `check_name`, but line breaks and tabs are allowed."""
    found = invisible_character(value, _FREE_TEXT)
    if found:
        raise InvalidInput(f"{label}: Steuerzeichen ({found}) sind nicht erlaubt.", field=field)
    return value
