"""Idempotency-Key semantics: what makes two requests the same request, and what was answered the first time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StoredResponse:
    """What was answered the first time."""

    fingerprint: str
    status_code: int
    body: bytes
    created_at: datetime


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """A digest of everything that makes two requests the same request."""
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode()):
        h.update(part)
        h.update(b"\0")
    h.update(body)
    return h.hexdigest()
