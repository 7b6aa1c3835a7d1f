"""Bearer tokens for the write endpoints: ALERTS_API_TOKENS holds token name -> hex SHA-256 of the token.

No token is built in: with none configured every write endpoint answers 401. The signed acknowledgement
link is its own credential and needs no token.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import HTTPException, Request


def require_token(request: Request) -> str:
    """The name of the caller's token; 401 without a valid ``Authorization: Bearer <token>``."""
    tokens: dict[str, str] = request.app.state.api_tokens
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "header 'Authorization': a bearer token is required for this endpoint",
                            headers={"WWW-Authenticate": "Bearer"})
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    for name, expected in tokens.items():
        if hmac.compare_digest(digest, expected):
            return name
    raise HTTPException(401, "header 'Authorization': unknown token", headers={"WWW-Authenticate": "Bearer"})
