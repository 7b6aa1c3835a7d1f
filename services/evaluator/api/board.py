"""The board as a plain server-rendered HTML page in Chinese: which targets are behind, and whose they are.

No JavaScript: a person without Grafana opens /board and reads it; filters are an ordinary GET form.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from services.evaluator.api.read_model import SECTION_ZH, BoardEntry, FilterError, board_entries
from services.evaluator.api.routes import catalogue_for
from services.evaluator.api.trend import (
    COMPLETION_KINDS,
    TREND_CSS,
    check_sort,
    outlook_cell,
    summary_table,
    trend_chart,
    trends_of,
)
from services.evaluator.api.widgets import WIDGET_CSS, lamp, lamp_colour, progress_bar
from services.evaluator.domain.evaluation import STATUS_ZH, Status
from services.evaluator.domain.outlook import TrendPoint
from services.evaluator.runtime import runtime
from shared.catalogue import Catalogue
from shared.catalogue.model import Comparator, Measure
from shared.regions import REGIONS
from shared.wording import amount, figure_labels, period_label, reading_of, share

router = APIRouter(tags=["board"])

_ORDER = {"critical": 0, "warning": 1, "ok": 2, None: 3}
_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:24px;
color:#1f2328;background:#f6f8fa}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;border-left:4px solid #b31d28;padding-left:8px}
.summary{margin:8px 0 16px}.summary span{display:inline-block;margin-right:16px}
form{margin:12px 0}select,button{font-size:14px;padding:2px 6px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #d0d7de;padding:6px 8px;
vertical-align:top;font-size:14px;text-align:left}th{background:#eaeef2}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;white-space:nowrap;font-weight:600}
.critical .badge{background:#ffebe9;color:#b31d28}.warning .badge{background:#fff8c5;color:#7d4e00}
.ok .badge{background:#dafbe1;color:#116329}.none .badge{background:#eaeef2;color:#57606a}
tr.critical td:first-child{border-left:4px solid #b31d28}tr.warning td:first-child{border-left:4px solid #bf8700}
.msg{color:#424a53;font-size:13px}td.dept{min-width:6.5em}td:nth-child(2){white-space:nowrap}.behind-count{color:#b31d28;font-weight:600}
td.figures{min-width:170px}.figures-text{font-size:13px;color:#424a53;line-height:1.5}
""" + WIDGET_CSS + TREND_CSS  # rankings.py imports _CSS too: the widgets' rules are harmless there

def period_zh(entry: BoardEntry) -> str:
    """The entry's period as a release names it (— before any evaluation)."""
    if entry.period is None:
        return "—"
    t = entry.target
    if t.measure is None:
        return period_label(entry.period, "period")
    return period_label(entry.period, reading_of(t.measure, at_date=t.measure == Measure.LEVEL))


def _figures(e: BoardEntry) -> str:
    """The 进度 cell: a completion target's bar (完成率, the 序时进度 mark); a rate's figure beside its target."""
    t = e.target
    if e.actual is None:
        return '<span class="figures-text">—</span>'
    actual_label, expected_label, _ = figure_labels(t.kind.value)
    if t.kind in COMPLETION_KINDS and e.progress is not None:
        done = f"完成率{share(e.progress)}"
        due = f"序时进度{share(e.expected_progress)}" if e.expected_progress is not None else ""
        words = f"{done}，{due}" if due else done
        return progress_bar(
            e.progress * 100, label=f"{t.name_zh}完成率", value_text=words,
            mark=e.expected_progress * 100 if e.expected_progress is not None else None,
            mark_label=due or "序时进度", colour=lamp_colour(e.status, e.severity),
            caption=f"{actual_label}{amount(e.actual, t.unit)}，{words}")
    unit = t.unit or "%"
    text = f"{actual_label}{amount(e.actual, unit)}"
    if e.expected is not None:
        about = "左右" if t.comparator == Comparator.ABOUT else ""  # the report's own 5.5%左右, not a bare 5.5%
        text += f"；{expected_label}{amount(e.expected, unit)}{about}"
    return f'<span class="figures-text">{escape(text)}</span>'


def _row(e: BoardEntry, catalogue: Catalogue, points: list[TrendPoint]) -> str:
    t = e.target
    css = e.severity or "none"
    co = "、".join(catalogue.department_name(d) for d in t.co_departments) or "—"
    # The report's own words under the name, unless they are the name itself.
    phrase = f'<div class="msg">{escape(t.phrase)}</div>' if t.phrase and t.phrase != t.name_zh else ""
    return (
        f'<tr class="{css}" data-target="{escape(t.id)}" data-status="{escape(e.status or "none")}">'
        f"<td>{escape(t.name_zh)}{phrase}</td>"
        f"<td>{escape(period_zh(e))}</td>"
        f'<td class="status">{lamp(e.status, e.severity)}</td>'
        f'<td class="figures">{_figures(e)}</td>'
        f'<td class="trend">{trend_chart(t, points, lamp_colour(e.status, e.severity))}</td>'
        f'<td class="outlook-cell">{outlook_cell(t, points)}</td>'
        f'<td class="msg">{escape(e.message_zh or "")}</td>'
        f'<td class="lead dept">{escape(catalogue.department_name(t.lead_department))}</td>'
        f'<td class="dept">{escape(co)}</td></tr>'
    )


def _options(items: dict[str, str], selected: str | None, blank: str) -> str:
    opts = [f'<option value="">{escape(blank)}</option>']
    for value, label in items.items():
        sel = " selected" if value == selected else ""
        opts.append(f'<option value="{escape(value)}"{sel}>{escape(label)}</option>')
    return "".join(opts)


