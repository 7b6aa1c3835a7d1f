"""Issue 10's twelve problems, each as its reader saw it: observations into the evaluator's handler on a real
database, the verdict and the sentence out. Every figure here is illustrative (not a Wuxi release).

These tests were written against the code before the reading rules were rewritten and each failed there;
the golden table (tests/golden/verdicts.csv) holds the exact messages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from services.alerts.domain.templates import AlertPart, part_text
from services.alerts.domain.templates import period_zh as alert_period_zh
from services.evaluator.adapters.tables import evaluations, outbox
from services.evaluator.handlers import ObservationHandler
from shared.catalogue import load_catalogue
from shared.clock import FrozenClock
from shared.db import make_engine, run_migrations
from shared.outbox import Outbox
from tests.integration.evaluator_support import envelope, observation, published

MIGRATIONS = Path("services/evaluator/migrations")
G, L, LV, Y = "cumulative_yoy_pct", "cumulative_level", "level", "yoy_pct"


@pytest.fixture
def evaluator(database_url: str):
    run_migrations(database_url, MIGRATIONS)
    engine = make_engine(database_url)
    handler = ObservationHandler(load_catalogue(), Outbox(outbox, source="/test", topic_prefix="t"),
                                 FrozenClock(datetime(2025, 3, 1, tzinfo=UTC)))

    def feed(*observations) -> None:
        for data in observations:
            with engine.begin() as conn:
                handler(conn, envelope(data), data)

    yield engine, feed
    engine.dispose()


def latest(engine, target_id: str):
    """The target's latest stored evaluation (published or not)."""
    with engine.connect() as conn:
        return conn.execute(select(evaluations).where(evaluations.c.target_id == target_id)
                            .order_by(evaluations.c.evaluated_at.desc(), evaluations.c.observation_vintage.desc())
                            ).first()


def events_of(engine, target_id: str):
    return [e for e in published(engine) if e.target_id == target_id]


# 1. A year-end shortfall is 未完成, whatever the figure's status, and a revision can change the verdict.
def test_1_a_year_end_shortfall_is_missed_on_provisional_data_and_a_revision_can_reverse_it(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("new_above_scale_industrial", "2024-Q4", L, 490, unit="家"))
    [missed] = events_of(engine, "new_above_scale_industrial")
    assert (missed.status, missed.severity) == ("missed", "warning")  # an expected target, 2% short
    assert "未完成" in missed.message_zh and "符合进度" not in missed.message_zh
    feed(observation("new_above_scale_industrial", "2024-Q4", L, 505, unit="家", vintage=2, previous_value=490))
    last = events_of(engine, "new_above_scale_industrial")[-1]
    assert (last.status, last.previous_status) == ("achieved", "missed")
    assert "修订" in last.message_zh and "由“未完成”转为“已完成”" in last.message_zh


# 2. Provisional (初步数) figures are the ones the government acts on: only 预计数 soften a critical severity.
def test_2_provisional_data_are_not_discounted_only_estimates_are(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("gdp", "2024-Q3", G, 4.4))
    [far] = events_of(engine, "gdp_growth")
    assert (far.status, far.severity, far.softened) == ("far_behind", "critical", False)
    feed(observation("retail_sales", "2024-M08", G, 5.4, status="estimated"))
    [est] = events_of(engine, "retail_sales_growth")
    assert (est.status, est.severity, est.softened) == ("far_behind", "warning", True)
    assert "预计数" in est.message_zh


# 3. 5.0% meets 5.5%左右 whatever came before; a status held by hysteresis says so and what releases it.
def test_3_no_message_contradicts_its_status(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("gdp", "2024-Q1", G, 4.9), observation("gdp", "2024-Q2", G, 5.0))
    assert [e.status for e in events_of(engine, "gdp_growth")] == ["behind", "on_track"]
    feed(observation("retail_sales", "2024-M03", G, 5.4), observation("retail_sales", "2024-M04", G, 5.5))
    held = latest(engine, "retail_sales_growth")
    assert held.status == "far_behind"  # 5.5 reaches 滞后's edge (5.5) but not by the 0.1 pp margin
    assert "维持" in held.message_zh and "5.6%" in held.message_zh


# 4. The linear 序时进度 by default; a seasonal path only from last year's released figures, with both readings.
def test_4_linear_schedule_by_default_and_a_path_only_from_data(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("fixed_asset_investment", "2024-M06", L, 2400, unit="亿元"))
    ev = latest(engine, "fixed_asset_investment_total")
    assert (ev.status, ev.expected_progress) == ("on_track", 0.5)  # 52.7% against 50%: 时间过半、任务过半
    assert ev.projection == pytest.approx(4800, rel=0.01)
    feed(observation("fixed_asset_investment", "2023-M06", L, 2000, unit="亿元", status="final"),
         observation("fixed_asset_investment", "2023-M07", L, 2350, unit="亿元", status="final"),
         observation("fixed_asset_investment", "2023", L, 4400, unit="亿元", status="final"),
         observation("fixed_asset_investment", "2024-M07", L, 2700, unit="亿元"))
    ev = latest(engine, "fixed_asset_investment_total")
    assert ev.period == "2024-M07"
    assert "按时间进度" in ev.message_zh and "2023年同期" in ev.message_zh


