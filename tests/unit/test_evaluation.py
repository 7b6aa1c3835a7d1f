"""Evaluation semantics per kind, table by table, on the real catalogue's targets; property tests on the ladders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.evaluator.domain.evaluation import (
    DEFAULT_BAND_PP,
    Reading,
    Status,
    evaluate,
    expected_progress_at,
)
from services.evaluator.domain.ladder import Ladder
from services.evaluator.domain.status_reports import ReportedStatus, evaluate_report
from shared.catalogue import load_catalogue
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

CAT = load_catalogue()
FINAL, PROV, EST = ObservationStatus.FINAL, ObservationStatus.PROVISIONAL, ObservationStatus.ESTIMATED
S = Status


def reading(value: float, period: str, status: ObservationStatus = FINAL) -> Reading:
    return Reading(value, Period.parse(period), status)


def target(target_id: str, **params: object):
    t = CAT.targets[target_id]
    return t.model_copy(update={"params": {**t.params, **params}}) if params else t


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
        (4.4, "2024-Q3", PROV, S.FAR_BEHIND, Severity.WARNING),  # provisional data soften the severity
        (4.4, "2024-Q3", EST, S.FAR_BEHIND, Severity.WARNING),
        (5.2, "2024", FINAL, S.ACHIEVED, Severity.OK),  # year-end verdict on the final annual figure
        (6.3, "2024", FINAL, S.ACHIEVED, Severity.OK),
        (4.8, "2024", FINAL, S.MISSED, Severity.CRITICAL),
        (4.4, "2024", PROV, S.FAR_BEHIND, Severity.WARNING),  # no verdict before the final figure
        (4.8, "2024-Q4", FINAL, S.MISSED, Severity.CRITICAL),  # 1—4季度累计 final is the annual figure
        (4.8, "2024-Q4", PROV, S.BEHIND, Severity.WARNING),
    ],
)
def test_growth_rate_about(value, period, obs, status, severity) -> None:
    ev = evaluate(target("gdp_growth"), reading(value, period, obs))
    assert (ev.status, ev.severity) == (status, severity)
    assert ev.gap_pp == pytest.approx(value - 5.5)
    assert ev.expected == 5.5


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


# 固定资产投资4550亿元 follows the seasonal profile; 城镇新增就业13万人 the share of the year gone.
@pytest.mark.parametrize(
    ("target_id", "value", "period", "status", "expected_share", "run_rate", "months_left"),
    [
        # 1—2月 combined release: January and February together, 2/12 of the year gone, ten months left.
        ("urban_new_jobs", 13 * 2 / 12, "2024-M02", S.ON_TRACK, 2 / 12, (13 - 13 * 2 / 12) / 10, 10),
        ("urban_new_jobs", 1.5, "2024-M02", S.BEHIND, 2 / 12, (13 - 1.5) / 10, 10),
        ("urban_new_jobs", 6.5, "2024-M06", S.ON_TRACK, 0.5, 6.5 / 6, 6),  # 时间过半、任务过半
        ("urban_new_jobs", 5.0, "2024-M06", S.FAR_BEHIND, 0.5, 8 / 6, 6),  # 38.5% against 50%
        ("urban_new_jobs", 6.0, "2024-M06", S.BEHIND, 0.5, 7 / 6, 6),  # 46.2% against 50%
        ("urban_new_jobs", 8.0, "2024-M06", S.AHEAD, 0.5, 5 / 6, 6),
        ("urban_new_jobs", 13.5, "2024-M11", S.AHEAD, 11 / 12, 0.0, 1),  # done early: nothing left to do
        ("fixed_asset_investment_total", 500, "2024-M02", S.ON_TRACK, 0.11, 405.0, 10),
        ("fixed_asset_investment_total", 2200, "2024-M06", S.ON_TRACK, 0.48, 391.67, 6),  # not 0.5
        ("fixed_asset_investment_total", 2000, "2024-M06", S.BEHIND, 0.48, 425.0, 6),
    ],
)
def test_cumulative_progress_against_expected_progress(
    target_id, value, period, status, expected_share, run_rate, months_left
) -> None:
    t = target(target_id)
    ev = evaluate(t, reading(value, period))
    assert ev.status == status
    assert ev.expected_progress == pytest.approx(expected_share, abs=1e-6)
    assert ev.expected == pytest.approx(t.value * expected_share, abs=1e-4)
    assert ev.progress == pytest.approx(value / t.value, abs=1e-6)
    assert ev.gap_pp == pytest.approx((value / t.value - expected_share) * 100, abs=1e-4)
    assert ev.run_rate_needed == pytest.approx(run_rate, abs=0.01)
    assert ev.months_left == months_left
    assert ev.projection == pytest.approx(value / expected_share, abs=1e-3)


def test_quarterly_counts_use_quarter_ends() -> None:
    # 新增规上工业企业500家以上, reported quarterly: 一季度 is a quarter of the year, nine months left.
    ev = evaluate(target("new_above_scale_industrial"), reading(100, "2024-Q1"))
    assert ev.expected_progress == 0.25 and ev.months_left == 9 and ev.run_rate_needed == pytest.approx(400 / 9)
    assert ev.status == S.BEHIND  # 20% against 25%


@pytest.mark.parametrize(
    ("target_id", "value", "obs", "status"),
    [
        ("new_little_giants", 80, FINAL, S.ACHIEVED),  # annual list: only a year-end figure, a verdict
        ("new_little_giants", 79, FINAL, S.MISSED),
        ("new_little_giants", 79, PROV, S.ON_TRACK),  # 98.75% provisional: within tolerance, no verdict
        ("fixed_asset_investment_total", 4550, FINAL, S.ACHIEVED),
        ("fixed_asset_investment_total", 4400, FINAL, S.MISSED),
    ],
)
def test_cumulative_year_end_verdict(target_id, value, obs, status) -> None:
    ev = evaluate(target(target_id), reading(value, "2024", obs))
    assert ev.status == status
    assert ev.run_rate_needed is None and ev.projection is None


@pytest.mark.parametrize(
    ("value", "period", "obs", "status", "severity"),
    [
        (2.0, "2024-M05", FINAL, S.ON_TRACK, Severity.OK),
        (2.5, "2024-M05", FINAL, S.ON_TRACK, Severity.OK),  # exactly the warning margin away
        (2.6, "2024-M05", FINAL, S.NEAR_CAP, Severity.WARNING),
        (3.0, "2024-M05", FINAL, S.NEAR_CAP, Severity.WARNING),  # at the cap is not over it
        (3.1, "2024-M08", FINAL, S.BREACHED, Severity.CRITICAL),
        (3.1, "2024-M08", PROV, S.BREACHED, Severity.WARNING),
        (2.9, "2024", FINAL, S.ACHIEVED, Severity.OK),
        (3.2, "2024", FINAL, S.MISSED, Severity.CRITICAL),
    ],
)
def test_cap_against_the_provincial_limit(value, period, obs, status, severity) -> None:
    # 居民消费价格涨幅控制在省定范围内: value_from = province, province_limit 3.0, warn 0.5 pp.
    ev = evaluate(target("cpi_within_provincial_limit"), reading(value, period, obs))
    assert (ev.status, ev.severity) == (status, severity)
    assert ev.expected == 3.0 and ev.gap_pp == pytest.approx(value - 3.0)


def test_cap_warn_margin_is_configurable() -> None:
    t = target("cpi_within_provincial_limit", warn_margin_pp=0.2, province_limit=2.5)
    assert evaluate(t, reading(2.2, "2024-M03")).status == S.ON_TRACK
    assert evaluate(t, reading(2.4, "2024-M03")).status == S.NEAR_CAP
    assert evaluate(t, reading(2.6, "2024-M03")).status == S.BREACHED


@pytest.mark.parametrize(
    ("income", "gdp", "period", "status"),
    [
        (5.5, 5.5, "2024-Q2", S.ON_TRACK),
        (5.0, 5.5, "2024-Q2", S.ON_TRACK),  # 0.5 pp slower: still 基本同步
        (4.9, 5.5, "2024-Q2", S.BEHIND),
        (4.4, 5.5, "2024-Q3", S.FAR_BEHIND),
        (6.2, 5.5, "2024-Q3", S.AHEAD),  # income faster than the economy is no problem
        (5.3, 5.6, "2024", S.ACHIEVED),
        (4.8, 5.6, "2024", S.MISSED),
    ],
)
def test_relational_income_in_step_with_growth(income, gdp, period, status) -> None:
    ev = evaluate(target("income_in_step_with_growth"), reading(income, period), related=reading(gdp, period))
    assert ev.status == status
    assert ev.related_actual == gdp and ev.gap_pp == pytest.approx(income - gdp)


def test_relational_needs_the_related_reading() -> None:
    with pytest.raises(ValueError, match="related reading"):
        evaluate(target("income_in_step_with_growth"), reading(5.0, "2024-Q1"))


def test_relational_soften_when_either_reading_is_provisional() -> None:
    ev = evaluate(target("income_in_step_with_growth"), reading(4.0, "2024-Q3"),
                  related=reading(5.5, "2024-Q3", PROV))
    assert (ev.status, ev.severity, ev.softened) == (S.FAR_BEHIND, Severity.WARNING, True)


@pytest.mark.parametrize(
    ("target_id", "value", "period", "obs", "status"),
    [
        ("digital_core_va_share", 12.2, "2024", FINAL, S.ACHIEVED),  # 12.2%左右, band 0.3
        ("digital_core_va_share", 11.9, "2024", FINAL, S.ACHIEVED),
        ("digital_core_va_share", 11.8, "2024", FINAL, S.MISSED),
        ("enterprise_invention_patent_share", 76.0, "2024-Q2", FINAL, S.ON_TRACK),
        ("enterprise_invention_patent_share", 74.7, "2024-Q2", FINAL, S.NOT_EVALUATED),
        ("enterprise_invention_patent_share", 74.7, "2024", FINAL, S.MISSED),
        ("urban_sewage_collection_rate", 90.5, "2024", FINAL, S.ACHIEVED),
        ("urban_sewage_collection_rate", 89.0, "2024", FINAL, S.MISSED),
        # A level without a 2023 figure mid-year: short of the goal says nothing yet; reached is on track.
        ("owners_committee_coverage", 60.0, "2024-Q2", FINAL, S.NOT_EVALUATED),
        ("owners_committee_coverage", 71.0, "2024-Q2", FINAL, S.ON_TRACK),
        ("deposits_and_loans_5tn", 4.8, "2024-M06", FINAL, S.NOT_EVALUATED),
        ("deposits_and_loans_5tn", 5.01, "2024", FINAL, S.ACHIEVED),
        ("deposits_and_loans_5tn", 4.97, "2024", FINAL, S.MISSED),
        # With a 2023 level (1.2453万家) the path to 1.4万家 gives a 时序进度: half the rise by 二季度末.
        ("tech_smes_registered", 1.32, "2024-Q2", FINAL, S.ON_TRACK),
        ("tech_smes_registered", 1.34, "2024-Q2", FINAL, S.AHEAD),
        ("tech_smes_registered", 1.30, "2024-Q2", FINAL, S.FAR_BEHIND),
    ],
)
def test_shares_and_levels(target_id, value, period, obs, status) -> None:
    assert evaluate(target(target_id), reading(value, period, obs)).status == status


def test_level_path_from_the_baseline() -> None:
    ev = evaluate(target("tech_smes_registered"), reading(1.30, "2024-Q2"))
    assert ev.expected == pytest.approx(1.2453 + (1.4 - 1.2453) / 2)
    assert ev.progress == pytest.approx((1.30 - 1.2453) / (1.4 - 1.2453), abs=1e-6)


@pytest.mark.parametrize(
    ("reported", "status", "severity"),
    [
        (ReportedStatus.NOT_STARTED, S.NOT_STARTED, Severity.OK),
        (ReportedStatus.IN_PROGRESS, S.IN_PROGRESS, Severity.OK),
        (ReportedStatus.DONE, S.ACHIEVED, Severity.OK),
        (ReportedStatus.AT_RISK, S.AT_RISK, Severity.WARNING),
        (ReportedStatus.MISSED, S.MISSED, Severity.CRITICAL),
    ],
)
def test_status_reports(reported, status, severity) -> None:
    ev = evaluate_report(reported)
    assert (ev.status, ev.severity, ev.actual) == (status, severity, None)


def test_milestones_are_never_evaluated_from_statistics() -> None:
    milestone = next(t for t in CAT.targets.values() if t.kind == "milestone")
    with pytest.raises(ValueError, match="status reports"):
        evaluate(milestone, reading(1.0, "2024-Q1"))


def test_expected_progress_uses_the_profile_only_when_set() -> None:
    assert expected_progress_at(target("fixed_asset_investment_total"), Period.parse("2024-M09")) == 0.74
    assert expected_progress_at(target("urban_new_jobs"), Period.parse("2024-M09")) == 0.75
    assert expected_progress_at(target("urban_new_jobs"), Period.parse("2024-Q3")) == 0.75


# Hysteresis: a value wobbling around a boundary does not flap.
def test_growth_rate_holds_its_status_until_the_boundary_is_cleared() -> None:
    gdp = target("gdp_growth")
    # The band's lower edge is 5.0: falling below it is news at once; coming back needs 5.1 (one 0.1 step).
    assert evaluate(gdp, reading(4.95, "2024-Q2"), previous=S.ON_TRACK).status == S.BEHIND
    assert evaluate(gdp, reading(5.0, "2024-Q2"), previous=S.BEHIND).status == S.BEHIND
    assert evaluate(gdp, reading(5.05, "2024-Q2"), previous=S.BEHIND).status == S.BEHIND
    assert evaluate(gdp, reading(5.1, "2024-Q2"), previous=S.BEHIND).status == S.ON_TRACK
    assert evaluate(gdp, reading(5.0, "2024-Q2"), previous=S.ON_TRACK).status == S.ON_TRACK
    # Above the band: after on track, ahead needs 6.2; after ahead, 6.0 is back on track at once.
    assert evaluate(gdp, reading(6.1, "2024-Q2"), previous=S.ON_TRACK).status == S.ON_TRACK
    assert evaluate(gdp, reading(6.2, "2024-Q2"), previous=S.ON_TRACK).status == S.AHEAD
    assert evaluate(gdp, reading(6.0, "2024-Q2"), previous=S.AHEAD).status == S.ON_TRACK
    # A clear jump moves at once, across several levels.
    assert evaluate(gdp, reading(4.0, "2024-Q2"), previous=S.AHEAD).status == S.FAR_BEHIND


def test_cumulative_progress_hysteresis_is_one_point() -> None:
    jobs = target("urban_new_jobs")
    # 6.2 of 13 by June is 47.7%: 2.3 pp short, on track; after "behind" it needs 2 pp short or better.
    assert evaluate(jobs, reading(6.2, "2024-M06")).status == S.ON_TRACK
    assert evaluate(jobs, reading(6.2, "2024-M06"), previous=S.BEHIND).status == S.BEHIND
    assert evaluate(jobs, reading(6.3, "2024-M06"), previous=S.BEHIND).status == S.ON_TRACK


def test_a_wobbling_series_changes_status_once() -> None:
    gdp = target("gdp_growth")
    previous = None
    changes = []
    for value in [5.5, 5.0, 4.97, 5.02, 4.98, 5.03, 4.96, 5.0]:
        ev = evaluate(gdp, reading(value, "2024-Q2"), previous=previous)
        if ev.status != previous:
            changes.append(ev.status)
        previous = ev.status
    assert changes == [S.ON_TRACK, S.BEHIND]


def test_no_hysteresis_on_year_end_verdicts() -> None:
    assert evaluate(target("gdp_growth"), reading(4.99, "2024"), previous=S.ON_TRACK).status == S.MISSED


LADDER = Ladder((S.FAR_BEHIND, S.BEHIND, S.ON_TRACK, S.AHEAD), (-1.0, -0.5, 0.5), strict_top=True)
scores = st.floats(min_value=-50, max_value=50, allow_nan=False)
previous_statuses = st.sampled_from([None, S.FAR_BEHIND, S.BEHIND, S.ON_TRACK, S.AHEAD])


@given(scores, scores, previous_statuses, st.sampled_from([0.0, 0.1, 1.0]))
def test_a_higher_score_never_gives_a_worse_status(a: float, b: float, previous, margin: float) -> None:
    lo, hi = sorted((a, b))
    assert LADDER.rank(LADDER.classify(lo, previous, margin)) <= LADDER.rank(LADDER.classify(hi, previous, margin))


@given(scores, previous_statuses)
def test_hysteresis_only_ever_holds_back_an_improvement(score: float, previous) -> None:
    held = LADDER.classify(score, previous, 0.3)
    raw = LADDER.classify(score)
    if previous is None or LADDER.rank(raw) <= LADDER.rank(previous):
        assert held == raw  # worsening (or staying) is never held back
    else:
        assert LADDER.rank(previous) <= LADDER.rank(held) <= LADDER.rank(raw)


@given(st.floats(min_value=0, max_value=20000), st.floats(min_value=0, max_value=2000),
       st.sampled_from(["2024-M02", "2024-M05", "2024-Q2", "2024-M09", "2024-Q3", "2024"]),
       st.sampled_from([FINAL, PROV]), previous_statuses)
def test_more_progress_never_makes_a_cumulative_target_worse(value, extra, period, obs, previous) -> None:
    order = [S.MISSED, S.FAR_BEHIND, S.BEHIND, S.ON_TRACK, S.AHEAD, S.ACHIEVED]
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
    a = evaluate(target("cpi_within_provincial_limit"), reading(value, "2024-M06"))
    b = evaluate(target("cpi_within_provincial_limit"), reading(value - lower, "2024-M06"))
    assert order.index(b.status) >= order.index(a.status)


def test_default_band_is_half_a_point() -> None:
    assert DEFAULT_BAND_PP == 0.5
