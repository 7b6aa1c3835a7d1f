"""Districts judged and ranked on one growth rate in one period, as a 督查通报 lists them. Pure.

Each district's year-to-date growth is set against its own plan (its catalogue's growth target, where the
district has a catalogue; else the city's, the only plan it has) and against the city-wide figure: the gap is
said in 个百分点, and a district is 双达标 only when it is at or above both its plan and the city average
(the plan is met from its lowest value, the lower edge of a 左右 band, as the evaluator judges the target).
Ranks go by the figure, highest first; equal figures (as published, to two decimals) share a rank (1, 1, 3);
a district without a figure comes last, unranked, as 暂无数据.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.catalogue.model import Kind, Measure, Target
from shared.wording import number, points

from .model import Reading, goal_of
from .rates import growth_needed, lower_edge

NO_DATA_ZH = "暂无数据"


@dataclass(frozen=True)
class RankedRow:
    """One district's line in the ranking."""

    region: str
    region_zh: str
    figure: float | None  # year-to-date growth, %, as published (two decimals at most)
    own_target: float | None  # the district's own catalogue's target value; None without a catalogue
    own_target_phrase: str | None  # the report's words (地区生产总值增长6%左右)
    city_target: float | None
    plan: float | None  # the value that meets the district's plan (own target's lower edge, else the city's)
    gap_to_city_pp: float | None  # figure minus the city-wide figure, 个百分点
    meets_plan: bool | None
    at_or_above_city: bool | None
    at_or_above_both: bool | None  # 双达标: at or above its plan and the city average
    needed: float | None  # the growth the rest of the year needs to meet the plan, when below it
    rank: int | None  # 1..n; ties share a rank; None: 暂无数据
    figure_zh: str  # 同比增长5.1%
    gap_zh: str  # 高于全市0.3个百分点
    rank_zh: str  # 排名第2


@dataclass(frozen=True)
class Ranking:
    """The districts of one indicator and period, ranked, with the city's figure and target above them."""

    indicator: str
    period: str
    city_figure: float | None
    city_target: float | None
    city_target_phrase: str | None  # the city report's words (地区生产总值增长5.5%左右)
    city_figure_zh: str
    rows: tuple[RankedRow, ...]


def growth_target(targets: Sequence[Target], indicator: str) -> Target | None:
    """The growth-rate target of ``indicator`` (on its year-to-date growth) among a catalogue's targets."""
    for t in targets:
        if t.kind == Kind.GROWTH_RATE and t.indicator == indicator and t.measure == Measure.CUMULATIVE_YOY_PCT:
            return t
    return None


def growth_zh(value: float | None) -> str:
    """A growth rate as a release writes it: 同比增长5.1%, 同比下降1.2%, 与上年持平."""
    if value is None:
        return NO_DATA_ZH
    v = round(value, 2)
    if v > 0:
        return f"同比增长{number(v, '%')}%"
    if v < 0:
        return f"同比下降{number(-v, '%')}%"
    return "与上年持平"


def gap_zh(gap_pp: float | None) -> str:
    """A gap to the city-wide figure: 高于全市0.3个百分点, 低于全市0.5个百分点, 与全市持平."""
    if gap_pp is None:
        return "—"
    if gap_pp > 0:
        return f"高于全市{points(gap_pp)}"
    if gap_pp < 0:
        return f"低于全市{points(gap_pp)}"
    return "与全市持平"


def _competition_ranks(values: Sequence[float]) -> list[int]:
    """Ranks of ``values`` (highest first) where equal values share the best rank: 1, 1, 3."""
    return [1 + sum(1 for other in values if other > v) for v in values]


def rank_regions(
    indicator: str,
    period: str,
    districts: Mapping[str, str],
    readings: Mapping[str, Reading],
    city_figure: Reading | None,
    city_target: Target | None,
    own_targets: Mapping[str, Target],
) -> Ranking:
    """Rank ``districts`` (id → Chinese name, in their listed order) by their readings of one period.

    ``own_targets`` holds the growth target of each district that has a catalogue for the period's year.
    """
    city = round(city_figure.value, 2) if city_figure is not None else None
    city_goal = goal_of(city_target) if city_target is not None else None
    have = [r for r in districts if r in readings]
    figures = [round(readings[r].value, 2) for r in have]
    rank_of = dict(zip(have, _competition_ranks(figures), strict=True))
    rows: list[RankedRow] = []
    for region, name in districts.items():
        own = own_targets.get(region)
        own_goal = goal_of(own) if own is not None else None
        plan_target = own if own is not None else city_target
        plan = lower_edge(plan_target, goal_of(plan_target)) if plan_target is not None else None
        reading = readings.get(region)
        if reading is None:
            rows.append(RankedRow(region, name, None, own_goal, own.phrase if own else None, city_goal, plan,
                                  None, None, None, None, None, None, NO_DATA_ZH, "—", NO_DATA_ZH))
            continue
        figure = round(reading.value, 2)
        gap = round(figure - city, 2) if city is not None else None
        meets_plan = figure >= plan if plan is not None else None
        above_city = gap >= 0 if gap is not None else None
        both = meets_plan and above_city if meets_plan is not None and above_city is not None else None
        needed = None
        if plan is not None and not meets_plan and not reading.is_year_end:
            needed, _ = growth_needed(figure, reading, plan, ())
        rank = rank_of[region]
        rows.append(RankedRow(region, name, figure, own_goal, own.phrase if own else None, city_goal, plan, gap,
                              meets_plan, above_city, both, needed, rank, growth_zh(figure), gap_zh(gap),
                              f"排名第{rank}"))
    # Ranked first by rank (ties in the districts' listed order), then those without a figure.
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0))
    phrase = city_target.phrase if city_target is not None else None
    return Ranking(indicator, period, city, city_goal, phrase, growth_zh(city), tuple(rows))
