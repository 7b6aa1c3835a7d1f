"""Bearer tokens configured as SHA-256 hashes: the services keep only the hash, never the token."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def token_digest(token: str) -> str:
    """The lowercase hex SHA-256 of a token, as operators configure it (``printf %s "$t" | sha256sum``)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None when there is none."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def match_token(token: str, hashes: Mapping[str, str]) -> str | None:
    """The name whose configured hash matches ``token``, or None.

    Every configured hash is compared, each in constant time, so the time taken says nothing about which
    name matched or how many hashes are configured before it.
    """
    digest = token_digest(token).encode()
    found: str | None = None
    for name, expected in hashes.items():
        if hmac.compare_digest(digest, expected.strip().lower().encode()):
            found = name
    return found
