"""Inhibition end to end: a bureau's figures through ingest and the evaluator to the alerts service and a real
webhook, the three services as real processes on a real broker.

April's 固定资产投资 is far behind (严重滞后, critical); then April's 市重大产业项目完成投资, which feeds it, is
behind (滞后, a warning). The shipped rule (services/alerts/data/routing.toml, headline-critical-holds-feeder-
warnings) holds the feeder's warning back: recorded as inhibited by the headline alert, never sent. The
headline alert itself reaches 市发展改革委.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.broker import TansuBroker
from devstack.idle import wait_idle
from devstack.receiver import Receiver
from devstack.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e
READER = "inhibit-e2e-reader"
HEADLINE, FEEDER = "fixed_asset_investment_total", "major_project_investment"


@pytest.fixture
def stack(tmp_path: Path, db_factory, broker: TansuBroker, receiver: Receiver, topic_prefix: str):
    s = Stack(
        data_dir=tmp_path / "stack", broker=broker, topic_prefix=topic_prefix,
        database_urls={name: db_factory() for name in SERVICES},
        extra_env={"alerts": {
            "ALERTS_WEBHOOK_URLS": json.dumps({"fgw": f"{receiver.url}/fgw"}),
            "ALERTS_WEBHOOK_SECRET": "inhibit-e2e-secret", "ALERTS_PUBLIC_URL": "http://alerts.example",
            "ALERTS_LINK_SECRET": "inhibit-e2e-link-secret",
            "ALERTS_API_TOKENS": json.dumps({"ops": {"sha256": hashlib.sha256(READER.encode()).hexdigest(),
                                                     "scopes": ["read"]}}),
        }},
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


def _get(stack: Stack, path: str, **params: str) -> Any:
    r = httpx.get(f"{stack.url('alerts')}{path}", params=params, timeout=10,
                  headers={"Authorization": f"Bearer {READER}"})
    assert r.status_code == 200, r.text
    return r.json()


def _open_alert(stack: Stack, target: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while not (found := [a for a in _get(stack, "/v1/alerts", status="open") if a["target_id"] == target]):
        assert time.monotonic() < deadline, f"no open alert for {target} after {timeout_s}s"
        time.sleep(0.1)
    return found[0]  # type: ignore[no-any-return]


def _post(stack: Stack, auth: dict[str, str], indicator: str, value: float) -> None:
    r = httpx.post(f"{stack.url('ingest')}/v1/observations", headers=auth, timeout=10, json={
        "indicator": indicator, "region": "wuxi", "period": "2024-M04", "measure": "cumulative_level",
        "value": value, "unit": "亿元", "status": "provisional"})
    assert r.status_code == 201, r.text


def test_a_feeders_warning_is_held_back_while_its_headline_target_is_critical(
        stack: Stack, receiver: Receiver) -> None:
    auth = {"Authorization": f"Bearer {stack.issue_ingest_key('市统计局')}"}
    # 600 of 4550亿元 by April: 13% done against about a third of the year, far behind.
    _post(stack, auth, "fixed_asset_investment", 600)
    source = _open_alert(stack, HEADLINE)
    assert source["severity"] == "critical", source
    # 390 of 1450亿元: 27%, behind the year's third by more than 3 points but not by 10: a warning.
    _post(stack, auth, "major_project_investment", 390)
    held = _open_alert(stack, FEEDER)
    assert held["severity"] == "warning", held

    wait_idle(stack)  # everything the two figures lead to has been decided and delivered
    told = [r.json() for r in receiver.requests]
    assert told and {(t["department"]["id"], t["event"]["target_id"]) for t in told} == {("fgw", HEADLINE)}
    deliveries = _get(stack, "/v1/deliveries", alert_id=held["id"])
    assert deliveries and {d["status"] for d in deliveries} == {"inhibited"}, deliveries
    assert {(d["inhibited_by"], d["inhibit_rule"]) for d in deliveries} == {
        (source["id"], "headline-critical-holds-feeder-warnings")}
    assert [d["id"] for d in _get(stack, "/v1/deliveries", status="inhibited")] == [d["id"] for d in deliveries]
    assert "sent" in {d["status"] for d in _get(stack, "/v1/deliveries", alert_id=source["id"])}
