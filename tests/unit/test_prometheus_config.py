"""promtool checks the Prometheus configuration, the rules and their unit tests, and the dashboards' PromQL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.promql_names import REPO, dashboard_expressions, grafana_to_promql, metric_names

PROMETHEUS = REPO / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.local.yml"])
def test_promtool_accepts_the_scrape_configuration(config: str) -> None:
    r = promtool("check", "config", config)
    assert r.returncode == 0, r.stdout + r.stderr


def test_promtool_accepts_the_rules() -> None:
    r = promtool("check", "rules", *[str(p) for p in sorted((PROMETHEUS / "rules").glob("*.yml"))])
    assert r.returncode == 0, r.stdout + r.stderr


def test_rule_unit_tests_pass() -> None:
    r = promtool("test", "rules", *[str(p) for p in sorted((PROMETHEUS / "tests").glob("*.yml"))])
    assert r.returncode == 0, r.stdout + r.stderr


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    """The checks above can fail: a rule with a syntax error is refused."""
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "x:y", "expr": "sum by (job"}]}]}))
    assert promtool("check", "rules", str(bad)).returncode != 0


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool parses expressions only inside rules: wrap each query in a recording rule.
    exprs = list(dashboard_expressions())
    assert len(exprs) > 20
    rules = [{"record": f"dashboard:query_{i}:check", "expr": grafana_to_promql(e)} for i, (_, e) in enumerate(exprs)]
    path = tmp_path / "dashboards.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    r = promtool("check", "rules", str(path))
    assert r.returncode == 0, r.stdout + r.stderr


def test_metric_names_are_read_from_promql() -> None:
    expr = ('sum by (job, topic) (rate(consumer_messages_total{outcome="processed"}[5m])) '
            'and on (target) (max by (target) (evaluator_target_severity{severity!="ok"}) == 1) '
            '/ ignoring (le) job:http_requests:rate5m > 0.5 or time() - 1e3')
    assert metric_names(expr) == {"consumer_messages_total", "evaluator_target_severity",
                                  "job:http_requests:rate5m"}


AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"
ALERTMANAGER_YML = REPO / "deploy" / "alertmanager" / "alertmanager.yml"


def _local_alertmanager_config(tmp_path: Path) -> Path:
    from devstack.monitoring import alertmanager_config

    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(alertmanager_config("http://127.0.0.1:9/operator")))
    return path


def test_amtool_accepts_the_alertmanager_configuration(tmp_path: Path) -> None:
    # Debian's amtool is 0.25, older than url_file (compose runs 0.27): it checks the file as ./dev run uses it.
    r = subprocess.run([AMTOOL, "check-config", str(_local_alertmanager_config(tmp_path))],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("labels", [
    ["alertname=ServiceDown", "job=evaluator", "severity=critical"],
    ["alertname=OutboxStuck", "job=ingest", "severity=critical"],
    ["alertname=IndicatorDataOverdue", "indicator=gdp", "severity=warning"],
])
def test_every_pipeline_alert_reaches_the_operator(labels: list[str], tmp_path: Path) -> None:
    r = subprocess.run([AMTOOL, "config", "routes", "test", f"--config.file={_local_alertmanager_config(tmp_path)}",
                        *labels], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.split() == ["operator"], r.stdout + r.stderr


def test_the_operator_receiver_reads_its_address_from_a_secret_file() -> None:
    config = yaml.safe_load(ALERTMANAGER_YML.read_text())
    [receiver] = config["receivers"]
    [hook] = receiver["webhook_configs"]
    assert "url" not in hook and hook["url_file"] == "/run/secrets/operator_webhook_url"
    assert hook["send_resolved"] is True


@pytest.mark.parametrize("config, target", [("prometheus.yml", "alertmanager:9093"),
                                            ("prometheus.local.yml", "127.0.0.1:9093")])
def test_prometheus_sends_its_alerts_to_alertmanager(config: str, target: str) -> None:
    doc = yaml.safe_load((PROMETHEUS / config).read_text())
    [am] = doc["alerting"]["alertmanagers"]
    assert am["static_configs"] == [{"targets": [target]}]
