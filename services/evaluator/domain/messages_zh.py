"""The Chinese sentence a department official reads about a target's status. Pure: no I/O."""

from __future__ import annotations

from shared.catalogue.model import Comparator, Kind, Target
from shared.messages import ObservationStatus

from .evaluation import STATUS_ZH, Evaluation, Reading, Status

_OBS_STATUS_ZH = {ObservationStatus.PROVISIONAL: "初步数", ObservationStatus.ESTIMATED: "预计数",
                  ObservationStatus.FINAL: "最终数"}
_COMPARATOR_ZH = {Comparator.ABOUT: "左右", Comparator.AT_LEAST: "以上", Comparator.AT_MOST: "以内",
                  Comparator.IN_STEP: ""}


def fmt(x: float) -> str:
    """A number as a Chinese release prints it: up to two decimals, no trailing zeros."""
    s = f"{x:,.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def compose(
    target: Target,
    reading: Reading,
    ev: Evaluation,
    *,
    previous: Status | None,
    is_revision: bool,
    departments_zh: tuple[str, list[str]],
) -> str:
    """The notification sentence for a target's new status."""
    cumulative = target.measure is not None and target.measure.startswith("cumulative")
    head = f"{target.name_zh}（{reading.period.label_zh(cumulative)}，{_OBS_STATUS_ZH[reading.status]}）"
    body = _body(target, reading, ev)
    verdict = f"状态：{STATUS_ZH[ev.status]}"
    if previous is not None and previous != ev.status:
        verdict += f"（此前：{STATUS_ZH[previous]}）"
    parts = [f"{head}：{body}。{verdict}。"]
    if is_revision:
        parts.append("本次评估依据修订后的数据。")
    lead, co = departments_zh
    owners = f"牵头单位：{lead}"
    if co:
        owners += f"；配合单位：{'、'.join(co)}"
    parts.append(owners + "。")
    return "".join(parts)


def _body(target: Target, r: Reading, ev: Evaluation) -> str:
    unit = target.unit or ""
    goal = f"{fmt(target.value)}{unit}{_COMPARATOR_ZH.get(target.comparator, '')}" if target.value is not None else ""
    if target.kind == Kind.GROWTH_RATE:
        text = f"累计同比增长{fmt(r.value)}%，全年目标{goal}"
        if ev.gap_pp is not None:
            if ev.gap_pp < 0:
                text += f"，低于目标{fmt(-ev.gap_pp)}个百分点"
            elif ev.gap_pp > 0:
                text += f"，高于目标{fmt(ev.gap_pp)}个百分点"
        return text
    if target.kind in (Kind.CUMULATIVE_TOTAL, Kind.COUNT) and ev.progress is not None:
        text = (f"累计完成{fmt(r.value)}{unit}，完成全年目标{goal}的{fmt(ev.progress * 100)}%，"
                f"时序进度{fmt((ev.expected_progress or 0) * 100)}%")
        if ev.gap_pp is not None and ev.gap_pp < 0:
            text += f"，落后{fmt(-ev.gap_pp)}个百分点"
        elif ev.gap_pp is not None and ev.gap_pp > 0:
            text += f"，超前{fmt(ev.gap_pp)}个百分点"
        if ev.projection is not None and r.period.year_fraction < 1:
            text += f"；按当前进度预计全年{fmt(ev.projection)}{unit}"
        if ev.run_rate_needed is not None and ev.run_rate_needed > 0:
            months_left = 12 - r.period.last_month
            text += f"；完成全年目标，剩余{months_left}个月月均需完成{fmt(ev.run_rate_needed)}{unit}"
        return text
    return f"最新数据{fmt(r.value)}{unit}，目标{goal}"
