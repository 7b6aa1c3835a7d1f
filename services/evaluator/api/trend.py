"""The board's trend per target (an inline SVG over the year), its 年底预判 and the per-status summaries.

The evaluations of every target shown come in one query (``EvaluationRepository.of_targets``); ``trends_of``
groups them per target, oldest first, as ``outlook.TrendPoint``s. Pure apart from that: no scripts, no requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import urlencode

from services.evaluator.api.read_model import BoardEntry, FilterError
from services.evaluator.api.widgets import _num, sparkline
from services.evaluator.domain.evaluation import STATUS_ZH, Status
from services.evaluator.domain.outlook import MIN_RELEASES, Outlook, TrendPoint, Verdict, outlook_of, releases
from services.evaluator.ports import EvaluationRow
from shared.catalogue.model import Kind, Target
from shared.periods import Period, parse_period

# Read as 完成率 against 序时进度 (a bar on the board, 完成率 in the trend); rates as figure against target.
COMPLETION_KINDS = frozenset({Kind.CUMULATIVE_TOTAL, Kind.COUNT, Kind.LEVEL})
_NOT_PROJECTED = frozenset({Kind.MILESTONE, Kind.QUALITATIVE})

# The summaries' columns: the four progress statuses the issue names, then the total needing attention.
SUMMARY_STATUSES = (Status.AHEAD, Status.ON_TRACK, Status.BEHIND, Status.FAR_BEHIND)
SORT_KEYS: dict[str, str] = {"order": "板块", **{s.value: STATUS_ZH[s] for s in SUMMARY_STATUSES},
                             "attention": "需关注"}
VERDICT_CSS = {Verdict.LIKELY: "green", Verdict.AT_RISK: "yellow", Verdict.UNLIKELY: "red",
               Verdict.TOO_FEW: "grey"}


def trends_of(rows: Iterable[EvaluationRow]) -> dict[str, list[TrendPoint]]:
    """Each target's evaluations as trend points, oldest evaluation first (a later one replaces its period)."""
    out: dict[str, list[TrendPoint]] = {}
    for r in sorted(rows, key=lambda r: (r.evaluated_at, r.id)):
        try:
            period = parse_period(r.period)
        except ValueError:
            continue
        out.setdefault(r.target_id, []).append(TrendPoint(
            period, actual=r.actual, expected=r.expected, progress=r.progress,
            expected_progress=r.expected_progress, projection=r.projection, gap_pp=r.gap_pp,
            related_actual=r.related_actual))
    return out


def _month(p: Period) -> float:
    return float(p.last_month)


def chart_series(target: Target, points: Sequence[TrendPoint]) -> tuple[
        list[tuple[float, float]], list[tuple[float, float]], tuple[float, float] | None]:
    """The chart's figures (x: month), the 序时进度 (or target) path, and the projection to December (x=12).

    Completion targets: 完成率 in %, 序时进度 in % from 0 in January to 100 in December, projection 完成率 ÷ 序时进度.
    Rates: the cumulative figure, the target figure as the path, the latest figure carried to December (the
    outlook's reading). Relational targets: the figure against the related growth."""
    pts = releases(points)
    if target.kind in COMPLETION_KINDS:
        series = [(_month(p.period), p.progress * 100) for p in pts if p.progress is not None]
        due = [(_month(p.period), p.expected_progress * 100) for p in pts if p.expected_progress is not None]
        path = [(0.0, 0.0), *due, (12.0, 100.0)] if series else []
        last = next((p for p in reversed(pts) if p.progress is not None and p.expected_progress), None)
        projection = None
        if last is not None and last.progress is not None and last.expected_progress:
            share = last.progress / last.expected_progress if last.expected_progress < 1 else last.progress
            projection = (12.0, round(share * 100, 2))
        return series, path, projection
    series = [(_month(p.period), p.actual) for p in pts if p.actual is not None]
    if target.kind == Kind.RELATIONAL:
        path = [(_month(p.period), p.related_actual) for p in pts if p.related_actual is not None]
    else:
        path = [(_month(p.period), p.expected) for p in pts if p.expected is not None]
    if path and path[-1][0] < 12:
        path.append((12.0, path[-1][1]))
    projection = (12.0, series[-1][1]) if series and series[-1][0] < 12 else None
    return series, path, projection


def trend_chart(target: Target, points: Sequence[TrendPoint], colour: str = "green") -> str:
    """The target's inline SVG trend with a Chinese title and description, or a note when there is nothing."""
    if target.kind in _NOT_PROJECTED:
        return '<span class="spark-none">按进展报送研判，无数据趋势</span>'
    series, path, projection = chart_series(target, points)
    completion = target.kind in COMPLETION_KINDS
    what = "完成率" if completion else "实际值"
    path_name = "序时进度" if completion else ("关联增速" if target.kind == Kind.RELATIONAL else "目标值")
    desc = "；".join(f"{int(x)}月{what}{_num(y, 2)}%" for x, y in series)
    if path and not completion:
        desc += f"；{path_name}{_num(path[-1][1], 2)}%"
    if projection is not None:
        desc += f"；按当前进度年底预计{_num(projection[1], 2)}%"
    desc += f"。实线为{what}，点线为{path_name}，虚线为年底预计。"
    return sparkline(series, uid=f"trend-{target.id}", title=f"{target.name_zh}全年趋势", desc=desc,
                     path=path, projection=projection, colour=colour)


