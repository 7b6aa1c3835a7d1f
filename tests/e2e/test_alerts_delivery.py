"""The alerts service as a real process: grouped bursts, a receiver that is down for a while, kill -9 mid-burst,
and acknowledgement, escalation and silences over real HTTP.

Deviations are published straight to ``<prefix>.deviations`` (devstack/deviations.py), as the evaluator would.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer

from devstack.broker import TansuBroker, free_port
from devstack.deviations import deviation, publish
from devstack.idle import alerts_idle
from devstack.receiver import Receiver
from devstack.stack import ENV_PREFIX, REPO, ServiceProcess
from shared.catalogue import load_catalogue
from shared.messages import Severity
from tests.integration.alerts_harness import wait_until

pytestmark = pytest.mark.e2e
CAT = load_catalogue()
SECRET = "e2e-alerts-secret"
TOKEN = "e2e-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def start_alerts(tmp_path: Path, db_factory, broker: TansuBroker,
                 topic_prefix: str) -> Iterator[Callable[..., ServiceProcess]]:
    """Start (and on exit stop) the alerts service with extra settings; the same database across restarts."""
    import os

    url = db_factory()
    started: list[ServiceProcess] = []
    (tmp_path / "logs").mkdir(exist_ok=True)

    def start(**extra: str) -> ServiceProcess:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not any(k.startswith(p) for p in ENV_PREFIX.values())
               and not k.startswith("NOTIFY_")}
        env.update({
            "ALERTS_DATABASE_URL": url, "ALERTS_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "ALERTS_TOPIC_PREFIX": topic_prefix, "ALERTS_PORT": str(port), "ALERTS_WEBHOOK_SECRET": SECRET,
            "ALERTS_PUBLIC_URL": f"http://127.0.0.1:{port}", "ALERTS_LINK_SECRET": "e2e-link-secret-0123456789",
            "ALERTS_TOPIC_PARTITIONS": "2",
            "ALERTS_API_TOKENS": json.dumps({"e2e": hashlib.sha256(TOKEN.encode()).hexdigest()}),
            "ALERTS_RETRY_BASE_S": "0.1", "ALERTS_RETRY_MAX_S": "0.5", "ALERTS_DISPATCH_POLL_INTERVAL_S": "0.1",
            "ALERTS_KAFKA_SESSION_TIMEOUT_MS": "2000", "ALERTS_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            # Its own consumer group: never the default group another test's app may have left on the broker.
            "ALERTS_CONSUMER_GROUP": f"alerts-{topic_prefix}",
        })
        env.update(extra)
        p = ServiceProcess("alerts", port, env, tmp_path / "logs" / "alerts.log")
        p.start()
        p.wait_ready(60)
        started.append(p)
        return p

    assert REPO.exists()
    yield start
    for p in started:
        p.stop()


def _publish(broker: TansuBroker, prefix: str, events: list) -> None:  # type: ignore[type-arg]
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap], acks="all", linger_ms=5)
    try:
        publish(producer, prefix, events)
    finally:
        producer.close()


def _expected_pairs(targets: list[str]) -> set[tuple[str, str]]:
    """(department, target) pairs a warning on each target must reach: the lead and the co-departments."""
    return {(d, t) for t in targets for d in (CAT.targets[t].lead_department, *CAT.targets[t].co_departments)}


def _settled(alerts: ServiceProcess, events: int = 0) -> None:
    """Wait until the service has provably nothing left to send: at least ``events`` events consumed by this
    process, no item waiting for its group, no notification pending, none buffered by its dispatcher."""
    def idle() -> bool:
        return alerts_idle(httpx.get(f"{alerts.url}/metrics", timeout=10).text, alerts.env["ALERTS_DATABASE_URL"],
                           events)

    wait_until(idle, timeout_s=30, what="the alerts service to be idle")


def _pairs(receiver: Receiver) -> list[tuple[str, str]]:
    return [(r.json()["department"]["id"], a["event"]["target_id"]) for r in receiver.unique()
            if r.path == "/hook" for a in r.json()["alerts"]]


def test_a_burst_is_one_grouped_chinese_notification_per_department_and_channel(
        start_alerts, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    alerts = start_alerts(ALERTS_DEFAULT_WEBHOOK_URL=f"{receiver.url}/hook",
                          NOTIFY_FGW_WECOM_URL=f"{receiver.url}/wecom/fgw", ALERTS_GROUP_WAIT_S="2",
                          ALERTS_GROUP_INTERVAL_S="60")
    targets = [t.id for t in CAT.targets.values()][:40]
    _publish(broker, topic_prefix, [deviation(CAT, t, Severity.WARNING) for t in targets])
    departments = {d for d, _ in _expected_pairs(targets)}
    got = receiver.wait_for(len(departments) + 1, timeout_s=30)
    _settled(alerts, len(targets))  # nothing left to send: a second group per receiver is not coming
    assert len(receiver.requests) == len(departments) + 1 == len(got)
    hooks = [r for r in receiver.requests if r.path == "/hook"]
    assert sorted(r.json()["department"]["id"] for r in hooks) == sorted(departments)  # one each
    assert set(_pairs(receiver)) == _expected_pairs(targets)
    fgw = next(r.json() for r in hooks if r.json()["department"]["id"] == "fgw")
    n = sum(1 for t in targets if "fgw" in (CAT.targets[t].lead_department, *CAT.targets[t].co_departments))
    assert fgw["title"].startswith("【目标预警汇总】") and f"等{n}项目标" in fgw["title"]
    assert "致：市发展改革委" in fgw["text"] and "序时进度要求" in fgw["text"]
    wecom = next(r for r in receiver.requests if r.path == "/wecom/fgw").json()
    assert wecom["msgtype"] == "markdown" and "【目标预警汇总】" in wecom["markdown"]["content"]


def test_kill_9_mid_burst_and_a_receiver_down_for_a_while_change_nothing_at_the_receivers(
        start_alerts, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    receiver.delay_s = 0.002
    env = {"ALERTS_DEFAULT_WEBHOOK_URL": f"{receiver.url}/hook"}
    alerts = start_alerts(**env)
    targets = [t.id for t in CAT.targets.values()]
    expected = _expected_pairs(targets)
    _publish(broker, topic_prefix, [deviation(CAT, t, Severity.WARNING) for t in targets])
    receiver.wait_for(30, timeout_s=30)
    alerts.kill()  # kill -9 in the middle of the burst
    assert len(receiver.requests) < len(expected), "the burst was over before the kill: make it bigger"
    receiver.fail_with = 503  # and the receiver goes down meanwhile
    alerts = start_alerts(**env)
    wait_until(lambda: receiver.failed >= 3, timeout_s=30, what="the restarted service to find the receiver down")
    receiver.fail_with = None
    back = time.time()
    got = receiver.wait_for(len(expected), timeout_s=30)
    assert len(got) >= len(expected)
    assert max(r.at for r in receiver.unique()) - back < 5, "the backlog arrives within seconds of coming back"
    _settled(alerts)  # nothing pending, in flight or buffered: no repeat can still arrive
    pairs = _pairs(receiver)
    assert set(pairs) == expected and len(pairs) == len(expected)  # after dedup by key: each exactly once
    repeats = len(receiver.requests) - len(receiver.unique())
    in_flight_cap = 4 * len({d for d, _ in expected})  # ALERTS_RECEIVER_CONCURRENCY per receiver
    assert repeats <= in_flight_cap, f"{repeats} repeats: only those in flight at the kill may be re-sent"
    deliveries = httpx.get(f"{alerts.url}/v1/deliveries", params={"status": "pending"}, headers=AUTH,
                           timeout=10).json()
    assert deliveries == []


def test_ack_by_link_silences_and_escalation_over_http(start_alerts, broker: TansuBroker, topic_prefix: str,
                                                       receiver: Receiver) -> None:
    # Calendar time: a 2-second deadline in working days would wait for Monday when the suite runs on a weekend.
    alerts = start_alerts(ALERTS_DEFAULT_WEBHOOK_URL=f"{receiver.url}/hook", ALERTS_ESCALATE_AFTER_S="2",
                          ALERTS_LIFECYCLE_INTERVAL_S="0.3", ALERTS_DEADLINES_IN="calendar")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    silence = {"target_id": "urban_new_jobs", "duration_minutes": 10, "owner": "王五", "reason": "数据口径调整期间"}
    r = httpx.post(f"{alerts.url}/v1/silences", json=silence, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    _publish(broker, topic_prefix, [deviation(CAT, "gdp_growth", Severity.CRITICAL),
                                    deviation(CAT, "urban_new_jobs", Severity.CRITICAL),
                                    deviation(CAT, "retail_sales_growth", Severity.CRITICAL)])
    got = receiver.wait_for(6, timeout_s=20)  # gdp: fgw, stats, supervision; retail: swj, stats, supervision
    fgw = next(r.json() for r in got if r.json()["department"]["id"] == "fgw")
    link = re.search(r"(http://127\.0\.0\.1:\d+/v1/ack/\S+)", fgw["text"]).group(1)  # type: ignore[union-attr]
    form = {"by": "赵六（市发展改革委综合处）", "explanation": "外需偏弱", "measures": "稳投资、促消费，加快项目落地"}
    r = httpx.post(link, data=form, timeout=10)
    assert r.status_code == 200 and "已确认" in r.text
    deadline = time.time() + 15
    while time.time() < deadline and not any(r.json()["kind"] == "overdue" for r in receiver.requests):
        time.sleep(0.1)
    overdue = [r.json() for r in receiver.requests if r.json()["kind"] == "overdue"]
    assert [(o["department"]["id"], o["event"]["target_id"]) for o in overdue] == [
        ("gov_office", "retail_sales_growth")]  # gdp was acknowledged; the silenced target never went out
    assert not any(r.json()["event"]["target_id"] == "urban_new_jobs" for r in receiver.requests)
    muted = httpx.get(f"{alerts.url}/v1/deliveries", params={"status": "suppressed"}, headers=auth,
                      timeout=10).json()
    assert muted and {m["silence_id"] for m in muted} == {httpx.get(f"{alerts.url}/v1/silences", headers=auth,
                                                                    timeout=10).json()[0]["id"]}
    acked = httpx.get(f"{alerts.url}/v1/alerts", params={"status": "acknowledged"}, headers=auth,
                      timeout=10).json()
    assert [a["target_id"] for a in acked] == ["gdp_growth"] and acked[0]["ack_measures"] == form["measures"]


def test_two_replicas_with_grouping_send_each_group_once(start_alerts, broker: TansuBroker, topic_prefix: str,
                                                         receiver: Receiver) -> None:
    """Two alerts processes on one database (SQLite: a file; PostgreSQL) and one consumer group, grouping on."""
    env = {"ALERTS_DEFAULT_WEBHOOK_URL": f"{receiver.url}/hook", "ALERTS_GROUP_WAIT_S": "2",
           "ALERTS_GROUP_INTERVAL_S": "600"}
    first, second = start_alerts(**env), start_alerts(**env)
    targets = [t.id for t in CAT.targets.values()][:40]
    _publish(broker, topic_prefix, [deviation(CAT, t, Severity.WARNING) for t in targets])
    departments = {d for d, _ in _expected_pairs(targets)}

    def settled() -> list[dict[str, Any]] | None:
        rows = httpx.get(f"{first.url}/v1/deliveries", params={"limit": 1000}, headers=AUTH, timeout=10).json()
        grouped = sum(len(r["alert_ids"]) for r in rows)
        done = grouped == len(_expected_pairs(targets)) and all(r["status"] == "sent" for r in rows)
        return rows if done else None

    deadline = time.time() + 60
    while (rows := settled()) is None and time.time() < deadline:
        time.sleep(0.2)
    assert rows is not None, "not every alert part was grouped and sent"
    # One notification per department, each sent once: no replica grouped the same parts under another key.
    assert sorted(r["department"] for r in rows) == sorted(departments)
    keys = receiver.idempotency_keys()
    assert sorted(set(keys)) == sorted(r["idempotency_key"] for r in rows) and len(keys) == len(rows)
    assert set(_pairs(receiver)) == _expected_pairs(targets)
    leaders = [float(line.split()[1]) for p in (first, second)
               for line in httpx.get(f"{p.url}/metrics", timeout=10).text.splitlines()
               if line.startswith("alerts_dispatcher_leader ")]
    assert sorted(leaders) == [0.0, 1.0]
