"""Web sessions that end on the server's word, not only when the browser drops the cookie.

Flask keeps the session in a signed cookie, and a copy of it stays valid as long as the
signature does: after logout, too. So the session carries the user's session version
(users.session_version). Logout, a new password and deactivation raise it, and every older
cookie, copied or not, on every device, stops working. The session also carries when it
began and when it was last used; an idle timeout and an absolute lifetime
(FF_SESSION_IDLE_MINUTES, FF_SESSION_MAX_HOURS) are checked on each request with the
injectable clock, so tests move the clock instead of waiting. API tokens are not sessions and
are not affected.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

VERSION, STARTED, SEEN = "_version", "_started", "_seen"
EXPIRED = "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
ENDED = ("Ihre Sitzung wurde beendet (Abmeldung, neues Passwort oder Deaktivierung). "
         "Bitte melden Sie sich erneut an.")


def start(row: dict, now: datetime) -> None:
    """At login: remember the user's session version and when the session began."""
    session[VERSION] = row["session_version"]
    session[STARTED] = session[SEEN] = now.timestamp()


def is_current(row: dict) -> bool:
    """Whether this session carries the user's present version (sessions from before
    migration 0006 carry none)."""
    return session.get(VERSION) == row["session_version"]


def forget() -> None:
    """Log out in this browser (the server side is Store.end_sessions)."""
    logout_user()
    for key in (VERSION, STARTED, SEEN):
        session.pop(key, None)


def enforce():
    """Before each request: an idle, too old or ended session is logged out and sent to the
    login page (coming back to the page afterwards); a live one counts as used now."""
    if "_user_id" not in session or request.path.startswith("/api/"):
        return None
    from .. import services
    now, config = services().now().timestamp(), current_app.config
    if (now - session.get(SEEN, 0) > config["SESSION_IDLE_MINUTES"] * 60
            or now - session.get(STARTED, 0) > config["SESSION_MAX_HOURS"] * 3600):
        message = EXPIRED
    elif not current_user.is_authenticated:      # the user loader refused: version raised, deactivated
        message = ENDED
    else:
        session[SEEN] = now
        return None
    forget()
    if request.endpoint == "auth.login":
        return None                    # logging in anyway: nothing to explain
    flash(message, "info")
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=back))
