"""板块 view of one indicator: every district's figure in one period against its own plan, the city's target and
the city-wide figure, ranked as a 督查通报 lists them; as JSON (/v1/rankings) and as a page (/board/regions).

The rules are the domain's (services/evaluator/domain/ranking.py, docs/reading-rules.md *Districts ranked*); this
module picks the measure, reads the figures and the catalogues' targets, and renders.
"""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from services.evaluator.domain.model import Reading
from services.evaluator.domain.ranking import Ranking, rank_regions, ranking_target
from services.evaluator.runtime import runtime
from shared.catalogue.model import Indicator, Measure, Target
from shared.periods import Period, PeriodError
from shared.problems import Problem
from shared.regions import CITY, REGIONS
from shared.wording import number, period_label, reading_of

router = APIRouter(tags=["rankings"])

DISTRICTS = {r: name for r, name in REGIONS.items() if r != CITY}
RANKABLE_MEASURES = (Measure.CUMULATIVE_YOY_PCT, Measure.CUMULATIVE_LEVEL)  # year-to-date figures only
_NO_DATA: dict[int | str, dict[str, Any]] = {404: {"description": "No period given and no district figure yet"}}

# The page's own style (the board's look, kept here so the board can be redrawn without touching this page).
CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:24px;
color:#1f2328;background:#f6f8fa}
h1{font-size:22px;margin:0 0 8px}.summary{margin:8px 0 16px}.summary span{display:inline-block;margin-right:16px}
form{margin:12px 0}input,select,button{font-size:14px;padding:2px 6px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #d0d7de;padding:6px 8px;
vertical-align:top;font-size:14px;text-align:left}th{background:#eaeef2;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;white-space:nowrap;font-weight:600}
.critical .badge{background:#ffebe9;color:#b31d28}.warning .badge{background:#fff8c5;color:#7d4e00}
.ok .badge{background:#dafbe1;color:#116329}.none .badge{background:#eaeef2;color:#57606a}
tr.critical td:first-child{border-left:4px solid #b31d28}tr.warning td:first-child{border-left:4px solid #bf8700}
tr.ok td:first-child{border-left:4px solid #1a7f37}td:nth-child(2){white-space:nowrap}.msg{color:#424a53;font-size:13px}
"""


class RankedRowOut(BaseModel):
    """One district's line: figure, targets, 完成率 and 序时进度, gap to the city, light, rank (null: unranked)."""

    region: str
    region_zh: str
    figure: float | None
    own_target: float | None
    own_target_phrase: str | None
    city_target: float | None
    plan: float | None
    completion_pct: float | None
    expected_pct: float | None
    progress_gap_pp: float | None
    gap_to_city_pp: float | None
    meets_plan: bool | None
    at_or_above_city: bool | None
    at_or_above_both: bool | None
    green: bool | None
    light: str
    needed: float | None
    rank: int | None
    figure_zh: str
    completion_zh: str
    gap_zh: str
    needed_zh: str
    rank_zh: str


class RankingOut(BaseModel):
    """The districts of one indicator and period, ranked, under the city's figure and target."""

    indicator: str
    indicator_zh: str
    measure: str
    period: str
    period_zh: str
    basis: str
    lower_is_better: bool
    green_needs_city: bool
    unit: str | None
    city_figure: float | None
    city_target: float | None
    city_target_phrase: str | None
    city_figure_zh: str
    city_completion_pct: float | None
    city_completion_zh: str
    rows: list[RankedRowOut]


def _bad(field: str, rule: str, msg: str, msg_zh: str) -> Problem:
    return Problem.of(422, rule, msg, msg_zh, loc=("query", field))


def _indicator(request: Request, indicator: str) -> Indicator:
    for c in runtime(request).all_catalogues:
        found = c.indicators.get(indicator)
        if found is not None and any(m in found.measures for m in RANKABLE_MEASURES):
            return found
    raise _bad("indicator", "unknown_indicator", f"no catalogue has indicator {indicator!r} with a year-to-date "
               "figure (cumulative_yoy_pct or cumulative_level); use an indicator id such as 'gdp'",
               f"没有可排名的指标“{indicator}”（须为按累计数或累计增速报送的指标，如 gdp）")


def _measure(request: Request, ind: Indicator, measure: str | None) -> Measure:
    """The measure asked for, else the one the city's target reads (增速 or 累计数), else the year-to-date growth."""
    if measure is not None:
        allowed = [m for m in RANKABLE_MEASURES if m in ind.measures]
        if measure not in allowed:
            raise _bad("measure", "measure_not_ranked", f"{ind.id} is ranked on {', '.join(allowed)}, not {measure}",
                       f"{ind.name_zh}可按{'、'.join(allowed)}排名，不能按“{measure}”排名")
        return Measure(measure)
    cats = sorted(runtime(request).all_catalogues, key=lambda c: (c.region != CITY, -c.year))
    for c in cats:
        for m in RANKABLE_MEASURES:
            if m in ind.measures and ranking_target(list(c.targets.values()), ind.id, m) is not None:
                return m
    return Measure.CUMULATIVE_YOY_PCT if Measure.CUMULATIVE_YOY_PCT in ind.measures else Measure.CUMULATIVE_LEVEL


def _target(request: Request, region: str, year: int, indicator: str, measure: Measure) -> Target | None:
    catalogue = runtime(request).all_catalogues.get(region, year)
    return ranking_target(list(catalogue.targets.values()), indicator, measure) if catalogue is not None else None


def ranking_for(request: Request, indicator: str, measure: str | None, period: str | None) -> tuple[Ranking, str]:
    """The ranking of one indicator in one period (default: the latest with any district figure), and its name."""
    ind = _indicator(request, indicator)
    m = _measure(request, ind, measure)
    what = "增速" if m == Measure.CUMULATIVE_YOY_PCT else "累计数"
    with runtime(request).database.reading() as store:
        if period is None:
            periods = store.readings.periods(indicator, m.value, list(DISTRICTS))
            if not periods:
                raise Problem.of(404, "no_district_figures", f"no district has sent a {indicator} {m.value} "
                                 "figure yet", f"暂无数据：尚无任何板块报送{ind.name_zh}{what}（{indicator}）",
                                 loc=("query", "indicator"))
            chosen = periods[-1]
        else:
            try:
                chosen = Period.parse(period)
            except PeriodError as exc:
                raise _bad("period", "period_format", str(exc),
                           f"期别“{period}”格式不正确：应为 2024、2024-S1、2024-Q2 或 2024-M06 等") from exc
        figures = store.readings.of_period(indicator, m.value, chosen.code)
        # Last year's figures: 序时进度 along last year's path and the weights of the growth still needed.
        level = Measure.CUMULATIVE_LEVEL.value if Measure.CUMULATIVE_LEVEL in ind.measures else m.value
        previous: dict[str, list[Reading]] = {
            r: store.readings.series(indicator, level, chosen.year - 1, r) for r in [CITY, *DISTRICTS]
        }
    own = {r: t for r in DISTRICTS if (t := _target(request, r, chosen.year, indicator, m)) is not None}
    ranking = rank_regions(
        indicator, chosen.code, DISTRICTS, {r: v for r, v in figures.items() if r in DISTRICTS}, figures.get(CITY),
        _target(request, CITY, chosen.year, indicator, m), own, measure=m,
        unit=ind.unit if m == Measure.CUMULATIVE_LEVEL else None,
        previous_year={r: previous[r] for r in DISTRICTS}, city_previous_year=previous[CITY],
        green_needs_city=runtime(request).settings.ranking_green_needs_city,
    )
    return ranking, ind.name_zh


_INDICATOR = Query(max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="Indicator id, e.g. gdp")
_MEASURE = Query(default=None, max_length=32, description="cumulative_yoy_pct (增速) or cumulative_level (累计数, "
                 "ranked on 完成率); default: the measure the city's target reads")
_PERIOD = Query(default=None, max_length=16, description="Period code, e.g. 2024-Q2 (default: the latest with any "
                "district figure)")


@router.get("/v1/rankings", response_model=RankingOut, responses=_NO_DATA,
            summary="Districts ranked on one indicator: growth against plan and city, or 完成率 against 序时进度")
def rankings(request: Request, indicator: str = _INDICATOR, measure: str | None = _MEASURE,
             period: str | None = _PERIOD) -> RankingOut:
    """Every district's figure against its plan and the city, ranked (ties share a rank; 未报送 last)."""
    ranking, name = ranking_for(request, indicator, measure, period)
    return RankingOut(
        indicator=ranking.indicator, indicator_zh=name, measure=ranking.measure, period=ranking.period,
        period_zh=period_label(ranking.period, reading_of(ranking.measure, at_date=False)), basis=ranking.basis,
        lower_is_better=ranking.lower_is_better, green_needs_city=ranking.green_needs_city, unit=ranking.unit,
        city_figure=ranking.city_figure, city_target=ranking.city_target,
        city_target_phrase=ranking.city_target_phrase, city_figure_zh=ranking.city_figure_zh,
        city_completion_pct=ranking.city_completion_pct, city_completion_zh=ranking.city_completion_zh,
        rows=[RankedRowOut(**asdict(r)) for r in ranking.rows],
    )


def _target_zh(value: float | None, unit: str | None) -> str:
    if value is None:
        return "—"
    return f"{number(value, unit)}{unit}" if unit else f"{number(value, '%')}%"


def _light_zh(ranking: Ranking, light: str) -> str:
    if light == "ok":
        return "双达标" if ranking.green_needs_city else "达到目标"
    if light == "warning":
        return "未双达标（低于全市）"
    if light == "critical":
        return "未达目标"
    return "—"


def render_ranking(ranking: Ranking, name: str) -> str:
    """The 板块 page: the city's line, then every district by rank, unranked and 未报送 last."""
    period_zh = period_label(ranking.period, reading_of(ranking.measure, at_date=False))
    completion = ranking.basis == "completion"
    title = f"{period_zh}各板块{name}{'完成情况' if completion else '增速情况'}"
    city = f"全市{name}{ranking.city_figure_zh}"
    if completion and ranking.city_completion_pct is not None:
        city += f"，{ranking.city_completion_zh}"
    parts = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="summary" id="city"><span>{escape(city)}</span>'
        + (f"<span>全市目标：{escape(ranking.city_target_phrase)}</span>" if ranking.city_target_phrase else "")
        + "</p>",
        '<form method="get" action="/board/regions">'
        f'<label>指标 <input name="indicator" value="{escape(ranking.indicator)}" size="14"></label> '
        f'<label>口径 <select name="measure">'
        + "".join(f'<option value="{m}"{" selected" if m == ranking.measure else ""}>{label}</option>'
                  for m, label in (("cumulative_yoy_pct", "累计增速"), ("cumulative_level", "累计数（完成率）")))
        + "</select></label> "
        f'<label>期别 <input name="period" value="{escape(ranking.period)}" size="8"></label> '
        '<button type="submit">查看</button></form>',
        "<table><thead><tr><th>排名</th><th>板块</th><th>本期数据</th><th>完成率与序时进度</th><th>本板块目标</th>"
        "<th>全市目标</th><th>与全市比较</th><th>全年目标尚需</th><th>达标情况</th></tr></thead><tbody>",
    ]
    for r in ranking.rows:
        own = escape(r.own_target_phrase) if r.own_target_phrase else "—"
        parts.append(
            f'<tr class="{r.light}" data-region="{escape(r.region)}" data-rank="{r.rank or ""}">'
            f"<td>{escape(r.rank_zh)}</td><td>{escape(r.region_zh)}</td><td>{escape(r.figure_zh)}</td>"
            f'<td class="msg">{escape(r.completion_zh)}</td><td>{own}</td>'
            f"<td>{escape(_target_zh(r.city_target, ranking.unit))}</td><td>{escape(r.gap_zh)}</td>"
            f'<td class="msg">{escape(r.needed_zh)}</td>'
            f'<td><span class="badge">{escape(_light_zh(ranking, r.light))}</span></td></tr>')
    parts.append("</tbody></table>")
    order = "数值越低排名越前（控制类、下降类目标）" if ranking.lower_is_better else "数值越高排名越前"
    if completion:
        plan = ("按本板块年度目标计算完成率，与序时进度比较（落后不超过容差、默认3个百分点，为符合进度）；"
                "无本板块目标的板块列示数据、不排名")
    else:
        plan = ("有本板块年度目标的按其目标，其余按全市目标；"
                "“左右”目标以区间下限为达标，控制类目标以上限为达标")
    green = ("绿色：达到本板块目标且不低于全市平均水平（双达标）" if ranking.green_needs_city
             else "绿色：达到本板块目标")
    parts.append(f'<p class="msg">说明：{escape(plan)}。{escape(order)}；并列者排名相同，后续名次顺延；'
                 f"未报送的板块列于最后、不排名。{escape(green)}。</p></body></html>")
    return "".join(parts)


@router.get("/board/regions", response_class=HTMLResponse, summary="The 板块 view of one indicator as HTML",
            responses=_NO_DATA)
def regions_page(
    request: Request,
    indicator: str = Query(default="gdp", max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="Indicator id"),
    measure: str | None = _MEASURE,
    period: str | None = Query(default=None, max_length=16, description="Period code (default: the latest)"),
) -> HTMLResponse:
    """Every district's figure in one period, ranked, against its plan and the city, as a Chinese page."""
    ranking, name = ranking_for(request, indicator, measure or None, period or None)
    return HTMLResponse(render_ranking(ranking, name))
