"""What a bureau's key may submit and read, as a table (services/ingest/domain/keys.py).

A key names the indicators and the regions it may write (or none: all of them). A row outside its scope is
refused naming the row, the field and the value, in English and Chinese; an indicator or region nobody knows is
left to validation, which calls it unknown (a misspelling is not a permission problem).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest

from services.ingest.domain.keys import ApiKey, hash_key, new_key, new_key_id, read_errors, scope_errors
from services.ingest.domain.observations import FieldError

KNOWN = {"gdp", "cpi", "urban_new_jobs"}
T0 = datetime(2024, 7, 1, tzinfo=UTC)


def key(indicators: set[str] | None, regions: set[str] | None) -> ApiKey:
    return ApiKey("key_1", "江阴市统计局", None, "wxk_abcd", None if indicators is None else frozenset(indicators),
                  None if regions is None else frozenset(regions), T0)


def not_allowed(row: int, field: str, value: str, verb: str = "submit", verb_zh: str = "报送") -> FieldError:
    name = {"indicator": "指标", "region": "地区"}[field]
    return FieldError(row, field, f"{field}_not_allowed", f"this key (江阴市统计局) may not {verb} {field} {value!r}",
                      f"此密钥（江阴市统计局）无权{verb_zh}{name}“{value}”")


@pytest.mark.parametrize(("indicators", "regions", "rows", "errors"), [
    (None, None, [(1, "gdp", "jiangyin"), (2, "cpi", "wuxi")], []),  # an unrestricted key
    ({"gdp"}, None, [(1, "gdp", "wuxi"), (2, "cpi", "wuxi")], [not_allowed(2, "indicator", "cpi")]),
    (None, {"jiangyin"}, [(1, "gdp", "jiangyin"), (2, "gdp", "wuxi")], [not_allowed(2, "region", "wuxi")]),
    ({"gdp"}, {"jiangyin"}, [(3, "cpi", "wuxi")],  # both wrong: both said, the indicator first
     [not_allowed(3, "indicator", "cpi"), not_allowed(3, "region", "wuxi")]),
    ({"gdp"}, {"jiangyin"}, [(1, "gpd", "jiangyn")], []),  # misspelt: validation calls them unknown
    ({"gdp"}, {"jiangyin"}, [(1, "gdp", "jiangyin"), (2, "gdp", "jiangyin")], []),
])
def test_what_a_key_may_submit(indicators, regions, rows, errors) -> None:  # type: ignore[no-untyped-def]
    assert scope_errors(key(indicators, regions), rows, KNOWN) == errors


@pytest.mark.parametrize(("indicators", "regions", "indicator", "region", "errors"), [
    (None, None, "gdp", "wuxi", []),
    ({"gdp"}, None, "cpi", None, [not_allowed(0, "indicator", "cpi", "read", "查询")]),
    ({"gdp"}, None, "gpd", None, [not_allowed(0, "indicator", "gpd", "read", "查询")]),  # reads: nothing to hint
    (None, {"jiangyin"}, "gdp", "wuxi", [not_allowed(0, "region", "wuxi", "read", "查询")]),
    (None, {"jiangyin"}, "gdp", None, []),  # every region asked: what the key may see is filtered by the store
    ({"gdp"}, {"jiangyin"}, "cpi", "wuxi",
     [not_allowed(0, "indicator", "cpi", "read", "查询"), not_allowed(0, "region", "wuxi", "read", "查询")]),
])
def test_what_a_key_may_read(indicators, regions, indicator, region, errors) -> None:  # type: ignore[no-untyped-def]
    assert read_errors(key(indicators, regions), indicator, region) == errors


def test_keys_are_long_random_recognisable_and_stored_only_as_their_hash() -> None:
    keys = {new_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(re.fullmatch(r"wxk_[A-Za-z0-9_-]{43}", k) for k in keys)  # 256 bits, base64url
    ids = {new_key_id() for _ in range(50)}
    assert len(ids) == 50 and all(re.fullmatch(r"key_[0-9a-f]{12}", i) for i in ids)
    k = new_key()
    assert hash_key(k) == hashlib.sha256(k.encode()).hexdigest() != k
    assert key(None, None).active and not ApiKey("k", "o", None, "p", None, None, T0, revoked_at=T0).active

