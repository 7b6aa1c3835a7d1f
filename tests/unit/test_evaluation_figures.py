"""The figures each verdict carries, worked out by hand from the report's targets.

A verdict is more than its status: the deviation event carries the value read, what was expected, the gap in
the target's unit, relative and in points, the progress against 序时进度 and what set it; the alert text says
"低于预期X（Y%）" from them and the board draws them. The verdict tables (tests/golden/verdicts.csv) check the
status, the severity and the sentence; this table checks every published figure of the readings the sentence
does not spell out: mid-year readings of year-end targets, year-end verdicts, the paths that set 序时进度, a
cap's band at the year's end, and a target's own tolerances. Figures are published rounded to 6 decimals (no
binary noise in the event), so they are compared exactly.
"""

from __future__ import annotations

import pytest

from services.evaluator.domain.evaluation import evaluate
from services.evaluator.domain.model import Evaluation, Hold, Reading, Status
from shared.catalogue import load_catalogue
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

CATALOGUE = load_catalogue()


def reading(period: str, value: float, status: ObservationStatus = ObservationStatus.PROVISIONAL) -> Reading:
    return Reading(value, Period.parse(period), status)


def figures(ev: Evaluation, names: str) -> dict[str, object]:
    return {name: getattr(ev, name) for name in names.split()}


def target(target_id: str, **changes: object):  # type: ignore[no-untyped-def]
    t = CATALOGUE.targets[target_id]
    return t.model_copy(update=changes) if changes else t


