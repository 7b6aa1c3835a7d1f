"""API keys in the database, and a short-lived cache so a request does not pay a query to authenticate."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection, RowMapping

from services.ingest.adapters.tables import api_keys
from services.ingest.domain.keys import ApiKey, hash_key, new_key, new_key_id


def _scope(raw: str | None) -> frozenset[str] | None:
    return None if raw is None else frozenset(json.loads(raw))


def _to_key(r: RowMapping) -> ApiKey:
    return ApiKey(
        id=r["id"], organisation=r["organisation"], description=r["description"], key_prefix=r["key_prefix"],
        indicators=_scope(r["indicators"]), regions=_scope(r["regions"]),
        created_at=r["created_at"], revoked_at=r["revoked_at"],
    )


def _dump(scope: Iterable[str] | None) -> str | None:
    return None if scope is None else json.dumps(sorted(set(scope)), ensure_ascii=False)


def issue_key(
    conn: Connection,
    *,
    organisation: str,
    indicators: Iterable[str] | None,
    regions: Iterable[str] | None,
    description: str | None,
    now: datetime,
) -> tuple[ApiKey, str]:
    """Store a new key for an organisation; returns it and the secret, which is never stored or shown again."""
    secret = new_key()
    row = {
        "id": new_key_id(), "organisation": organisation, "description": description,
        "key_hash": hash_key(secret), "key_prefix": secret[:10], "indicators": _dump(indicators),
        "regions": _dump(regions), "created_at": now, "revoked_at": None,
    }
    conn.execute(api_keys.insert(), row)
    return _to_key(row), secret  # type: ignore[arg-type]


def list_keys(conn: Connection, *, include_revoked: bool = True) -> list[ApiKey]:
    """Every key, oldest first."""
    q = select(api_keys).order_by(api_keys.c.pk)
    if not include_revoked:
        q = q.where(api_keys.c.revoked_at.is_(None))
    return [_to_key(r._mapping) for r in conn.execute(q)]


def get_key(conn: Connection, key_id: str) -> ApiKey | None:
    """One key by its public id."""
    r = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    return None if r is None else _to_key(r._mapping)


def revoke_key(conn: Connection, key_id: str, now: datetime) -> ApiKey | None:
    """Revoke a key (idempotent: a revoked key keeps its first revocation time); None when unknown."""
    conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                 .values(revoked_at=now))
    return get_key(conn, key_id)


class KeyCache:
    """Maps a presented key's hash to its ApiKey, asking the database at most once per ``ttl_s`` per key.

    Unknown keys are cached too (as None), so guessing does not cost a query per request; the cache is
    bounded so guessing cannot fill memory. Revocation takes effect within ``ttl_s`` in every process.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, engine: Engine, ttl_s: float) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()

    def peek(self, presented: str) -> ApiKey | None:
        """The cached key for a presented secret when fresh, without touching the database (None otherwise)."""
        hit = self._entries.get(hash_key(presented))
        if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        return None

    def lookup(self, presented: str) -> ApiKey | None:
        """The key a presented secret belongs to (revoked ones included), or None when unknown."""
        digest = hash_key(presented)
        now = time.monotonic()
        hit = self._entries.get(digest)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        with self.engine.connect() as conn:
            r = conn.execute(select(api_keys).where(api_keys.c.key_hash == digest)).first()
        key = None if r is None else _to_key(r._mapping)
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (now, key)
        return key

    def invalidate(self) -> None:
        """Forget everything (after a revocation in this process)."""
        with self._lock:
            self._entries.clear()
