"""The Chinese sentence (研判) a department official reads about a target's status. Pure: no I/O.

Its parts, in order: the target, the period in release terms and what kind of figure it is (初步数, 初步核算数,
预计数, 核实数); the figure against the target; the rule that judges it, with its thresholds (判定标准); the
status (and, when hysteresis holds it, the rule that holds it and the figure that releases it); what the rest
of the year must do; notes on the verdict's data, the target's strength and a revision; who owns the target.
No message contradicts its own status: every figure it states is the one that was judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.catalogue.model import Accrual, Comparator, Kind, Measure, Strength, Target
from shared.messages import ObservationStatus, Severity
from shared.wording import amount, number, period_label, reading_of

from .model import STATUS_ZH, Evaluation, Reading, Status
from .phrases_zh import (
    cap_parts,
    flow_outlook_zh,
    flow_parts,
    growth_needed_zh,
    growth_parts,
    pct,
    relational_parts,
    share_parts,
    stock_parts,
)
from .progress import progress_ladder
from .rates import rate_ladder
from .status_reports import REPORTED_ZH, ReportedStatus

_WEAKEST = (ObservationStatus.ESTIMATED, ObservationStatus.PROVISIONAL, ObservationStatus.FINAL)


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
    deflator_name_zh: str | None = None  # and the price index, e.g. 居民消费价格
    related: Reading | None = None
    deflator: Reading | None = None
    provisional_zh: str = "初步数"  # what the indicator's provisional figures are called (初步核算数 for GDP)
    at_date: bool = False  # the indicator's levels are positions at the period's end (余额, 覆盖率)


@dataclass(frozen=True)
class Composed:
    """The sentence, and the parts an alert may show on their own."""

    text: str
    rule_zh: str  # 判定标准：…
    figure_zh: str  # 初步数, 初步核算数, 预计数, 核实数, 最终核实数
    period_zh: str


def fmt(x: float, decimals: int = 2) -> str:
    """A number with at most ``decimals`` decimals, as releases print it (see shared.wording.number)."""
    return number(round(x, decimals))


def period_zh(target: Target, r: Reading, *, at_date: bool = False) -> str:
    """The period as releases name it: 2024年1—2月 (year to date), 2024年一季度, 2024年6月末 (stocks)."""
    return period_label(r.period, reading_of(target.measure, at_date=at_date or (target.measure == Measure.LEVEL
                                             and target.accrual == Accrual.STOCK)))


def figure_zh(r: Reading, ctx: Context) -> str:
    """What kind of figure the evaluation stands on: the weakest of the figures it uses."""
    statuses = [x.status for x in (r, ctx.related, ctx.deflator) if x is not None]
    weakest = min(statuses, key=_WEAKEST.index)
    if weakest == ObservationStatus.ESTIMATED:
        return "预计数"
    if weakest == ObservationStatus.PROVISIONAL:
        return ctx.provisional_zh if ctx.related is None else "初步数"
    return "最终核实数" if r.period.is_year_end else "核实数"


def compose(target: Target, reading: Reading, ev: Evaluation, ctx: Context) -> str:
    """The notification sentence for a quantitative target's evaluation."""
    return compose_parts(target, reading, ev, ctx).text


def compose_parts(target: Target, reading: Reading, ev: Evaluation, ctx: Context) -> Composed:
    """The notification sentence, with its rule and figure kind apart."""
    figure = figure_zh(reading, ctx)
    period = period_zh(target, reading, at_date=ctx.at_date)
    body, rule = _parts(target, reading, ev, ctx)
    parts = [f"{target.name_zh}（{period}，{figure}）：{body}。{rule}。", _verdict(ev, ctx), _hold(target, ev)]
    if target.kind == Kind.GROWTH_RATE:
        parts.append(growth_needed_zh(target, reading, ev))
    elif target.kind in (Kind.COUNT, Kind.CUMULATIVE_TOTAL) or (
            target.kind == Kind.LEVEL and target.accrual != Accrual.STOCK):
        parts.append(flow_outlook_zh(target, reading, ev))
    parts.append(_notes(target, reading, ev, ctx, figure))
    parts.append(_owners(ctx))
    return Composed("".join(parts), rule, figure, period)


def _parts(target: Target, r: Reading, ev: Evaluation, ctx: Context) -> tuple[str, str]:
    if target.kind == Kind.GROWTH_RATE:
        return growth_parts(target, r, ev, at_date=ctx.at_date)
    if target.kind == Kind.CAP:
        return cap_parts(target, r, ev)
    if target.kind == Kind.RELATIONAL:
        return relational_parts(target, ev, ctx.indicator_name_zh or "", ctx.related_name_zh or "相关指标",
                                ctx.deflator_name_zh)
    subject = ctx.indicator_name_zh or target.name_zh
    if target.kind == Kind.SHARE:
        return share_parts(target, r, ev, subject)
    if target.kind == Kind.LEVEL and target.accrual == Accrual.STOCK:
        return stock_parts(target, r, ev, subject)
    return flow_parts(target, r, ev, subject)


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