def render_board(entries: list[BoardEntry], catalogue: Catalogue, department: str | None, section: str | None,
                 trends: dict[str, list[TrendPoint]] | None = None, sort: str = "order") -> str:
    """The whole page: the per-section and per-department summaries (sorted by ``sort``), then each section's
    targets with their trend over the year and 年底预判 (``trends``: each target's evaluations, oldest first)."""
    trends = trends or {}
    behind = [e for e in entries if e.severity in ("warning", "critical")]
    counts: dict[str, int] = {}
    for e in entries:
        label = STATUS_ZH[Status(e.status)] if e.status else "暂无数据"
        counts[label] = counts.get(label, 0) + 1
    summary = "".join(f"<span>{escape(k)}：{v}项</span>" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    departments = {d.id: d.name_zh for d in catalogue.departments.values()}
    place = escape(REGIONS.get(catalogue.region, catalogue.region))
    # The filters keep the catalogue the page shows (another region's or year's).
    keep = "" if catalogue.key == ("wuxi", 2024) else (
        f'<input type="hidden" name="region" value="{escape(catalogue.region)}">'
        f'<input type="hidden" name="year" value="{catalogue.year}">')
    if sort != "order":  # and the summaries' order
        keep += f'<input type="hidden" name="sort" value="{escape(sort)}">'
    parts = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{place}{catalogue.year}年政府工作报告目标进展看板</title><style>{_CSS}</style></head><body>",
        f"<h1>{place}{catalogue.year}年政府工作报告目标进展看板</h1>",
        f'<p class="summary">共{len(entries)}项目标，其中<span class="behind-count" id="behind-total">'
        f"需关注{len(behind)}项</span>{summary}</p>",
        f'<form method="get" action="/board">{keep}',
        f'<label>责任单位 <select name="department">{_options(departments, department, "全部单位")}</select></label> ',
        f'<label>板块 <select name="section">{_options(SECTION_ZH, section, "全部板块")}</select></label> ',
        '<button type="submit">筛选</button></form>',
    ]
    query = {k: v for k, v in (("department", department), ("section", section)) if v}
    if catalogue.key != ("wuxi", 2024):
        query |= {"region": catalogue.region, "year": str(catalogue.year)}
    by_section = [(title, [e for e in entries if e.target.section == code]) for code, title in SECTION_ZH.items()]
    parts.append('<div class="summaries">')
    parts.append(summary_table([g for g in by_section if g[1]], sort=sort, query=query, caption="各板块进展汇总",
                               anchor="summary-sections", first="板块"))
    leads: dict[str, list[BoardEntry]] = {}
    for e in entries:
        leads.setdefault(catalogue.department_name(e.target.lead_department), []).append(e)
    parts.append(summary_table(list(leads.items()), sort=sort, query=query, caption="各牵头单位进展汇总",
                               anchor="summary-departments", first="牵头单位"))
    parts.append("</div>")
    for code, title in SECTION_ZH.items():
        rows = [e for e in entries if e.target.section == code]
        if not rows:
            continue
        rows.sort(key=lambda e: _ORDER.get(e.severity, 3))
        n_behind = sum(1 for e in rows if e.severity in ("warning", "critical"))
        owners = sorted({catalogue.department_name(e.target.lead_department) for e in rows
                         if e.severity in ("warning", "critical")})
        who = f"（{'、'.join(owners)}）" if owners else ""
        parts.append(f'<section id="section-{code}"><h2>{escape(title)}</h2>')
        parts.append(f'<p class="section-summary">共{len(rows)}项，需关注{n_behind}项{escape(who)}</p>')
        parts.append("<table><thead><tr><th>目标</th><th>期别</th><th>状态</th><th>进度</th><th>全年趋势</th><th>年底预判</th><th>最新情况</th><th>牵头单位</th>"
                     "<th>配合单位</th></tr></thead><tbody>")
        parts.extend(_row(e, catalogue, trends.get(e.target.id, [])) for e in rows)
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "".join(parts)


@router.get("/board", response_class=HTMLResponse, summary="The board as an HTML page in Chinese")
def board_page(
    request: Request,
    department: str | None = Query(default=None, max_length=64, description="Lead or co-department id"),
    section: str | None = Query(default=None, max_length=16, description="headline or 1..9"),
    region: str | None = Query(default=None, max_length=32, description="Region of the catalogue (default wuxi)"),
    year: int | None = Query(default=None, ge=1990, le=2100, description="Year of the catalogue (default 2024)"),
    sort: str | None = Query(default=None, max_length=16,
                             description="Summaries' order: order (the report's), ahead, on_track, behind, "
                                         "far_behind or attention (most first)"),
) -> HTMLResponse:
    """Every target of one catalogue grouped by the report's sections, those needing attention first, with their
    departments."""
    rt = runtime(request)
    catalogue = catalogue_for(request, region, year)
    department = department or None  # the form sends an empty value for 全部
    section = section or None
    try:
        chosen = check_sort(sort)
        with rt.database.reading() as store:
            entries = board_entries(catalogue, store.states.board(), department=department, section=section)
            # One query for the evaluations of every target shown (not one per target).
            trends = trends_of(store.evaluations.of_targets([e.target.id for e in entries], catalogue.year))
    except FilterError as exc:
        raise HTTPException(422, [{"loc": ["query", exc.field], "msg": str(exc), "type": "value_error"}]) from exc
    return HTMLResponse(render_board(entries, catalogue, department, section, trends, chosen))
