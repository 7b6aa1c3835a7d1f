"""Evaluation semantics per kind, table by table, on the real catalogue's targets; property tests on the ladders.

The rules are docs/reading-rules.md's; tests/golden/verdicts.csv holds the exact messages. Figures are
illustrative, not Wuxi releases.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.evaluator.domain.evaluation import DEFAULT_BAND_PP, Reading, Status, evaluate, expected_share
from services.evaluator.domain.ladder import Ladder
from services.evaluator.domain.rates import growth_needed
from services.evaluator.domain.status_reports import ReportedStatus, evaluate_report
from shared.catalogue import load_catalogue
from shared.catalogue.model import Strength
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

CAT = load_catalogue()
FINAL, PROV, EST = ObservationStatus.FINAL, ObservationStatus.PROVISIONAL, ObservationStatus.ESTIMATED
S = Status


def reading(value: float, period: str, status: ObservationStatus = FINAL) -> Reading:
    return Reading(value, Period.parse(period), status)


def target(target_id: str, **changes: object):
    t = CAT.targets[target_id]
    params = {k: v for k, v in changes.items() if k not in type(t).model_fields}
    fields = {k: v for k, v in changes.items() if k in type(t).model_fields}
    if params:
        fields["params"] = {**t.params, **params}
    return t.model_copy(update=fields) if fields else t


# 地区生产总值增长5.5%左右, band ±0.5 pp: quarterly cumulative GDP.
@pytest.mark.parametrize(
    ("value", "period", "obs", "status", "severity"),
    [
        (5.5, "2024-Q1", FINAL, S.ON_TRACK, Severity.OK),
        (5.0, "2024-Q1", FINAL, S.ON_TRACK, Severity.OK),  # the band's edge is inside 左右
        (6.0, "2024-Q2", FINAL, S.ON_TRACK, Severity.OK),
        (6.1, "2024-Q2", FINAL, S.AHEAD, Severity.OK),
        (4.9, "2024-Q1", FINAL, S.BEHIND, Severity.WARNING),
        (4.5, "2024-Q3", FINAL, S.BEHIND, Severity.WARNING),
        (4.4, "2024-Q3", FINAL, S.FAR_BEHIND, Severity.CRITICAL),
        (4.4, "2024-Q3", PROV, S.FAR_BEHIND, Severity.CRITICAL),  # 初步核算数 are acted on: no discount
        (4.4, "2024-Q3", EST, S.FAR_BEHIND, Severity.WARNING),  # only an estimate softens
        (5.2, "2024", FINAL, S.ACHIEVED, Severity.OK),  # year-end verdict
        (6.3, "2024", FINAL, S.ACHIEVED, Severity.OK),
        (4.8, "2024", FINAL, S.MISSED, Severity.WARNING),  # an expected target, 0.2 pp short: not far off
        (4.4, "2024", FINAL, S.MISSED, Severity.CRITICAL),  # far off (below 4.5)
        (4.4, "2024", PROV, S.MISSED, Severity.CRITICAL),  # the year is over: a verdict whatever the status
        (4.8, "2024-Q4", PROV, S.MISSED, Severity.WARNING),  # 1—4季度 is the whole year
    ],
)
def test_growth_rate_about(value, period, obs, status, severity) -> None:
    ev = evaluate(target("gdp_growth"), reading(value, period, obs))
    assert (ev.status, ev.severity) == (status, severity)
    assert ev.gap_pp == pytest.approx(value - 5.5)
    assert ev.expected == 5.5
    assert ev.year_end == (status in (S.ACHIEVED, S.MISSED))


@pytest.mark.parametrize(
    ("band", "value", "status"),
    [(0.3, 5.1, S.BEHIND), (0.3, 5.2, S.ON_TRACK), (1.0, 4.6, S.ON_TRACK), (1.0, 3.4, S.FAR_BEHIND)],
)
def test_the_band_is_configurable_per_target(band, value, status) -> None:
    assert evaluate(target("gdp_growth", band_pp=band), reading(value, "2024-Q2")).status == status


@pytest.mark.parametrize(
    ("value", "status"),
    [(12.0, S.ON_TRACK), (13.0, S.ON_TRACK), (13.1, S.AHEAD), (11.5, S.BEHIND), (11.0, S.BEHIND),
     (10.9, S.FAR_BEHIND)],
)
def test_growth_rate_at_least(value, status) -> None:
    # 力促科技型企业贷款余额增长12%: a floor, no band in the report; 0.5 pp steps decide how far behind.
    assert evaluate(target("tech_enterprise_loans_growth"), reading(value, "2024-M06")).status == status


@pytest.mark.parametrize(
    ("value", "period", "weights", "needed", "weight"),
    [
        # 前三季度 4.8%: the fourth quarter must grow (5 - w * 4.8) / (1 - w), equal weights w = 3/4.
        (4.8, "2024-Q3", (), 5.6, None),
        # With 2023's levels sent (前三季度 11000 of 15500亿元, w = 0.71): 5.5% (illustrative figures).
        (4.8, "2024-Q3", (("2023-Q3", 11000), ("2023", 15500)), 5.5, 0.7097),
        # 一季度 4.4%: the other three quarters must grow (5 - 4.4 / 4) / (3 / 4) = 5.2%.
        (4.4, "2024-Q1", (), 5.2, None),
    ],
)
def test_the_growth_the_rest_of_the_year_needs(value, period, weights, needed, weight) -> None:
    prev = [Reading(v, Period.parse(p), FINAL) for p, v in weights]
    ev = evaluate(target("gdp_growth"), reading(value, period), previous_year=prev)
    assert (ev.growth_needed, ev.growth_weight) == (needed, weight)


def test_the_bureaus_own_reading_of_what_the_fourth_quarter_needs() -> None:
    # "四季度只要增长4.4%以上就可以保障完成全年5%左右": 前三季度 5.2%, the first three quarters 74% of last
    # year's level (illustrative levels), a year's lower edge of 5%: (5 - 0.74 * 5.2) / 0.26 = 4.4.
    prev = [Reading(74.0, Period.parse("2023-Q3"), FINAL), Reading(100.0, Period.parse("2023"), FINAL)]
    assert growth_needed(5.2, reading(5.2, "2024-Q3"), 5.0, prev) == (4.4, 0.74)


def test_no_growth_is_asked_of_a_target_on_track_or_of_a_stock() -> None:
    assert evaluate(target("gdp_growth"), reading(5.2, "2024-Q2")).growth_needed is None
    assert evaluate(target("tech_enterprise_loans_growth"), reading(10.0, "2024-M06")).growth_needed is None


# Counts and totals: the linear 序时进度 by default (时间过半、任务过半).
@pytest.mark.parametrize(
    ("target_id", "value", "period", "status", "expected_share", "run_rate", "months_left"),
    [
        # 1—2月 combined release: January and February together, 2/12 of the year gone, ten months left.
        ("urban_new_jobs", 13 * 2 / 12, "2024-M02", S.ON_TRACK, 2 / 12, 1.08, 10),
        ("urban_new_jobs", 1.5, "2024-M02", S.BEHIND, 2 / 12, 1.15, 10),
        ("urban_new_jobs", 6.5, "2024-M06", S.ON_TRACK, 0.5, 1.08, 6),  # 时间过半、任务过半
        ("urban_new_jobs", 5.0, "2024-M06", S.FAR_BEHIND, 0.5, 1.33, 6),  # 38.5% against 50%
        ("urban_new_jobs", 6.0, "2024-M06", S.BEHIND, 0.5, 1.17, 6),  # 46.2% against 50%
        ("urban_new_jobs", 8.0, "2024-M06", S.AHEAD, 0.5, 0.83, 6),
        ("urban_new_jobs", 13.5, "2024-M11", S.AHEAD, 11 / 12, 0.0, 1),  # done early: nothing left to do
        # Fixed-asset investment: linear too unless 2023's 1—N月 figures are sent (no profile from memory).
        ("fixed_asset_investment_total", 500, "2024-M02", S.BEHIND, 2 / 12, 405.0, 10),
        ("fixed_asset_investment_total", 2200, "2024-M06", S.ON_TRACK, 0.5, 391.67, 6),
        ("fixed_asset_investment_total", 2400, "2024-M06", S.ON_TRACK, 0.5, 358.33, 6),  # a little over half
        ("fixed_asset_investment_total", 2000, "2024-M06", S.BEHIND, 0.5, 425.0, 6),
    ],
)
def test_cumulative_progress_against_expected_progress(
    target_id, value, period, status, expected_share, run_rate, months_left
) -> None:
    t = target(target_id)
    ev = evaluate(t, reading(value, period))
    assert ev.status == status
    assert ev.expected_progress == pytest.approx(expected_share, abs=1e-6)
    assert ev.expected == pytest.approx(t.value * expected_share, abs=0.01)
    assert ev.progress == pytest.approx(value / t.value, abs=1e-6)
    assert ev.gap_pp == pytest.approx(round(round(value / t.value * 100, 1) - round(expected_share * 100, 1), 1))
    assert ev.run_rate_needed == pytest.approx(run_rate, abs=0.01)
    assert ev.months_left == months_left
    assert ev.projection == pytest.approx(value / expected_share, rel=0.005)  # to three significant figures


def test_quarterly_counts_use_quarter_ends_and_counts_are_whole() -> None:
    # 举办产业链对接活动100场以上, reported quarterly: 一季度 is a quarter of the year, nine months left.
    ev = evaluate(target("supply_chain_events"), reading(20, "2024-Q1"))
    assert ev.expected_progress == 0.25 and ev.months_left == 9
    assert ev.run_rate_needed == 9  # 80 / 9 = 8.9 a month: at least 9 whole events
    assert ev.status == S.BEHIND  # 20% against 25%


def _path(*points: tuple[str, float]) -> list[Reading]:
    return [Reading(v, Period.parse(p), FINAL) for p, v in points]


def test_a_seasonal_path_only_from_last_years_released_figures() -> None:
    fai = target("fixed_asset_investment_total")
    linear = expected_share(fai, reading(2400, "2024-M06"), [])
    assert (linear.share, linear.path) == (0.5, "linear_no_data")
    prev = _path(("2023-M06", 2000), ("2023-M07", 2350), ("2023", 4400))  # illustrative 2023 figures
    path = expected_share(fai, reading(2400, "2024-M06"), prev)
    assert path.path == "previous_year" and path.share == pytest.approx(2000 / 4400)
    ev = evaluate(fai, reading(2400, "2024-M06"), previous_year=prev)
    assert ev.linear_progress == 0.5 and ev.expected_progress == pytest.approx(0.454545, abs=1e-6)
    assert ev.projection == pytest.approx(2400 / (2000 / 4400), rel=0.005)
    # The run-rate follows the same path: July must add 2150 * (2350 - 2000) / (4400 - 2000).
    assert ev.next_period_needed == pytest.approx(2150 * 350 / 2400, abs=0.01)
    assert ev.run_rate_needed == pytest.approx(2150 / 6, abs=0.01)


def test_a_quarterly_figure_reads_the_same_months_of_last_years_path() -> None:
    prev = _path(("2023-S1", 2000), ("2023-M12", 4400))
    ev = evaluate(target("fixed_asset_investment_total"), reading(2400, "2024-Q2"), previous_year=prev)
    assert ev.path == "previous_year" and ev.expected_progress == pytest.approx(2000 / 4400, abs=1e-6)


@pytest.mark.parametrize(
    ("value", "period", "status"),
    [(120, "2024-Q2", S.NOT_EVALUATED), (300, "2024-Q3", S.NOT_EVALUATED), (520, "2024-Q3", S.AHEAD),
     (490, "2024-Q4", S.MISSED), (505, "2024-Q4", S.ACHIEVED)],
)
def test_a_count_recognised_at_the_year_end_waits_for_its_batch(value, period, status) -> None:
    # 新增规上工业企业500家以上: recognised in December; spring figures are not judged against a straight line.
    ev = evaluate(target("new_above_scale_industrial"), reading(value, period, PROV))
    assert ev.status == status
    assert ev.severity == (Severity.WARNING if status == S.MISSED else Severity.OK)


def test_a_batch_over_several_months_is_linear_over_them() -> None:
    t = target("new_above_scale_industrial", batch_months=(10, 11, 12))
    assert evaluate(t, reading(120, "2024-M09")).status == S.NOT_EVALUATED
    ev = evaluate(t, reading(170, "2024-M10"))
    assert ev.expected_progress == pytest.approx(1 / 3) and ev.status == S.ON_TRACK  # 34% against 33.3%
    assert evaluate(t, reading(260, "2024-M11")).status == S.FAR_BEHIND  # 52% against 66.7%


@pytest.mark.parametrize(
    ("target_id", "value", "obs", "status", "severity"),
    [
        ("new_little_giants", 80, FINAL, S.ACHIEVED, Severity.OK),  # annual list: only a year-end figure
        ("new_little_giants", 79, FINAL, S.MISSED, Severity.WARNING),  # expected, 1% short
        ("new_little_giants", 79, PROV, S.MISSED, Severity.WARNING),  # no tolerance once the year is over
        ("new_little_giants", 70, PROV, S.MISSED, Severity.CRITICAL),  # 12.5% short: far off
        ("fixed_asset_investment_total", 4550, FINAL, S.ACHIEVED, Severity.OK),
        ("fixed_asset_investment_total", 4400, FINAL, S.MISSED, Severity.WARNING),
        ("grain_sown_area", 121, PROV, S.MISSED, Severity.CRITICAL),  # 确保: binding, critical however close
        ("grain_sown_area", 122.5, PROV, S.ACHIEVED, Severity.OK),
        ("high_tech_enterprises_net_added", -20, PROV, S.MISSED, Severity.CRITICAL),  # net added may be negative
    ],
)
def test_year_end_verdicts(target_id, value, obs, status, severity) -> None:
    ev = evaluate(target(target_id), reading(value, "2024", obs))
    assert (ev.status, ev.severity) == (status, severity)
    assert ev.year_end and ev.run_rate_needed is None and ev.projection is None


def test_a_figure_reaching_december_is_the_years_figure_whatever_its_period_code() -> None:
    for period in ("2024", "2024-M12", "2024-Q4", "2024-S2"):
        assert evaluate(target("urban_new_jobs"), reading(12.9, period, PROV)).status == S.MISSED, period


@pytest.mark.parametrize(
    ("value", "period", "obs", "status", "severity"),
    [
        (2.0, "2024-M05", FINAL, S.ON_TRACK, Severity.OK),
        (2.6, "2024-M05", FINAL, S.ON_TRACK, Severity.OK),  # well inside 3%左右: no early warning
        (3.0, "2024-M05", FINAL, S.ON_TRACK, Severity.OK),  # at the province's figure
        (3.1, "2024-M05", FINAL, S.NEAR_CAP, Severity.WARNING),  # over 3%, inside its band
        (3.5, "2024-M08", FINAL, S.NEAR_CAP, Severity.WARNING),  # the band's top is still 3%左右
        (3.6, "2024-M08", FINAL, S.BREACHED, Severity.CRITICAL),
        (3.6, "2024-M08", PROV, S.BREACHED, Severity.CRITICAL),
        (3.6, "2024-M08", EST, S.BREACHED, Severity.WARNING),
        (2.9, "2024", FINAL, S.ACHIEVED, Severity.OK),
        (3.4, "2024", FINAL, S.ACHIEVED, Severity.OK),  # within 3%左右 for the year
        (3.6, "2024", FINAL, S.MISSED, Severity.WARNING),  # expected, not far off
        (4.1, "2024", FINAL, S.MISSED, Severity.CRITICAL),
    ],
)
def test_cap_read_with_the_provinces_band(value, period, obs, status, severity) -> None:
    # 居民消费价格涨幅控制在省定范围内: the province's 3%左右, read with a ±0.5 pp band, not as a hard cap.
    ev = evaluate(target("cpi_within_provincial_limit"), reading(value, period, obs))
    assert (ev.status, ev.severity) == (status, severity)
    assert ev.expected == 3.0 and ev.gap_pp == pytest.approx(value - 3.0)


def test_a_hard_cap_warns_within_its_margin() -> None:
    t = target("cpi_within_provincial_limit", warn_margin_pp=0.2, province_limit=2.5)
    t = t.model_copy(update={"params": {k: v for k, v in t.params.items() if k != "band_pp"}})
    assert evaluate(t, reading(2.2, "2024-M03")).status == S.ON_TRACK
    assert evaluate(t, reading(2.4, "2024-M03")).status == S.NEAR_CAP
    assert evaluate(t, reading(2.6, "2024-M03")).status == S.BREACHED


@pytest.mark.parametrize(
    ("income", "cpi", "gdp", "period", "real", "status"),
    [
        (5.7, 0.2, 5.5, "2024-Q2", 5.5, S.ON_TRACK),
        (5.2, 0.2, 5.5, "2024-Q2", 5.0, S.ON_TRACK),  # 0.5 pp slower in real terms: still 基本同步
        (5.2, 0.3, 5.5, "2024-Q2", 4.9, S.BEHIND),
        (5.5, 1.0, 5.5, "2024-Q3", 4.5, S.BEHIND),  # nominally in step, behind once prices are taken out
        (4.8, 0.4, 5.5, "2024-Q3", 4.4, S.FAR_BEHIND),
        (6.4, 0.2, 5.5, "2024-Q3", 6.2, S.AHEAD),  # income faster than the economy is no problem
        (5.5, 0.2, 5.6, "2024", 5.3, S.ACHIEVED),
        (5.0, 0.2, 5.6, "2024", 4.8, S.MISSED),
    ],
)
def test_relational_real_income_against_real_gdp(income, cpi, gdp, period, real, status) -> None:
    ev = evaluate(target("income_in_step_with_growth"), reading(income, period), related=reading(gdp, period),
                  deflator=reading(cpi, period))
    assert (ev.actual, ev.nominal, ev.deflator, ev.status) == (real, income, cpi, status)
    assert ev.related_actual == gdp and ev.gap_pp == pytest.approx(real - gdp)


def test_relational_needs_the_related_reading() -> None:
    with pytest.raises(ValueError, match="related reading"):
        evaluate(target("income_in_step_with_growth"), reading(5.0, "2024-Q1"))


def test_relational_softens_only_when_a_reading_is_an_estimate() -> None:
    t = target("income_in_step_with_growth")
    ev = evaluate(t, reading(4.0, "2024-Q3"), related=reading(5.5, "2024-Q3", PROV), deflator=reading(0.3, "2024-Q3"))
    assert (ev.status, ev.severity, ev.softened) == (S.FAR_BEHIND, Severity.CRITICAL, False)
    ev = evaluate(t, reading(4.0, "2024-Q3"), related=reading(5.5, "2024-Q3", EST), deflator=reading(0.3, "2024-Q3"))
    assert (ev.status, ev.severity, ev.softened) == (S.FAR_BEHIND, Severity.WARNING, True)


@pytest.mark.parametrize(
    ("target_id", "value", "period", "status"),
    [
        ("digital_core_va_share", 12.2, "2024", S.ACHIEVED),  # 12.2%左右, band 0.3
        ("digital_core_va_share", 11.9, "2024", S.ACHIEVED),
        ("digital_core_va_share", 11.8, "2024", S.MISSED),
        ("enterprise_invention_patent_share", 76.0, "2024-Q2", S.ON_TRACK),  # a year-to-date share, read directly
        ("enterprise_invention_patent_share", 74.7, "2024-Q2", S.BEHIND),
        ("enterprise_invention_patent_share", 73.9, "2024-Q2", S.FAR_BEHIND),
        ("enterprise_invention_patent_share", 74.7, "2024", S.MISSED),
        ("urban_sewage_collection_rate", 90.5, "2024", S.ACHIEVED),
        ("urban_sewage_collection_rate", 89.0, "2024", S.MISSED),
        # A stock without last year's end level: 暂不评估 mid-year unless already reached.
        ("owners_committee_coverage", 60.0, "2024-Q2", S.NOT_EVALUATED),
        ("owners_committee_coverage", 71.0, "2024-Q2", S.AHEAD),
        ("deposits_and_loans_5tn", 4.8, "2024-M06", S.NOT_EVALUATED),
        ("deposits_and_loans_5tn", 5.01, "2024", S.ACHIEVED),
        ("deposits_and_loans_5tn", 4.97, "2024", S.MISSED),
        # 科技型中小企业入库 is redone every year: a count from zero, 1.1万 of 1.4万 by 二季度 is ahead.
        ("tech_smes_registered", 1.1, "2024-Q2", S.AHEAD),
        ("tech_smes_registered", 0.5, "2024-Q2", S.FAR_BEHIND),
    ],
)
def test_shares_and_levels(target_id, value, period, status) -> None:
    assert evaluate(target(target_id), reading(value, period)).status == status


def test_a_stock_follows_the_straight_path_from_last_years_end_level() -> None:
    start = [Reading(50.0, Period.parse("2023-Q4"), FINAL)]  # illustrative: 50% at the end of 2023
    ev = evaluate(target("owners_committee_coverage"), reading(62.0, "2024-Q3"), previous_year=start)
    assert ev.start == 50 and ev.start_from_data
    assert ev.expected == pytest.approx(50 + 20 * 0.75) and ev.progress == pytest.approx(0.6)
    assert ev.status == S.FAR_BEHIND  # 60% of the rise against 75%
    ev = evaluate(target("deposits_and_loans_5tn"), reading(4.8, "2024-M06"),
                  previous_year=[Reading(4.6, Period.parse("2023-M12"), FINAL)])
    assert (ev.status, ev.progress) == (S.ON_TRACK, pytest.approx(0.5))


@pytest.mark.parametrize(
    ("reported", "strength", "status", "severity"),
    [
        (ReportedStatus.NOT_STARTED, Strength.EXPECTED, S.NOT_STARTED, Severity.OK),
        (ReportedStatus.IN_PROGRESS, Strength.EXPECTED, S.IN_PROGRESS, Severity.OK),
        (ReportedStatus.DONE, Strength.EXPECTED, S.ACHIEVED, Severity.OK),
        (ReportedStatus.AT_RISK, Strength.EXPECTED, S.AT_RISK, Severity.WARNING),
        (ReportedStatus.MISSED, Strength.BINDING, S.MISSED, Severity.CRITICAL),
        (ReportedStatus.MISSED, Strength.EXPECTED, S.MISSED, Severity.WARNING),
    ],
)
def test_status_reports(reported, strength, status, severity) -> None:
    ev = evaluate_report(reported, strength)
    assert (ev.status, ev.severity, ev.actual) == (status, severity, None)


def test_milestones_are_never_evaluated_from_statistics() -> None:
    milestone = next(t for t in CAT.targets.values() if t.kind == "milestone")
    with pytest.raises(ValueError, match="status reports"):
        evaluate(milestone, reading(1.0, "2024-Q1"))


# Hysteresis holds only at the evaluator's own boundaries, never at an official one.
def test_a_growth_rate_inside_its_band_is_on_track_whatever_came_before() -> None:
    gdp = target("gdp_growth")
    assert evaluate(gdp, reading(4.95, "2024-Q2"), previous=S.ON_TRACK).status == S.BEHIND
    assert evaluate(gdp, reading(5.0, "2024-Q2"), previous=S.BEHIND).status == S.ON_TRACK  # 5.0 meets 5.5%左右
    assert evaluate(gdp, reading(6.1, "2024-Q2"), previous=S.ON_TRACK).status == S.AHEAD  # beyond the band
    assert evaluate(gdp, reading(6.0, "2024-Q2"), previous=S.AHEAD).status == S.ON_TRACK
    assert evaluate(gdp, reading(4.0, "2024-Q2"), previous=S.AHEAD).status == S.FAR_BEHIND


def test_severely_behind_is_held_until_its_own_line_is_cleared_and_the_hold_is_stated() -> None:
    gdp = target("gdp_growth")
    held = evaluate(gdp, reading(4.5, "2024-Q2"), previous=S.FAR_BEHIND)
    assert held.status == S.FAR_BEHIND and held.held is not None
    assert held.held.raw == S.BEHIND and held.held.release == pytest.approx(-0.9)  # 4.6% releases it
    assert evaluate(gdp, reading(4.6, "2024-Q2"), previous=S.FAR_BEHIND).status == S.BEHIND
    assert evaluate(gdp, reading(4.5, "2024-Q2")).held is None


def test_cumulative_progress_hysteresis_is_one_point() -> None:
    jobs = target("urban_new_jobs")
    # 6.2 of 13 by June is 47.7%: 2.3 pp short, on track; after "behind" it needs 2 pp short or better.
    assert evaluate(jobs, reading(6.2, "2024-M06")).status == S.ON_TRACK
    held = evaluate(jobs, reading(6.2, "2024-M06"), previous=S.BEHIND)
    assert held.status == S.BEHIND and held.held is not None and held.held.release == -2.0
    assert evaluate(jobs, reading(6.3, "2024-M06"), previous=S.BEHIND).status == S.ON_TRACK


def test_a_series_wobbling_around_the_far_line_changes_status_once() -> None:
    gdp = target("gdp_growth")
    previous = None
    changes = []
    for value in [5.5, 4.4, 4.5, 4.45, 4.55, 4.48, 4.52]:
        ev = evaluate(gdp, reading(value, "2024-Q2"), previous=previous)
        if ev.status != previous:
            changes.append(ev.status)
        previous = ev.status
    assert changes == [S.ON_TRACK, S.FAR_BEHIND]


def test_no_hysteresis_on_year_end_verdicts() -> None:
    assert evaluate(target("gdp_growth"), reading(4.99, "2024"), previous=S.ON_TRACK).status == S.MISSED
    assert evaluate(target("gdp_growth"), reading(5.0, "2024"), previous=S.MISSED).status == S.ACHIEVED


LADDER = Ladder((S.FAR_BEHIND, S.BEHIND, S.ON_TRACK, S.AHEAD), (-1.0, -0.5, 0.5), strict_top=True,
                hysteresis_at=frozenset({0, 2}))
scores = st.floats(min_value=-50, max_value=50, allow_nan=False)
previous_statuses = st.sampled_from([None, S.FAR_BEHIND, S.BEHIND, S.ON_TRACK, S.AHEAD])


@given(scores, scores, previous_statuses, st.sampled_from([0.0, 0.1, 1.0]))
def test_a_higher_score_never_gives_a_worse_status(a: float, b: float, previous, margin: float) -> None:
    lo, hi = sorted((a, b))
    assert LADDER.rank(LADDER.classify(lo, previous, margin).status) <= LADDER.rank(
        LADDER.classify(hi, previous, margin).status)


@given(scores, previous_statuses)
def test_hysteresis_only_ever_holds_back_an_improvement(score: float, previous) -> None:
    held = LADDER.classify(score, previous, 0.3).status
    raw = LADDER.classify(score).status
    if previous is None or LADDER.rank(raw) <= LADDER.rank(previous):
        assert held == raw  # worsening (or staying) is never held back
    else:
        assert LADDER.rank(previous) <= LADDER.rank(held) <= LADDER.rank(raw)


@given(st.floats(min_value=0, max_value=20000), st.floats(min_value=0, max_value=2000),
       st.sampled_from(["2024-M02", "2024-M05", "2024-Q2", "2024-M09", "2024-Q3", "2024"]),
       st.sampled_from([FINAL, PROV]), previous_statuses)
def test_more_progress_never_makes_a_cumulative_target_worse(value, extra, period, obs, previous) -> None:
    order = [S.MISSED, S.FAR_BEHIND, S.BEHIND, S.NOT_EVALUATED, S.ON_TRACK, S.AHEAD, S.ACHIEVED]
    severities = [Severity.OK, Severity.WARNING, Severity.CRITICAL]
    for tid in ("fixed_asset_investment_total", "urban_new_jobs"):
        t = target(tid)
        a = evaluate(t, reading(value, period, obs), previous=previous)
        b = evaluate(t, reading(value + extra, period, obs), previous=previous)
        assert order.index(b.status) >= order.index(a.status)
        assert severities.index(b.severity) <= severities.index(a.severity)


@given(st.floats(min_value=-5, max_value=15), st.floats(min_value=0, max_value=5), st.sampled_from([FINAL, PROV]))
def test_more_growth_never_makes_a_growth_target_worse(value, extra, obs) -> None:
    severities = [Severity.OK, Severity.WARNING, Severity.CRITICAL]
    for period in ("2024-Q1", "2024"):
        a = evaluate(target("gdp_growth"), reading(value, period, obs))
        b = evaluate(target("gdp_growth"), reading(value + extra, period, obs))
        assert severities.index(b.severity) <= severities.index(a.severity)


@given(st.floats(min_value=-2, max_value=6), st.floats(min_value=0, max_value=3))
def test_a_lower_price_rise_never_makes_the_cap_worse(value, lower) -> None:
    order = [S.BREACHED, S.NEAR_CAP, S.ON_TRACK]
    assert evaluate(target("cpi_within_provincial_limit"), reading(3.6, "2024-M06")).status == S.BREACHED
    a = evaluate(target("cpi_within_provincial_limit"), reading(value, "2024-M06"))
    b = evaluate(target("cpi_within_provincial_limit"), reading(value - lower, "2024-M06"))
    assert order.index(b.status) >= order.index(a.status)


def test_default_band_is_half_a_point() -> None:
    assert DEFAULT_BAND_PP == 0.5
