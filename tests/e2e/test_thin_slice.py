"""The walking skeleton end to end: the three services as real processes, a real broker, a real webhook."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from devstack.broker import TansuBroker
from devstack.idle import wait_idle
from devstack.receiver import Receiver
from devstack.stack import SERVICES, Stack
from services.alerts.channels.webhook import verify

pytestmark = pytest.mark.e2e
SECRET = "e2e-test-secret"


@pytest.fixture
def stack(tmp_path: Path, db_factory, broker: TansuBroker, receiver: Receiver, topic_prefix: str):
    s = Stack(
        data_dir=tmp_path / "stack",
        broker=broker,
        topic_prefix=topic_prefix,
        database_urls={name: db_factory() for name in SERVICES},
        extra_env={"alerts": {
            "ALERTS_WEBHOOK_URLS": json.dumps({"fgw": f"{receiver.url}/fgw"}),
            "ALERTS_WEBHOOK_SECRET": SECRET,
            "ALERTS_PUBLIC_URL": "http://alerts.example",
            "ALERTS_LINK_SECRET": "thin-slice-link-secret",
        }},
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_gdp_q1_reaches_the_lead_department_exactly_once(stack: Stack, receiver: Receiver) -> None:
    obs = {"indicator": "gdp", "region": "wuxi", "period": "2024-Q1", "measure": "cumulative_yoy_pct",
           "value": 4.9, "unit": "%", "status": "provisional"}
    auth = {"Authorization": f"Bearer {stack.issue_ingest_key('市统计局')}"}
    r = httpx.post(f"{stack.url('ingest')}/v1/observations", json=obs, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    # The same figure again changes nothing and notifies nobody.
    again = httpx.post(f"{stack.url('ingest')}/v1/observations", json=obs, headers=auth, timeout=10)
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]

    got = receiver.wait_for(1, timeout_s=60)
    assert len(got) == 1, "no notification reached the department's webhook"
    wait_idle(stack)  # nothing left anywhere that could still notify: then a duplicate would be here
    assert len(receiver.requests) == 1

    req = receiver.requests[0]
    assert req.path == "/fgw"
    assert verify(SECRET.encode(), req.headers["X-Signature-Timestamp"], req.body, req.headers["X-Signature"])
    payload = req.json()
    assert payload["version"] == "1"
    assert payload["idempotency_key"] == req.headers["Idempotency-Key"]
    assert payload["department"] == {"id": "fgw", "name_zh": "市发展改革委"}
    assert payload["event"]["target_id"] == "gdp_growth"
    assert payload["event"]["status"] == "behind"
    text = payload["text"]
    expected = ("地区生产总值增长", "2024年一季度", "4.9%", "5.5%左右", "低于目标区间下限（5%）0.1个百分点", "滞后",
                "市发展改革委")
    for fragment in expected:
        assert fragment in text, f"{fragment!r} missing from: {text}"
    assert "http://alerts.example/v1/ack/" in text  # the signed acknowledgement link


def test_invalid_observation_is_rejected_naming_the_field(stack: Stack) -> None:
    ingest = stack.url("ingest")
    bad = {"indicator": "gdp", "period": "2024-Q5", "measure": "cumulative_yoy_pct", "value": 4.9, "unit": "%"}
    r = httpx.post(f"{ingest}/v1/observations", json=bad, timeout=10)
    assert r.status_code == 401 and r.json()["errors"][0]["type"] == "missing_credentials"
    auth = {"Authorization": f"Bearer {stack.issue_ingest_key('市统计局')}"}
    r = httpx.post(f"{ingest}/v1/observations", json=bad, headers=auth, timeout=10)
    assert r.status_code == 422
    [err] = r.json()["errors"]
    assert err["loc"] == ["body", "period"] and "2024-Q5" in err["msg"]

    r = httpx.post(f"{ingest}/v1/observations", json={**bad, "period": "2024-Q1", "indicator": "gpd"},
                   headers=auth, timeout=10)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "indicator"]

    r = httpx.post(f"{ingest}/v1/observations", content=b"{not json", timeout=10,
                   headers={"Content-Type": "application/json", **auth})
    assert r.status_code == 422

    stored = httpx.get(f"{ingest}/v1/observations", params={"indicator": "gdp"}, headers=auth, timeout=10).json()
    assert stored == []
