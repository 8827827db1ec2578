"""Accounts: users, personal API tokens, login attempts, the session version.

Passwords and tokens are stored only as hashes (the web layer hashes them). Each web session
carries the user's `session_version`; raising it (`end_sessions`) ends every session at once.
Login attempts are kept for rate limiting (webapp/auth/throttle.py).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import Conflict, NotFound
from .schema import api_tokens, login_attempts, users


class AccountRows:
    """Users, API tokens and login attempts."""

    # -- users

    def add_user(self, conn: Connection, *, username: str, display_name: str, password_hash: str,
                 organisation: str | None, groups: list[str], email: str | None = None) -> None:
        if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
            raise Conflict(f"Den Benutzer {username} gibt es bereits.", username=username)
        conn.execute(users.insert().values(
            username=username, display_name=display_name, password_hash=password_hash,
            organisation=organisation, groups=json.dumps(groups), email=email))

    def colleagues(self, conn: Connection, group: str, organisation: str | None) -> list[dict[str, Any]]:
        """Active users of a group (and organisation), for handing a task over."""
        rows = conn.execute(sa.select(users.c.username, users.c.display_name, users.c.organisation,
                                      users.c.groups).where(users.c.active.is_(True))
                            .order_by(users.c.display_name))
        return [{**dict(r._mapping), "groups": json.loads(r.groups)} for r in rows
                if group in json.loads(r.groups) and (organisation is None or r.organisation == organisation)]

    def user(self, conn: Connection, username: str) -> dict[str, Any] | None:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            return None
        return {**dict(row._mapping), "groups": json.loads(row.groups)}

    def users_with_email(self, conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(users.c.username, users.c.display_name, users.c.email, users.c.groups,
                                      users.c.organisation)
                            .where(users.c.active.is_(True), users.c.email.is_not(None), users.c.email != ""))
        return [{**dict(r._mapping), "groups": json.loads(r.groups)} for r in rows]

    def end_sessions(self, conn: Connection, username: str, **changes: Any) -> None:
        """Raise the user's session version: every web session issued before, on any device,
        stops working. `changes` (password_hash, active) are written in the same UPDATE."""
        result = conn.execute(users.update().where(users.c.username == username)
                              .values(**changes, session_version=users.c.session_version + 1))
        if result.rowcount == 0:
            raise NotFound(f"Den Benutzer {username} gibt es nicht.", username=username)

    # -- API tokens (personal access tokens; only their sha256 is stored)

    def add_api_token(self, conn: Connection, *, username: str, name: str, token_hash: str,
                      now: datetime) -> int:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username,
                                                           users.c.active.is_(True))).scalar()
        if user_id is None:
            raise NotFound(f"Den Benutzer {username} gibt es nicht.", username=username)
        return conn.execute(api_tokens.insert().values(user_id=user_id, name=name, token_hash=token_hash,
                                                       created_at=now)).inserted_primary_key[0]

    def api_token(self, conn: Connection, token_hash: str) -> dict[str, Any] | None:
        """The token with its user's name, groups, organisation and state (revoked ones too)."""
        row = conn.execute(
            sa.select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.last_used_at, api_tokens.c.revoked_at,
                      users.c.username, users.c.organisation, users.c.groups, users.c.active)
            .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
            .where(api_tokens.c.token_hash == token_hash)).first()
        return None if row is None else {**dict(row._mapping), "groups": json.loads(row.groups)}

    def touch_api_token(self, conn: Connection, token_id: int, now: datetime) -> None:
        conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(last_used_at=now))

    def api_tokens(self, conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.last_used_at,
                      api_tokens.c.revoked_at, users.c.username)
            .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id)).order_by(api_tokens.c.id))
        return [dict(r._mapping) for r in rows]

    def revoke_api_token(self, conn: Connection, token_id: int, now: datetime) -> bool:
        """Revoke a token; False if it was already revoked."""
        if conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.id == token_id)).first() is None:
            raise NotFound(f"Ein API-Token mit der Nummer {token_id} gibt es nicht.", token_id=token_id)
        result = conn.execute(api_tokens.update().where(api_tokens.c.id == token_id,
                                                        api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
        return result.rowcount == 1

    # -- login attempts (rate limiting)

    def record_login(self, conn: Connection, *, username: str, address: str, at: datetime, success: bool) -> None:
        conn.execute(login_attempts.insert().values(username=username[:100], address=address[:64], at=at,
                                                    success=success))

    def failed_logins(self, conn: Connection, *, username: str, address: str, since: datetime) -> dict[str, Any]:
        """Failed attempts since `since`: of this name from this address (`pair`), from this
        address for any name (`address`), of this name from anywhere (`user`, the latest at
        `last_user_failure`)."""
        failed = sa.and_(login_attempts.c.at >= since, login_attempts.c.success.is_(False))
        username, address = username[:100], address[:64]
        by_address = conn.execute(sa.select(sa.func.count()).where(failed, login_attempts.c.address == address)).scalar()
        by_user, last, by_pair = conn.execute(sa.select(
            sa.func.count(), sa.func.max(login_attempts.c.at),
            sa.func.coalesce(sa.func.sum(sa.case((login_attempts.c.address == address, 1), else_=0)), 0))
            .where(failed, login_attempts.c.username == username)).one()
        return {"pair": by_pair, "address": by_address, "user": by_user, "last_user_failure": last}

    def clear_failed_logins(self, conn: Connection, username: str) -> int:
        """Forget the failed attempts of a name (Administration unlocks it); how many there were."""
        return conn.execute(login_attempts.delete().where(login_attempts.c.username == username[:100],
                                                          login_attempts.c.success.is_(False))).rowcount
