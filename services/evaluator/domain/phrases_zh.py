"""The per-kind parts of a 研判 sentence: what the figure is, against what, and the rule that judges it. Pure.

Each ``*_parts`` returns (body, rule): the body states the figure and the target as releases and 督查 notices
word them; the rule states the thresholds, so a reader can check the status against them.
"""

from __future__ import annotations

from shared.catalogue.model import Accrual, Comparator, Kind, Schedule, Target
from shared.periods import Period
from shared.wording import amount, approximately, number, period_label, points, share

from .model import DEFAULT_WARN_MARGIN_PP, Evaluation, Reading, band_of, param
from .progress import progress_ladder
from .rates import lower_edge

Parts = tuple[str, str]


def pct(x: float) -> str:
    """A rate: 4.9%."""
    return amount(x, "%")


def goal_zh(target: Target, goal: float) -> str:
    """The target value as the report words it: 5.5%左右, 4550亿元, 500家以上, 3%以内."""
    suffix = ""
    if target.comparator in (Comparator.ABOUT, Comparator.IN_STEP):
        suffix = "左右"
    elif target.comparator == Comparator.AT_MOST:
        suffix = "以内"
    elif any(w in target.phrase for w in ("以上", "超", "突破", "不少于")):
        suffix = "以上"
    elif target.baseline_2023 == goal:  # 持续攀升: the 2023 level is the floor
        suffix = "以上（2023年水平）"
    return f"{amount(goal, target.unit)}{suffix}"


def _growth(value: float, rising: str = "增长") -> str:
    if value < 0:
        return f"下降{pct(-value)}"
    if value == 0:
        return "与上年持平"
    return f"{rising}{pct(value)}"


def derived(x: float, unit: str | None) -> str:
    """A figure the evaluator derived (a run-rate): a count under one 万 in whole units (0.05万家 → 500家)."""
    if unit in ("万家", "万个", "万人") and abs(x) < 1:
        return amount(float(round(x * 10000)), unit[1:])
    if unit == "万亿元" and abs(x) < 1:
        return amount(round(x * 10000, 2), "亿元")
    return amount(x, unit)


def _gap(gap: float, below: str, above: str, same: str) -> str:
    if round(gap, 2) < 0:
        return f"{below}{points(gap)}"
    if round(gap, 2) > 0:
        return f"{above}{points(gap)}"
    return same


def growth_parts(target: Target, r: Reading, ev: Evaluation, *, at_date: bool) -> Parts:
    """增长X%左右 / 增长X%以上: the growth, where it stands against the target, and the rule."""
    goal, b, value = ev.goal or 0.0, band_of(target), ev.actual or 0.0
    subject = "余额同比" if at_date else "同比"
    body = f"{subject}{_growth(value)}，全年目标增长{goal_zh(target, goal)}"
    if target.comparator == Comparator.ABOUT:
        lo, hi = goal - b, goal + b
        if value < lo:
            body += f"，低于目标区间下限（{pct(lo)}）{points(value - lo)}"
        elif value > hi:
            body += f"，高于目标区间上限（{pct(hi)}）{points(value - hi)}"
        else:
            body += f"，处于目标区间（{pct(lo)}—{pct(hi)}）"
        if ev.year_end:
            return body, f"判定标准：全年增速不低于{pct(lo)}（目标区间下限）为完成目标"
        return body, (f"判定标准：增速{pct(lo)}—{pct(hi)}（目标±{number(b)}个百分点）为符合进度，低于{pct(lo)}为滞后，"
                      f"低于{pct(goal - 2 * b)}为严重滞后，高于{pct(hi)}为超前")
    body += _gap(value - goal, "，低于目标", "，高于目标", "，与目标持平")
    if ev.year_end:
        return body, f"判定标准：全年增速不低于{pct(goal)}为完成目标"
    return body, (f"判定标准：增速不低于{pct(goal)}为符合进度，低于{pct(goal)}为滞后，"
                  f"低于{pct(goal - 2 * b)}为严重滞后，高于{pct(goal + 2 * b)}为超前")


