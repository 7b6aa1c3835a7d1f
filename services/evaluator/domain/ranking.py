"""Districts judged and ranked on one indicator in one period, as a 督查通报 lists them. Pure.

The target that decides how an indicator is read is the catalogue's (``ranking_target``): a growth rate or a cap
(增长X%左右, 涨幅控制在3%左右) is a **rate**, ranked on the figure itself; an amount or a count (投资4550亿元,
新增就业13万人) is ranked on its **完成率**, the share of the district's own annual target done, read against
序时进度. Each district is judged by the evaluator's own functions (``evaluate``: the band's edges, the cap, the
序时进度 schedule and the growth or run-rate the rest of the year needs), never by rules of its own:

- **plan**: a rate against the district's own target where it has a catalogue, else the city's (the only plan it
  has); an amount only against the district's own target (the city's 4550亿元 is not a district's plan), so a
  district without one has a figure but no 完成率 and is listed unranked after the ranked ones;
- **direction** from the target's comparator: a cap or any 控制在/以内 target (``at_most``) ranks the lowest
  figure first, every other the highest; the city's target decides for all districts (else the first district
  target found), so all are ranked the same way;
- **city**: a rate against the city-wide figure, an amount's 完成率 against the city's 完成率, the gap in 个百分点;
  "not worse than the city" is at or above it, or at or below it when lower is better;
- **ranks**: equal figures as published (rates to two decimals, 完成率 to one) share a rank (1, 2, 2, 4); a
  district without a figure comes last, unranked, as 未报送;
- **the light**: green when the district meets its plan; with ``green_needs_city`` (the setting
  EVALUATOR_RANKING_GREEN_NEEDS_CITY) only when it meets its plan and is not worse than the city (双达标).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.catalogue.model import Comparator, Kind, Measure, Target
from shared.wording import amount, number, points

from .evaluation import evaluate
from .model import Evaluation, Reading, Status, goal_of
from .rates import lower_edge

NOT_REPORTED_ZH = "未报送"
NO_OWN_TARGET_ZH = "无本板块目标，不排名"

RATE_KINDS = frozenset({Kind.GROWTH_RATE, Kind.CAP})
PROGRESS_KINDS = frozenset({Kind.CUMULATIVE_TOTAL, Kind.COUNT})
RANKED_KINDS = RATE_KINDS | PROGRESS_KINDS
_MET = frozenset({Status.AHEAD, Status.ON_TRACK, Status.ACHIEVED})


@dataclass(frozen=True)
class RankedRow:
    """One district's line in the ranking."""

    region: str
    region_zh: str
    figure: float | None  # rates: year-to-date %, as published (two decimals); amounts: the cumulative level
    own_target: float | None  # the district's own catalogue's target value; None without a catalogue
    own_target_phrase: str | None  # the report's words (地区生产总值增长6%左右)
    city_target: float | None
    plan: float | None  # rates: the figure that meets the plan (a 左右 band's lower edge, a cap's limit);
    # amounts: what 序时进度 expects done by the period's end
    completion_pct: float | None  # amounts: 完成率, % of the own annual target done (one decimal)
    expected_pct: float | None  # amounts: 序时进度, % of the year's target expected by now
    progress_gap_pp: float | None  # amounts: 完成率 minus 序时进度
    gap_to_city_pp: float | None  # rates: figure minus the city figure; amounts: 完成率 minus the city's
    meets_plan: bool | None
    at_or_above_city: bool | None  # not worse than the city (at or below it when lower is better)
    at_or_above_both: bool | None  # 双达标: meets its plan and not worse than the city
    green: bool | None  # the light: meets_plan, or at_or_above_both under the both-rule
    light: str  # ok, warning (plan met, city not, under the both-rule), critical, none
    needed: float | None  # rates: the growth the rest of the year needs; amounts: per remaining month
    rank: int | None  # 1..n; ties share a rank; None: unranked (未报送, or an amount without an own target)
    figure_zh: str  # 同比增长5.1%, 累计完成620亿元
    completion_zh: str  # 完成全年目标的52.3%，快于序时进度2.3个百分点
    gap_zh: str  # 高于全市0.3个百分点
    needed_zh: str  # 余下各期需增长5.4%, 余下每月需完成55亿元
    rank_zh: str  # 排名第2


@dataclass(frozen=True)
class Ranking:
    """The districts of one indicator and period, ranked, with the city's figure and target above them."""

    indicator: str
    measure: str
    period: str
    basis: str  # rate (ranked on the figure) or completion (ranked on 完成率)
    lower_is_better: bool
    green_needs_city: bool
    unit: str | None
    city_figure: float | None
    city_target: float | None
    city_target_phrase: str | None  # the city report's words (地区生产总值增长5.5%左右)
    city_figure_zh: str
    city_completion_pct: float | None  # amounts: the city's 完成率 of its own target
    city_completion_zh: str
    rows: tuple[RankedRow, ...]


