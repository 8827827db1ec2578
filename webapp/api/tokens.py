"""The API's side of personal tokens: the `Authorization: Bearer <token>` header. Creating,
revoking, listing and checking tokens are use cases (workflows.usecases.tokens); the web
session never authenticates an API call."""
from __future__ import annotations

from werkzeug.exceptions import Unauthorized

from workflows.domain import Actor
from workflows.usecases import tokens
from workflows.usecases.context import Context

create, revoke, listing = tokens.create_token, tokens.revoke_token, tokens.api_tokens
token_hash, new_token, PREFIX = tokens.token_hash, tokens.new_token, tokens.PREFIX


class TokenRefused(Unauthorized):
    def __init__(self, message: str):
        super().__init__(message)
        self.data = {"message": message}


def authenticate(ctx: Context, header: str | None) -> tuple[Actor, dict]:
    """The actor for an Authorization header, or TokenRefused (401)."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused("Bitte melden Sie sich mit einem API-Token an "
                           "(Kopfzeile „Authorization: Bearer <Token>“).")
    try:
        return tokens.authenticate(ctx, token.strip())
    except tokens.TokenRefused as err:
        raise TokenRefused(err.message) from None
