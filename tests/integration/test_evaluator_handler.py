"""The evaluator's handler on a real database (SQLite and PostgreSQL): what it stores and what it publishes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from services.evaluator.adapters.tables import evaluations, outbox, target_states
from services.evaluator.handlers import ObservationHandler
from shared.catalogue import load_catalogue
from shared.clock import FrozenClock
from shared.db import make_engine, run_migrations
from shared.outbox import Outbox
from tests.integration.evaluator_support import envelope, observation, published

MIGRATIONS = Path("services/evaluator/migrations")


@pytest.fixture
def evaluator(database_url: str):
    run_migrations(database_url, MIGRATIONS)
    engine = make_engine(database_url)
    clock = FrozenClock(datetime(2024, 7, 20, tzinfo=UTC))
    handler = ObservationHandler(load_catalogue(), Outbox(outbox, source="/test", topic_prefix="t"), clock)

    def feed(*observations) -> None:
        for data in observations:
            with engine.begin() as conn:
                handler(conn, envelope(data), data)

    feed.clock = clock  # type: ignore[attr-defined]
    yield engine, feed
    engine.dispose()


def test_relational_target_waits_for_every_series_and_follows_each(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("disposable_income", "2024-Q2", "cumulative_yoy_pct", 5.0))
    feed(observation("gdp", "2024-Q2", "cumulative_yoy_pct", 5.6))
    # No CPI for 1—6月 yet: real income growth cannot be compared with real GDP growth.
    assert [e.target_id for e in published(engine)] == []  # 5.6 is on track for GDP: first OK is not news
    feed(observation("cpi", "2024-M06", "cumulative_yoy_pct", 0.2))
    events = {e.target_id: e for e in published(engine)}
    assert set(events) == {"income_in_step_with_growth"}
    rel = events["income_in_step_with_growth"]
    assert (rel.status, rel.actual, rel.related_actual, rel.related_indicator) == ("behind", 4.8, 5.6, "gdp")
    assert rel.gap_pp == pytest.approx(-0.8) and rel.measure == "cumulative_yoy_pct" and rel.strength == "expected"
    assert rel.rule_zh.startswith("判定标准：两者相差不超过0.5个百分点为基本同步")
    # The income figure is revised up: the relational target recovers, and the message says why.
    feed(observation("disposable_income", "2024-Q2", "cumulative_yoy_pct", 5.6, vintage=2, previous_value=5.0))
    last = published(engine)[-1]
    assert (last.target_id, last.status, last.previous_status, last.is_revision) == (
        "income_in_step_with_growth", "on_track", "behind", True)
    assert "本次评估依据修订后的数据（第2版，由5%修订为5.6%）" in last.message_zh
    # Then GDP itself is revised up beyond the band: it is the other indicator that moves the target.
    feed(observation("gdp", "2024-Q2", "cumulative_yoy_pct", 6.2, vintage=2, previous_value=5.6))
    last = published(engine)[-1]
    assert (last.target_id, last.status) == ("income_in_step_with_growth", "behind")
    # And the price index: a higher CPI lowers real income growth.
    feed(observation("cpi", "2024-M06", "cumulative_yoy_pct", 1.2, vintage=2, previous_value=0.2))
    last = published(engine)[-1]
    assert (last.target_id, last.status, last.actual) == ("income_in_step_with_growth", "far_behind", 4.3)


def test_a_figure_for_an_earlier_period_does_not_move_the_status(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("gdp", "2024-Q2", "cumulative_yoy_pct", 4.6))
    feed(observation("gdp", "2024-Q1", "cumulative_yoy_pct", 5.5))  # late, older period
    events = published(engine)
    assert [(e.period, e.status) for e in events] == [("2024-Q2", "behind")]
    with engine.connect() as conn:
        assert conn.execute(select(target_states.c.period).where(
            target_states.c.target_id == "gdp_growth")).scalar() == "2024-Q2"


def test_a_repeated_vintage_changes_nothing_and_every_evaluation_keeps_its_vintage(evaluator) -> None:
    engine, feed = evaluator
    first = observation("gdp", "2024-Q1", "cumulative_yoy_pct", 4.9)
    feed(first, first)
    feed(observation("gdp", "2024-Q1", "cumulative_yoy_pct", 4.3, vintage=2, previous_value=4.9, status="final"))
    with engine.connect() as conn:
        rows = conn.execute(select(evaluations).where(evaluations.c.target_id == "gdp_growth")
                            .order_by(evaluations.c.observation_vintage)).all()
    assert [(r.observation_vintage, r.observation_status, r.status, r.severity, r.published) for r in rows] == [
        (1, "provisional", "behind", "warning", True),
        (2, "final", "far_behind", "critical", True),
    ]
    assert [e.severity for e in published(engine)] == ["warning", "critical"]


def test_only_an_estimate_softens_and_the_next_figure_hardens(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("urban_new_jobs", "2024-M06", "cumulative_level", 4.0, unit="万人", status="estimated"))
    feed(observation("urban_new_jobs", "2024-M06", "cumulative_level", 4.0, unit="万人", vintage=2,
                     previous_value=4.0))
    events = published(engine)
    assert [(e.status, e.severity, e.softened, e.figure_zh) for e in events] == [
        ("far_behind", "warning", True, "预计数"), ("far_behind", "critical", False, "初步数")]
    assert "预警级别暂按一般预警处理" in events[0].message_zh
    assert "预警级别" not in events[1].message_zh


def test_last_years_figures_re_evaluate_the_current_one(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("gdp", "2024-Q3", "cumulative_yoy_pct", 4.8))
    [first] = published(engine)
    assert first.growth_needed_pct == 5.6  # equal weights
    feed(observation("gdp", "2023-Q3", "cumulative_level", 11000, unit="亿元", status="final"),
         observation("gdp", "2023", "cumulative_level", 15500, unit="亿元", status="final"))
    with engine.connect() as conn:
        rows = conn.execute(select(evaluations.c.message_zh, evaluations.c.published).where(
            evaluations.c.target_id == "gdp_growth").order_by(evaluations.c.evaluated_at, evaluations.c.id)).all()
    # Each of last year's figures re-evaluates the current one; the same status is stored, not news.
    assert len(rows) == 3 and [r.published for r in rows].count(True) == 1
    weighted = "四季度需增长5.5%以上（按2023年前三季度占全年71%的比重加权）"
    assert [weighted in r.message_zh for r in rows].count(True) == 1


def test_observations_for_other_regions_or_years_are_stored_but_not_evaluated(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("gdp", "2023", "cumulative_yoy_pct", 4.0, status="final"))
    feed(observation("gdp", "2022", "cumulative_level", 14000, unit="亿元", status="final"))
    other = observation("gdp", "2024-Q1", "cumulative_yoy_pct", 3.0).model_copy(update={"region": "jiangyin"})
    feed(other)
    assert published(engine) == []


def test_the_state_follows_the_latest_evaluation_but_keeps_since_when_the_status_holds(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("gdp", "2024-Q1", "cumulative_yoy_pct", 4.9))
    feed.clock.set(datetime(2024, 10, 20, tzinfo=UTC))
    feed(observation("gdp", "2024-Q2", "cumulative_yoy_pct", 4.8))  # still 滞后
    with engine.connect() as conn:
        state = conn.execute(select(target_states).where(target_states.c.target_id == "gdp_growth")).one()
        latest = conn.execute(select(evaluations.c.actual, evaluations.c.published).where(
            evaluations.c.id == state.evaluation_id)).one()
    assert (state.period, state.status, latest.actual, latest.published) == ("2024-Q2", "behind", 4.8, False)
    assert state.updated_at.replace(tzinfo=UTC) == datetime(2024, 7, 20, tzinfo=UTC)
