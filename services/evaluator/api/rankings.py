"""板块 view of one indicator: every district's growth rate in one period against its own plan, the city's target and
the city-wide figure, ranked as a 督查通报 lists them; as JSON (/v1/rankings) and as a page (/board/regions)."""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from services.evaluator.api.board import _CSS
from services.evaluator.domain.ranking import Ranking, growth_target, rank_regions
from services.evaluator.runtime import runtime
from shared.catalogue.model import Measure, Target
from shared.periods import Period, PeriodError
from shared.problems import Problem
from shared.regions import CITY, REGIONS
from shared.wording import number, period_label

router = APIRouter(tags=["rankings"])

DISTRICTS = {r: name for r, name in REGIONS.items() if r != CITY}
MEASURE = Measure.CUMULATIVE_YOY_PCT  # districts are ranked on their year-to-date growth
_NO_DATA: dict[int | str, dict[str, Any]] = {404: {"description": "No period given and no district figure yet"}}


class RankedRowOut(BaseModel):
    """One district's line: figure, targets, gap to the city figure, 双达标 and rank (null: 暂无数据)."""

    region: str
    region_zh: str
    figure: float | None
    own_target: float | None
    own_target_phrase: str | None
    city_target: float | None
    plan: float | None
    gap_to_city_pp: float | None
    meets_plan: bool | None
    at_or_above_city: bool | None
    at_or_above_both: bool | None
    needed: float | None
    rank: int | None
    figure_zh: str
    gap_zh: str
    rank_zh: str


class RankingOut(BaseModel):
    """The districts of one indicator and period, ranked, under the city's figure and target."""

    indicator: str
    indicator_zh: str
    period: str
    period_zh: str
    city_figure: float | None
    city_target: float | None
    city_target_phrase: str | None
    city_figure_zh: str
    rows: list[RankedRowOut]


def _bad(field: str, rule: str, msg: str, msg_zh: str) -> Problem:
    return Problem.of(422, rule, msg, msg_zh, loc=("query", field))


def _indicator_zh(request: Request, indicator: str) -> str:
    for c in runtime(request).all_catalogues:
        found = c.indicators.get(indicator)
        if found is not None and MEASURE in found.measures:
            return found.name_zh
    raise _bad("indicator", "unknown_indicator", f"no catalogue has indicator {indicator!r} with a year-to-date "
               f"growth rate ({MEASURE.value}); use an indicator id such as 'gdp'",
               f"没有可排名的指标“{indicator}”（须为按累计增速报送的指标，如 gdp）")


def _growth_target(request: Request, region: str, year: int, indicator: str) -> Target | None:
    catalogue = runtime(request).all_catalogues.get(region, year)
    return growth_target(list(catalogue.targets.values()), indicator) if catalogue is not None else None


def ranking_for(request: Request, indicator: str, period: str | None) -> tuple[Ranking, str]:
    """The ranking of one indicator in one period (default: the latest with any district figure), and its name."""
    name = _indicator_zh(request, indicator)
    with runtime(request).database.reading() as store:
        if period is None:
            periods = store.readings.periods(indicator, MEASURE.value, list(DISTRICTS))
            if not periods:
                raise Problem.of(404, "no_district_figures", f"no district has sent a {indicator} growth figure yet",
                                 f"暂无数据：尚无任何板块报送{name}增速（{indicator}）", loc=("query", "indicator"))
            chosen = periods[-1]
        else:
            try:
                chosen = Period.parse(period)
            except PeriodError as exc:
                raise _bad("period", "period_format", str(exc),
                           f"期别“{period}”格式不正确：应为 2024、2024-S1、2024-Q2 或 2024-M06 等") from exc
        figures = store.readings.of_period(indicator, MEASURE.value, chosen.code)
    own = {r: t for r in DISTRICTS if (t := _growth_target(request, r, chosen.year, indicator)) is not None}
    ranking = rank_regions(indicator, chosen.code, DISTRICTS, {r: v for r, v in figures.items() if r in DISTRICTS},
                           figures.get(CITY), _growth_target(request, CITY, chosen.year, indicator), own)
    return ranking, name