def ranking_target(targets: Sequence[Target], indicator: str, measure: Measure | str) -> Target | None:
    """The target a catalogue reads ``indicator``'s ``measure`` against (a rate, cap, amount or count), or None."""
    for t in targets:
        if t.kind in RANKED_KINDS and t.indicator == indicator and t.measure == measure:
            return t
    return None


def growth_target(targets: Sequence[Target], indicator: str) -> Target | None:
    """The growth-rate target of ``indicator`` (on its year-to-date growth) among a catalogue's targets."""
    t = ranking_target(targets, indicator, Measure.CUMULATIVE_YOY_PCT)
    return t if t is not None and t.kind == Kind.GROWTH_RATE else None


def lower_is_better(target: Target | None) -> bool:
    """Whether a lower figure ranks first: a cap or any 控制在/以内 target (comparator at_most)."""
    return target is not None and target.comparator == Comparator.AT_MOST


def growth_zh(value: float | None, *, price: bool = False) -> str:
    """A growth rate as a release writes it: 同比增长5.1%, 同比下降1.2%, 与上年持平 (prices: 同比上涨2.1%)."""
    if value is None:
        return NOT_REPORTED_ZH
    v = round(value, 2)
    if v > 0:
        return f"同比{'上涨' if price else '增长'}{number(v, '%')}%"
    if v < 0:
        return f"同比下降{number(-v, '%')}%"
    return "与上年持平"


def gap_zh(gap_pp: float | None, of: str = "全市") -> str:
    """A gap to the city: 高于全市0.3个百分点, 低于全市0.5个百分点, 与全市持平 (``of``: 全市完成率 for amounts)."""
    if gap_pp is None:
        return "—"
    if gap_pp > 0:
        return f"高于{of}{points(gap_pp)}"
    if gap_pp < 0:
        return f"低于{of}{points(gap_pp)}"
    return f"与{of}持平"


def completion_zh(completion: float | None, expected: float | None, gap_pp: float | None) -> str:
    """完成率 against 序时进度: 完成全年目标的52.3%，快于序时进度2.3个百分点."""
    if completion is None:
        return "—"
    done = f"完成全年目标的{number(completion)}%"
    if expected is None or gap_pp is None:
        return done
    if gap_pp > 0:
        return f"{done}，快于序时进度{points(gap_pp)}"
    if gap_pp < 0:
        return f"{done}，慢于序时进度{points(gap_pp)}"
    return f"{done}，与序时进度持平"


def needed_growth_zh(needed: float | None) -> str:
    """The growth the rest of the year needs: 余下各期需增长5.4%, or 需下降3.5% for a target of decline."""
    if needed is None:
        return "—"
    if needed < 0:
        return f"余下各期需下降{number(-needed, '%')}%"
    return f"余下各期需增长{number(needed, '%')}%"


def competition_ranks(scores: Sequence[float], *, lower_first: bool = False) -> list[int]:
    """Ranks where equal scores share the best rank and the next skips: 1, 2, 2, 4 (lowest first if asked)."""
    if lower_first:
        return [1 + sum(1 for other in scores if other < s) for s in scores]
    return [1 + sum(1 for other in scores if other > s) for s in scores]


@dataclass(frozen=True)
class _Judged:
    figure: float
    score: float | None  # what the rank goes by; None: not ranked
    plan: float | None
    completion: float | None
    expected: float | None
    progress_gap: float | None
    meets: bool | None
    needed: float | None
    needed_zh: str


def _completion(ev: Evaluation) -> tuple[float | None, float | None, float | None]:
    """完成率 and 序时进度 in %, one decimal, as the evaluator's message prints them, and their difference."""
    done = round(ev.progress * 100, 1) if ev.progress is not None else None
    expected = round(ev.expected_progress * 100, 1) if ev.expected_progress is not None else None
    gap = round(done - expected, 1) if done is not None and expected is not None else None
    return done, expected, gap


def _judge(reading: Reading, plan_target: Target | None, progress: bool, unit: str | None,
           previous_year: Sequence[Reading]) -> _Judged:
    if progress:
        figure = reading.value
        if plan_target is None:
            return _Judged(figure, None, None, None, None, None, None, None, "—")
        ev = evaluate(plan_target, reading, previous_year=previous_year)
        done, expected, gap = _completion(ev)
        meets = None if ev.status == Status.NOT_EVALUATED else ev.status in _MET
        per_month = ev.run_rate_needed if ev.run_rate_needed and not reading.is_year_end else None
        words = f"余下每月需完成{amount(per_month, unit)}" if per_month is not None else "—"
        plan = ev.expected if not reading.is_year_end else ev.goal
        return _Judged(figure, done, plan, done, expected, gap, meets, per_month, words)
    figure = round(reading.value, 2)
    if plan_target is None:
        return _Judged(figure, figure, None, None, None, None, None, None, "—")
    ev = evaluate(plan_target, reading, previous_year=previous_year)
    goal = goal_of(plan_target)
    plan = goal if plan_target.kind == Kind.CAP else lower_edge(plan_target, goal)
    needed = ev.growth_needed
    words = needed_growth_zh(needed)
    return _Judged(figure, figure, plan, None, None, None, ev.status in _MET, needed, words)


