"""API keys in the database behind a repository, and a cache so a request does not pay a query to authenticate."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, RowMapping

from services.ingest.adapters.tables import api_keys
from services.ingest.domain.keys import ApiKey, hash_key, new_key, new_key_id


def _scope(raw: str | None) -> frozenset[str] | None:
    return None if raw is None else frozenset(json.loads(raw))


def _to_key(r: RowMapping | dict[str, Any]) -> ApiKey:
    """An api_keys row (read, or about to be inserted) as the domain's key."""
    return ApiKey(
        id=r["id"], organisation=r["organisation"], description=r["description"],
        key_prefix=r["key_prefix"], indicators=_scope(r["indicators"]),
        regions=_scope(r["regions"]), created_at=r["created_at"], revoked_at=r["revoked_at"],
    )


def _dump(scope: Iterable[str] | None) -> str | None:
    return None if scope is None else json.dumps(sorted(set(scope)), ensure_ascii=False)


class SqlKeys:
    """The bureaus' API keys (only their hashes), read and written through the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def issue(self, *, organisation: str, indicators: Iterable[str] | None, regions: Iterable[str] | None,
              description: str | None, now: datetime) -> tuple[ApiKey, str]:
        """Store a new key for an organisation; returns it and the secret, which is never stored or shown again."""
        secret = new_key()
        row: dict[str, object] = {
            "id": new_key_id(), "organisation": organisation, "description": description,
            "key_hash": hash_key(secret), "key_prefix": secret[:10], "indicators": _dump(indicators),
            "regions": _dump(regions), "created_at": now, "revoked_at": None,
        }
        self.conn.execute(api_keys.insert(), row)
        return _to_key(row), secret

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        """Every key, oldest first."""
        q = select(api_keys).order_by(api_keys.c.pk)
        if not include_revoked:
            q = q.where(api_keys.c.revoked_at.is_(None))
        return [_to_key(r) for r in self.conn.execute(q).mappings()]

    def get(self, key_id: str) -> ApiKey | None:
        """One key by its public id."""
        r = self.conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        return None if r is None else _to_key(r)

    def by_hash(self, digest: str) -> ApiKey | None:
        """The key whose secret hashes to ``digest`` (revoked ones included)."""
        r = self.conn.execute(select(api_keys).where(api_keys.c.key_hash == digest)).mappings().first()
        return None if r is None else _to_key(r)

    def revoke(self, key_id: str, now: datetime) -> ApiKey | None:
        """Revoke a key (idempotent: a revoked key keeps its first revocation time); None when unknown."""
        self.conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                          .values(revoked_at=now))
        return self.get(key_id)


class _Reads(Protocol):
    keys: SqlKeys


class KeyCache:
    """Maps a presented key's hash to its ApiKey, asking the database at most once per ``ttl_s`` per key.

    Two bounded LRU maps: known keys (``max_keys``) and unknown ones (``max_unknown``, negative caching), so
    that a flood of random keys churns only the second and never evicts a bureau's key. Revocation takes
    effect within ``ttl_s`` in every process.
    """

    def __init__(self, reading: Callable[[], AbstractContextManager[_Reads]], ttl_s: float, *,
                 max_keys: int = 10_000, max_unknown: int = 10_000,
                 on_lookup: Callable[[], None] | None = None) -> None:
        self.reading = reading
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self.max_unknown = max_unknown
        self.on_lookup = on_lookup
        self._known: OrderedDict[str, tuple[float, ApiKey]] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, presented: str) -> tuple[bool, ApiKey | None]:
        """(fresh, key) from the cache alone: fresh False means the database must be asked."""
        digest = hash_key(presented)
        now = time.monotonic()
        with self._lock:
            hit = self._known.get(digest)
            if hit is not None and now - hit[0] < self.ttl_s:
                self._known.move_to_end(digest)
                return True, hit[1]
            seen = self._unknown.get(digest)
            if seen is not None and now - seen < self.ttl_s:
                return True, None
        return False, None

    def known(self, presented: str) -> bool:
        """Whether the presented secret belonged to a key when last looked up (even if that is stale now)."""
        with self._lock:
            return hash_key(presented) in self._known

    def lookup(self, presented: str) -> ApiKey | None:
        """The key a presented secret belongs to (revoked ones included), or None when unknown."""
        fresh, key = self.peek(presented)
        if fresh:
            return key
        digest = hash_key(presented)
        if self.on_lookup is not None:
            self.on_lookup()
        with self.reading() as reads:
            key = reads.keys.by_hash(digest)
        now = time.monotonic()
        with self._lock:
            if key is None:
                self._known.pop(digest, None)
                self._unknown[digest] = now
                self._unknown.move_to_end(digest)
                while len(self._unknown) > self.max_unknown:
                    self._unknown.popitem(last=False)
            else:
                self._unknown.pop(digest, None)
                self._known[digest] = (now, key)
                self._known.move_to_end(digest)
                while len(self._known) > self.max_keys:
                    self._known.popitem(last=False)
        return key

    def invalidate(self) -> None:
        """Forget everything (after a revocation or an issue in this process)."""
        with self._lock:
            self._known.clear()
            self._unknown.clear()
