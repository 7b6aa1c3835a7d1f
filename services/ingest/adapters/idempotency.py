"""Stored responses of requests sent with an Idempotency-Key, so that a client's retry gets the same answer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from services.ingest.adapters.tables import idempotency_keys as t


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


def find(conn: Connection, api_key_id: str, key: str, expired_before: datetime) -> StoredResponse | None:
    """The stored response for (api key, Idempotency-Key), after dropping every expired one."""
    # Expired entries go first, so an expired key can be used afresh (the unique constraint would refuse it).
    conn.execute(delete(t).where(t.c.created_at < expired_before))
    r = conn.execute(
        select(t.c.fingerprint, t.c.status_code, t.c.response_body, t.c.created_at)
        .where(t.c.api_key_id == api_key_id, t.c.idempotency_key == key)
    ).first()
    return None if r is None else StoredResponse(r.fingerprint, r.status_code, bytes(r.response_body), r.created_at)


def store(conn: Connection, api_key_id: str, key: str, fp: str, status_code: int, body: bytes,
          now: datetime) -> None:
    """Remember the response in the request's transaction (a concurrent twin fails on the unique key)."""
    conn.execute(t.insert(), {"api_key_id": api_key_id, "idempotency_key": key, "fingerprint": fp,
                              "status_code": status_code, "response_body": body, "created_at": now})