def rest_of_year(period: Period) -> str:
    """The rest of the year after a period, as releases say it: 后三个季度, 下半年, 四季度, 7—12月, 12月."""
    n = period.last_month
    if period.months_spanned >= 3 and n % 3 == 0:
        return {3: "后三个季度", 6: "下半年", 9: "四季度"}[n]
    return "12月" if n == 11 else f"{n + 1}—12月"


def growth_needed_zh(target: Target, r: Reading, ev: Evaluation) -> str:
    """What the rest of the year must grow for the year to reach the band's lower edge, and how it is weighted."""
    if ev.growth_needed is None or ev.goal is None:
        return ""
    edge = lower_edge(target, ev.goal)
    which = "（目标区间下限）" if target.comparator == Comparator.ABOUT else ""
    last = Period(r.period.year - 1, r.period.frequency, r.period.index)
    if ev.growth_weight is not None:
        how = f"按{period_label(last)}占全年{share(ev.growth_weight)}的比重加权"
    else:
        unit = "各季度" if r.period.months_spanned >= 3 else "各月"
        how = f"未报送{last.year}年同期累计数据，{unit}按等权估算"
    return (f"要实现全年增长{pct(edge)}{which}，{rest_of_year(r.period)}需增长{pct(ev.growth_needed)}以上"
            f"（{how}）。")


def cap_parts(target: Target, r: Reading, ev: Evaluation) -> Parts:
    """控制在省定范围内: the rise against the province's limit, read with its band (3%左右)."""
    limit, value = ev.goal or 0.0, ev.actual or 0.0
    body = f"同比{_growth(value, '上涨')}"
    if "band_pp" in target.params:
        b = band_of(target)
        top = limit + b
        words = target.params.get("province_phrase", f"{number(limit)}%左右")
        body += f"，省定调控目标{words}（按±{number(b)}个百分点掌握，上限{pct(top)}）"
        if value <= limit:
            body += f"，未超过{pct(limit)}"
        elif value <= top:
            body += f"，高于{pct(limit)}，未超过上限{pct(top)}"
        else:
            body += f"，超出上限（{pct(top)}）{points(value - top)}"
        if ev.year_end:
            return body, f"判定标准：全年涨幅不超过{pct(top)}（{words}的上限）为完成目标"
        return body, (f"判定标准：涨幅不超过{pct(limit)}为符合进度，高于{pct(limit)}、不超过{pct(top)}为接近上限，"
                      f"超过{pct(top)}为突破上限")
    warn = param(target, "warn_margin_pp", DEFAULT_WARN_MARGIN_PP)
    body += f"，控制目标{goal_zh(target, limit)}" + _gap(value - limit, "，距上限", "，超出上限", "，已达上限")
    if ev.year_end:
        return body, f"判定标准：全年涨幅不超过{pct(limit)}为完成目标"
    return body, (f"判定标准：低于上限{number(warn)}个百分点以上为符合进度，"
                  f"距上限{number(warn)}个百分点以内为接近上限，超过上限为突破上限")


def relational_parts(target: Target, ev: Evaluation, own_zh: str, related_zh: str, deflator_zh: str | None
                     ) -> Parts:
    """基本同步: the own growth (deflated to real when the basis is real) against the related one."""
    b, value, other = band_of(target), ev.actual or 0.0, ev.related_actual or 0.0
    if ev.nominal is not None and ev.deflator is not None:
        price = deflator_zh or "居民消费价格"
        body = (f"{own_zh}名义{_growth(ev.nominal)}，扣除价格因素（{price}{_growth(ev.deflator, '上涨')}）实际"
                f"{_growth(value)}；{related_zh}{_growth(other)}；实际增速")
        subject = "收入实际增速"
    else:
        body = f"{own_zh}{_growth(value)}，{related_zh}{_growth(other)}，增速"
        subject = "增速"
    body += _gap(value - other, f"低于{related_zh}增速", f"高于{related_zh}增速", f"与{related_zh}增速持平")
    if ev.year_end:
        return body, f"判定标准：全年{subject}低于{related_zh}增速不超过{number(b)}个百分点为完成目标"
    return body, (f"判定标准：两者相差不超过{number(b)}个百分点为基本同步（符合进度），"
                  f"低出超过{number(b)}个百分点为滞后、超过{number(2 * b)}个百分点为严重滞后，"
                  f"高出超过{number(b)}个百分点为超前")