# (case, target, reading, previous status, last year's figures, the published figures)
CASES = [
    # 企业研发经费支出占营业收入比重 1.79%以上, read only at the year's end: mid-year 暂不评估, with the gap stated.
    ("研发占比 mid-year: 暂不评估, gap stated, no relative gap", "enterprise_rnd_to_revenue_up",
     reading("2024-S1", 1.604), None, (),
     {"status": Status.NOT_EVALUATED, "severity": Severity.OK, "actual": 1.6, "expected": 1.79, "goal": 1.79,
      "gap_abs": -0.19, "gap_pp": -0.19, "gap_rel": None, "year_end": False}),
    ("研发占比 at the year's end: 已完成", "enterprise_rnd_to_revenue_up", reading("2024", 1.85), None, (),
     {"status": Status.ACHIEVED, "severity": Severity.OK, "actual": 1.85, "expected": 1.79, "goal": 1.79,
      "gap_abs": 0.06, "gap_pp": 0.06, "gap_rel": 0.03352, "year_end": True, "far_off": False}),
    # CPI 涨幅控制在省定3%左右: 3.5 is still 左右; over it 未完成; beyond two bands (4.0) far off.
    ("CPI mid-year over 3% within the band: 接近上限", "cpi_within_provincial_limit", reading("2024-M06", 3.2),
     None, (),
     {"status": Status.NEAR_CAP, "severity": Severity.WARNING, "actual": 3.2, "expected": 3.0, "goal": 3.0,
      "gap_abs": 0.2, "gap_pp": 0.2, "gap_rel": 0.066667, "year_end": False, "far_off": False, "held": None}),
    ("CPI for the year at 3.5: still 3%左右, 已完成", "cpi_within_provincial_limit", reading("2024-M12", 3.504),
     None, (),
     {"status": Status.ACHIEVED, "actual": 3.5, "gap_abs": 0.5, "year_end": True, "far_off": False}),
    ("CPI for the year at 3.51: 未完成, not far off", "cpi_within_provincial_limit", reading("2024-M12", 3.51),
     None, (),
     {"status": Status.MISSED, "severity": Severity.WARNING, "actual": 3.51, "year_end": True, "far_off": False}),
    ("CPI for the year at 4.0: 未完成, two bands over is not yet far off", "cpi_within_provincial_limit",
     reading("2024-M12", 4.0), None, (), {"status": Status.MISSED, "severity": Severity.WARNING, "far_off": False}),
    ("CPI for the year at 4.01: 未完成 far off", "cpi_within_provincial_limit", reading("2024-M12", 4.01), None, (),
     {"status": Status.MISSED, "severity": Severity.CRITICAL, "far_off": True}),
    ("CPI mid-year back under 3% by less than the margin: 接近上限 held", "cpi_within_provincial_limit",
     reading("2024-M07", 2.95), Status.NEAR_CAP, (),
     {"status": Status.NEAR_CAP, "held": Hold(Status.ON_TRACK, 0.1, False), "gap_abs": -0.05}),
    # 城镇新增就业13万人 at the year's end.
    ("就业 12万 for the year: 未完成, the shares stated", "urban_new_jobs", reading("2024-M12", 12.0), None, (),
     {"status": Status.MISSED, "severity": Severity.WARNING, "actual": 12.0, "expected": 13.0, "goal": 13.0,
      "gap_abs": -1.0, "gap_rel": -0.076923, "progress": 0.923077, "expected_progress": 1.0, "year_end": True,
      "far_off": False}),
    ("就业 11.6万 for the year: more than 10% short, far off", "urban_new_jobs", reading("2024-M12", 11.6), None, (),
     {"status": Status.MISSED, "far_off": True, "gap_abs": -1.4}),
    # 新增专精特新“小巨人”80家, read at the year's end: mid-year 暂不评估 unless already reached.
    ("小巨人 50 by June: 暂不评估, progress stated", "new_little_giants", reading("2024-M06", 50), None, (),
     {"status": Status.NOT_EVALUATED, "severity": Severity.OK, "actual": 50, "expected": 80.0, "goal": 80.0,
      "gap_abs": -30.0, "progress": 0.625, "path": "year_end", "expected_progress": None}),
    ("小巨人 85 by June: already reached, 超前", "new_little_giants", reading("2024-M06", 85), None, (),
     {"status": Status.AHEAD, "gap_abs": 5.0, "progress": 1.0625}),
    # 实际使用外资38亿美元, linear: half the year, half the target.
    ("外资 19 by June: on the straight path", "fdi_actual_use", reading("2024-M06", 19.0), None, (),
     {"status": Status.ON_TRACK, "expected": 19.0, "gap_abs": 0.0, "progress": 0.5, "expected_progress": 0.5,
      "path": "linear", "linear_progress": None, "months_left": 6}),
    # 固定资产投资4550亿元 along last year's path (its 1—6月 share of the year).
    ("投资 along 2023's path: 1—6月 was 40% of the year", "fixed_asset_investment_total",
     reading("2024-M06", 1820.0), None, (reading("2023-M06", 1600.0), reading("2023-M12", 4000.0)),
     {"status": Status.ON_TRACK, "expected": 1820.0, "expected_progress": 0.4, "path": "previous_year",
      "linear_progress": 0.5, "progress": 0.4}),
    ("投资: last year's 1—6月 equal to its year is still a path (everything by June)",
     "fixed_asset_investment_total", reading("2024-M06", 4550.0), None,
     (reading("2023-M06", 1.0), reading("2023-M12", 1.0)),
     {"expected_progress": 1.0, "path": "previous_year"}),
    ("投资: last year's 1—6月 of 0 is a path too (nothing expected by June)", "fixed_asset_investment_total",
     reading("2024-M06", 0.0), None, (reading("2023-M06", 0.0), reading("2023-M12", 0.5)),
     {"expected_progress": 0.0, "path": "previous_year"}),
    ("投资: last year's year of 0 gives no path: the linear share, said so", "fixed_asset_investment_total",
     reading("2024-M06", 2275.0), None, (reading("2023-M06", 0.0), reading("2023-M12", 0.0)),
     {"expected_progress": 0.5, "path": "linear_no_data", "linear_progress": 0.5}),
    ("投资: last year's 1—6月 above its year gives no path", "fixed_asset_investment_total",
     reading("2024-M06", 2275.0), None, (reading("2023-M06", 2.0), reading("2023-M12", 1.0)),
     {"path": "linear_no_data"}),
    ("投资: without last year's year no path", "fixed_asset_investment_total", reading("2024-M06", 2275.0), None,
     (reading("2023-M06", 2.0),), {"path": "linear_no_data"}),
]


@pytest.mark.parametrize(("case", "target_id", "r", "previous", "previous_year", "expected"), CASES,
                         ids=[f"F{i:02d}" for i in range(1, len(CASES) + 1)])  # ASCII: mutmut passes ids back
