"""Users as the use cases see them: an `Actor` by user name, logging in (with the throttle
against password guessing, workflows.login_throttle), ending every session of a user, and
the health probe. Password hashing stays with the caller (the web app's Werkzeug scrypt), so
this layer never sees a password: `log_in` gets a function that checks a stored hash."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .. import login_throttle
from ..domain import Actor, NotFound
from .context import Context


@dataclass(frozen=True)
class LoginOutcome:
    user: dict[str, Any] | None            # the user's row when the login succeeded
    refused: tuple[str, int] | None = None  # (German message, seconds to wait) when throttled


def actor(ctx: Context, username: str) -> Actor:
    with ctx.store.read() as conn:
        user = ctx.store.user(conn, username)
    if user is None or not user["active"]:
        raise NotFound(f"Den Benutzer {username} gibt es nicht.", username=username)
    return Actor(user["username"], frozenset(user["groups"]), user["organisation"])


def session_user(ctx: Context, username: str) -> dict[str, Any] | None:
    """The row of an active user (for a web session), else None."""
    with ctx.store.read() as conn:
        row = ctx.store.user(conn, username)
    return row if row is not None and row["active"] else None


def log_in(ctx: Context, username: str, address: str, password_matches: Callable[[str | None], bool]) -> LoginOutcome:
    """One login attempt, recorded. `password_matches(stored_hash or None)` must take the
    same time for an unknown user (the caller compares against a dummy hash)."""
    now = ctx.clock.now()
    with ctx.store.read() as conn:
        failed = ctx.store.failed_logins(conn, username=username, address=address, since=now - login_throttle.WINDOW)
        row = ctx.store.user(conn, username)
    refused = login_throttle.refusal(failed, now)
    if refused:
        return LoginOutcome(None, refused)
    valid = password_matches(row["password_hash"] if row else None)
    success = bool(row and row["active"] and valid)
    with ctx.store.transaction() as conn:
        ctx.store.record_login(conn, username=username, address=address, at=now, success=success)
    return LoginOutcome(row if success else None)


def end_sessions(ctx: Context, username: str) -> None:
    """Every web session of the user ends, on every device (logout)."""
    with ctx.store.transaction() as conn:
        ctx.store.end_sessions(conn, username)


def healthy(ctx: Context) -> bool:
    """Whether the database answers (for load balancers)."""
    ctx.store.ping()
    return True


# --- administration (CLI `flask users …`, the demo loader) ----------------------------------

def create_user(ctx: Context, *, username: str, display_name: str, password_hash: str,
                organisation: str | None, groups: list[str], email: str | None = None) -> None:
    with ctx.store.transaction() as conn:
        ctx.store.add_user(conn, username=username, display_name=display_name, password_hash=password_hash,
                           organisation=organisation, groups=list(groups), email=email)


def user_exists(ctx: Context, username: str) -> bool:
    with ctx.store.read() as conn:
        return ctx.store.user(conn, username) is not None


def change_user(ctx: Context, username: str, action: str, operator: str, **changes: Any) -> None:
    """A new password (`password_hash`) or deactivation (`active=False`): every web session of
    the user ends (session version), recorded in the audit under the operator's name."""
    with ctx.store.transaction() as conn:
        ctx.store.end_sessions(conn, username, **changes)
        ctx.store.audit(conn, at=ctx.clock.now(), actor=operator, action=action, details={"benutzer": username})


def unlock_user(ctx: Context, username: str, operator: str) -> int:
    """Forget a user's failed logins (Administration); how many there were. Audited."""
    with ctx.store.transaction() as conn:
        if ctx.store.user(conn, username) is None:
            raise NotFound(f"Den Benutzer {username} gibt es nicht.", username=username)
        cleared = ctx.store.clear_failed_logins(conn, username)
        ctx.store.audit(conn, at=ctx.clock.now(), actor=operator, action="benutzer_entsperrt",
                        details={"benutzer": username, "fehlversuche": cleared})
    return cleared


def count_cases(ctx: Context) -> int:
    with ctx.store.read() as conn:
        return ctx.store.count_instances(conn)


def migrate_schema(ctx: Context) -> None:
    """Bring the database schema to the newest Alembic revision."""
    ctx.store.migrate()