@router.get("/v1/rankings", response_model=RankingOut, summary="Districts ranked on one indicator's growth rate",
            responses=_NO_DATA)
def rankings(
    request: Request,
    indicator: str = Query(max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="Indicator id, e.g. gdp"),
    period: str | None = Query(default=None, max_length=16, description="Period code, e.g. 2024-Q2 (default: "
                               "the latest with any district figure)"),
) -> RankingOut:
    """Every district's year-to-date growth against its plan and the city, ranked (ties share a rank)."""
    ranking, name = ranking_for(request, indicator, period)
    return RankingOut(indicator=ranking.indicator, indicator_zh=name, period=ranking.period,
                      period_zh=period_label(ranking.period, "cumulative"), city_figure=ranking.city_figure,
                      city_target=ranking.city_target, city_target_phrase=ranking.city_target_phrase,
                      city_figure_zh=ranking.city_figure_zh,
                      rows=[RankedRowOut(**asdict(r)) for r in ranking.rows])


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{number(x, '%')}%"


_BOTH_ZH = {True: ("ok", "双达标"), False: ("critical", "未双达标"), None: ("none", "—")}


def render_ranking(ranking: Ranking, name: str) -> str:
    """The 板块 page: the city's line, then every district by rank, those without a figure last."""
    period_zh = period_label(ranking.period, "cumulative")
    title = f"{period_zh}各板块{name}增速情况"
    parts = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="summary" id="city"><span>全市{escape(name)}{escape(ranking.city_figure_zh)}</span>'
        f"<span>全市目标：{escape(ranking.city_target_phrase)}</span></p>"
        if ranking.city_target_phrase is not None else
        f'<p class="summary" id="city"><span>全市{escape(name)}{escape(ranking.city_figure_zh)}</span></p>',
        '<form method="get" action="/board/regions">'
        f'<label>指标 <input name="indicator" value="{escape(ranking.indicator)}" size="12"></label> '
        f'<label>期别 <input name="period" value="{escape(ranking.period)}" size="8"></label> '
        '<button type="submit">查看</button></form>',
        "<table><thead><tr><th>排名</th><th>板块</th><th>增速</th><th>本板块目标</th><th>全市目标</th>"
        "<th>与全市比较</th><th>全年目标尚需</th><th>目标与全市均值</th></tr></thead><tbody>",
    ]
    for r in ranking.rows:
        css, both = _BOTH_ZH[r.at_or_above_both]
        own = escape(r.own_target_phrase) if r.own_target_phrase else "—"
        needed = f"余下各期需增长{number(r.needed, '%')}%" if r.needed is not None else "—"
        parts.append(
            f'<tr class="{css}" data-region="{escape(r.region)}" data-rank="{r.rank or ""}">'
            f"<td>{escape(r.rank_zh)}</td><td>{escape(r.region_zh)}</td><td>{escape(r.figure_zh)}</td>"
            f"<td>{own}</td><td>{escape(_pct(r.city_target))}</td><td>{escape(r.gap_zh)}</td>"
            f'<td class="msg">{escape(needed)}</td><td><span class="badge">{escape(both)}</span></td></tr>')
    parts.append("</tbody></table>")
    parts.append('<p class="msg">本板块目标：有本板块年度目标的按其目标，其余按全市目标；“左右”目标以区间下限为达标。'
                 "双达标：增速不低于本板块目标且不低于全市平均水平。并列者排名相同。</p></body></html>")
    return "".join(parts)


@router.get("/board/regions", response_class=HTMLResponse, summary="The 板块 view of one indicator as HTML",
            responses=_NO_DATA)
def regions_page(
    request: Request,
    indicator: str = Query(default="gdp", max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="Indicator id"),
    period: str | None = Query(default=None, max_length=16, description="Period code (default: the latest)"),
) -> HTMLResponse:
    """Every district's growth rate in one period, ranked, against its plan and the city, as a Chinese page."""
    ranking, name = ranking_for(request, indicator, period or None)
    return HTMLResponse(render_ranking(ranking, name))
