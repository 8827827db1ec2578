"""The Content-Disposition of a download, safe for any stored name.

New names are refused at entry when they hold control characters (workflows.texts), but
documents stored before that may still have one; a CR/LF in a header would make Werkzeug
refuse the response (a 500 and a document nobody can download). Such characters become "_"."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote


def attachment(name: str) -> str:
    visible = "".join("_" if unicodedata.category(char)[0] in "CZ" and char != " " else char
                      for char in name) or "dokument"
    fallback = visible.encode("ascii", "replace").decode().replace('"', "").replace("\\", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(visible)}"
