"""A real Prometheus (Debian's /usr/bin/prometheus) scrapes the three running services, loads the alert
rules, and finds the series the dashboards and rules are built on."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from devstack.broker import TansuBroker, free_port
from devstack.receiver import Receiver
from devstack.stack import Stack
from shared.catalogue import load_catalogue

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


@pytest.fixture
def stack(tmp_path: Path, broker: TansuBroker, receiver: Receiver, topic_prefix: str) -> Iterator[Stack]:
    s = Stack(
        data_dir=tmp_path / "stack", broker=broker, topic_prefix=topic_prefix,
        extra_env={
            "evaluator": {"EVALUATOR_KAFKA_SESSION_TIMEOUT_MS": "2000", "EVALUATOR_KAFKA_HEARTBEAT_INTERVAL_MS": "500"},
            "alerts": {"ALERTS_WEBHOOK_SECRET": "prometheus-test", "ALERTS_DEFAULT_WEBHOOK_URL": f"{receiver.url}/all",
                       "ALERTS_KAFKA_SESSION_TIMEOUT_MS": "2000", "ALERTS_KAFKA_HEARTBEAT_INTERVAL_MS": "500"},
        },
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture
def prometheus(tmp_path: Path, stack: Stack) -> Iterator[str]:
    # The local configuration, with this stack's ports, a 1 s scrape and the repository's rules.
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.local.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(p) for p in sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [f"127.0.0.1:{stack.services[job['job_name']].port}"]}]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={path}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url), 30, f"Prometheus to start (log: {tmp_path / 'prometheus.log'})")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def query(url: str, promql: str) -> list[dict]:
    r = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_prometheus_scrapes_every_service_and_evaluates_the_rules(
    stack: Stack, prometheus: str, receiver: Receiver
) -> None:
    obs = {"indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 4.9, "unit": "%"}
    auth = {"Authorization": f"Bearer {stack.issue_ingest_key()}"}
    r = httpx.post(f"{stack.url('ingest')}/v1/observations", json=obs, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    assert receiver.wait_for(1, timeout_s=60), "the status change never reached the webhook"

    wait_for(lambda: len(query(prometheus, 'up{job=~"ingest|evaluator|alerts"} == 1')) == 3, 30,
             "all three services to be up in Prometheus")
    expected = [
        'ingest_http_requests_total{route="/v1/observations", status="201"}',
        'ingest_http_request_duration_seconds_bucket{route="/v1/observations"}',
        "ingest_outbox_published_total",
        "evaluator_outbox_published_total",
        'evaluator_consumer_messages_total{outcome="processed"}',
        "evaluator_consumer_lag_messages",
        "evaluator_consumer_assigned_partitions > 0",
        "alerts_consumer_assigned_partitions > 0",
        "evaluator_consumer_batch_duration_seconds_count > 0",
        "ingest_outbox_oldest_pending_age_seconds",
        "alerts_notifications_sent_total > 0",
        'evaluator_target_status{target="gdp_growth", section="headline", department="fgw", status="behind"} == 1',
        'evaluator_target_severity{target="gdp_growth", severity="warning"} == 1',
        'evaluator_target_status_changed_timestamp_seconds{target="gdp_growth"}',
        "evaluator_year_elapsed_ratio",
        'evaluator_indicator_last_received_timestamp_seconds{indicator="gdp"}',
        'ingest_indicator_last_recorded_timestamp_seconds{indicator="gdp"}',
        'ingest_indicator_next_release_overdue_timestamp_seconds{indicator="gdp", period="2024-Q2"}',
        "ingest_business_metrics_up == 1",
        "evaluator_business_metrics_up == 1",
        # recording rules from deploy/prometheus/rules evaluate on the real series
        'job_topic:consumer_messages_processed:rate5m{job="evaluator"}',
        'job:outbox_pending_events:max{job="ingest"}',
        'job:http_requests:rate5m{job="ingest"}',
        # the catalogue's year is over: its missing figures are overdue (pending for the rule's hour)
        'ALERTS{alertname="IndicatorDataOverdue", indicator="gdp", period="2024-Q2"}',
    ]
    missing: list[str] = []

    def all_present() -> bool:
        missing[:] = [q for q in expected if not query(prometheus, q)]
        return not missing

    try:
        wait_for(all_present, 60, "the expected series")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: missing {json.dumps(missing, ensure_ascii=False, indent=1)}") from None
    # the 2024 targets, all of them, each in exactly one status
    [count] = query(prometheus, "count(max by (target) (evaluator_target_status == 1))")
    assert int(count["value"][1]) == len(load_catalogue().targets)
