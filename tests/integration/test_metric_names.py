"""Every metric name the dashboards and the alert rules use is one the services export.

The services' registries are introspected (apps built on migrated, empty SQLite databases): a family
appears even before it has samples, so a renamed or removed metric fails here, not in a dark dashboard.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from services.alerts.config import AlertsSettings
from services.alerts.main import MIGRATIONS as ALERTS_MIGRATIONS
from services.alerts.main import create_app as alerts_app
from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import MIGRATIONS as EVALUATOR_MIGRATIONS
from services.evaluator.main import create_app as evaluator_app
from services.ingest.config import IngestSettings
from services.ingest.main import MIGRATIONS as INGEST_MIGRATIONS
from services.ingest.main import create_app as ingest_app
from shared.db import run_migrations
from tests.promql_names import (
    BUILTIN_SERIES,
    dashboard_expressions,
    metric_names,
    recorded_names,
    rule_expressions,
)

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}


def exported_series_names(registry: CollectorRegistry) -> set[str]:
    """Every series name the registry's families can produce."""
    names = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in _SUFFIXES[family.type])
        names.update(s.name for s in family.samples)
    return names


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    tmp: Path = tmp_path_factory.mktemp("metric-names")
    names: set[str] = set()
    for name, factory, settings_cls, migrations, extra in (
        ("ingest", ingest_app, IngestSettings, INGEST_MIGRATIONS, {}),
        ("evaluator", evaluator_app, EvaluatorSettings, EVALUATOR_MIGRATIONS, {}),
        ("alerts", alerts_app, AlertsSettings, ALERTS_MIGRATIONS, {"webhook_secret": SecretStr("x")}),
    ):
        url = f"sqlite:///{tmp / name}.db"
        run_migrations(url, migrations)
        registry = CollectorRegistry()
        factory(settings_cls(database_url=url, **extra), registry=registry)
        names |= exported_series_names(registry)
    return names


def test_the_services_export_the_metrics_of_every_layer(exported: set[str]) -> None:
    expected = {
        "http_requests_total", "http_request_duration_seconds_bucket", "consumer_lag_messages",
        "consumer_assigned_partitions", "outbox_oldest_pending_age_seconds", "alerts_notifications_failed_total",
        "evaluator_target_progress_ratio", "evaluator_target_status",
        "evaluator_target_status_changed_timestamp_seconds",
        "evaluator_indicator_last_received_timestamp_seconds", "ingest_indicator_last_recorded_timestamp_seconds",
        "ingest_indicator_next_release_overdue_timestamp_seconds", "business_metrics_up", "ingest_release_lag_seconds",
        "evaluator_department_info", "evaluator_target_info",
    }
    assert expected <= exported, sorted(expected - exported)


@pytest.mark.parametrize("where, expr", [*rule_expressions(), *dashboard_expressions()])
def test_promql_uses_only_exported_metric_names(where: str, expr: str, exported: set[str]) -> None:
    used = metric_names(expr)
    assert used, f"{where}: no metric name found in {expr!r}"
    unknown = used - exported - recorded_names() - BUILTIN_SERIES
    assert not unknown, f"{where} uses metrics no service exports: {sorted(unknown)}"


def test_an_unknown_name_would_be_caught(exported: set[str]) -> None:
    assert metric_names("rate(consumer_mesages_total[5m])") - exported == {"consumer_mesages_total"}


def test_names_follow_the_conventions(exported: set[str]) -> None:
    """Durations and lags in seconds, never days or milliseconds; one name for what every service has."""
    assert not {n for n in exported if re.search(r"_(days|hours|minutes|ms|milliseconds)(_|$)", n)}
    per_service = re.compile(r"(ingest|evaluator|alerts)_(http|outbox|consumer|business_metrics)_")
    assert not {n for n in exported if per_service.match(n)}