# 5. A count redone every year (入库) is read from zero, not along a path from last year's stock.
def test_5_a_count_built_up_from_zero_is_read_as_a_share_of_the_years_target(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("tech_smes_registered", "2024-Q2", L, 1.1, unit="万家"))
    ev = latest(engine, "tech_smes_registered")
    assert ev is not None and ev.progress == pytest.approx(1.1 / 1.4, abs=1e-3)
    assert "78.6%" in ev.message_zh and "-" not in ev.message_zh


# 6. Recognitions granted at the year's end are not judged in spring.
def test_6_year_end_recognitions_are_not_evaluated_before_their_batch(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("new_above_scale_industrial", "2024-Q2", L, 120, unit="家"))
    assert events_of(engine, "new_above_scale_industrial") == []
    assert latest(engine, "new_above_scale_industrial").status == "not_evaluated"


# 7. Income against GDP like with like (real against real), and 2024-S1 pairs with 2024-Q2.
def test_7_income_is_deflated_to_compare_with_real_gdp_and_a_half_year_pairs_with_its_quarter(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("disposable_income", "2024-Q2", G, 5.0), observation("cpi", "2024-M06", G, 0.2),
         observation("gdp", "2024-S1", G, 5.2))
    ev = latest(engine, "income_in_step_with_growth")
    assert ev is not None and ev.related_actual == 5.2
    assert "扣除价格因素" in ev.message_zh and "实际增长4.8%" in ev.message_zh


# 8. An annual figure recorded before the year ended never becomes the basis of the status.
def test_8_a_figure_recorded_before_its_period_ended_does_not_freeze_the_target(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("retail_sales", "2024", G, 6.5, recorded_at=datetime(2024, 7, 15, tzinfo=UTC)))
    feed(observation("retail_sales", "2024-M07", G, 5.4))
    ev = latest(engine, "retail_sales_growth")
    assert (ev.period, ev.status) == ("2024-M07", "far_behind")


# 9. The strength of a target shapes the severity of missing it: binding (确保) is critical.
def test_9_missing_a_binding_target_is_critical(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("grain_sown_area", "2024", LV, 121, unit="万亩"))
    [ev] = events_of(engine, "grain_sown_area")
    assert (ev.status, ev.severity) == ("missed", "critical")
    assert "约束性" in ev.message_zh


# 10. Wording: 同比增长 and 初步核算数 for GDP, 6月末 for stocks (also in the alert), no 达到 when short,
# the province's own 3%左右, one term 序时进度, numbers without thousands separators.
def test_10_labels_periods_and_numbers_as_releases_write_them(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("gdp", "2024-Q3", G, 4.8))
    gdp = latest(engine, "gdp_growth").message_zh
    assert "前三季度" in gdp and "同比增长4.8%" in gdp and "累计同比" not in gdp and "初步核算数" in gdp
    feed(observation("deposits_and_loans", "2024-M06", LV, 4.9, unit="万亿元"))
    stock = latest(engine, "deposits_and_loans_5tn").message_zh
    assert "2024年6月末" in stock and "达到" not in stock
    feed(observation("cpi", "2024-M08", G, 3.2))
    assert "3%左右" in latest(engine, "cpi_within_provincial_limit").message_zh
    feed(observation("tech_enterprise_loans", "2024-M06", Y, 10.5))
    [loans] = events_of(engine, "tech_enterprise_loans_growth")
    assert loans.period_zh == "2024年6月末" == alert_period_zh(loans)
    feed(observation("fixed_asset_investment", "2024-M06", L, 1500, unit="亿元"))
    [fai] = events_of(engine, "fixed_asset_investment_total")
    text = part_text(AlertPart("a1", "firing", fai, "市发展改革委", "lead", "固定资产投资4550亿元", None,
                               "市发展改革委"))
    assert "1500亿元" in text and "1,500" not in text
    with engine.connect() as conn:
        assert not [m for m in conn.execute(select(evaluations.c.message_zh)).scalars() if "时序进度" in m]


# 11. A growth target behind its band says what the rest of the year must grow, and how that was weighted.
def test_11_a_rate_behind_says_the_growth_needed_in_the_rest_of_the_year(evaluator) -> None:
    engine, feed = evaluator
    feed(observation("gdp", "2024-Q3", G, 4.8))
    equal = latest(engine, "gdp_growth").message_zh
    assert "四季度需增长5.6%以上" in equal and "等权" in equal
    for period, level in (("2023-Q3", 11000), ("2023", 15500)):
        feed(observation("gdp", period, L, level, unit="亿元", status="final"))
    weighted = latest(engine, "gdp_growth").message_zh
    assert "四季度需增长5.5%以上" in weighted and "2023年" in weighted
