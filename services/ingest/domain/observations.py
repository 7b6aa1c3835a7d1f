"""Ingest's rules for a submitted observation: pure checks against the catalogue, and revision decisions."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shared.catalogue import Catalogue
from shared.catalogue.model import Frequency, Indicator, Measure
from shared.periods import Period, PeriodError
from shared.regions import REGIONS
from shared.units import UnitError, convert, convertible_units

# Growth rates outside this range are typing errors, not statistics (the 2020-21 swings stayed inside).
GROWTH_PCT_BOUNDS = (-100.0, 1000.0)
PCT_MEASURES = frozenset({Measure.YOY_PCT, Measure.CUMULATIVE_YOY_PCT})

# A period of a coarser frequency than the indicator's is fine (a monthly series can be reported for a
# quarter or a year); a finer one is not.
_ALLOWED_PERIODS: dict[Frequency, frozenset[Frequency]] = {
    Frequency.MONTHLY: frozenset(Frequency),
    Frequency.QUARTERLY: frozenset({Frequency.QUARTERLY, Frequency.HALF_YEARLY, Frequency.ANNUAL}),
    Frequency.HALF_YEARLY: frozenset({Frequency.HALF_YEARLY, Frequency.ANNUAL}),
    Frequency.ANNUAL: frozenset({Frequency.ANNUAL}),
}


@dataclass(frozen=True)
class Submission:
    """One observation as a bureau submitted it (already shaped by the API schema)."""

    indicator: str
    region: str
    period: str
    measure: str
    value: float
    unit: str
    status: str
    note: str | None = None
    source: str | None = None
    revision_reason: str | None = None
    growth_basis: str | None = None  # "real" or "nominal", as the release labels the growth (实际/名义增长)


@dataclass(frozen=True)
class FieldError:
    """A rejected field: which row, which field, which rule, and why in English and in Chinese."""

    row: int
    field: str
    rule: str
    message: str
    message_zh: str


def period_hint_zh(raw: str) -> str:
    """The Chinese message for a period code that does not parse."""
    return f"期别“{raw}”格式有误：应为 2024、2024-S1（半年）、2024-Q1（季度）或 2024-M03（月份，2024-M02 为1—2月）"


_FREQUENCY_ZH = {Frequency.ANNUAL: "年度", Frequency.HALF_YEARLY: "半年度", Frequency.QUARTERLY: "季度",
                 Frequency.MONTHLY: "月度"}


@dataclass(frozen=True)
class Checked:
    """A valid submission with its value converted to the indicator's unit."""

    submission: Submission
    indicator: Indicator
    period: Period
    value: float
    unit: str

    @functools.cached_property  # read several times per row in a batch
    def series_key(self) -> str:
        s = self.submission
        return f"{s.indicator}|{s.region}|{self.period.code}|{s.measure}"


class Outcome(StrEnum):
    """What recording a submission did."""

    CREATED = "created"  # the first figure for the series
    REVISED = "revised"  # a new vintage with a different value or status
    UNCHANGED = "unchanged"  # the same value again: nothing stored, nothing published


def check_submission(catalogue: Catalogue, row: int, s: Submission, today: date) -> Checked | list[FieldError]:
    """Check one submission against the catalogue and the calendar; returns it converted, or every error."""
    errors: list[FieldError] = []

    def fail(field: str, rule: str, message: str, message_zh: str) -> None:
        errors.append(FieldError(row, field, rule, message, message_zh))

    ind = catalogue.indicators.get(s.indicator)
    if ind is None:
        fail("indicator", "unknown_indicator", f"unknown indicator {s.indicator!r}; GET /v1/indicators lists them",
             f"未知指标“{s.indicator}”；可报送的指标及其写法见报送模板（上传页面“下载模板”）")
    if s.region not in REGIONS:
        fail("region", "unknown_region", f"unknown region {s.region!r}; one of {', '.join(REGIONS)}",
             f"未知地区“{s.region}”；应为以下之一：{'、'.join(f'{k}（{v}）' for k, v in REGIONS.items())}")
    period: Period | None = None
    try:
        period = Period.parse(s.period)
    except PeriodError as exc:
        fail("period", "period_format", str(exc), period_hint_zh(s.period))
    if period is not None and period.start_date() > today:
        fail("period", "period_in_future", f"period {s.period} begins {period.start_date()}, after today ({today})",
             f"期别{s.period}尚未开始（{period.start_date()}开始）")
    elif period is not None and not period.has_ended(today):
        # A figure for a period under way (an annual figure in July) would become the latest reading and freeze
        # the target; a 预计 full-year figure is sent once the year is over, as status "estimated".
        fail("period", "period_not_ended", f"period {s.period} has not ended (it ends {period.end_date()})",
             f"期别{s.period}尚未结束（{period.end_date()}结束），其数据须在期末之后报送")
    if not math.isfinite(s.value):
        fail("value", "finite", "value must be a finite number", "数值必须是有限数（不能是 NaN 或无穷大）")
    value = s.value
    unit = s.unit
    if ind is not None:
        if s.measure not in ind.measures:
            fail("measure", "measure_not_reported", f"{ind.id} is reported as {', '.join(ind.measures)}, not "
                 f"{s.measure}", f"{ind.name_zh}的口径为{'、'.join(ind.measures)}，不接受{s.measure}")
        if period is not None and period.frequency not in _ALLOWED_PERIODS[ind.frequency]:
            fail("period", "period_frequency", f"{ind.id} is published {ind.frequency.name.lower()}; "
                 f"a {period.frequency.name.lower()} period is finer than that",
                 f"{ind.name_zh}按{_FREQUENCY_ZH[ind.frequency]}发布，不能按更细的{_FREQUENCY_ZH[period.frequency]}期别报送")
        if s.growth_basis is not None:
            basis_errors(ind, s, fail)
        if s.measure in PCT_MEASURES:
            if s.unit != "%":
                fail("unit", "unit_mismatch", f"growth rates are in %, not {s.unit!r}",
                     f"增速的单位应为 %，不是“{s.unit}”")
            elif math.isfinite(s.value) and not GROWTH_PCT_BOUNDS[0] <= s.value <= GROWTH_PCT_BOUNDS[1]:
                lo, hi = GROWTH_PCT_BOUNDS
                fail("value", "plausible_range", f"growth of {s.value}% is outside {lo}..{hi}%",
                     f"增速{s.value}%超出合理范围（{lo}%至{hi}%）")
        else:
            try:
                value = convert(s.value, s.unit, ind.unit)
                unit = ind.unit
            except UnitError as exc:
                fail("unit", "unit_mismatch", str(exc),
                     f"单位“{s.unit}”无法换算为{ind.name_zh}的单位“{ind.unit}”（可用：{'、'.join(convertible_units(ind.unit))}）")
            else:
                low, high = ind.min_value, ind.max_value
                if math.isfinite(value) and ((low is not None and value < low) or (high is not None and value > high)):
                    fail("value", "plausible_range", f"{value:g} {ind.unit} is outside the plausible range "
                         f"{low}..{high} {ind.unit} for {ind.id}",
                         f"{value:g}{ind.unit}超出{ind.name_zh}的合理范围（{low}至{high}{ind.unit}），请核对数值和单位")
    if errors:
        return errors
    assert ind is not None and period is not None
    return Checked(s, ind, period, value, unit)


