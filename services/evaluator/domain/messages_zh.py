"""The Chinese sentence a department official reads about a target's status. Pure: no I/O.

It follows how releases and 督查 notices put it: the period in release terms (2024年1—2月, 2024年一季度),
the figure, the target, the gap in 个百分点, the projection and the monthly run-rate still needed, then the
status and who owns the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.catalogue.model import Comparator, Kind, Measure, Target
from shared.messages import ObservationStatus, Severity
from shared.wording import period_label, reading_of

from .evaluation import STATUS_ZH, Evaluation, Reading, Status, band_of
from .status_reports import REPORTED_ZH, ReportedStatus

_OBS_STATUS_ZH = {ObservationStatus.PROVISIONAL: "初步数", ObservationStatus.ESTIMATED: "预计数",
                  ObservationStatus.FINAL: "最终核实数"}
_SUFFIX_ZH = {Comparator.ABOUT: "左右", Comparator.AT_MOST: "以内"}


@dataclass(frozen=True)
class Context:
    """What the sentence needs besides the evaluation itself."""

    lead_zh: str
    co_zh: tuple[str, ...] = ()
    previous: Status | None = None
    previous_severity: Severity | None = None
    is_revision: bool = False
    revised_from: float | None = None  # the value the revision replaced
    indicator_name_zh: str | None = None  # the target's own indicator, e.g. 居民人均可支配收入
    related_name_zh: str | None = None  # relational targets: the other indicator, e.g. 地区生产总值
    related: Reading | None = None


def fmt(x: float, decimals: int = 2) -> str:
    """A number as a Chinese release prints it: up to two decimals, no trailing zeros, no thousands separator."""
    s = f"{x:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def goal_zh(target: Target, goal: float | None) -> str:
    """The target value as the report words it: 5.5%左右, 4550亿元, 3%以内."""
    if goal is None:
        return ""
    return f"{fmt(goal)}{target.unit or ''}{_SUFFIX_ZH.get(target.comparator, '')}"  # type: ignore[arg-type]


def compose(target: Target, reading: Reading, ev: Evaluation, ctx: Context) -> str:
    """The notification sentence for a quantitative target's new status."""
    obs = _OBS_STATUS_ZH[reading.status]
    if ctx.related is not None and ctx.related.status != ObservationStatus.FINAL:
        obs = _OBS_STATUS_ZH[ctx.related.status]
    head = f"{target.name_zh}（{period_zh(target, reading)}，{obs}）"
    parts = [f"{head}：{_body(target, reading, ev, ctx)}。"]
    parts.append(_verdict(ev, ctx))
    if ev.softened:
        parts.append(f"因数据为{obs}，尚未最终核实，预警级别暂按一般预警处理。")
    if ctx.is_revision:
        unit = "%" if target.measure in (Measure.YOY_PCT, Measure.CUMULATIVE_YOY_PCT) else (target.unit or "")
        if ctx.revised_from is not None and fmt(ctx.revised_from) == fmt(reading.value):
            # A new vintage with the same number: the figure was confirmed (e.g. 初步数 → 最终核实数), not changed.
            parts.append(f"本次评估依据核实后的数据（{fmt(reading.value)}{unit}，数值未作调整）。")
        else:
            revised = ""
            if ctx.revised_from is not None:
                revised = f"（由{fmt(ctx.revised_from)}{unit}修订为{fmt(reading.value)}{unit}）"
            parts.append(f"本次评估依据修订后的数据{revised}。")
    parts.append(_owners(ctx))
    return "".join(parts)


def compose_report(
    target: Target, ev: Evaluation, ctx: Context, *, reported: ReportedStatus, reported_by_zh: str,
    reported_on: date, note: str,
) -> str:
    """The notification sentence for a milestone or qualitative target after its department's status report."""
    when = f"{reported_on.year}年{reported_on.month}月{reported_on.day}日"
    text = f"{target.name_zh}（{reported_by_zh}{when}报告）：进展情况为“{REPORTED_ZH[reported]}”"
    note = note.strip().rstrip("。")
    if note:
        text += f"，说明：{note}"
    return text + "。" + _verdict(ev, ctx) + _owners(ctx)


def period_zh(target: Target, r: Reading) -> str:
    """The period as releases name it: 2024年1—2月 (cumulative), 2024年一季度, 2024年6月末 (levels)."""
    at_date = target.measure == Measure.LEVEL
    return period_label(r.period, reading_of(target.measure, at_date=at_date))


def _verdict(ev: Evaluation, ctx: Context) -> str:
    now = STATUS_ZH[ev.status]
    if ctx.previous is None or ctx.previous == ev.status:
        text = f"状态：{now}"
    else:
        text = f"状态由“{STATUS_ZH[ctx.previous]}”转为“{now}”"
    recovered = ctx.previous_severity not in (None, Severity.OK) and ev.severity == Severity.OK
    if recovered:
        text += "，预警解除"
    return text + "。"


