"""Bearer tokens with scopes: ALERTS_API_TOKENS holds token name -> hex SHA-256 of the token and its scopes.

No token is built in: with none configured every /v1 endpoint but the acknowledgement link answers 401.
Reads need the ``read`` scope (they show departments' explanations, names and receivers' error bodies);
acknowledging, silencing and re-sending each need their own. The token's name is recorded as who acted.
The signed acknowledgement link is its own credential and needs no token.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPBearer

from services.alerts.config import Scope
from services.alerts.runtime import runtime
from shared.tokens import bearer_token, match_token

AUTH_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "No bearer token, or an unknown one"},
    403: {"description": "The token lacks the scope this operation needs"},
}


# Declared for the OpenAPI document (the "Authorize" button, and fuzzers that check auth is not ignored);
# the check below gives the precise errors.
token_scheme = HTTPBearer(auto_error=False, scheme_name="ApiToken",
                          description="A token of ALERTS_API_TOKENS with the operation's scope: "
                          "`Authorization: Bearer …`")


def require(scope: Scope) -> Callable[..., str]:
    """A dependency: the caller's token name, when its token has ``scope``; 401 or 403 otherwise."""

    def check(request: Request, _: object = Security(token_scheme)) -> str:
        tokens = runtime(request).api_tokens
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            raise HTTPException(401, "header 'Authorization': a bearer token is required for this endpoint "
                                     "（需要令牌）", headers={"WWW-Authenticate": "Bearer"})
        name = match_token(token, {n: t.sha256 for n, t in tokens.items()})
        if name is None:
            raise HTTPException(401, "header 'Authorization': unknown token（令牌无效）",
                                headers={"WWW-Authenticate": "Bearer"})
        if scope not in tokens[name].scopes:
            raise HTTPException(403, f"token {name!r} lacks the {scope.value!r} scope（令牌无此权限）")
        return name

    return check


require_read = require(Scope.READ)
require_acknowledge = require(Scope.ACKNOWLEDGE)
require_silence = require(Scope.SILENCE)
require_resend = require(Scope.RESEND)
