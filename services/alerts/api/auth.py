"""Bearer tokens for the write endpoints: ALERTS_API_TOKENS holds token name -> hex SHA-256 of the token.

No token is built in: with none configured every write endpoint answers 401. The signed acknowledgement
link is its own credential and needs no token.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from shared.tokens import bearer_token, match_token


def require_token(request: Request) -> str:
    """The name of the caller's token; 401 without a valid ``Authorization: Bearer <token>``."""
    tokens: dict[str, str] = request.app.state.api_tokens
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        raise HTTPException(401, "header 'Authorization': a bearer token is required for this endpoint",
                            headers={"WWW-Authenticate": "Bearer"})
    name = match_token(token, tokens)
    if name is not None:
        return name
    raise HTTPException(401, "header 'Authorization': unknown token", headers={"WWW-Authenticate": "Bearer"})