def _progress_rule(target: Target, of: str = "完成率") -> str:
    _, _, tol = progress_ladder(target).bounds
    far = -progress_ladder(target).bounds[0]
    return (f"判定标准：{of}与序时进度相差不超过{number(tol)}个百分点为符合进度，落后超过{number(tol)}个百分点为滞后、"
            f"超过{number(far)}个百分点为严重滞后，超前超过{number(tol)}个百分点为超前")


def _expected_zh(ev: Evaluation, r: Reading, target: Target) -> str:
    required = f"序时进度要求{share(ev.expected_progress or 0.0)}"
    last = r.period.year - 1
    if ev.path == "previous_year":
        return f"{required}（按{last}年同期进度；按时间进度为{share(ev.linear_progress or 0.0)}）"
    if ev.path == "linear_no_data":
        return f"{required}（按时间进度，未报送{last}年同期数据）"
    if ev.path == "batch":
        return f"{required}（按{_months_zh(target.batch_months)}集中认定掌握）"
    return required


def _months_zh(months: tuple[int, ...]) -> str:
    if len(months) == 1:
        return f"{months[0]}月"
    if list(months) == list(range(months[0], months[-1] + 1)):
        return f"{months[0]}—{months[-1]}月"
    return "、".join(f"{m}月" for m in months)


def flow_parts(target: Target, r: Reading, ev: Evaluation, subject: str) -> Parts:
    """A count or total built up over the year (or a level of the year): against 序时进度, or met or not."""
    unit, goal = target.unit, ev.goal or 0.0
    if target.kind == Kind.LEVEL:
        figure = f"{subject}为{amount(r.value, unit)}"
    elif target.accrual == Accrual.NET_ADDED:
        figure = f"净增{amount(r.value, unit)}"
    else:
        figure = f"累计完成{amount(r.value, unit)}"
    if ev.year_end:
        body = f"全年{figure}"
        if target.kind == Kind.LEVEL:
            body += f"，目标{goal_zh(target, goal)}"
        else:
            body += f"，完成率{share(ev.progress or 0.0)}（全年目标{goal_zh(target, goal)}）"
        short = goal - r.value
        body += f"，差{derived(short, unit)}" if short > 0 else ""
        return body, f"判定标准：全年{'' if target.kind == Kind.LEVEL else '完成'}{amount(goal, unit)}及以上为完成目标"
    if ev.path in ("batch", "year_end") and ev.expected_progress is None:
        body = f"{figure}，全年目标{goal_zh(target, goal)}"
        if ev.status.value == "ahead":
            body += "，已完成全年目标"
        if target.schedule == Schedule.BATCH:
            rule = f"判定规则：该项集中在{_months_zh(target.batch_months)}认定，认定前不按序时进度评估"
        else:
            rule = "判定规则：该项按年度统计，年中不按序时进度评估"
        return body, rule + "，其间已完成全年目标的为超前，年末判定是否完成"
    body = (f"{figure}，完成率{share(ev.progress or 0.0)}（全年目标{goal_zh(target, goal)}），"
            f"{_expected_zh(ev, r, target)}，" + _gap(ev.gap_pp or 0.0, "落后", "超前", "与序时进度持平"))
    return body, _progress_rule(target)


def flow_outlook_zh(target: Target, r: Reading, ev: Evaluation) -> str:
    """The projection and what the rest of the year must still do (along the same path as 序时进度)."""
    if ev.year_end or ev.expected_progress is None:
        return ""
    unit, goal = target.unit, ev.goal or 0.0
    out = ""
    if ev.projection is not None:
        how = f"按{r.period.year - 1}年进度分布推算" if ev.path == "previous_year" else "按当前进度"
        out += f"{how}，全年预计{approximately(ev.projection, unit)}；"
    remaining = goal - r.value
    if remaining <= 0:
        return out + "已提前完成全年目标。"
    if not ev.months_left:
        return out.rstrip("；") + "。" if out else ""
    if ev.path == "previous_year":
        out += f"完成全年目标，剩余{ev.months_left}个月需完成{derived(round(remaining, 2), unit)}"
        if ev.next_period_needed is not None:
            nxt = _next_period(r.period)
            when = period_label(nxt, "period").removeprefix(f"{nxt.year}年")
            out += f"，按{r.period.year - 1}年进度分布，{when}需完成{approximately(ev.next_period_needed, unit)}"
        return out + "。"
    return out + f"完成全年目标，剩余{ev.months_left}个月月均需完成{derived(ev.run_rate_needed or 0.0, unit)}。"


