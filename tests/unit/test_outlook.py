"""The year-end outlook (年底预判), case by case: docs/reading-rules.md 十一 is the method; figures are made up."""

from __future__ import annotations

import pytest

from services.evaluator.domain.outlook import (
    Outlook,
    TrendPoint,
    Verdict,
    judge_outlook,
    meeting_edge,
    outlook_of,
    releases,
    releases_left,
)
from shared.catalogue import load_catalogue
from shared.catalogue.model import Comparator
from shared.periods import Period

CAT = load_catalogue()
V = Verdict
P = Period.parse

# (year-end readings oldest first, edge, higher is better, releases left, least spread) -> verdict
CASES = [
    pytest.param([5.6, 5.7, 5.8], 5.0, True, 2, 0.1, V.LIKELY, id="growth-well-above-the-band-edge"),
    pytest.param([5.3, 5.1, 5.0], 5.0, True, 2, 0.1, V.AT_RISK, id="growth-on-the-edge-and-falling"),
    pytest.param([4.6, 4.4, 4.2], 5.0, True, 2, 0.1, V.UNLIKELY, id="growth-far-below-steady-moves"),
    pytest.param([3.0, 5.0, 4.5], 5.0, True, 2, 0.1, V.AT_RISK, id="growth-below-but-releases-jump-about"),
    pytest.param([4.95, 4.95, 4.95], 5.0, True, 1, 0.1, V.AT_RISK, id="flat-series-uses-one-published-step"),
    pytest.param([4.8, 4.8, 4.8], 5.0, True, 1, 0.1, V.UNLIKELY, id="flat-two-steps-short-one-release-left"),
    pytest.param([4.8, 4.8, 4.8], 5.0, True, 9, 0.1, V.AT_RISK, id="same-gap-with-nine-releases-left"),
    pytest.param([5.5], 5.0, True, 3, 0.1, V.TOO_FEW, id="one-release-too-few"),
    pytest.param([5.5, 5.6], 5.0, True, 2, 0.1, V.TOO_FEW, id="two-releases-one-move-too-few"),
    pytest.param([], 5.0, True, 12, 0.1, V.TOO_FEW, id="no-release"),
    pytest.param([4.0, 4.5], 5.0, True, 0, 0.1, V.UNLIKELY, id="year-end-figure-missed"),
    pytest.param([5.0], 5.0, True, 0, 0.1, V.LIKELY, id="year-end-figure-on-the-edge-is-met"),
    pytest.param([2.0, 2.2, 2.4], 3.5, False, 3, 0.1, V.LIKELY, id="cap-well-under-its-top"),
    pytest.param([3.0, 3.3, 3.6], 3.5, False, 3, 0.1, V.AT_RISK, id="cap-just-over-top-rising"),
    pytest.param([4.5, 4.6, 4.7], 3.5, False, 1, 0.1, V.UNLIKELY, id="cap-far-over-top"),
    pytest.param([0.9, 0.95, 1.0], 1.0, True, 8, 0.01, V.AT_RISK, id="completion-projected-exactly-100pct"),
    pytest.param([1.2, 1.25, 1.3], 1.0, True, 8, 0.01, V.LIKELY, id="completion-projected-130pct"),
    pytest.param([0.6, 0.62, 0.61], 1.0, True, 6, 0.01, V.UNLIKELY, id="completion-projected-61pct"),
]


@pytest.mark.parametrize(("values", "edge", "higher", "left", "least", "verdict"), CASES)
def test_the_outlook_table(values: list[float], edge: float, higher: bool, left: int, least: float,
                           verdict: Verdict) -> None:
    got = judge_outlook(values, edge, higher_is_better=higher, releases_left=left, min_spread=least)
    assert got.verdict == verdict, got


def test_the_distance_is_counted_in_the_moves_still_to_come() -> None:
    # Moves of 0.2 each: spread 0.2; 1 pp above the edge with 4 releases left: 1 / (0.2 * 2) = 2.5.
    got = judge_outlook([5.6, 5.8, 6.0], 5.0, higher_is_better=True, releases_left=4, min_spread=0.1)
    assert (got.spread, got.distance, got.releases, got.verdict_zh) == (0.2, 2.5, 3, "预计可完成")
    assert judge_outlook([5.5], 5.0, higher_is_better=True, releases_left=3, min_spread=0.1).verdict_zh == "数据不足"


@pytest.mark.parametrize(("code", "left"), [("2024-Q1", 3), ("2024-S1", 1), ("2024-M02", 10), ("2024-M12", 0),
                                            ("2024", 0), ("2024-Q4", 0)])
def test_releases_left(code: str, left: int) -> None:
    assert releases_left(P(code)) == left


def test_a_revision_replaces_its_period_and_releases_come_in_period_order() -> None:
    pts = [TrendPoint(P("2024-M03"), actual=1.0), TrendPoint(P("2024-M02"), actual=2.0),
           TrendPoint(P("2024-M03"), actual=3.0)]
    assert [(p.period.code, p.actual) for p in releases(pts)] == [("2024-M02", 2.0), ("2024-M03", 3.0)]


