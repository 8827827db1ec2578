"""Where the login sends the browser: only to a path on this site.

The `next` parameter comes from whoever wrote the link, so an open redirect would lend the
site's name to a phishing page. Browsers repair URLs generously: they drop tab, CR and LF
anywhere, strip leading spaces and control characters and read `\\` as `/`; so
`/\\t/evil.example`, `/\\evil.example` and ` //evil.example` all end up at evil.example. Rather than
predict each browser's repair, a target that would need one is refused.
"""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """`target` if it is a relative path on this site (query allowed), otherwise None."""
    if not target or "\\" in target or not target.isprintable() or target != target.strip():
        return None          # isprintable: no control, format (zero-width) or non-ASCII space characters
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