def _hold(target: Target, ev: Evaluation) -> str:
    """When hysteresis holds a status: the rule, and the figure that releases it."""
    h = ev.held
    if h is None:
        return ""
    ladder = progress_ladder(target) if target.kind in (Kind.COUNT, Kind.CUMULATIVE_TOTAL, Kind.LEVEL) \
        else rate_ladder(target)
    if target.kind == Kind.CAP:
        goal = ev.goal or 0.0
        release = f"回落至{pct(goal - h.release)}及以下"
        above = Status.ON_TRACK
    else:
        statuses = ladder.statuses
        above = Status(statuses[statuses.index(ev.status) + 1])
        if target.kind in (Kind.COUNT, Kind.CUMULATIVE_TOTAL, Kind.LEVEL):
            if h.release < 0:
                release = f"落后不超过{number(-h.release)}个百分点"
            else:
                release = f"超前{number(h.release)}个百分点以上"
        elif target.kind == Kind.RELATIONAL:
            release = f"差距缩小到{number(-h.release)}个百分点以内" if h.release < 0 \
                else f"高出{number(h.release)}个百分点以上"
        else:
            value = (ev.goal or 0.0) + (-h.release if target.comparator == Comparator.AT_MOST else h.release)
            if target.comparator == Comparator.AT_MOST:  # lower is better (能耗下降3%以上): the figure must fall
                release = f"低于{pct(value)}" if h.strict else f"降至{pct(value)}及以下"
            else:
                release = f"高于{pct(value)}" if h.strict else f"达到{pct(value)}及以上"
    now = STATUS_ZH[ev.status]
    return f"上期为“{now}”，为防止在界限附近反复变动，须{release}方转为“{STATUS_ZH[above]}”，本期维持“{now}”。"


def _notes(target: Target, r: Reading, ev: Evaluation, ctx: Context, figure: str) -> str:
    out = ""
    if ev.year_end and figure not in ("最终核实数", "核实数"):
        out += f"年度数据为{figure}，最终核实后如有修订将重新判定。"
    if ev.status == Status.MISSED:
        if target.strength == Strength.BINDING:
            marker = f"（报告用语“{target.strength_marker}”）" if target.strength_marker else ""
            out += f"该目标为约束性目标{marker}，未完成按严重预警处理。"
        elif ev.far_off and target.kind == Kind.CAP and "band_pp" not in target.params:
            # A hard limit (以内) has no band to be a little over: any excess is a breach (docs/reading-rules.md 五).
            out += "该目标为预期性目标，全年超出控制上限即为突破上限，按严重预警处理。"
        elif ev.far_off:
            out += "该目标为预期性目标，但差距较大，按严重预警处理。"
        else:
            out += "该目标为预期性目标，差距不大，按一般预警处理。"
    if ev.softened:
        out += "因数据为预计数，预警级别暂按一般预警处理。"
    if ctx.is_revision:
        unit = "%" if target.measure in (Measure.YOY_PCT, Measure.CUMULATIVE_YOY_PCT) else (target.unit or "")
        version = f"第{r.vintage}版，" if r.vintage else ""
        if ctx.revised_from is not None and fmt(ctx.revised_from) == fmt(r.value):
            # A new vintage with the same number: the figure was confirmed (初步数 → 核实数, 预计数 → 初步数).
            which = "核实后的数据" if r.status == ObservationStatus.FINAL else f"更新后的数据（{figure}）"
            out += f"本次评估依据{which}（{version}{amount(r.value, unit)}，数值未作调整）。".replace("）（", "，")
        else:
            revised = ""
            if ctx.revised_from is not None:
                revised = f"由{amount(ctx.revised_from, unit)}修订为{amount(r.value, unit)}"
            detail = f"（{version}{revised}）".replace("，）", "）")
            out += f"本次评估依据修订后的数据{detail if detail != '（）' else ''}。"
    return out


def _owners(ctx: Context) -> str:
    text = f"牵头单位：{ctx.lead_zh}"
    if ctx.co_zh:
        text += f"；配合单位：{'、'.join(ctx.co_zh)}"
    return text + "。"


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
    text += "。" + _verdict(ev, ctx)
    if ev.status == Status.MISSED:
        text += ("该目标为约束性目标，未完成按严重预警处理。" if target.strength == Strength.BINDING
                 else "该目标为预期性目标，按一般预警处理。")
    return text + _owners(ctx)