_BASIS_ZH = {"real": "实际增长（扣除价格因素）", "nominal": "名义增长（现价）"}


def basis_errors(ind: Indicator, s: Submission, fail: Callable[[str, str, str, str], None]) -> None:
    """A growth stated as real or nominal must be the basis the catalogue reads the indicator in.

    Household income is released both ways (名义增长 and 实际增长); the target compares it with GDP on one basis,
    so a real figure sent for a nominal series would pair unlike with unlike and shift the verdict.
    """
    if s.growth_basis not in _BASIS_ZH:
        fail("growth_basis", "growth_basis_value", f"growth_basis {s.growth_basis!r} is not real or nominal",
             f"增长口径“{s.growth_basis}”无效：应为 real（实际增长）或 nominal（名义增长）")
    elif s.measure not in PCT_MEASURES:
        fail("growth_basis", "growth_basis_not_a_growth", f"growth_basis applies to growth rates, not {s.measure}",
             f"增长口径只适用于增速，不适用于{s.measure}")
    elif ind.growth_basis is not None and s.growth_basis != ind.growth_basis.value:
        fail("growth_basis", "growth_basis_mismatch",
             f"{ind.id} is read as {ind.growth_basis.value} growth; a {s.growth_basis} figure would compare unlike "
             "with unlike", f"{ind.name_zh}按{_BASIS_ZH[ind.growth_basis.value]}报送和评估，不接受"
             f"{_BASIS_ZH[s.growth_basis]}数据（相关目标按同一口径比较）")


def decide(current_value: float | None, current_status: str | None, checked: Checked) -> Outcome:
    """Whether a submission creates a series, revises it, or repeats what is stored."""
    if current_value is None:
        return Outcome.CREATED
    if current_value == checked.value and current_status == checked.submission.status:
        return Outcome.UNCHANGED
    return Outcome.REVISED


def period_start(p: Period) -> date:
    """The first day of a period (2024-Q2 → 2024-04-01)."""
    months = {Frequency.ANNUAL: 12, Frequency.HALF_YEARLY: 6, Frequency.QUARTERLY: 3, Frequency.MONTHLY: 1}
    return date(p.year, p.last_month - months[p.frequency] + 1, 1)


@dataclass(frozen=True)
class StoredObservation:
    """One stored vintage of a series (``pk`` is None until it is written)."""

    id: str
    series_key: str
    indicator: str
    region: str
    period: str
    measure: str
    vintage: int
    is_current: bool
    value: float  # in the indicator's canonical unit
    unit: str
    submitted_value: float
    submitted_unit: str
    status: str
    revision_reason: str | None
    note: str | None
    source: str | None
    submitted_by: str
    recorded_at: datetime
    api_key_id: str | None = None
    pk: int | None = None


@dataclass(frozen=True)
class ObservationQuery:
    """What a reader asks for: one indicator, optionally a region and a period, limited to some regions."""

    indicator: str
    region: str | None = None
    period: str | None = None
    current_only: bool = False
    limit: int = 1000
    regions: frozenset[str] | None = None  # the regions the reader may see; None: all