def test_the_published_figures(case, target_id, r, previous, previous_year, expected) -> None:  # type: ignore[no-untyped-def]
    ev = evaluate(target(target_id), r, previous=previous, previous_year=previous_year)
    assert figures(ev, " ".join(expected)) == expected, case


def test_a_batch_target_is_expected_batch_by_batch() -> None:
    """规上工业企业新增500家 counted in batches (here June and December): half by June, the linear share beside."""
    t = target("new_above_scale_industrial", batch_months=(6, 12))
    ev = evaluate(t, reading("2024-M06", 240))
    assert figures(ev, "status expected expected_progress path linear_progress") == {
        "status": Status.ON_TRACK, "expected": 250.0, "expected_progress": 0.5, "path": "batch",
        "linear_progress": 0.5}
    assert figures(evaluate(t, reading("2024-M05", 100)), "status path") == {
        "status": Status.NOT_EVALUATED, "path": "batch"}


@pytest.mark.parametrize(("params", "value", "status"), [
    ({}, 18.05, Status.ON_TRACK),  # 47.5% of 38 by June against 50%: 2.5 pp behind is 符合进度 (within 3)
    ({"tolerance_pp": 2.0}, 18.05, Status.BEHIND),  # a target's own, tighter tolerance
    ({}, 15.5, Status.BEHIND),  # 9.2 pp behind: 滞后, not yet 10 pp
    ({"far_behind_pp": 8.0}, 15.5, Status.FAR_BEHIND),  # its own far-behind step
    ({}, 20.14, Status.ON_TRACK),  # exactly 3 pp ahead is still 符合进度: 超前 is beyond it
])
def test_a_targets_own_tolerances_set_its_steps(params, value, status) -> None:  # type: ignore[no-untyped-def]
    t = target("fdi_actual_use", params=params)
    assert evaluate(t, reading("2024-M06", value)).status == status


@pytest.mark.parametrize(("value", "previous", "status"), [
    (20.33, Status.ON_TRACK, Status.ON_TRACK),  # 3.5 pp ahead after 符合进度: not clear of 3 by the 1-point margin
    (20.33, None, Status.AHEAD),
    (15.4, Status.FAR_BEHIND, Status.FAR_BEHIND),  # 9.5 pp behind after 严重滞后: held
    (15.4, None, Status.BEHIND),
    (18.0, Status.BEHIND, Status.BEHIND),  # 2.6 pp behind after 滞后: held
])
def test_every_progress_step_holds_an_improvement_within_its_margin(value, previous, status) -> None:  # type: ignore[no-untyped-def]
    assert evaluate(target("fdi_actual_use"), reading("2024-M06", value), previous=previous).status == status


def test_income_in_step_with_growth_is_read_in_real_terms_with_every_figure_stated() -> None:
    """居民收入增长与经济增长基本同步: nominal 6.0% deflated by CPI 0.5% is 5.5% real, 0.5 pp above GDP's 5.0%:
    still 同步 (the band's edge is inside it); the year's verdict only when both figures are the year's."""
    t = target("income_in_step_with_growth")
    ev = evaluate(t, reading("2024-Q2", 6.004), related=reading("2024-Q2", 5.004), deflator=reading("2024-M06", 0.504))
    assert figures(ev, "status actual nominal deflator related_actual gap_pp year_end") == {
        "status": Status.ON_TRACK, "actual": 5.5, "nominal": 6.0, "deflator": 0.5, "related_actual": 5.0,
        "gap_pp": 0.5, "year_end": False}
    nominal_only = evaluate(t, reading("2024-Q2", 5.2), related=reading("2024-Q2", 5.0))
    assert figures(nominal_only, "actual nominal deflator") == {"actual": 5.2, "nominal": None, "deflator": None}
    half = evaluate(t, reading("2024-Q4", 5.2), related=reading("2024-Q3", 5.0))
    assert half.year_end is False and half.status == Status.ON_TRACK