def _reading(target: Target, x: float) -> str:
    if target.kind in COMPLETION_KINDS:
        return f"全年预计完成率{_num(x * 100, 1)}%"
    if target.kind == Kind.RELATIONAL:
        return f"与关联增速相差{_num(x, 2)}个百分点"
    return f"{_num(x, 2)}%"


def basis_zh(target: Target, o: Outlook | None) -> str:
    """The judgement's basis in words: the figures ``judge_outlook`` stood on."""
    if o is None:
        return "里程碑、定性目标按部门报送的进展研判，不作年底预判"
    if o.releases == 0:
        return "暂无可用于预判的数据，暂不预判"
    if o.latest is None or (o.verdict == Verdict.TOO_FEW and o.releases < MIN_RELEASES):
        return f"已有{o.releases}期数据，不足{MIN_RELEASES}期，无法估计正常波动，暂不预判"
    edge = _reading(target, o.edge).removeprefix("全年预计完成率")
    if o.releases_left == 0:
        return f"全年数据已出：{_reading(target, o.latest)}，达标界限{edge}"
    unit = "个百分点"
    spread = _num((o.spread or 0) * (100 if target.kind in COMPLETION_KINDS else 1), 2)
    return (f"最新读数{_reading(target, o.latest)}，达标界限{edge}；正常波动{spread}{unit}，剩余{o.releases_left}期；"
            f"距达标界限{_num(o.distance or 0, 2)}个剩余变动（≥1预计可完成，≤-1难以完成，其间有风险）")


def outlook_cell(target: Target, points: Sequence[TrendPoint]) -> str:
    """The 年底预判 cell: the verdict's words (its basis on hover and in small text beneath)."""
    o = outlook_of(target, points)
    basis = basis_zh(target, o)
    if o is None:
        return f'<span class="outlook outlook-none" title="{escape(basis)}">不作预判</span>'
    css = VERDICT_CSS[o.verdict]
    return (f'<span class="outlook outlook-{css}" data-verdict="{o.verdict.value}" title="{escape(basis)}">'
            f'{escape(o.verdict_zh)}</span><div class="outlook-basis">{escape(basis)}</div>')


def check_sort(sort: str | None) -> str:
    """The summaries' sort key (default: the report's order); FilterError naming ``sort`` when unknown."""
    if sort is None or sort == "":
        return "order"
    if sort not in SORT_KEYS:
        raise FilterError("sort", f"参数 sort 须为以下之一：{'、'.join(SORT_KEYS)}（{'、'.join(SORT_KEYS.values())}）")
    return sort


def _counts(entries: Sequence[BoardEntry]) -> dict[str, int]:
    c = {s.value: 0 for s in SUMMARY_STATUSES}
    for e in entries:
        if e.status in c:
            c[e.status] += 1
    c["attention"] = sum(1 for e in entries if e.severity in ("warning", "critical"))
    return c


def sorted_groups(groups: Sequence[tuple[str, Sequence[BoardEntry]]], sort: str) -> list[tuple[str, dict[str, int]]]:
    """Each group's counts, most of ``sort`` first (ties and ``order``: the order given)."""
    rows = [(label, _counts(entries), i) for i, (label, entries) in enumerate(groups)]
    if sort != "order":
        rows.sort(key=lambda r: (-r[1][sort], r[2]))
    return [(label, counts) for label, counts, _ in rows]


def summary_table(groups: Sequence[tuple[str, Sequence[BoardEntry]]], *, sort: str, query: dict[str, str],
                  caption: str, anchor: str, first: str) -> str:
    """A summary table of per-status counts whose headers are links ``?sort=``: the server sorts, no script."""
    head = []
    for key, label in SORT_KEYS.items():
        name = first if key == "order" else label
        href = "/board?" + urlencode({**query, "sort": key}) + f"#{anchor}"
        mark = (' aria-sort="descending"' if key != "order" else ' aria-sort="ascending"') if key == sort else ""
        arrow = ("↓" if key != "order" else "↑") if key == sort else ""
        head.append(f'<th scope="col"{mark}><a href="{escape(href)}">{escape(name)}{arrow}</a></th>')
    body = []
    for label, counts in sorted_groups(groups, sort):
        cells = "".join(f"<td>{counts[k]}</td>" for k in SORT_KEYS if k != "order")
        body.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    return (f'<table class="summary-table" id="{anchor}"><caption>{escape(caption)}（点击表头排序）</caption>'
            f'<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody></table>')


TREND_CSS = """
.outlook{font-weight:600;white-space:nowrap}.outlook-green{color:#116329}.outlook-yellow{color:#7d4e00}
.outlook-red{color:#a40e26}.outlook-grey,.outlook-none{color:#57606a}.outlook-basis{font-size:12px;color:#57606a;
max-width:16em}td.trend{min-width:140px}
.summaries{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.summary-table{width:auto;margin:8px 0 16px}.summary-table caption{text-align:left;font-weight:600;padding:4px 0}
.summary-table td{text-align:right;min-width:4em}.summary-table th a{color:#0550ae}
.summary-table th[aria-sort] a{color:#1f2328;font-weight:700}
"""

__all__ = ["SORT_KEYS", "TREND_CSS", "basis_zh", "chart_series", "check_sort", "outlook_cell", "sorted_groups",
           "summary_table", "trend_chart", "trends_of"]
