"""What an operator sees, with real processes: the three services, Debian's Prometheus scraping them with the
repository's rules, Debian's Alertmanager routing with the shipped configuration, real HTTP receivers for the
departments and for the operator, and the events on the real broker.

One scenario runs once for the module: a deviation whose notification dies (the departments' webhook answers
503, one attempt allowed), a second one delivered once the webhook is back, and a message no service can read
published onto the observations topic, which the evaluator dead-letters. Then: the series the rules and
dashboards need exist, every dashboard query returns data, Alertmanager delivers the firing pipeline alert
to the operator, the CloudEvents SDK reads every event the services published, and the JSON log lines of
the three services follow the deviation from ingest to the departments.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from devstack.broker import TansuBroker
from devstack.monitoring import MonitoringProcess, alertmanager_config, prometheus_config
from devstack.receiver import Receiver
from devstack.stack import Stack
from shared.catalogue import load_catalogue
from shared.kafka import CLOUDEVENTS_CONTENT_TYPE
from shared.messages import decode
from tests.promql_names import DASHBOARDS, grafana_to_promql

pytestmark = pytest.mark.e2e
GARBAGE_KEY = b"not-a-cloudevent"


@dataclass
class Operations:
    stack: Stack
    prometheus: str
    alertmanager: str
    departments: Receiver
    operator: Receiver
    topic_prefix: str
    bootstrap: str


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def query(url: str, promql: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5)
    assert r.status_code == 200, f"{promql}: {r.text}"
    body = r.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def scrape(url: str, name: str) -> float:
    """Sum of a metric's samples on a service's /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return sum(float(m[1]) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory, broker: TansuBroker) -> Iterator[Operations]:
    tmp: Path = tmp_path_factory.mktemp("operations")
    prefix = f"t{uuid.uuid4().hex[:10]}"
    departments = Receiver(fail_with=503).start()
    operator = Receiver().start()
    group = {"KAFKA_SESSION_TIMEOUT_MS": "2000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"}
    stack = Stack(
        data_dir=tmp / "stack", broker=broker, topic_prefix=prefix,
        extra_env={
            "ingest": {"INGEST_ACCESS_LOG": "true"},
            "evaluator": {f"EVALUATOR_{k}": v for k, v in group.items()},
            "alerts": {"ALERTS_WEBHOOK_SECRET": "operations-test",
                       "ALERTS_DEFAULT_WEBHOOK_URL": f"{departments.url}/all",
                       # a half-second retry budget: the receiver's 503s soon dead-letter the notification (a
                       # NotificationDeadLettered event)
                       "ALERTS_RETRY_BUDGET_S": "0.5", **{f"ALERTS_{k}": v for k, v in group.items()}},
        },
    )
    # The shipped routing, with the operator's address and a 1 s first wait instead of 30 s.
    am = MonitoringProcess("alertmanager", alertmanager_config(f"{operator.url}/operator", group_wait="1s"),
                           tmp / "alertmanager")
    started: list[Any] = []
    try:
        stack.start()
        started.append(stack)
        am.start()
        started.append(am)
        targets = {name: [f"127.0.0.1:{svc.port}"] for name, svc in stack.services.items()}
        prom = MonitoringProcess("prometheus", prometheus_config(targets, am.address, interval="1s"),
                                 tmp / "prometheus")
        prom.start()
        started.append(prom)
        auth = {"Authorization": f"Bearer {stack.issue_ingest_key()}"}
        ingest = stack.url("ingest")

        def post(obs: dict[str, Any]) -> None:
            r = httpx.post(f"{ingest}/v1/observations", json=obs, headers=auth, timeout=10)
            assert r.status_code == 201, r.text

        # 1. GDP behind: its notifications meet a 503 and die at once.
        post({"indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 4.9, "unit": "%"})
        wait_for(lambda: scrape(stack.url("alerts"), "alerts_dead_letters_total") >= 1, 60,
                 "the first notification to be dead-lettered")
        # 2. The webhook is back; fixed-asset investment far behind its seasonal path is delivered.
        departments.fail_with = None
        post({"indicator": "fixed_asset_investment", "period": "2024-M06", "measure": "cumulative_level",
              "value": 1500, "unit": "亿元"})
        assert departments.wait_for(1, timeout_s=60), "no notification reached the departments' webhook"
        # 3. A message nobody can read: the evaluator sends it to the dead-letter topic. Prometheus must have
        # seen the counter at 0 first: a series whose first sample is already 1 shows no increase().
        wait_for(lambda: query(prom.url, 'consumer_messages_total{job="evaluator", outcome="invalid"} == 0'), 30,
                 "Prometheus to scrape the evaluator's dead-letter counter at 0")
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
        producer.send(f"{prefix}.observations", key=GARBAGE_KEY, value=b"{not json").get(timeout=10)
        producer.close()
        wait_for(lambda: _invalid(stack) >= 1, 60, "the evaluator to dead-letter the unreadable message")
        yield Operations(stack, prom.url, am.url, departments, operator, prefix, broker.bootstrap)
    finally:
        for part in reversed(started):
            part.stop()
        departments.stop()
        operator.stop()


def _invalid(stack: Stack) -> float:
    text = httpx.get(f"{stack.url('evaluator')}/metrics", timeout=5).text
    return sum(float(m[1]) for m in re.finditer(r'^consumer_messages_total\{outcome="invalid",[^}]*\} (\S+)$',
                                                 text, re.M))


def test_prometheus_scrapes_every_service_and_evaluates_the_rules(ops: Operations) -> None:
    url = ops.prometheus
    wait_for(lambda: len(query(url, 'up{job=~"ingest|evaluator|alerts"} == 1')) == 3, 30,
             "all three services to be up in Prometheus")
    expected = [
        'http_requests_total{job="ingest", route="/v1/observations", status="201"}',
        'http_request_duration_seconds_bucket{job="ingest", route="/v1/observations"}',
        'outbox_published_total{job="ingest"}',
        'outbox_published_total{job="evaluator"}',
        'consumer_messages_total{job="evaluator", outcome="processed"} > 0',
        'consumer_lag_messages{job="evaluator"}',
        'consumer_assigned_partitions{job="evaluator"} > 0',
        'consumer_assigned_partitions{job="alerts"} > 0',
        'consumer_batch_duration_seconds_count{job="evaluator"} > 0',
        'outbox_oldest_pending_age_seconds{job="ingest"}',
        "alerts_notifications_sent_total > 0",
        'alerts_notifications_failed_total{kind="retryable"} > 0',
        "alerts_dead_letters_total > 0",
        'evaluator_target_status{target="gdp_growth", section="headline", department="fgw", status="behind"} == 1',
        'evaluator_target_severity{target="gdp_growth", severity="warning"} == 1',
        'evaluator_target_status_changed_timestamp_seconds{target="gdp_growth"}',
        'evaluator_target_progress_ratio{target="fixed_asset_investment_total"}',
        'evaluator_department_info{department="fgw", department_name="市发展改革委"} == 1',
        "evaluator_year_elapsed_ratio",
        'evaluator_indicator_last_received_timestamp_seconds{indicator="gdp"}',
        'ingest_indicator_last_recorded_timestamp_seconds{indicator="gdp"}',
        'ingest_indicator_next_release_overdue_timestamp_seconds{indicator="gdp", period="2024-Q2"}',
        'ingest_release_lag_seconds{frequency="monthly"} == 20 * 86400',
        'business_metrics_up{job="ingest"} == 1',
        'business_metrics_up{job="evaluator"} == 1',
        # recording rules from deploy/prometheus/rules evaluate on the real series
        'job_topic:consumer_messages_processed:rate5m{job="evaluator"}',
        'job:outbox_pending_events:max{job="ingest"}',
        'job:http_requests:rate5m{job="ingest"}',
        # the catalogue's year is over: its missing figures are overdue (pending for the rule's hour)
        'ALERTS{alertname="IndicatorDataOverdue", indicator="gdp", period="2024-Q2"}',
        'ALERTS{alertname="MessagesDeadLettered", job="evaluator", alertstate="firing"}',
    ]
    missing: list[str] = []

    def all_present() -> bool:
        missing[:] = [q for q in expected if not query(url, q)]
        return not missing

    try:
        wait_for(all_present, 60, "the expected series")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: missing {json.dumps(missing, ensure_ascii=False, indent=1)}") from None
    # the 2024 targets, all of them, each in exactly one status
    [count] = query(url, "count(max by (target) (evaluator_target_status == 1))")
    assert int(count["value"][1]) == len(load_catalogue().targets)


def _panel_queries() -> list[tuple[str, str]]:
    out = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            out += [(f"{path.name}: {panel['title']} [{t['refId']}]", t["expr"]) for t in panel.get("targets", [])]
        for var in board["templating"]["list"]:
            m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", var["query"]["query"])
            assert m, var
            out.append((f"{path.name}: ${var['name']}", f"count by ({m[2]}) ({m[1]})"))
    return out


def test_every_dashboard_query_returns_data(ops: Operations) -> None:
    queries = _panel_queries()
    assert len(queries) > 25
    empty: list[str] = []

    def all_answer() -> bool:
        empty[:] = [where for where, expr in queries if not query(ops.prometheus, grafana_to_promql(expr))]
        return not empty

    try:
        wait_for(all_answer, 90, "every panel to have data")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: no data for {json.dumps(empty, ensure_ascii=False, indent=1)}") from None


def test_the_department_filter_selects_by_chinese_name(ops: Operations) -> None:
    board = json.loads(next(p for p in DASHBOARDS if p.name == "targets-2024.json").read_text())
    panel = next(p for p in board["panels"] if p["title"] == "各牵头部门平均完成进度")
    expr = panel["targets"][0]["expr"].replace("$department", "市发展改革委").replace("$section", ".*")
    wait_for(lambda: query(ops.prometheus, expr), 30, "the progress of 市发展改革委's targets")
    assert [r["metric"] for r in query(ops.prometheus, expr)] == [{"department_name": "市发展改革委"}]
    assert query(ops.prometheus, expr.replace("市发展改革委", "没有这个部门")) == []


def test_alertmanager_delivers_the_firing_pipeline_alert_to_the_operator(ops: Operations) -> None:
    got = ops.operator.wait_for(1, timeout_s=90, path_prefix="/operator")
    assert got, f"Alertmanager delivered nothing; its alerts: {httpx.get(f'{ops.alertmanager}/api/v2/alerts').text}"
    body = got[0].json()
    assert body["version"] == "4" and body["receiver"] == "operator" and body["status"] == "firing"
    alert = next(a for a in body["alerts"] if a["labels"]["alertname"] == "MessagesDeadLettered")
    assert alert["labels"]["job"] == "evaluator"
    assert alert["labels"]["topic"] == f"{ops.topic_prefix}.observations"
    assert alert["labels"]["severity"] == "warning"
    assert f"{ops.topic_prefix}.observations.dlq" in alert["annotations"]["description"]
    assert alert["status"] == "firing" and alert["generatorURL"].startswith("http")


def test_a_cloudevents_sdk_reads_every_event_the_services_publish(ops: Operations) -> None:
    topics = [f"{ops.topic_prefix}.{t}" for t in ("observations", "deviations", "notifications.dlq")]
    consumer = KafkaConsumer(bootstrap_servers=ops.bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records = [r for r in consumer if r.key != GARBAGE_KEY]
    consumer.close()
    sources: dict[str, set[str]] = {}
    for rec in records:
        headers = {k: v for k, v in rec.headers}
        assert headers.get("content-type") == CLOUDEVENTS_CONTENT_TYPE.encode(), (rec.topic, rec.headers)
        event = from_kafka(KafkaMessage(headers=headers, key=rec.key, value=rec.value), JSONFormat())
        ours = decode(rec.value)
        assert event.get_specversion() == "1.0"
        assert (event.get_id(), event.get_type(), event.get_source()) == (ours.id, ours.type, ours.source)
        assert event.get_subject() == ours.subject and event.get_time() == ours.time
        assert event.get_datacontenttype() == "application/json"
        assert event.get_data() == ours.data
        sources.setdefault(event.get_type(), set()).add(event.get_source())
    assert sources == {
        "cn.gov.wuxi.targets.observation.recorded.v1": {"/wuxi-targets/ingest"},
        "cn.gov.wuxi.targets.target.status-changed.v1": {"/wuxi-targets/evaluator"},
        "cn.gov.wuxi.targets.notification.dead-lettered.v1": {"/wuxi-targets/alerts"},
    }


def _log_lines(stack: Stack, service: str) -> list[dict[str, Any]]:
    lines = stack.services[service].log_path.read_text(encoding="utf-8").splitlines()
    docs = [json.loads(line) for line in lines if line.strip()]  # every line is one JSON object
    assert docs and all(d["service"] == service for d in docs), service
    return docs


def test_one_deviation_can_be_followed_through_the_three_services_logs(ops: Operations) -> None:
    ingest, evaluator, alerts = (_log_lines(ops.stack, s) for s in ("ingest", "evaluator", "alerts"))
    # the evaluator wrote the deviation: its target, lead department, the observation it read
    [deviation] = [d for d in evaluator if d.get("event_type", "").endswith("status-changed.v1")
                   and d.get("target") == "gdp_growth" and d["message"].startswith("outbox: wrote")]
    assert deviation["department"] == "fgw" and deviation["indicator"] == "gdp"
    # ingest wrote the observation that caused it; the evaluator handled that event
    [observation] = [d for d in ingest if d.get("observation_id") == deviation["observation_id"]
                     and d["message"].startswith("outbox: wrote")]
    assert any(d.get("event_id") == observation["event_id"] and "handled" in d["message"] for d in evaluator)
    # the alerts service handled the deviation event, for the same target and department
    handled = [d for d in alerts if d.get("event_id") == deviation["event_id"] and "handled" in d["message"]]
    assert handled and handled[0]["target"] == "gdp_growth" and handled[0]["department"] == "fgw"
    # the access log: on for ingest (INGEST_ACCESS_LOG=true), off by default
    posts = [d for d in ingest if d["logger"] == "wuxi.access" and d.get("route") == "/v1/observations"]
    assert posts and posts[0]["status"] == 201 and posts[0]["method"] == "POST"
    assert not [d for d in evaluator + alerts if d["logger"] == "wuxi.access"]
