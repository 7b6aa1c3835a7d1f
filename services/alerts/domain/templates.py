"""Chinese notification text for department staff: one part per alert, grouped into one message. Pure: no I/O.

Each part states the target, the period, the actual figure, what was expected by now, the gap, the
projection, the monthly run-rate still needed and, for open alerts, the signed link to acknowledge.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.messages import Severity, TargetStatusChanged
from shared.wording import amount, figure_labels, number, period_label, share

SEVERITY_ZH = {Severity.OK: "正常", Severity.WARNING: "预警", Severity.CRITICAL: "严重"}
KIND_TITLE_ZH = {
    "firing": "【目标预警】",
    "escalated": "【预警升级】",  # severity rose
    "resolved": "【预警解除】",
    "reminder": "【预警提醒】",  # still open and not acknowledged after the repeat interval
    "overdue": "【逾期未确认·提级督办】",  # critical and unacknowledged: escalated up the administrative chain
}
KIND_SHORT_ZH = {"firing": "新增预警", "escalated": "预警升级", "resolved": "预警解除", "reminder": "尚未确认",
                 "overdue": "提级督办"}


@dataclass(frozen=True)
class AlertPart:
    """What one alert contributes to a department's notification."""

    alert_id: str
    kind: str
    event: TargetStatusChanged
    department_zh: str
    role: str  # lead, co, rule, overdue
    phrase: str | None  # the target as the report words it
    ack_url: str | None
    lead_department_zh: str
    escalation_level: int = 0


def _num(x: float, unit: str | None = None) -> str:
    return number(x, unit)


def _val(x: float | None, unit: str | None) -> str | None:
    if x is None:
        return None
    return amount(x, unit)


def period_zh(e: TargetStatusChanged) -> str:
    """The period as the evaluator's 研判 names it (2024年一季度, 2024年6月末): one label for both."""
    return e.period_zh or period_label(e.period)


def gap_zh(e: TargetStatusChanged) -> str | None:
    """The gap to what was expected by now, in words."""
    if e.gap_pp is not None:
        word = "低于" if e.gap_pp < 0 else "高于"
        return f"{word}预期{_num(abs(e.gap_pp))}个百分点"
    if e.gap_abs is not None:
        word = "低于" if e.gap_abs < 0 else "高于"
        rel = f"（{share(abs(e.gap_rel))}）" if e.gap_rel is not None else ""
        return f"{word}预期{_num(abs(e.gap_abs), e.unit)}{e.unit or ''}{rel}"
    return None


PATH_KINDS = frozenset({"cumulative_total", "count", "level"})  # read against 序时进度 until the year is over


def figure_labels_of(e: TargetStatusChanged) -> tuple[str, str, str | None]:
    """How officials label this alert's figures: 实际增速 / 目标增速 for a growth rate, 累计完成 / 序时进度要求 for
    an annual amount during the year (全年目标 once the year is over), never 实际完成 / 序时进度要求 for a rate."""
    actual, expected, progress = figure_labels(e.kind)
    if e.kind in PATH_KINDS:
        during_year = e.expected_progress is not None and e.expected_progress < 1
        expected = "序时进度要求" if during_year else "全年目标"
    return actual, expected, progress


def part_title(p: AlertPart) -> str:
    """A one-line title for one alert."""
    level = "" if p.kind == "resolved" else f"（{SEVERITY_ZH[p.event.severity]}）"
    return f"{KIND_TITLE_ZH.get(p.kind, '【目标预警】')}{p.event.target_name_zh}{level}"


def part_lines(p: AlertPart) -> list[tuple[str, str]]:
    """Labelled lines describing one alert (label, value), in the order a reader needs them."""
    e = p.event
    lines: list[tuple[str, str]] = [("目标", p.phrase or e.target_name_zh), ("期间", period_zh(e))]
    actual_label, expected_label, progress_label = figure_labels_of(e)
    for label, value in ((actual_label, _val(e.actual, e.unit)), (expected_label, _val(e.expected, e.unit))):
        if value is not None:
            lines.append((label, value))
    if e.progress is not None and e.expected_progress is not None:
        lines.append((progress_label or "完成率", f"{share(e.progress)}（序时进度{share(e.expected_progress)}）"))
    gap = gap_zh(e)
    if gap:
        lines.append(("差距", gap))
    if e.projection is not None:
        lines.append(("全年预计", _val(e.projection, e.unit) or ""))
    if e.run_rate_needed is not None:
        lines.append(("后续月均需完成", _val(e.run_rate_needed, e.unit) or ""))
    lines.append(("研判", e.message_zh))
    lines.append(("责任单位", f"{p.lead_department_zh}（牵头）"))
    return lines


def _ask(p: AlertPart) -> str | None:
    if p.kind == "resolved":
        return "该目标已恢复正常进度，预警自动解除，无需处理。"
    if p.kind == "overdue":
        return (f"该严重预警下发后牵头单位逾期未确认，现提请{p.department_zh}督促{p.lead_department_zh}"
                "分析原因、落实整改措施。")
    if p.role == "lead":
        return "请牵头单位会同配合单位分析原因，提出整改措施，并通过下方链接填报说明和整改措施予以确认。"
    if p.role == "co":
        return "请配合牵头单位分析原因、落实整改措施。"
    return "请跟踪督办。"


def part_text(p: AlertPart, *, link: bool = True) -> str:
    """One alert as plain text (e-mail, webhook); ``link=False`` when a button carries the link instead."""
    out = [part_title(p), *(f"{k}：{v}" for k, v in part_lines(p))]
    ask = _ask(p)
    if ask:
        out.append(ask)
    if link and p.ack_url and p.kind != "resolved":
        out.append(f"确认并填报整改措施：{p.ack_url}")
    return "\n".join(out)


def part_markdown(p: AlertPart, *, link: bool = True) -> str:
    """One alert as markdown (WeCom, DingTalk); ``link=False`` when a button carries the link instead."""
    out = [f"#### {part_title(p)}", *(f"> **{k}**：{v}" for k, v in part_lines(p))]
    ask = _ask(p)
    if ask:
        out.append(f"\n{ask}")
    if link and p.ack_url and p.kind != "resolved":
        out.append(f"\n[确认并填报整改措施]({p.ack_url})")
    return "\n".join(out)


def ack_link(p: AlertPart) -> str | None:
    """The part's acknowledgement link, when it asks for one (a resolved alert does not)."""
    return p.ack_url if p.ack_url and p.kind != "resolved" else None


def mention_wanted(parts: list[AlertPart]) -> bool:
    """Whether a robot message @-mentions the receiving department's contacts: it carries a critical alert the
    department leads (it must act and acknowledge), or an overdue one it must chase up the chain."""
    return any(p.kind != "resolved" and (p.kind == "overdue" or (p.role == "lead" and p.event.severity ==
                                                                  Severity.CRITICAL)) for p in parts)


def group_title(kinds: list[str], target_names: list[str]) -> str:
    """The title of a notification carrying one or more alerts."""
    if len(kinds) == 1:
        return f"{KIND_TITLE_ZH.get(kinds[0], '【目标预警】')}{target_names[0]}"
    counts: dict[str, int] = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    summary = "、".join(f"{KIND_SHORT_ZH.get(k, k)}{n}项" for k, n in counts.items())
    return f"【目标预警汇总】{target_names[0]}等{len(kinds)}项目标（{summary}）"


def greeting(department_zh: str) -> str:
    """The line addressing the department."""
    return f"致：{department_zh}"
