"""Stored responses of requests sent with an Idempotency-Key, so that a client's retry gets the same answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from services.ingest.adapters.tables import idempotency_keys as t
from services.ingest.domain.idempotency import StoredResponse


class SqlIdempotency:
    """Responses stored under (API key, Idempotency-Key), through the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find(self, api_key_id: str, key: str, expired_before: datetime) -> StoredResponse | None:
        """The stored response for (api key, Idempotency-Key), after dropping every expired one."""
        # Expired entries go first, so an expired key can be used afresh (the unique constraint would refuse it).
        self.conn.execute(delete(t).where(t.c.created_at < expired_before))
        r = self.conn.execute(
            select(t.c.fingerprint, t.c.status_code, t.c.response_body, t.c.created_at)
            .where(t.c.api_key_id == api_key_id, t.c.idempotency_key == key)
        ).first()
        return None if r is None else StoredResponse(r.fingerprint, r.status_code, bytes(r.response_body),
                                                     r.created_at)

    def store(self, api_key_id: str, key: str, fp: str, status_code: int, body: bytes, now: datetime) -> None:
        """Remember the response in the request's transaction (a concurrent twin fails on the unique key)."""
        self.conn.execute(t.insert(), {"api_key_id": api_key_id, "idempotency_key": key, "fingerprint": fp,
                                       "status_code": status_code, "response_body": body, "created_at": now})