def _owners(ctx: Context) -> str:
    text = f"牵头单位：{ctx.lead_zh}"
    if ctx.co_zh:
        text += f"；配合单位：{'、'.join(ctx.co_zh)}"
    return text + "。"


def _growth_phrase(measure: Measure | None, value: float, rising: str = "增长") -> str:
    prefix = "累计同比" if measure == Measure.CUMULATIVE_YOY_PCT else "同比"
    if value < 0:
        return f"{prefix}下降{fmt(-value)}%"
    return f"{prefix}{rising}{fmt(value)}%"


def _pp_gap(gap: float, below: str = "低于目标", above: str = "高于目标", same: str = "与目标持平") -> str:
    if round(gap, 1) < 0:
        return f"，{below}{fmt(-gap, 1)}个百分点"
    if round(gap, 1) > 0:
        return f"，{above}{fmt(gap, 1)}个百分点"
    return f"，{same}"


def _expected_zh(target: Target, ev: Evaluation) -> str:
    share = fmt((ev.expected_progress or 0) * 100, 1)
    if isinstance(target.params.get("seasonal_profile"), list):
        return f"，按往年季节规律应完成{share}%"
    return f"，时序进度{share}%"


def _body(target: Target, r: Reading, ev: Evaluation, ctx: Context) -> str:
    unit = target.unit or ""
    goal = goal_zh(target, ev.goal)
    if target.kind == Kind.GROWTH_RATE:
        return f"{_growth_phrase(target.measure, r.value)}，全年目标{goal}" + _pp_gap(ev.gap_pp or 0.0)
    if target.kind == Kind.CAP:
        source = "（省定范围）" if target.params.get("value_from") == "province" else ""
        text = f"{_growth_phrase(target.measure, r.value, '上涨')}，控制目标{goal}{source}"
        over = ev.gap_pp or 0.0
        if round(over, 2) > 0:
            return text + f"，超出上限{fmt(over)}个百分点"
        if round(over, 2) == 0:
            return text + "，已达上限"
        return text + f"，距上限{fmt(-over)}个百分点"
    if target.kind == Kind.RELATIONAL:
        rel = ctx.related_name_zh or "相关指标"
        own = ctx.indicator_name_zh or ""
        text = (f"{own}{_growth_phrase(target.measure, r.value)}，"
                f"{rel}{_growth_phrase(target.measure, ev.related_actual or 0.0)}")
        text += _pp_gap(ev.gap_pp or 0.0, f"增速低于{rel}增速", f"增速高于{rel}增速", f"与{rel}增速持平")
        return text + f"（基本同步按相差不超过{fmt(band_of(target))}个百分点掌握）"
    if target.kind in (Kind.CUMULATIVE_TOTAL, Kind.COUNT) and ev.progress is not None:
        text = f"累计完成{fmt(r.value)}{unit}，完成全年目标{goal}的{fmt(ev.progress * 100, 1)}%"
        if r.is_final_annual:
            return text
        text += _expected_zh(target, ev)
        text += _pp_gap(ev.gap_pp or 0.0, "落后", "超前", "与时序进度持平")
        if ev.projection is not None:
            text += f"；按当前进度预计全年{fmt(ev.projection)}{unit}"
        if ev.run_rate_needed is not None and ev.months_left:
            if ev.run_rate_needed > 0:
                text += f"；完成全年目标，剩余{ev.months_left}个月月均需完成{fmt(ev.run_rate_needed)}{unit}"
            else:
                text += "；已提前完成全年目标"
        return text
    if target.kind in (Kind.LEVEL, Kind.SHARE):
        text = f"达到{fmt(r.value)}{unit}，目标{goal}"
        if ev.progress is not None and target.baseline_2023 is not None:
            text += (f"；较2023年{fmt(target.baseline_2023, 4)}{unit}，完成提升任务的{fmt(ev.progress * 100, 1)}%"
                     + _expected_zh(target, ev))
            return text + _pp_gap(ev.gap_pp or 0.0, "落后", "超前", "与时序进度持平")
        if ev.status == Status.NOT_EVALUATED:
            short = f"{fmt(-(ev.gap_abs or 0.0))}{'个百分点' if unit == '%' else unit}"
            return text + f"，尚差{short}（报告未给出2023年基数，年末判定是否完成）"
        if unit == "%" and ev.gap_pp is not None:
            return text + _pp_gap(ev.gap_pp)
        gap = ev.gap_abs or 0.0
        return text + (f"，尚差{fmt(-gap)}{unit}" if gap < 0 else "")
    return f"最新数据{fmt(r.value)}{unit}，目标{goal}"
