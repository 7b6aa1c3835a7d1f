"""One department's page: its targets with their latest status and figures, its status reports (整改措施 and
explanations), and its open alerts with their acknowledgements, read from the alerts service's API.

Server-rendered Chinese HTML without scripts, like the board. The alerts come from the alerts service (the
evaluator holds no alert state); when it is not configured, away or slow the page still renders and says so.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from services.evaluator.adapters.alerts_client import NOT_CONFIGURED_ZH
from services.evaluator.api.board import period_zh
from services.evaluator.api.pages import beijing, figures_zh, human, page
from services.evaluator.api.read_model import SECTION_ZH, BoardEntry, board_entries
from services.evaluator.api.routes import catalogue_for
from services.evaluator.domain.briefing import status_counts
from services.evaluator.domain.evaluation import STATUS_ZH, Status
from services.evaluator.domain.status_reports import REPORTED_ZH
from services.evaluator.ports import AlertsAnswer, OpenAlert, StatusReportRow
from services.evaluator.runtime import runtime
from shared.catalogue import Catalogue
from shared.problems import Problem
from shared.regions import REGIONS

router = APIRouter(tags=["board"])

_CSS = """
.role{font-size:12px;color:#57606a;white-space:nowrap}.note{white-space:pre-wrap}
.unavailable{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;color:#7d4e00}
.empty{color:#57606a}nav{margin:4px 0 12px;font-size:14px}.error{color:#b31d28}
"""
_SEVERITY_ZH = {"critical": "严重", "warning": "一般"}
_ALERT_STATUS_ZH = {"firing": "待确认", "acknowledged": "已确认"}


def _catalogue_of(request: Request, department: str, region: str | None, year: int | None) -> Catalogue | None:
    """The catalogue asked for, or (none asked for) the default one if it has the department, else the first
    that does (a district's department is in its district's catalogue)."""
    if region is not None or year is not None:
        found = catalogue_for(request, region, year)
        return found if department in found.departments else None
    rt = runtime(request)
    if department in rt.catalogue.departments:
        return rt.catalogue
    return next((c for c in rt.all_catalogues if department in c.departments), None)


def _targets(entries: list[BoardEntry], department: str, catalogue: Catalogue) -> str:
    if not entries:
        return '<p class="empty">本单位在本目录中没有牵头或配合的目标。</p>'
    rows = []
    for e in entries:
        t = e.target
        css = e.severity or "none"
        status = STATUS_ZH[Status(e.status)] if e.status else "暂无数据"
        lead = catalogue.department_name(t.lead_department)
        role = "牵头" if t.lead_department == department else f"配合（牵头：{lead}）"
        rows.append(
            f'<tr class="{css}" data-target="{escape(t.id)}" data-status="{escape(e.status or "none")}">'
            f'<td>{escape(t.name_zh)}<div class="role">{escape(role)}</div></td>'
            f"<td>{escape(SECTION_ZH[t.section])}</td><td>{escape(period_zh(e))}</td>"
            f'<td><span class="badge">{escape(status)}</span></td>'
            f'<td class="figures">{escape(figures_zh(e))}</td>'
            f'<td class="msg">{escape(e.message_zh or "")}</td></tr>')
    return ("<table><thead><tr><th>目标</th><th>板块</th><th>期别</th><th>状态</th><th>最新数据</th><th>最新情况</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _reports(reports: list[StatusReportRow], catalogue: Catalogue) -> str:
    if not reports:
        return '<p class="empty">本单位尚未报送进展情况。</p>'
    rows = []
    for r in reports:
        t = catalogue.targets.get(r.target_id)
        status = next((zh for k, zh in REPORTED_ZH.items() if k.value == r.status), r.status)
        rows.append(f'<tr data-report="{escape(r.id)}"><td>{escape(beijing(r.reported_at))}</td>'
                    f"<td>{escape(t.name_zh if t else r.target_id)}</td><td>{escape(status)}</td>"
                    f'<td class="note">{escape(r.note)}</td></tr>')
    return ("<table><thead><tr><th>报送时间（北京时间）</th><th>目标</th><th>报送状态</th><th>情况说明及整改措施</th>"
            "</tr></thead>"
            "<tbody>" + "".join(rows) + "</tbody></table>")


def _alert_row(a: OpenAlert, catalogue: Catalogue) -> str:
    t = catalogue.targets.get(a.target_id)
    css = a.severity if a.severity in _SEVERITY_ZH else "none"
    ack = f"{a.acknowledged_by or '—'}，{beijing(a.acknowledged_at)}" if a.acknowledged_at else "尚未确认"
    return (f'<tr class="{css}" data-alert="{escape(a.id)}" data-alert-status="{escape(a.status)}">'
            f"<td>{escape(t.name_zh if t else a.target_id)}</td>"
            f'<td><span class="badge">{escape(_SEVERITY_ZH.get(a.severity, a.severity))}</span></td>'
            f"<td>{escape(beijing(a.opened_at))}</td>"
            f"<td>{escape(_ALERT_STATUS_ZH.get(a.status, a.status))}</td><td>{escape(ack)}</td>"
            f'<td class="note">{escape(a.ack_explanation or "—")}</td>'
            f'<td class="note">{escape(a.ack_measures or "—")}</td></tr>')


def _alerts(answer: AlertsAnswer, catalogue: Catalogue) -> str:
    if answer.alerts is None:
        return f'<p class="unavailable" id="alerts-unavailable">{escape(answer.unavailable_zh or "")}</p>'
    mine = [a for a in answer.alerts if a.target_id in catalogue.targets]
    if not mine:
        return '<p class="empty">本单位目前没有未解除的预警。</p>'
    return ("<table><thead><tr><th>目标</th><th>级别</th><th>预警时间（北京时间）</th><th>状态</th>"
            "<th>确认人及时间（北京时间）</th>"
            "<th>原因说明</th><th>整改措施</th></tr></thead><tbody>"
            + "".join(_alert_row(a, catalogue) for a in mine) + "</tbody></table>")


def render_department(catalogue: Catalogue, department: str, entries: list[BoardEntry],
                      reports: list[StatusReportRow], alerts: AlertsAnswer) -> str:
    """The page's body."""
    name = catalogue.department_name(department)
    place = REGIONS.get(catalogue.region, catalogue.region)
    behind = sum(1 for e in entries if e.severity in ("warning", "critical"))
    counts = "".join(f"<span>{escape(k)}：{v}项</span>" for k, v in status_counts(entries))
    led = sum(1 for e in entries if e.target.lead_department == department)
    mine = None if alerts.alerts is None else [a for a in alerts.alerts if a.target_id in catalogue.targets]
    open_count = "" if mine is None else f"，未解除预警{len(mine)}条"
    keep = "" if catalogue.key == ("wuxi", 2024) else f"?region={escape(catalogue.region)}&amp;year={catalogue.year}"
    return "".join([
        f'<h1 id="department" data-department="{escape(department)}">{escape(name)} · 目标任务推进情况</h1>',
        f'<nav><a href="/board{keep}">返回{escape(place)}{catalogue.year}年目标进展看板</a></nav>',
        f'<p class="summary">牵头{led}项、配合{len(entries) - led}项目标，其中<strong class="behind-count" '
        f'id="behind-total">需关注{behind}项</strong>{escape(open_count)}。{counts}</p>',
        '<section id="targets"><h2>目标任务及最新状态</h2>', _targets(entries, department, catalogue), "</section>",
        '<section id="alerts"><h2>未解除的预警及确认情况</h2>', _alerts(alerts, catalogue), "</section>",
        '<section id="reports"><h2>报送的进展情况及整改措施</h2>', _reports(reports, catalogue), "</section>",
    ])


@router.get("/board/departments/{department_id}", response_class=HTMLResponse,
            summary="One department's page in Chinese: its targets, open alerts and acknowledgements, 整改措施",
            responses={404: {"description": "No such department in the catalogue"}})
def department_page(
    request: Request,
    department_id: str = Path(max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="Department id, e.g. fgw"),
    region: str | None = Query(default=None, max_length=32, description="Region of the catalogue (default: the "
                               "city's, or the district whose department it is)"),
    year: int | None = Query(default=None, ge=1990, le=2100, description="Year of the catalogue (default 2024)"),
) -> HTMLResponse:
    """A department's targets (led or co-led) with status and figures, its open alerts with their
    acknowledgements (from the alerts service), and the status reports it filed."""
    rt = runtime(request)
    catalogue = _catalogue_of(request, department_id, region, year)
    if catalogue is None:
        where = f"{region or rt.catalogue.region} {year or rt.catalogue.year}" if region or year else "any catalogue"
        return human(request, Problem.of(
            404, "unknown_department", f"no department {department_id!r} in {where}; use an id such as 'fgw'",
            f"未找到编号为“{department_id}”的责任单位，请从目标进展看板中选择单位（如 fgw 市发展改革委）。",
            loc=("path", "department_id")))
    with rt.database.reading() as store:
        entries = board_entries(catalogue, store.states.board(), department=department_id)
        led = [e.target.id for e in entries if e.target.lead_department == department_id]
        reports = [r for r in store.reports.for_targets(led) if r.department == department_id]
    # After the database connection is given back: the alerts service may take up to its timeout.
    alerts = rt.alerts.open_alerts(department_id) if rt.alerts is not None else AlertsAnswer(None, NOT_CONFIGURED_ZH)
    name = catalogue.department_name(department_id)
    return page(f"{name} · 目标任务推进情况", render_department(catalogue, department_id, entries, reports, alerts),
                css=_CSS)
