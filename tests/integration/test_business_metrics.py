"""The business metrics read each service's own database at scrape time: right after a restart, the same in
every replica, and a failed read never fails the scrape."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import create_engine

from services.evaluator.adapters.tables import evaluations, readings, target_states
from services.evaluator.main import MIGRATIONS as EVALUATOR_MIGRATIONS
from services.evaluator.metrics import EvaluatorBusinessCollector
from services.ingest.adapters.store import IngestStore
from services.ingest.adapters.tables import observations, outbox
from services.ingest.main import MIGRATIONS as INGEST_MIGRATIONS
from services.ingest.metrics import IngestBusinessCollector
from shared.catalogue import load_catalogue
from shared.db import make_engine, run_migrations
from shared.outbox import Outbox

CATALOGUE = load_catalogue()
JUNE_30 = datetime(2024, 6, 30, 12, tzinfo=UTC)


def scrape(collector: object) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    registry = CollectorRegistry()
    registry.register(collector)  # type: ignore[arg-type]
    generate_latest(registry)  # the exposition format renders
    return {(s.name, frozenset(s.labels.items())): s.value for f in registry.collect() for s in f.samples}


def _labels(**kw: str) -> frozenset[tuple[str, str]]:
    return frozenset(kw.items())


def _evaluation(eid: str, target: str, status: str, severity: str, progress: float | None, expected: float | None,
                published: bool, at: datetime) -> dict[str, object]:
    return {"id": eid, "target_id": target, "period": "2024-Q1", "status": status, "severity": severity,
            "actual": 1.0, "expected": 1.0, "gap_abs": None, "gap_pp": None, "progress": progress,
            "expected_progress": expected, "projection": None, "run_rate_needed": None, "observation_id": "o",
            "observation_vintage": 1, "observation_status": "final", "is_revision": False, "published": published,
            "message_zh": "…", "evaluated_at": at}


def test_evaluator_targets_and_indicators(database_url: str) -> None:
    run_migrations(database_url, EVALUATOR_MIGRATIONS)
    engine = make_engine(database_url)
    t1, t2 = datetime(2024, 4, 20, tzinfo=UTC), datetime(2024, 5, 20, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(evaluations.insert(), [
            _evaluation("e1", "gdp_growth", "behind", "warning", None, None, True, t1),
            _evaluation("e2", "fixed_asset_investment_total", "behind", "warning", 0.20, 0.25, True, t1),
            # a later evaluation that changed nothing still moves the progress
            _evaluation("e3", "fixed_asset_investment_total", "behind", "warning", 0.38, 0.42, False, t2),
        ])
        conn.execute(target_states.insert(), [
            {"target_id": "gdp_growth", "period": "2024-Q1", "status": "behind", "severity": "warning",
             "evaluation_id": "e1", "updated_at": t1},
            # the state points at the latest evaluation; updated_at stays at the last change of status
            {"target_id": "fixed_asset_investment_total", "period": "2024-Q1", "status": "behind",
             "severity": "warning", "evaluation_id": "e3", "updated_at": t1},
        ])
        conn.execute(readings.insert(), [{
            "indicator": "gdp", "region": "wuxi", "period": "2024-Q1", "measure": "cumulative_yoy_pct",
            "value": 4.9, "status": "final", "vintage": 1, "observation_id": "o", "recorded_at": t1,
            "received_at": t2}])
    gdp = {"target": "gdp_growth", "section": "headline", "department": "fgw"}
    fai = {"target": "fixed_asset_investment_total", "section": "headline", "department": "fgw"}

    # two replicas sharing the database report the same values
    first = scrape(EvaluatorBusinessCollector(engine, CATALOGUE, lambda: JUNE_30))
    second = scrape(EvaluatorBusinessCollector(make_engine(database_url), CATALOGUE, lambda: JUNE_30))
    assert first == second

    m = first
    assert m[("business_metrics_up", _labels())] == 1.0
    assert abs(m[("evaluator_year_elapsed_ratio", _labels(year="2024"))] - (181.5 / 366)) < 1e-9
    assert m[("evaluator_target_status", _labels(**gdp, status="behind"))] == 1.0
    assert m[("evaluator_target_status", _labels(**gdp, status="on_track"))] == 0.0
    assert m[("evaluator_target_severity", _labels(**gdp, severity="warning"))] == 1.0
    assert m[("evaluator_target_progress_ratio", _labels(**fai))] == 0.38
    assert m[("evaluator_target_expected_progress_ratio", _labels(**fai))] == 0.42
    assert ("evaluator_target_progress_ratio", _labels(**gdp)) not in m  # growth rates have no progress
    assert m[("evaluator_target_status_changed_timestamp_seconds", _labels(**gdp))] == t1.timestamp()
    assert m[("evaluator_indicator_last_received_timestamp_seconds", _labels(indicator="gdp"))] == t2.timestamp()
    assert m[("evaluator_indicator_last_recorded_timestamp_seconds", _labels(indicator="gdp"))] == t1.timestamp()

    # every catalogue target has exactly one status, evaluated or not
    statuses = [v for (name, _), v in m.items() if name == "evaluator_target_status"]
    assert sum(statuses) == len(CATALOGUE.targets)


def _observation(pk: int, indicator: str, period: str, recorded_at: datetime) -> dict[str, object]:
    return {"pk": pk, "id": f"o{pk}", "series_key": f"{indicator}|wuxi|{period}|cumulative_yoy_pct",
            "indicator": indicator, "region": "wuxi", "period": period, "measure": "cumulative_yoy_pct",
            "vintage": 1, "is_current": True, "value": 5.0, "unit": "%", "submitted_value": 5.0,
            "submitted_unit": "%", "status": "final", "submitted_by": "stats", "recorded_at": recorded_at}


def test_ingest_freshness_against_the_release_calendar(database_url: str) -> None:
    run_migrations(database_url, INGEST_MIGRATIONS)
    engine = make_engine(database_url)
    q1, q2 = datetime(2024, 4, 18, tzinfo=UTC), datetime(2024, 7, 16, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(observations.insert(), [
            _observation(1, "gdp", "2024-Q1", q1), _observation(2, "gdp", "2024-Q2", q2),
            _observation(3, "gdp", "2023-Q4", datetime(2024, 1, 20, tzinfo=UTC)),
        ])
    m = scrape(IngestBusinessCollector(IngestStore(engine, Outbox(outbox, source='/t', topic_prefix='t')), CATALOGUE))
    assert m[("business_metrics_up", _labels())] == 1.0
    assert m[("ingest_indicator_last_recorded_timestamp_seconds", _labels(indicator="gdp"))] == q2.timestamp()
    due = ("ingest_indicator_next_release_overdue_timestamp_seconds",
           _labels(indicator="gdp", frequency="quarterly", period="2024-Q3"))
    assert m[due] == datetime(2024, 10, 25, 16, tzinfo=UTC).timestamp()
    # an indicator with nothing yet is due from its first period of the year
    cpi = [labels for (name, labels) in m if name == due[0] and ("indicator", "cpi") in labels]
    assert len(cpi) == 1
    assert m[("ingest_release_lag_seconds", _labels(frequency="monthly"))] == 20 * 86400.0


def test_a_failed_read_yields_no_samples_and_up_zero(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'not-migrated.db'}")
    m = scrape(EvaluatorBusinessCollector(engine, CATALOGUE, lambda: JUNE_30))
    assert m == {("business_metrics_up", _labels()): 0.0}