def _next_period(p: Period) -> Period:
    return Period(p.year, p.frequency, p.index + 1)


def _change(x: float, unit: str | None) -> str:
    return points(x) if unit == "%" else amount(abs(x), unit)


def stock_parts(target: Target, r: Reading, ev: Evaluation, subject: str) -> Parts:
    """A stock or ratio at a date: along the straight path from last year's end level, or met or not."""
    unit, goal = target.unit, ev.goal or 0.0
    short = goal - r.value
    last = r.period.year - 1
    if ev.year_end:
        body = f"{subject}年末为{amount(r.value, unit)}，全年目标{goal_zh(target, goal)}"
        body += f"，差{_change(short, unit) if unit == '%' else derived(short, unit)}" if short > 0 else ""
        return body, f"判定标准：年末不低于{amount(goal, unit)}为完成目标"
    body = f"{subject}为{amount(r.value, unit)}，全年目标{goal_zh(target, goal)}"
    if ev.path in ("no_start", "year_end"):
        if short < 0:
            body += "，已超过全年目标"
        elif short == 0:
            body += "，与全年目标持平"
        else:
            body += f"，尚差{_change(short, unit) if unit == '%' else derived(short, unit)}"
        if ev.path == "year_end":
            return body, "判定规则：该项为年末时点目标，年中已超过目标值的为超前，年末判定是否完成"
        return body, (f"判定规则：时点目标按{last}年末水平至目标值的直线进度掌握；未报送{last}年末数据时，年中未超过"
                      "目标值的暂不评估、已超过的为超前，年末判定是否完成")
    change = r.value - (ev.start or 0.0)
    moved = f"{'提高' if change >= 0 else '下降'}{_change(change, unit)}"
    body += (f"；较{last}年末{amount(ev.start or 0.0, unit)}{moved}，完成提升任务的{share(ev.progress or 0.0)}，"
             f"序时进度要求{share(ev.expected_progress or 0.0)}，"
             + _gap(ev.gap_pp or 0.0, "落后", "超前", "与序时进度持平"))
    rule = _progress_rule(target, "完成提升任务的比例") + f"（按{last}年末水平至全年目标的直线进度计算）"
    return body, rule


def share_parts(target: Target, r: Reading, ev: Evaluation, subject: str) -> Parts:
    """A share or ratio read against its target value."""
    goal, b, value = ev.goal or 0.0, band_of(target), ev.actual or 0.0
    body = f"{subject}为{pct(value)}，目标{goal_zh(target, goal)}"
    if ev.status.value == "not_evaluated":
        return body, "判定规则：该项按年度统计，年末判定是否完成"
    if target.comparator == Comparator.ABOUT:
        lo, hi = goal - b, goal + b
        if value < lo:
            body += f"，低于目标区间下限（{pct(lo)}）{points(value - lo)}"
        elif value > hi:
            body += f"，高于目标区间上限（{pct(hi)}）{points(value - hi)}"
        else:
            body += f"，处于目标区间（{pct(lo)}—{pct(hi)}）"
        if ev.year_end:
            return body, f"判定标准：全年不低于{pct(lo)}（目标区间下限）为完成目标"
        return body, (f"判定标准：{pct(lo)}—{pct(hi)}为符合进度，低于{pct(lo)}为滞后，"
                      f"低于{pct(goal - 2 * b)}为严重滞后，高于{pct(hi)}为超前")
    body += _gap(value - goal, "，低于目标", "，高于目标", "，与目标持平")
    if ev.year_end:
        return body, f"判定标准：全年不低于{pct(goal)}为完成目标"
    return body, (f"判定标准：不低于{pct(goal)}为符合进度，低于{pct(goal)}为滞后，低于{pct(goal - 2 * b)}为严重滞后，"
                  f"高于{pct(goal + 2 * b)}为超前")