@pytest.mark.parametrize(("target_id", "edge", "higher"), [
    ("gdp_growth", 5.0, True),  # 5.5%左右: the band's lower edge
    ("cpi_within_provincial_limit", 3.5, False),  # the province's 3%左右: the band's top
    ("income_in_step_with_growth", -0.5, True),  # 基本同步: at most 0.5 pp slower
    ("urban_new_jobs", 1.0, True),  # 100% completion
], ids=["growth-about", "cap-with-band", "relational", "count"])
def test_the_edge_of_each_kind(target_id: str, edge: float, higher: bool) -> None:
    got = meeting_edge(CAT.targets[target_id])
    assert got[:2] == (edge, higher)


def test_a_count_is_judged_on_its_projected_completion() -> None:
    jobs = CAT.targets["urban_new_jobs"]
    # 完成率 ÷ 序时进度: 20% of the year's jobs by February (2/12) projects 120%, and so on at the same pace.
    pts = [TrendPoint(P("2024-M02"), progress=0.2, expected_progress=2 / 12),
           TrendPoint(P("2024-M03"), progress=0.3, expected_progress=3 / 12),
           TrendPoint(P("2024-M04"), progress=0.4, expected_progress=4 / 12)]
    got = outlook_of(jobs, pts)
    assert got is not None and got.verdict == V.LIKELY and got.latest == pytest.approx(1.2)
    assert got.releases_left == 8
    # 暂不评估 releases (no 序时进度) are not readings; milestones have no outlook at all.
    assert outlook_of(jobs, [TrendPoint(P("2024-M02"), progress=0.1)]).verdict == V.TOO_FEW  # type: ignore[union-attr]
    milestone = next(t for t in CAT.targets.values() if t.kind.value == "milestone")
    assert outlook_of(milestone, pts) is None


def test_the_relational_target_reads_its_gap() -> None:
    income = CAT.targets["income_in_step_with_growth"]
    pts = [TrendPoint(P("2024-Q1"), gap_pp=-1.5), TrendPoint(P("2024-Q2"), gap_pp=-1.6),
           TrendPoint(P("2024-Q3"), gap_pp=-1.7)]
    got = outlook_of(income, pts)
    assert got is not None and got.verdict == V.UNLIKELY and got.latest == -1.7


OL = Outlook


@pytest.mark.parametrize(("values", "edge", "higher", "left", "expected"), [
    ([], 5.0, True, 3, OL(V.TOO_FEW, None, 5.0, None, None, 0, 3)),
    ([4.8, 5.0], 5.0, True, 2, OL(V.TOO_FEW, 5.0, 5.0, None, None, 2, 2)),
    ([4.8, 5.0, 5.1], 5.0, True, 0, OL(V.LIKELY, 5.1, 5.0, None, None, 3, 0)),  # the year's figure: met
    ([4.8, 5.0, 4.9], 5.0, True, 0, OL(V.UNLIKELY, 4.9, 5.0, None, None, 3, 0)),
    ([5.0, 5.2, 5.4], 5.0, True, 1, OL(V.LIKELY, 5.4, 5.0, 0.2, 2.0, 3, 1)),
    # On the decision line is decided: one typical move to come, exactly one move ahead (or behind).
    ([5.0, 5.1, 5.2], 5.1, True, 1, OL(V.LIKELY, 5.2, 5.1, 0.1, 1.0, 3, 1)),
    ([5.0, 5.1, 5.2], 5.3, True, 1, OL(V.UNLIKELY, 5.2, 5.3, 0.1, -1.0, 3, 1)),
    ([3.4, 3.3, 3.2], 3.3, False, 1, OL(V.LIKELY, 3.2, 3.3, 0.1, 1.0, 3, 1)),  # a cap: lower is better
    # The figures as published: spread and distance to 6 decimals.
    ([1.0, 1.3, 1.35], 1.0, True, 4, OL(V.AT_RISK, 1.35, 1.0, 0.215058, 0.813733, 3, 4)),
], ids=["none", "two", "year-end-met", "year-end-missed", "ahead", "on-the-line", "behind-the-line",
        "cap-on-the-line", "rounded"])
def test_the_whole_outlook(values: list[float], edge: float, higher: bool, left: int, expected: Outlook) -> None:
    assert judge_outlook(values, edge, higher_is_better=higher, releases_left=left, min_spread=0.1) == expected


def test_the_edge_of_caps_and_ceilings_without_a_band() -> None:
    cpi = CAT.targets["cpi_within_provincial_limit"]
    hard_cap = cpi.model_copy(update={"params": {k: v for k, v in cpi.params.items() if k != "band_pp"}})
    assert meeting_edge(hard_cap) == (3.0, False, 0.1)  # a hard 以内: the limit itself
    gdp = CAT.targets["gdp_growth"]
    ceiling = gdp.model_copy(update={"comparator": Comparator.AT_MOST})
    assert meeting_edge(ceiling) == (6.0, False, 0.1)  # at most 5.5%左右: the band's top
    bare = ceiling.model_copy(update={"params": {}})
    assert meeting_edge(bare) == (5.5, False, 0.1)
    assert meeting_edge(gdp.model_copy(update={"comparator": Comparator.AT_LEAST, "params": {}})) == (5.5, True, 0.1)
    assert meeting_edge(gdp) == (5.0, True, 0.1)


def test_a_target_without_figures_yet_has_a_whole_year_to_come() -> None:
    assert outlook_of(CAT.targets["urban_new_jobs"], []) == OL(V.TOO_FEW, None, 1.0, None, None, 0, 12)