def _not_worse(gap: float | None, lower_first: bool) -> bool | None:
    if gap is None:
        return None
    return gap <= 0 if lower_first else gap >= 0


def _light(green: bool | None, meets: bool | None) -> str:
    if green is None:
        return "none"
    if green:
        return "ok"
    return "warning" if meets else "critical"


def rank_regions(
    indicator: str,
    period: str,
    districts: Mapping[str, str],
    readings: Mapping[str, Reading],
    city_figure: Reading | None,
    city_target: Target | None,
    own_targets: Mapping[str, Target],
    *,
    measure: Measure | str = Measure.CUMULATIVE_YOY_PCT,
    unit: str | None = None,
    previous_year: Mapping[str, Sequence[Reading]] | None = None,
    city_previous_year: Sequence[Reading] = (),
    green_needs_city: bool = False,
) -> Ranking:
    """Rank ``districts`` (id → Chinese name, in their listed order) by their readings of one period.

    ``own_targets`` holds each district's own target for the indicator and measure (where it has a catalogue
    for the period's year); ``previous_year`` last year's figures per district and ``city_previous_year`` the
    city's, for 序时进度 along last year's path and the weights of the growth still needed.
    """
    prev = previous_year or {}
    deciding = city_target if city_target is not None else next(iter(own_targets.values()), None)
    kind = deciding.kind if deciding is not None else None
    progress = measure == Measure.CUMULATIVE_LEVEL or kind in PROGRESS_KINDS
    lower_first = lower_is_better(deciding)
    price = kind == Kind.CAP
    of = "全市完成率" if progress else "全市"

    city_value: float | None = None
    city_done: float | None = None
    city_zh = NOT_REPORTED_ZH
    if city_figure is not None:
        city_j = _judge(city_figure, city_target, progress, unit, city_previous_year)
        city_value = city_j.figure
        city_done = city_j.completion
        city_zh = f"累计完成{amount(city_value, unit)}" if progress else growth_zh(city_value, price=price)

    judged: dict[str, _Judged] = {}
    for region in districts:
        reading = readings.get(region)
        if reading is None:
            continue
        own = own_targets.get(region)
        plan_target = own if own is not None or progress else city_target
        judged[region] = _judge(reading, plan_target, progress, unit, prev.get(region, ()))
    scored = [r for r in districts if r in judged and judged[r].score is not None]
    scores = [judged[r].score for r in scored]
    rank_of = dict(zip(scored, competition_ranks([s for s in scores if s is not None], lower_first=lower_first),
                       strict=True))

    city_goal = goal_of(city_target) if city_target is not None else None
    rows: list[RankedRow] = []
    for region, name in districts.items():
        own = own_targets.get(region)
        own_goal = goal_of(own) if own is not None else None
        phrase = own.phrase if own is not None else None
        j = judged.get(region)
        if j is None:
            rows.append(RankedRow(region, name, None, own_goal, phrase, city_goal, None, None, None, None, None,
                                  None, None, None, None, "none", None, None, NOT_REPORTED_ZH, "—", "—", "—",
                                  NOT_REPORTED_ZH))
            continue
        if progress:
            gap = round(j.completion - city_done, 1) if j.completion is not None and city_done is not None else None
            figure_zh = f"累计完成{amount(j.figure, unit)}"
        else:
            gap = round(j.figure - city_value, 2) if city_value is not None else None
            figure_zh = growth_zh(j.figure, price=price)
        city_ok = _not_worse(gap, lower_first)
        both = j.meets and city_ok if j.meets is not None and city_ok is not None else None
        green = both if green_needs_city else j.meets
        rank = rank_of.get(region)
        rows.append(RankedRow(
            region, name, j.figure, own_goal, phrase, city_goal, j.plan, j.completion, j.expected, j.progress_gap,
            gap, j.meets, city_ok, both, green, _light(green, j.meets), j.needed, rank, figure_zh,
            completion_zh(j.completion, j.expected, j.progress_gap), gap_zh(gap, of), j.needed_zh,
            f"排名第{rank}" if rank is not None else NO_OWN_TARGET_ZH))
    # Ranked first by rank (ties in the districts' listed order), then figures without a rank, then 未报送.
    rows.sort(key=lambda row: (row.figure is None, row.rank is None, row.rank or 0))
    return Ranking(
        indicator, str(measure), period, "completion" if progress else "rate", lower_first, green_needs_city, unit,
        city_value, city_goal, city_target.phrase if city_target is not None else None, city_zh, city_done,
        completion_zh(city_done, None, None), tuple(rows))
