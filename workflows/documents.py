"""What a file must be to go into a case file: named safely, not empty, not too large, of
an allowed type, and really of that type.

Browsers and portals name the type themselves, so the declared type is checked against
the file name's extension and the first bytes of the content: `bericht.exe` declared as
PDF, or an executable renamed to `.pdf`, is refused before anyone downloads it.
"""
from __future__ import annotations

from . import texts
from .domain import InvalidInput

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)

#: type -> (extensions, how the content starts; None: text without NUL bytes)
KINDS: dict[str, tuple[tuple[str, ...], tuple[bytes, ...] | None]] = {
    "application/pdf": ((".pdf",), (b"%PDF-",)),
    "image/png": ((".png",), (b"\x89PNG\r\n\x1a\n",)),
    "image/jpeg": ((".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    "text/plain": ((".txt",), None),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ((".docx",), _ZIP),
    "application/msword": ((".doc",), _OLE),
    "application/vnd.oasis.opendocument.text": ((".odt",), _ZIP),
}
ALLOWED_DOCUMENT_TYPES = frozenset(KINDS)


def check_document(name: str, content_type: str, content: bytes, field: str | None = None) -> None:
    """Raise InvalidInput (German, naming the form field) unless the file may be stored."""
    field = field or "datei"
    if not name or len(name) > 255 or "/" in name or "\\" in name or "\x00" in name:
        raise InvalidInput("Ungültiger Dateiname.", field=field)
    texts.check_name(name, field, "Dateiname")
    if not content:
        raise InvalidInput("Die Datei ist leer.", field=field)
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"Die Datei ist größer als {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.", field=field)
    if content_type not in KINDS:
        raise InvalidInput("Dieser Dateityp ist nicht erlaubt (erlaubt: PDF, Bilder, Text, Word, ODT).",
                           field=field)
    extensions, starts = KINDS[content_type]
    if not name.lower().endswith(extensions):
        raise InvalidInput(f"Der Dateiname passt nicht zum Dateityp: erwartet wird „{extensions[0]}“.", field=field)
    matches = b"\x00" not in content[:8192] if starts is None else content.startswith(starts)
    if not matches:
        raise InvalidInput(f"Der Inhalt der Datei ist kein {extensions[0][1:].upper()}-Dokument "
                           "(Dateityp und Inhalt passen nicht zusammen).", field=field)
