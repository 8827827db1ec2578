"""Personal API tokens: created on the command line, shown once, stored only as sha256.

A request authenticates with `Authorization: Bearer <token>`; the token stands for its
user with the same groups and organisation as on the web pages. The web session never
authenticates an API call.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from werkzeug.exceptions import Unauthorized

from workflows.domain import Actor
from workflows.store import Store

PREFIX = "ff_"
#: last_used_at is written at most this often per token (a write per request would
#: serialize all API reads on SQLite)
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenRefused(Unauthorized):
    def __init__(self, message: str):
        super().__init__(message)
        self.data = {"message": message}


def new_token() -> str:
    """A fresh token: 32 random bytes from `secrets`, URL-safe, with a recognisable prefix."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(store: Store, username: str, name: str) -> tuple[int, str]:
    """Create a token for an active user; returns (id, token). The token is not stored."""
    token = new_token()
    with store.transaction() as conn:
        token_id = store.add_api_token(conn, username=username, name=name, token_hash=token_hash(token),
                                       now=datetime.now(timezone.utc))
    return token_id, token


def revoke(store: Store, token_id: int) -> bool:
    with store.transaction() as conn:
        return store.revoke_api_token(conn, token_id, datetime.now(timezone.utc))


def listing(store: Store) -> list[dict]:
    with store.read() as conn:
        return store.api_tokens(conn)


def authenticate(store: Store, header: str | None) -> tuple[Actor, dict]:
    """The actor for an Authorization header, or TokenRefused (401)."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused("Bitte melden Sie sich mit einem API-Token an "
                           "(Kopfzeile „Authorization: Bearer <Token>“).")
    digest = token_hash(token.strip())
    with store.read() as conn:
        row = store.api_token(conn, digest)
    if row is None:
        raise TokenRefused("Dieses API-Token ist ungültig.")
    if row["revoked_at"] is not None:
        raise TokenRefused("Dieses API-Token wurde widerrufen.")
    if not row["active"]:
        raise TokenRefused("Der Benutzer dieses API-Tokens ist deaktiviert.")
    now = datetime.now(timezone.utc)
    if row["last_used_at"] is None or now - row["last_used_at"] >= TOUCH_INTERVAL:
        with store.transaction() as conn:
            store.touch_api_token(conn, row["id"], now)
    return Actor(row["username"], frozenset(row["groups"]), row["organisation"]), row
