"""The API key cache (issue 11, item 3): LRU, negative caching, and a flood of random keys evicts no bureau."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from services.ingest.adapters.keys import KeyCache
from services.ingest.domain.keys import ApiKey, hash_key

KEY = ApiKey("key_1", "江阴市统计局", None, "wxk_abc", None, None, datetime(2024, 1, 1, tzinfo=UTC))


class _FakeKeys:
    def __init__(self, keys: dict[str, ApiKey]) -> None:
        self.keys = keys
        self.queries = 0

    def by_hash(self, digest: str) -> ApiKey | None:
        self.queries += 1
        return self.keys.get(digest)


class _Reads:
    def __init__(self, keys: _FakeKeys) -> None:
        self.keys = keys


def _cache(ttl_s: float = 60, **kw: int) -> tuple[KeyCache, _FakeKeys]:
    fake = _FakeKeys({hash_key("wxk_bureau"): KEY})

    @contextmanager
    def reading() -> Iterator[_Reads]:
        yield _Reads(fake)

    return KeyCache(reading, ttl_s, **kw), fake  # type: ignore[arg-type]


def test_a_flood_of_random_keys_never_evicts_a_bureaus_key() -> None:
    cache, fake = _cache(max_keys=100, max_unknown=100)
    assert cache.lookup("wxk_bureau") == KEY and fake.queries == 1
    for _ in range(20_000):
        assert cache.lookup("wxk_" + secrets.token_urlsafe(16)) is None
    before = fake.queries
    assert cache.peek("wxk_bureau") == (True, KEY)
    assert cache.lookup("wxk_bureau") == KEY and fake.queries == before  # still cached: no query
    assert len(cache._unknown) == 100  # bounded


def test_unknown_keys_are_cached_too() -> None:
    cache, fake = _cache()
    for _ in range(50):
        assert cache.lookup("wxk_guess") is None
    assert fake.queries == 1
    assert cache.peek("wxk_guess") == (True, None) and not cache.known("wxk_guess")


def test_least_recently_used_known_keys_go_first() -> None:
    cache, fake = _cache(max_keys=2)
    others = {hash_key(f"wxk_{i}"): ApiKey(f"key_{i}", "o", None, "p", None, None, KEY.created_at) for i in range(3)}
    fake.keys.update(others)
    cache.lookup("wxk_0")
    cache.lookup("wxk_1")
    cache.lookup("wxk_0")  # used again: wxk_1 is now the least recently used
    cache.lookup("wxk_2")
    assert cache.known("wxk_0") and cache.known("wxk_2") and not cache.known("wxk_1")


def test_entries_expire_after_the_ttl() -> None:
    cache, fake = _cache(ttl_s=0)
    cache.lookup("wxk_bureau")
    cache.lookup("wxk_bureau")
    assert fake.queries == 2 and cache.known("wxk_bureau")  # stale but known: not throttled as a stranger
