"""Personal API tokens: created on the command line, shown once, stored only as sha256.

A request authenticates with `Authorization: Bearer <token>`; the token stands for its user
with the same groups and organisation as on the web pages. `authenticate` refuses unknown,
revoked and deactivated users' tokens with a German `TokenRefused` (401 in the API).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from ..domain import Actor, DomainError
from .context import Context

PREFIX = "ff_"
#: last_used_at is written at most this often per token (a write per request would serialize
#: all API reads on SQLite)
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenRefused(DomainError):
    code = "nicht_angemeldet"


def new_token() -> str:
    """A fresh token: 32 random bytes from `secrets`, URL-safe, with a recognisable prefix."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(ctx: Context, username: str, name: str) -> tuple[int, str]:
    """Create a token for an active user; returns (id, token). The token is not stored."""
    token = new_token()
    with ctx.store.transaction() as conn:
        token_id = ctx.store.add_api_token(conn, username=username, name=name, token_hash=token_hash(token),
                                           now=datetime.now(timezone.utc))
    return token_id, token


def revoke_token(ctx: Context, token_id: int) -> bool:
    with ctx.store.transaction() as conn:
        return ctx.store.revoke_api_token(conn, token_id, datetime.now(timezone.utc))


def api_tokens(ctx: Context) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        return ctx.store.api_tokens(conn)


def authenticate(ctx: Context, token: str) -> tuple[Actor, dict[str, Any]]:
    """The actor a token stands for, or TokenRefused."""
    with ctx.store.read() as conn:
        row = ctx.store.api_token(conn, token_hash(token))
    if row is None:
        raise TokenRefused("Dieses API-Token ist ungültig.")
    if row["revoked_at"] is not None:
        raise TokenRefused("Dieses API-Token wurde widerrufen.")
    if not row["active"]:
        raise TokenRefused("Der Benutzer dieses API-Tokens ist deaktiviert.")
    now = datetime.now(timezone.utc)
    if row["last_used_at"] is None or now - row["last_used_at"] >= TOUCH_INTERVAL:
        with ctx.store.transaction() as conn:
            ctx.store.touch_api_token(conn, row["id"], now)
    return Actor(row["username"], frozenset(row["groups"]), row["organisation"]), row