@pytest.mark.parametrize(("part", "full", "weight", "needed"), [
    (0.25, 1.0, 0.25, 5.1),  # 一季度 was a quarter of last year's GDP: the rest must grow (5 - 0.25×4.6)/0.75
    (0.0, 100.0, None, 5.1),  # an impossible share (nothing in 一季度): equal weights, (5 - 4.6/4)/0.75
    (100.0, 100.0, None, 5.1),  # 一季度 equal to the year: equal weights
])
def test_growth_needed_weighs_the_rest_of_the_year_by_last_years_levels(part, full, weight, needed) -> None:  # type: ignore[no-untyped-def]
    ev = evaluate(target("gdp_growth"), reading("2024-Q1", 4.6),
                  previous_year=(reading("2023-Q1", part), reading("2023-Q4", full)))
    assert figures(ev, "status growth_weight growth_needed") == {
        "status": Status.BEHIND, "growth_weight": weight, "growth_needed": needed}


# 本外币存贷款余额突破5万亿元, a stock at a date: the straight path from last year's end level to the target.
STOCK_CASES = [
    ("from last year's December figure: 60% of the rise by June against 50%", {}, "2024-M06", 4.8,
     (reading("2023-M12", 4.5),),
     {"status": Status.AHEAD, "actual": 4.8, "expected": 4.75, "goal": 5.0, "gap_abs": 0.05, "gap_pp": 10.0,
      "progress": 0.6, "expected_progress": 0.5, "path": "linear", "months_left": 6, "start": 4.5,
      "start_from_data": True, "far_off": False, "held": None}),
    ("from the report's 2023 level when no figure was sent", {"baseline_2023": 4.6}, "2024-M03", 4.68, (),
     {"status": Status.BEHIND, "expected": 4.7, "progress": 0.2, "expected_progress": 0.25, "gap_pp": -5.0,
      "start": 4.6, "start_from_data": False, "months_left": 9}),
    ("far behind the path", {"baseline_2023": 4.0}, "2024-M06", 4.1, (),
     {"status": Status.FAR_BEHIND, "far_off": True, "gap_pp": -40.0, "progress": 0.1}),
    ("no level at last year's end: 暂不评估 until the year's end", {}, "2024-M06", 4.8, (),
     {"status": Status.NOT_EVALUATED, "path": "no_start", "start": None, "start_from_data": False,
      "gap_abs": -0.2, "progress": None}),
    ("last year's end already at the target: no path to draw, 暂不评估", {}, "2024-M06", 4.9,
     (reading("2023-M12", 5.0),), {"status": Status.NOT_EVALUATED, "path": "no_start", "start": 5.0}),
    ("last year's end above the target: already reached counts as 超前", {}, "2024-M06", 5.2,
     (reading("2023-M12", 5.1),), {"status": Status.AHEAD, "path": "no_start", "start": 5.1,
                                   "start_from_data": True}),
    ("at the year's end: 已完成, the rise done stated", {}, "2024-M12", 5.1, (reading("2023-M12", 4.5),),
     {"status": Status.ACHIEVED, "year_end": True, "progress": 1.2, "start": 4.5, "start_from_data": True,
      "gap_abs": 0.1, "expected_progress": 1.0}),
    ("at the year's end without a start: 未完成, no progress share", {}, "2024-M12", 4.9, (),
     {"status": Status.MISSED, "year_end": True, "progress": None, "start": None, "start_from_data": False}),
]


@pytest.mark.parametrize(("case", "changes", "period", "value", "previous_year", "expected"), STOCK_CASES,
                         ids=[f"S{i:02d}" for i in range(1, len(STOCK_CASES) + 1)])
def test_a_stock_is_read_along_its_path(case, changes, period, value, previous_year, expected) -> None:  # type: ignore[no-untyped-def]
    ev = evaluate(target("deposits_and_loans_5tn", **changes), reading(period, value), previous_year=previous_year)
    assert figures(ev, " ".join(expected)) == expected, case


def test_a_stock_improving_within_the_margin_is_held() -> None:
    t = target("deposits_and_loans_5tn", baseline_2023=4.0)
    # 47.6% of the rise by June against 50%: 2.4 pp behind, within 3 but not clear of it by the 1-point margin.
    assert evaluate(t, reading("2024-M06", 4.476), previous=Status.BEHIND).status == Status.BEHIND
    assert evaluate(t, reading("2024-M06", 4.476)).status == Status.ON_TRACK
