"""Ingest's rules for a submitted observation: pure checks against the catalogue, and revision decisions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shared.catalogue import Catalogue
from shared.catalogue.model import Frequency, Indicator, Measure
from shared.periods import Period, PeriodError
from shared.units import UnitError, convert

REGIONS: dict[str, str] = {
    "wuxi": "无锡市",
    "jiangyin": "江阴市",
    "yixing": "宜兴市",
    "liangxi": "梁溪区",
    "xishan": "锡山区",
    "huishan": "惠山区",
    "binhu": "滨湖区",
    "xinwu": "新吴区",
    "jingkai": "经开区",
}

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


@dataclass(frozen=True)
class FieldError:
    """A rejected field: which row, which field, which rule."""

    row: int
    field: str
    rule: str
    message: str


@dataclass(frozen=True)
class Checked:
    """A valid submission with its value converted to the indicator's unit."""

    submission: Submission
    indicator: Indicator
    period: Period
    value: float
    unit: str

    @property
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
    ind = catalogue.indicators.get(s.indicator)
    if ind is None:
        errors.append(FieldError(row, "indicator", "unknown_indicator",
                                 f"unknown indicator {s.indicator!r}; GET /v1/indicators lists them"))
    if s.region not in REGIONS:
        errors.append(FieldError(row, "region", "unknown_region",
                                 f"unknown region {s.region!r}; one of {', '.join(REGIONS)}"))
    period: Period | None = None
    try:
        period = Period.parse(s.period)
    except PeriodError as exc:
        errors.append(FieldError(row, "period", "period_format", str(exc)))
    if period is not None and period.start_date() > today:
        errors.append(FieldError(row, "period", "period_in_future",
                                 f"期别{s.period}尚未开始；period {s.period} begins {period.start_date()}, "
                                 f"after today ({today})"))
    elif period is not None and not period.has_ended(today):
        # A figure for a period under way (an annual figure in July) would become the latest reading and freeze
        # the target; a 预计 full-year figure is sent once the year is over, as status "estimated".
        errors.append(FieldError(row, "period", "period_not_ended",
                                 f"期别{s.period}尚未结束（{period.end_date()}结束），其数据须在期末之后报送；"
                                 f"period {s.period} has not ended (it ends {period.end_date()})"))
    if not math.isfinite(s.value):
        errors.append(FieldError(row, "value", "finite", "value must be a finite number"))
    value = s.value
    unit = s.unit
    if ind is not None:
        if s.measure not in ind.measures:
            errors.append(FieldError(row, "measure", "measure_not_reported",
                                     f"{ind.id} is reported as {', '.join(ind.measures)}, not {s.measure}"))
        if period is not None and period.frequency not in _ALLOWED_PERIODS[ind.frequency]:
            errors.append(FieldError(row, "period", "period_frequency",
                                     f"{ind.id} is published {ind.frequency.name.lower()}; "
                                     f"a {period.frequency.name.lower()} period is finer than that"))
        if s.measure in PCT_MEASURES:
            if s.unit != "%":
                errors.append(FieldError(row, "unit", "unit_mismatch", f"growth rates are in %, not {s.unit!r}"))
            elif math.isfinite(s.value) and not GROWTH_PCT_BOUNDS[0] <= s.value <= GROWTH_PCT_BOUNDS[1]:
                lo, hi = GROWTH_PCT_BOUNDS
                errors.append(FieldError(row, "value", "plausible_range",
                                         f"growth of {s.value}% is outside {lo}..{hi}%"))
        else:
            try:
                value = convert(s.value, s.unit, ind.unit)
                unit = ind.unit
            except UnitError as exc:
                errors.append(FieldError(row, "unit", "unit_mismatch", str(exc)))
            else:
                lo, hi = ind.min_value, ind.max_value
                if math.isfinite(value) and ((lo is not None and value < lo) or (hi is not None and value > hi)):
                    errors.append(FieldError(row, "value", "plausible_range",
                                             f"{value:g} {ind.unit} is outside the plausible range "
                                             f"{lo}..{hi} {ind.unit} for {ind.id}"))
    if errors:
        return errors
    assert ind is not None and period is not None
    return Checked(s, ind, period, value, unit)


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
