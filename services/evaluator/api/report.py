"""The monthly 督查通报: a printable A4 page (/board/report) and the same table as a spreadsheet (/board/report.xlsx).

Which targets it lists, where each stood at the month's end and in what order: ``domain/briefing.py`` (and
docs/reading-rules.md, 十三、督查通报). The owner's explanation is the note of the status report the target's
status comes from.
"""

from __future__ import annotations

import io
import urllib.parse
from dataclasses import dataclass
from html import escape

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.evaluator.api.board import period_zh
from services.evaluator.api.pages import beijing, figures_zh, human, page
from services.evaluator.api.read_model import SECTION_ZH, BoardEntry
from services.evaluator.api.routes import catalogue_for
from services.evaluator.domain.briefing import MonthError, listed, report_month, standing_at, status_counts
from services.evaluator.domain.evaluation import STATUS_ZH, Status
from services.evaluator.ports import AlertsSource, OpenAlert
from services.evaluator.runtime import runtime
from shared.catalogue import Catalogue
from shared.periods import Period
from shared.problems import Problem
from shared.regions import REGIONS

router = APIRouter(tags=["board"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PERIOD = Query(default=None, max_length=16, description="The month the 通报 covers, e.g. 2024-M06 (required)")
_REGION = Query(default=None, max_length=32, description="Region of the catalogue (default wuxi)")
_YEAR = Query(default=None, ge=1990, le=2100, description="Year of the catalogue (default: the month's year)")
_ERRORS: dict[int | str, dict[str, str]] = {422: {"description": "No period, or not a month such as 2024-M06"}}

_CSS = """
@page{size:A4 portrait;margin:18mm 14mm 16mm}
body{background:#fff}h1{text-align:center;font-size:22px;margin:0 0 4px;color:#b31d28}
.issued{text-align:center;color:#424a53;margin:0 0 16px}td.num{text-align:right;white-space:nowrap}
td.note{white-space:pre-wrap}th{white-space:nowrap}.lead-in{line-height:1.8}.empty{color:#57606a}
.unavailable{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;color:#7d4e00}
@media print{body{margin:0;font-size:12px}th,td{font-size:11px;padding:3px 4px}thead{display:table-header-group}
tr{break-inside:avoid}a{color:inherit;text-decoration:none}.screen-only{display:none}
th{background:#eaeef2 !important;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


@dataclass(frozen=True)
class Briefing:
    """One month's 通报: the title, when it was made, the counts, and the listed targets with their notes."""

    title: str
    issued_zh: str
    month: Period
    entries: list[BoardEntry]  # every target of the catalogue, as it stood at the month's end
    rows: list[tuple[BoardEntry, str | None]]  # the listed targets with their owner's explanation (or None)
    acks_unavailable_zh: str | None = None  # why the owners' acknowledgements could not be read


def briefing(request: Request, period: str | None, region: str | None, year: int | None) -> Briefing:
    """The 通报 of one month of one catalogue; Problem (422) naming ``period`` when it is missing or no month."""
    try:
        month = report_month(period)
    except MonthError as exc:
        raise Problem.of(422, exc.rule, str(exc), exc.msg_zh, loc=("query", "period")) from exc
    catalogue = catalogue_for(request, region, year if year is not None else month.year)
    if catalogue.year != month.year:
        raise Problem.of(422, "period_year", f"query parameter 'period': {month.code} is not in the catalogue's "
                         f"year {catalogue.year}", f"参数 period“{month.code}”不在目录年度（{catalogue.year}年）内，"
                         f"应为 {catalogue.year}-M01 至 {catalogue.year}-M12", loc=("query", "period"))
    rt = runtime(request)
    ids = list(catalogue.targets)
    with rt.database.reading() as store:
        chosen = standing_at(store.evaluations.of_targets(ids, catalogue.year), month)
        notes = {r.id: r for r in store.reports.for_targets([i for i, e in chosen.items() if e.report_id])}
    entries = []
    for t in catalogue.targets.values():
        e = chosen.get(t.id)
        entries.append(BoardEntry(t) if e is None else BoardEntry(
            t, e.period, e.status, e.severity, e.evaluated_at, e.message_zh, e.actual, e.expected, e.progress,
            e.expected_progress))
    rows = []
    for entry in listed(entries):
        e = chosen[entry.target.id]
        report = notes.get(e.report_id) if e.report_id else None
        rows.append((entry, f"{beijing(report.reported_at, with_time=False)}报送：{report.note}" if report else None))
    place = REGIONS.get(catalogue.region, catalogue.region)
    title = f"{place}{catalogue.year}年政府工作报告目标任务推进情况督查通报（截至{month.index}月）"
    rows, unavailable = _acknowledged(rt.alerts, rows)
    return Briefing(title, beijing(rt.clock(), with_time=False), month, entries, rows, unavailable)


def _acknowledged(alerts: AlertsSource | None, rows: list[tuple[BoardEntry, str | None]],
                  ) -> tuple[list[tuple[BoardEntry, str | None]], str | None]:
    """A listed target its owner filed no status report for takes the owner's acknowledgement of its open alert
    (the explanation and measures given on the acknowledgement page), read from the alerts service; with why
    they could not be read, in Chinese, when the service is away."""
    leads = sorted({e.target.lead_department for e, note in rows if note is None})
    if alerts is None or not leads:
        return rows, None
    acks: dict[str, OpenAlert] = {}
    for department in leads:
        answer = alerts.open_alerts(department)
        if answer.alerts is None:
            return rows, answer.unavailable_zh
        for alert in answer.alerts:  # newest first: the latest acknowledgement of the target wins
            if alert.acknowledged_at is not None and alert.ack_explanation and alert.target_id not in acks:
                acks[alert.target_id] = alert
    out = []
    for e, note in rows:
        a = acks.get(e.target.id) if note is None else None
        if a is not None and a.acknowledged_at is not None:
            note = (f"{beijing(a.acknowledged_at, with_time=False)}确认预警：{a.ack_explanation}"
                    + (f"；整改措施：{a.ack_measures}" if a.ack_measures else ""))
        out.append((e, note))
    return out, None


def _catalogue_of(b: Briefing, request: Request, region: str | None, year: int | None) -> Catalogue:
    return catalogue_for(request, region, year if year is not None else b.month.year)


def _summary(b: Briefing) -> str:
    counts = "、".join(f"{k}{v}项" for k, v in status_counts(b.entries))
    critical = sum(1 for e, _ in b.rows if e.severity == "critical")
    return (f'<p class="lead-in" id="summary">截至{b.month.year}年{b.month.index}月，{len(b.entries)}项目标任务中：'
            f"{escape(counts)}。其中需重点督办<span class=\"behind-count\" id=\"listed-total\">{len(b.rows)}项</span>"
            f"（严重{critical}项、一般{len(b.rows) - critical}项），列表如下。</p>")


def render_report(b: Briefing, catalogue: Catalogue) -> str:
    """The page's body: title, date, counts, the table of listed targets."""
    parts = [f"<h1>{escape(b.title)}</h1>", f'<p class="issued">（{escape(b.issued_zh)}）</p>', _summary(b)]
    if not b.rows:
        parts.append('<p class="empty">本月没有滞后或存在风险的目标任务。</p>')
        return "".join(parts)
    parts.append("<table><thead><tr><th>序号</th><th>板块</th><th>目标任务</th><th>牵头单位</th><th>配合单位</th>"
                 "<th>期别</th><th>状态</th><th>最新数据</th><th>研判情况</th><th>责任单位说明及整改措施</th>"
                 "</tr></thead><tbody>")
    for n, (e, note) in enumerate(b.rows, 1):
        t = e.target
        co = "、".join(catalogue.department_name(d) for d in t.co_departments) or "—"
        status = STATUS_ZH[Status(e.status)] if e.status else "暂无数据"
        parts.append(
            f'<tr class="{escape(e.severity or "none")}" data-target="{escape(t.id)}" '
            f'data-status="{escape(e.status or "none")}"><td class="num">{n}</td>'
            f"<td>{escape(SECTION_ZH[t.section])}</td><td>{escape(t.name_zh)}</td>"
            f'<td class="dept">{escape(catalogue.department_name(t.lead_department))}</td>'
            f'<td class="dept">{escape(co)}</td><td>{escape(period_zh(e))}</td>'
            f'<td><span class="badge">{escape(status)}</span></td><td>{escape(figures_zh(e))}</td>'
            f'<td class="msg">{escape(e.message_zh or "")}</td>'
            f'<td class="note">{escape(note or "—")}</td></tr>')
    parts.append("</tbody></table>")
    return "".join(parts)


@router.get("/board/report", response_class=HTMLResponse, responses=_ERRORS,
            summary="The monthly 督查通报 as a printable A4 page in Chinese")
def report_page(request: Request, period: str | None = _PERIOD, region: str | None = _REGION,
                year: int | None = _YEAR) -> HTMLResponse:
    """Counts per status at the month's end and every target needing attention, with its section, departments,
    figures and the owner's explanation, laid out for A4."""
    try:
        b = briefing(request, period, region, year)
    except Problem as problem:
        return human(request, problem)
    q = urllib.parse.urlencode({k: v for k, v in (("period", b.month.code), ("region", region), ("year", year))
                                if v is not None})
    link = f'<p class="screen-only"><a href="/board/report.xlsx?{escape(q)}">下载Excel表格</a></p>'
    if b.acks_unavailable_zh:
        link += f'<p class="screen-only unavailable" id="acks-unavailable">{escape(b.acks_unavailable_zh)}</p>'
    return page(b.title, render_report(b, _catalogue_of(b, request, region, year)) + link, css=_CSS)


_COLUMNS = (("序号", 6), ("板块", 22), ("目标任务", 30), ("牵头单位", 16), ("配合单位", 22), ("期别", 14),
            ("状态", 10), ("实际值", 12), ("目标值或序时要求", 16), ("单位", 8), ("完成率", 10), ("序时进度", 10),
            ("研判情况", 60), ("责任单位说明及整改措施", 50))


def report_workbook(b: Briefing, catalogue: Catalogue) -> bytes:
    """The listed targets as an .xlsx: Chinese headers, widths, the header row frozen, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = f"截至{b.month.index}月"
    wb.properties.title = b.title
    ws.append([name for name, _ in _COLUMNS])
    for i, (_, width) in enumerate(_COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EAEEF2")
    ws.freeze_panes = "A2"
    for n, (e, note) in enumerate(b.rows, 1):
        t = e.target
        has_progress = t.kind.value in ("cumulative_total", "count", "level")
        ws.append([
            n, SECTION_ZH[t.section], t.name_zh, catalogue.department_name(t.lead_department),
            "、".join(catalogue.department_name(d) for d in t.co_departments), period_zh(e),
            STATUS_ZH[Status(e.status)] if e.status else "暂无数据", e.actual, e.expected, t.unit,
            e.progress if has_progress else None, e.expected_progress if has_progress else None,
            e.message_zh or "", note or "",
        ])
        for col in (11, 12):
            ws.cell(row=n + 1, column=col).number_format = "0.0%"
        for col in (13, 14):
            ws.cell(row=n + 1, column=col).alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@router.get("/board/report.xlsx", responses={200: {"content": {XLSX: {}}}, **_ERRORS},
            summary="The monthly 督查通报's table as an Excel workbook")
def report_xlsx(request: Request, period: str | None = _PERIOD, region: str | None = _REGION,
                year: int | None = _YEAR) -> Response:
    """The same listed targets as /board/report, one row each, for the office's own tables."""
    try:
        b = briefing(request, period, region, year)
    except Problem as problem:
        return human(request, problem)
    body = report_workbook(b, _catalogue_of(b, request, region, year))
    name = urllib.parse.quote(f"{b.title}.xlsx")
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"report-{b.month.code}.xlsx\"; filename*=UTF-8''{name}"})
