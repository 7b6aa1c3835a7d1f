"""How figures and periods are written in Chinese, once for every service (the evaluator's 研判, the alerts).

Numbers are written as Wuxi's releases write them: no thousands separators, trailing zeros dropped, counts
whole, amounts to at most two decimals, rates as reported. Periods are named as releases name them: a
year-to-date figure by its months (2024年1—6月) or, for quarterly and half-yearly series, by the quarter
(2024年一季度, 上半年, 前三季度, 全年); a stock or a ratio at a date by that date (2024年6月末, 2024年末); a
figure of one month or quarter alone by that month or quarter (2024年6月, 2024年二季度).
"""

from __future__ import annotations

import math
from typing import Literal

from shared.catalogue.model import Frequency, Measure
from shared.periods import Period, PeriodError

PeriodReading = Literal["cumulative", "at_date", "period"]

_QUARTER_CUMULATIVE_ZH = {1: "一季度", 2: "上半年", 3: "前三季度", 4: "全年"}
_QUARTER_ZH = {1: "一季度", 2: "二季度", 3: "三季度", 4: "四季度"}

# Units of things counted one by one: a count is written whole (a ratio in such a unit, 每千人口托位数4.5个,
# keeps its decimals because it is not whole).
COUNT_UNITS = frozenset({"家", "个", "项", "所", "部", "条", "座", "块", "场", "人", "户", "套", "辆", "次"})
# Most decimals written per unit. 万家 and 万个 keep four so that a count quoted in 万 stays exact
# (1.2453万家 is the report's 12453家); 元 per head is written whole, as the survey team's releases do.
_MAX_DECIMALS = {"%": 2, "元": 0, "万家": 4, "万个": 4}
_DEFAULT_DECIMALS = 2


def period_label(period: Period | str, reading: PeriodReading = "cumulative") -> str:
    """The period as a release names it; a code that does not parse is returned as it is."""
    if isinstance(period, str):
        try:
            return period_label(Period.parse(period), reading)
        except PeriodError:
            return period
    y = f"{period.year}年"
    if reading == "at_date":
        return y + ("末" if period.is_year_end else f"{period.last_month}月末")
    f, i = period.frequency, period.index
    if reading == "period":
        if f == Frequency.ANNUAL:
            return y
        if f == Frequency.HALF_YEARLY:
            return y + ("上半年" if i == 1 else "下半年")
        if f == Frequency.QUARTERLY:
            return y + _QUARTER_ZH[i]
        return y + f"{i}月"
    if f == Frequency.ANNUAL or (f == Frequency.HALF_YEARLY and i == 2):
        return y + "全年"
    if f == Frequency.HALF_YEARLY:
        return y + "上半年"
    if f == Frequency.QUARTERLY:
        return y + _QUARTER_CUMULATIVE_ZH[i]
    return y + ("1月" if i == 1 else f"1—{i}月")


def reading_of(measure: Measure | str | None, *, at_date: bool) -> PeriodReading:
    """How a figure of this measure is dated: year-to-date, at the period's end (stocks), or the period alone."""
    if measure in (Measure.CUMULATIVE_LEVEL, Measure.CUMULATIVE_YOY_PCT):
        return "cumulative"
    return "at_date" if at_date else "period"


def decimals_of(unit: str | None) -> int:
    """Most decimals a figure in this unit is written with."""
    return _MAX_DECIMALS.get(unit or "", _DEFAULT_DECIMALS)


def number(x: float, unit: str | None = None) -> str:
    """A figure as a release writes it: no thousands separator, no trailing zeros, decimals by unit."""
    if not math.isfinite(x):
        return "—"
    places = decimals_of(unit)
    if unit in COUNT_UNITS and float(x).is_integer():
        places = 0
    s = f"{x:.{places}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def amount(x: float, unit: str | None) -> str:
    """A figure with its unit: 4550亿元, 4.9%, 80家."""
    return f"{number(x, unit)}{unit or ''}"


def share(fraction: float) -> str:
    """A share of a whole (a completion rate, a 序时进度) in %, to one decimal: 0.505 → 50.5%."""
    return f"{number(round(fraction * 100, 1))}%"


def points(pp: float) -> str:
    """A difference of rates or shares: 0.6个百分点 (the sign is said in words by the caller)."""
    return f"{number(round(abs(pp), 2))}个百分点"


def approximately(x: float, unit: str | None) -> str:
    """A projection, to the three significant figures a partial-year figure supports: 约3640亿元."""
    if not math.isfinite(x) or x == 0:
        return amount(0.0, unit)
    rounded = float(f"{x:.3g}")
    if unit in COUNT_UNITS:
        rounded = float(round(rounded))
    return f"约{amount(rounded, unit)}"


# The labels of the figures in a notification, per kind of target, as officials label them: a growth rate
# has an actual and a target growth (实际增速 / 目标增速), an amount a cumulative figure, a 序时进度要求 and a
# 完成率; never "实际完成 / 序时进度要求" for a rate.
FIGURE_LABELS: dict[str, tuple[str, str, str | None]] = {
    "growth_rate": ("实际增速", "目标增速", None),
    "cap": ("实际涨幅", "调控目标", None),
    "relational": ("实际增速", "对比增速", None),
    "cumulative_total": ("累计完成", "序时进度要求", "完成率"),
    "count": ("累计完成", "序时进度要求", "完成率"),
    "level": ("期末数值", "目标值", "完成率"),
    "share": ("实际比重", "目标比重", None),
}


def figure_labels(kind: str) -> tuple[str, str, str | None]:
    """(actual, expected, progress) labels of a kind of target; progress is None where a rate has no 完成率."""
    return FIGURE_LABELS.get(kind, ("实际值", "目标值", None))


__all__ = [
    "COUNT_UNITS", "FIGURE_LABELS", "PeriodReading", "amount", "approximately", "decimals_of", "figure_labels",
    "number", "period_label", "points", "reading_of", "share",
]
