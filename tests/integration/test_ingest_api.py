"""Ingest's HTTP API against a real database and broker: authentication, scope, batches, idempotency,
revisions, limits, replay. Each test names the rule it breaks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update

from devstack.broker import TansuBroker
from services.ingest.adapters.tables import api_keys
from services.ingest.api import routes
from shared.messages import decode
from tests.integration.ingest_app import ADMIN, GDP, RETAIL, Ingest, running_ingest, serving


@pytest.fixture
def ingest(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[Ingest]:
    with running_ingest(database_url, broker.bootstrap, topic_prefix) as app:
        yield app


def _types(r) -> list[str]:  # type: ignore[no-untyped-def]
    return [d["type"] for d in r.json()["errors"]]


def test_authentication_errors_say_which(ingest: Ingest) -> None:
    c = ingest.client
    r = c.post("/v1/observations", json=GDP)
    assert r.status_code == 401 and _types(r) == ["missing_credentials"]
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = c.post("/v1/observations", json=GDP, headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and _types(r) == ["malformed_credentials"]
    r = c.post("/v1/observations", json=GDP, headers={"Authorization": "Bearer wxk_not-a-key"})
    assert r.status_code == 401 and _types(r) == ["unknown_api_key"]
    r = c.get("/v1/observations", params={"indicator": "gdp"})
    assert r.status_code == 401

    auth = ingest.key()
    key_id = c.get("/v1/keys/me", headers=auth).json()["id"]
    assert c.post("/v1/observations", json=GDP, headers=auth).status_code == 201
    r = c.post(f"/admin/keys/{key_id}/revoke", headers=ADMIN)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    r = c.post("/v1/observations", json=GDP, headers=auth)
    assert r.status_code == 401 and _types(r) == ["revoked_api_key"] and key_id in r.json()["errors"][0]["msg"]


def test_revocation_by_another_process_takes_effect_within_the_cache_ttl(
    database_url: str, broker: TansuBroker, topic_prefix: str
) -> None:
    with running_ingest(database_url, broker.bootstrap, topic_prefix, api_key_cache_ttl_s=0.2) as ingest:
        auth = ingest.key()
        assert ingest.client.get("/v1/keys/me", headers=auth).status_code == 200
        with ingest.engine.begin() as conn:  # as `python -m services.ingest.manage revoke` would
            conn.execute(update(api_keys).values(revoked_at=ingest.clock()))
        assert ingest.client.get("/v1/keys/me", headers=auth).status_code == 200  # cached
        deadline = time.monotonic() + 5
        while ingest.client.get("/v1/keys/me", headers=auth).status_code == 200:
            assert time.monotonic() < deadline, "revocation not seen within the cache TTL"
            time.sleep(0.05)
        assert ingest.client.get("/v1/keys/me", headers=auth).status_code == 401


def test_scope_403_names_every_indicator_and_region_not_allowed(ingest: Ingest) -> None:
    auth = ingest.key("江阴市统计局", indicators=["gdp"], regions=["jiangyin"])
    c = ingest.client
    assert c.post("/v1/observations", json={**GDP, "region": "jiangyin"}, headers=auth).status_code == 201
    r = c.post("/v1/observations", json=GDP, headers=auth)
    assert r.status_code == 403 and _types(r) == ["region_not_allowed"] and "'wuxi'" in r.json()["errors"][0]["msg"]
    r = c.post("/v1/observations/batch", headers=auth,
               json={"observations": [{**GDP, "region": "jiangyin"}, {**RETAIL, "region": "jiangyin"}, GDP]})
    assert r.status_code == 403
    locs = [(d["loc"], d["type"]) for d in r.json()["errors"]]
    assert locs == [(["body", "observations", 1, "indicator"], "indicator_not_allowed"),
                    (["body", "observations", 2, "region"], "region_not_allowed")]
    me = c.get("/v1/keys/me", headers=auth).json()
    assert me["organisation"] == "江阴市统计局" and me["regions"] == ["jiangyin"] and "key" not in me
    # A bureau's key opens no admin endpoint: it cannot list other organisations' keys.
    r = c.get("/admin/keys", headers=auth)
    assert r.status_code == 401 and _types(r) == ["wrong_admin_token"]
    stored = c.get("/v1/observations", params={"indicator": "gdp", "region": "jiangyin"}, headers=auth).json()
    assert [o["submitted_by"] for o in stored] == ["江阴市统计局"]


def test_admin_endpoints_are_absent_without_a_token(database_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    with running_ingest(database_url, broker.bootstrap, topic_prefix, admin_token=None) as ingest:
        assert ingest.client.get("/admin/keys", headers=ADMIN).status_code == 404
        assert "/admin/keys" not in ingest.client.get("/openapi.json").json()["paths"]


def test_issuing_a_key_for_an_unknown_indicator_or_region_is_refused(ingest: Ingest) -> None:
    r = ingest.client.post("/admin/keys", headers=ADMIN,
                           json={"organisation": "宜兴市统计局", "indicators": ["gdp", "gpd"], "regions": ["yixin"]})
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["errors"]] == [["body", "indicators", 1], ["body", "regions", 0]]
    assert ingest.client.get("/admin/keys", headers=ADMIN).json() == []


def test_batch_is_atomic_and_lists_every_bad_row_and_field(ingest: Ingest) -> None:
    auth = ingest.key()
    rows = [GDP, {**GDP, "period": "2024-Q5"}, {**RETAIL, "unit": "万美元", "value": "x"},
            {**RETAIL, "period": "2024-M09"}, {**GDP, "region": "suzhou", "extra": 1}]
    r = ingest.client.post("/v1/observations/batch", json={"observations": rows}, headers=auth)
    assert r.status_code == 422
    got = {(tuple(d["loc"][2:]), d["type"]) for d in r.json()["errors"]}
    assert got == {
        ((1, "period"), "period_format"),
        ((2, "value"), "float_parsing"),
        ((3, "period"), "period_in_future"),
        ((4, "extra"), "extra_forbidden"),
    }, got
    # Row 2's unit and row 4's region are checked too once their rows are well-formed; none is stored.
    r = ingest.client.post("/v1/observations/batch", headers=auth, json={"observations": [
        GDP, {**RETAIL, "unit": "万美元"}, {**GDP, "region": "suzhou"}]})
    assert {(d["loc"][2], d["loc"][3], d["type"]) for d in r.json()["errors"]} == {
        (1, "unit", "unit_mismatch"), (2, "region", "unknown_region")}
    assert ingest.client.get("/v1/observations", params={"indicator": "gdp"}, headers=auth).json() == []
    assert ingest.outbox_count() == 0
    assert ingest.metric("ingest_rejections_total", {"rule": "unknown_region"}) == 1


def test_batch_over_the_limit_is_refused(database_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    with running_ingest(database_url, broker.bootstrap, topic_prefix, max_batch_size=2) as ingest:
        r = ingest.client.post("/v1/observations/batch", headers=ingest.key(),
                               json={"observations": [GDP, RETAIL, {**GDP, "period": "2024-Q2"}]})
        assert r.status_code == 422 and _types(r) == ["batch_too_large"]


def test_same_value_again_changes_nothing_and_a_revision_is_a_new_vintage(ingest: Ingest) -> None:
    auth = ingest.key()
    c = ingest.client
    first = c.post("/v1/observations", json=GDP, headers=auth)
    again = c.post("/v1/observations", json=GDP, headers=auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "outcome": "unchanged"}
    assert ingest.outbox_count() == 1
    revised = c.post("/v1/observations", json={**GDP, "value": 5.0, "status": "final",
                                               "revision_reason": "季度核实"}, headers=auth)
    assert revised.status_code == 201 and revised.json()["outcome"] == "revised" and revised.json()["vintage"] == 2
    vintages = c.get("/v1/observations", params={"indicator": "gdp", "period": "2024-Q1"}, headers=auth).json()
    assert [(v["vintage"], v["value"], v["is_current"], v["revision_reason"]) for v in vintages] == [
        (1, 4.9, False, None), (2, 5.0, True, "季度核实")]
    events = [decode(p) for p in ingest.outbox_payloads()]
    assert [e.data["vintage"] for e in events] == [1, 2]
    assert events[1].data["previous_value"] == 4.9 and events[1].data["revision_reason"] == "季度核实"
    assert ingest.metric("ingest_observations_total", {"outcome": "unchanged"}) == 1


def test_idempotency_key_replays_the_stored_response(ingest: Ingest) -> None:
    auth = ingest.key()
    c = ingest.client
    headers = {**auth, "Idempotency-Key": "tjj-2024Q1-gdp-001"}
    first = c.post("/v1/observations/batch", json={"observations": [GDP, RETAIL]}, headers=headers)
    assert first.status_code == 201
    retry = c.post("/v1/observations/batch", json={"observations": [GDP, RETAIL]}, headers=headers)
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert ingest.outbox_count() == 2
    other = c.post("/v1/observations/batch", json={"observations": [{**GDP, "value": 5.1}]}, headers=headers)
    assert other.status_code == 422 and _types(other) == ["idempotency_key_reused"]
    assert ingest.outbox_count() == 2
    # Keys are per API key: another organisation may use the same string.
    r = c.post("/v1/observations", json={**GDP, "region": "yixing"},
               headers={**ingest.key("宜兴市统计局"), "Idempotency-Key": "tjj-2024Q1-gdp-001"})
    assert r.status_code == 201


def test_body_size_limit_413(database_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    with running_ingest(database_url, broker.bootstrap, topic_prefix, max_body_bytes=2048) as ingest:
        auth = ingest.key()
        big = json.dumps({"observations": [GDP] * 40}).encode()
        r = ingest.client.post("/v1/observations/batch", content=big,
                               headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 413 and _types(r) == ["body_too_large"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for i in range(0, len(big), 500):
                yield big[i : i + 500]

        r = ingest.client.post("/v1/observations/batch", content=chunks(),
                               headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 413
        assert ingest.outbox_count() == 0


def test_rate_limit_429_with_retry_after(database_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    with running_ingest(database_url, broker.bootstrap, topic_prefix, rate_limit_per_s=0.5,
                        rate_limit_burst=3) as ingest:
        auth = ingest.key()
        other = ingest.key("江阴市统计局")
        codes = [ingest.client.get("/v1/keys/me", headers=auth).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = ingest.client.get("/v1/keys/me", headers=auth)
        assert r.status_code == 429 and _types(r) == ["rate_limited"] and int(r.headers["Retry-After"]) >= 1
        assert ingest.client.get("/v1/keys/me", headers=other).status_code == 200  # buckets are per key


def test_replay_republishes_current_vintages_with_new_event_ids(ingest: Ingest) -> None:
    auth = ingest.key()
    c = ingest.client
    c.post("/v1/observations/batch", headers=auth, json={"observations": [
        GDP, {**GDP, "period": "2024-Q2", "value": 5.0}, RETAIL, {**RETAIL, "period": "2023-M12", "value": 1700.0}]})
    c.post("/v1/observations", json={**GDP, "value": 5.2, "revision_reason": "核实"}, headers=auth)
    before = ingest.outbox_payloads()
    r = c.post("/admin/replay", headers=ADMIN, json={"from_period": "2024-M01", "to_period": "2024-Q1"})
    assert r.status_code == 202 and r.json() == {"events": 2}
    replayed = [decode(p) for p in ingest.outbox_payloads()[len(before):]]
    assert sorted((e.data["indicator"], e.data["period"], e.data["value"]) for e in replayed) == [
        ("gdp", "2024-Q1", 5.2), ("retail_sales", "2024-M03", 1012.3)]
    assert all(e.data["replayed"] for e in replayed)
    assert not {e.id for e in replayed} & {decode(p).id for p in before}
    r = c.post("/admin/replay", headers=ADMIN, json={"from_period": "2024-Q2", "to_period": "2024-Q1"})
    assert r.status_code == 422 and _types(r) == ["period_order"]
    r = c.post("/admin/replay", headers=auth, json={"from_period": "2024", "to_period": "2024"})
    assert r.status_code == 401


def test_nul_characters_are_refused_before_the_database(ingest: Ingest) -> None:
    """PostgreSQL text cannot hold NUL: a 422 naming the field, never a 500."""
    auth = ingest.key()
    r = ingest.client.post("/v1/observations", json={**GDP, "note": "a\x00b"}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "note"]
    r = ingest.client.get("/v1/observations", params={"indicator": "gdp\x00"}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "indicator"]
    r = ingest.client.post("/admin/keys", headers=ADMIN, json={"organisation": "a\x00"})
    assert r.status_code == 422
    r = ingest.client.post("/v1/observations/upload", headers=auth,
                           content="指标,期别,口径,数值,单位,备注\ngdp,2024-Q1,累计增速,5,%,a\x00b\n".encode())
    assert r.status_code == 400 and _types(r) == ["nul_character"]


def test_a_bureau_reads_only_the_indicators_and_regions_it_may_submit(ingest: Ingest) -> None:
    c = ingest.client
    city = ingest.key("市统计局")
    jiangyin = ingest.key("江阴市统计局", indicators=["gdp"], regions=["jiangyin"])
    c.post("/v1/observations/batch", headers=city, json={"observations": [
        GDP, {**GDP, "region": "jiangyin"}, {**GDP, "region": "yixing"}, RETAIL]})
    r = c.get("/v1/observations", params={"indicator": "retail_sales"}, headers=jiangyin)
    assert r.status_code == 403 and _types(r) == ["indicator_not_allowed"]
    assert r.json()["errors"][0]["loc"] == ["query", "indicator"]
    r = c.get("/v1/observations", params={"indicator": "gdp", "region": "wuxi"}, headers=jiangyin)
    assert r.status_code == 403 and _types(r) == ["region_not_allowed"]
    mine = c.get("/v1/observations", params={"indicator": "gdp"}, headers=jiangyin).json()
    assert [o["region"] for o in mine] == ["jiangyin"]  # not the city's nor 宜兴's figures
    assert len(c.get("/v1/observations", params={"indicator": "gdp"}, headers=city).json()) == 3


def test_a_flood_of_random_keys_is_throttled_before_the_database(database_url: str, broker: TansuBroker,
                                                                  topic_prefix: str) -> None:
    import secrets

    with running_ingest(database_url, broker.bootstrap, topic_prefix, auth_rate_limit_per_s=0.001,
                        auth_rate_limit_burst=20) as ingest:
        bureau = ingest.key()
        c = ingest.client
        assert c.get("/v1/keys/me", headers=bureau).status_code == 200
        lookups = ingest.metric("ingest_api_key_lookups_total", {})
        codes = [c.get("/v1/keys/me", headers={"Authorization": f"Bearer wxk_{secrets.token_urlsafe(24)}"})
                 .status_code for _ in range(300)]
        # The bureau's first lookup took one of the address's 20 (a refill of 1 per 1000 s adds none).
        allowed = codes.count(401)
        assert allowed == 19 and codes[:19] == [401] * 19 and set(codes[19:]) == {429}, codes
        assert ingest.metric("ingest_api_key_lookups_total", {}) - lookups == allowed  # the rest never reached it
        assert ingest.metric("ingest_rejections_total", {"rule": "auth_rate_limited"}) == 300 - allowed
        r = c.get("/v1/keys/me", headers=bureau)  # the bureau's known key is not held up by the flood
        assert r.status_code == 200 and r.json()["organisation"] == "市统计局"


def test_a_period_ends_at_midnight_in_china_not_in_utc(ingest: Ingest) -> None:
    """A June figure sent at 05:00 on 1 July Beijing time (still 30 June in UTC) is sent after June ended."""
    auth = ingest.key()
    june = {**RETAIL, "period": "2024-M06", "value": 2101.0}
    ingest.clock.set(datetime(2024, 6, 30, 15, 59, tzinfo=UTC))  # 23:59 on 30 June in China
    r = ingest.client.post("/v1/observations", json=june, headers=auth)
    assert r.status_code == 422 and _types(r) == ["period_not_ended"], r.text
    ingest.clock.set(datetime(2024, 6, 30, 21, 0, tzinfo=UTC))  # 05:00 on 1 July in China
    r = ingest.client.post("/v1/observations", json=june, headers=auth)
    assert r.status_code == 201, r.text


def test_a_growth_on_the_other_basis_is_refused_and_nothing_is_stored(ingest: Ingest) -> None:
    """Income is compared with GDP as nominal growth deflated by the CPI: a real figure is refused by name."""
    auth = ingest.key()
    income = {"indicator": "disposable_income", "region": "wuxi", "period": "2024-Q2",
              "measure": "cumulative_yoy_pct", "value": 3.6, "unit": "%", "growth_basis": "real"}
    r = ingest.client.post("/v1/observations/batch", json={"observations": [GDP, income]}, headers=auth)
    assert r.status_code == 422, r.text
    [err] = r.json()["errors"]
    assert (err["loc"], err["type"]) == (["body", "observations", 1, "growth_basis"], "growth_basis_mismatch")
    assert "按名义增长（现价）报送和评估" in err["msg_zh"]
    assert ingest.outbox_count() == 0
    r = ingest.client.post("/v1/observations", json={**income, "value": 5.1, "growth_basis": "nominal"},
                           headers=auth)
    assert r.status_code == 201, r.text
    listed = {i["id"]: i for i in ingest.client.get("/v1/indicators", headers=auth).json()}
    assert listed["disposable_income"]["growth_basis"] == "nominal" and listed["gdp"]["growth_basis"] == "real"


def test_batches_beyond_the_concurrency_wait_their_turn(database_url: str, broker: TansuBroker, topic_prefix: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """INGEST_BATCH_CONCURRENCY bounds the batches being checked and written at once (their rows in memory)."""
    lock = threading.Lock()
    now = {"in": 0, "most": 0}
    original = routes._check

    def slow_check(rt, subs):  # type: ignore[no-untyped-def]
        with lock:
            now["in"] += 1
            now["most"] = max(now["most"], now["in"])
        time.sleep(0.3)
        with lock:
            now["in"] -= 1
        return original(rt, subs)

    monkeypatch.setattr(routes, "_check", slow_check)
    with running_ingest(database_url, broker.bootstrap, topic_prefix, batch_concurrency=2) as ingest, \
            serving(ingest) as url:
        auth = ingest.key()
        regions = ["wuxi", "jiangyin", "yixing", "liangxi", "xishan", "huishan"]
        answers: list[int] = []

        def post(region: str) -> None:
            r = httpx.post(f"{url}/v1/observations/batch", json={"observations": [{**GDP, "region": region}]},
                           headers=auth, timeout=30)
            answers.append(r.status_code)

        threads = [threading.Thread(target=post, args=(r,)) for r in regions]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert answers == [201] * len(regions)
    assert now["most"] == 2
