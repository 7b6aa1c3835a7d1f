"""The monthly 督查通报's rules on plain values: the month asked for, where each target stood at its end, which
targets are listed and in what order (docs/reading-rules.md, 十三、督查通报)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from services.evaluator.domain.briefing import MonthError, cutoff, listed, report_month, standing_at, status_counts
from shared.catalogue import load_catalogue
from shared.catalogue.model import Target
from shared.periods import Period

CAT = load_catalogue()


@dataclass(frozen=True)
class Ev:
    id: str
    target_id: str
    period: str
    evaluated_at: datetime
    report_id: str | None = None


@dataclass(frozen=True)
class Line:
    target: Target
    status: str | None
    severity: str | None


def at(month: int, day: int, hour: int = 2) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(("code", "rule", "zh"), [
    (None, "missing", "缺少参数 period"), ("", "missing", "缺少参数 period"),
    ("2024-06", "period_format", "格式不正确"), ("2024-M6", "period_format", "格式不正确"),
    ("2024-M13", "period_format", "格式不正确"), ("2024-Q2", "period_format", "不是月份"),
    ("2024", "period_format", "不是月份"),
])
def test_a_briefing_covers_one_month_and_says_the_format(code: str | None, rule: str, zh: str) -> None:
    with pytest.raises(MonthError) as caught:
        report_month(code)
    assert caught.value.rule == rule and zh in caught.value.msg_zh and "2024-M06" in caught.value.msg_zh
    assert "period" in str(caught.value)


def test_the_month_ends_at_midnight_in_beijing() -> None:
    month = report_month("2024-M06")
    assert (month.year, month.index) == (2024, 6)
    assert cutoff(month) == datetime(2024, 6, 30, 16, 0, tzinfo=UTC)
    assert cutoff(report_month("2024-M12")) == datetime(2024, 12, 31, 16, 0, tzinfo=UTC)


def test_figures_count_by_their_period_reports_by_the_day_they_were_filed() -> None:
    june = Period.parse("2024-M06")
    evs = [
        Ev("a1", "gdp_growth", "2024-Q1", at(4, 20)),
        Ev("a2", "gdp_growth", "2024-Q2", at(7, 20)),  # released in July: still the June standing
        Ev("a3", "gdp_growth", "2024-Q2", at(8, 20)),  # its revision, later still: the newest vintage wins
        Ev("a4", "gdp_growth", "2024-Q3", at(6, 1)),  # a later period never counts, whenever it came
        Ev("b1", "urban_new_jobs", "2024-M06", at(7, 15)),
        Ev("b2", "urban_new_jobs", "2024-Q2", at(7, 10)),  # the fuller statement of the same months wins
        Ev("c1", "urban_new_jobs_2023", "2023-M06", at(6, 1)),  # another year's
        # Reports (their period is the year): filed before 1 July 00:00 Beijing time count.
        Ev("r1", "binding_environment_targets", "2024", at(5, 10), report_id="x1"),
        Ev("r2", "binding_environment_targets", "2024", datetime(2024, 6, 30, 15, 59, tzinfo=UTC), report_id="x2"),
        Ev("r3", "binding_environment_targets", "2024", datetime(2024, 6, 30, 16, 0, tzinfo=UTC), report_id="x3"),
    ]
    chosen = standing_at(evs, june)
    assert {k: v.id for k, v in chosen.items()} == {
        "gdp_growth": "a3", "urban_new_jobs": "b2", "binding_environment_targets": "r2"}
    march = standing_at(evs, Period.parse("2024-M03"))
    assert {k: v.id for k, v in march.items()} == {"gdp_growth": "a1"}


def test_listed_are_the_targets_needing_attention_critical_first_then_by_section_then_catalogue_order() -> None:
    t = CAT.targets
    lines = [
        Line(t["gdp_growth"], "behind", "warning"),  # headline
        Line(t["urban_new_jobs"], "on_track", "ok"),
        Line(t["binding_environment_targets"], "at_risk", "warning"),  # headline, after gdp in the catalogue
        Line(t["major_project_investment"], "far_behind", "critical"),  # section 1
        Line(t["software_it_revenue_growth"], "near_cap", "warning"),  # section 3
        Line(t["new_little_giants"], None, None),  # no data: not listed, but counted
        Line(t["tech_enterprise_loans_growth"], "missed", "critical"),  # section 1, after the other in the catalogue
        Line(t["retail_sales_growth"], "not_evaluated", "ok"),
    ]
    order = [x.target.id for x in listed(lines)]
    assert order == ["major_project_investment", "tech_enterprise_loans_growth", "gdp_growth",
                     "binding_environment_targets", "software_it_revenue_growth"]
    assert status_counts(lines) == [("符合进度", 1), ("滞后", 1), ("严重滞后", 1), ("接近上限", 1), ("未完成", 1),
                                    ("暂不评估", 1), ("存在风险", 1), ("暂无数据", 1)]
