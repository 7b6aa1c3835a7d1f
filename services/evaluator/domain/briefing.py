"""The monthly 督查通报: which month it covers, where each target stood at that month's end, which targets it
lists and in what order. Pure: no I/O. docs/reading-rules.md (十三、督查通报) states the same rules in Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta, timezone
from typing import Protocol, TypeVar

from shared.catalogue.model import SECTIONS, Frequency, Target
from shared.periods import Period, PeriodError

from .model import STATUS_ZH, Status

# The 通报 is dated and cut off in Beijing time, as the departments date their reports.
BEIJING = timezone(timedelta(hours=8))
# Severities a 通报 lists (滞后, 严重滞后, 接近上限, 突破上限, 存在风险, 未完成): the board's 需关注.
LISTED_SEVERITIES = ("critical", "warning")
NO_DATA_ZH = "暂无数据"


class MonthError(ValueError):
    """The ``period`` of a 通报 is missing or not a month; ``msg_zh`` says the rule in Chinese."""

    def __init__(self, rule: str, msg: str, msg_zh: str) -> None:
        super().__init__(msg)
        self.rule = rule
        self.msg_zh = msg_zh


def report_month(code: str | None) -> Period:
    """The month a 通报 covers, from a code such as 2024-M06; MonthError when missing or not a month."""
    fmt_zh = "应为“年-M月”格式，如 2024-M06（2024年6月）"
    if not code:
        raise MonthError("missing", "query parameter 'period' is required: a month such as 2024-M06",
                         f"缺少参数 period（通报截至的月份），{fmt_zh}")
    try:
        period = Period.parse(code)
    except PeriodError as exc:
        raise MonthError("period_format", f"query parameter 'period': {exc}; a 通报 covers a month such as 2024-M06",
                         f"参数 period“{code}”格式不正确，{fmt_zh}") from exc
    if period.frequency != Frequency.MONTHLY:
        raise MonthError("period_format", f"query parameter 'period': {code!r} is not a month; a 通报 covers a "
                         "month such as 2024-M06", f"参数 period“{code}”不是月份，督查通报按月编发，{fmt_zh}")
    return period


def cutoff(month: Period) -> datetime:
    """The first instant after the month, in Beijing time: status reports filed before it count."""
    end = month.end_date() + timedelta(days=1)
    return datetime.combine(end, time(0, 0), tzinfo=BEIJING)


class Judged(Protocol):
    """A stored evaluation, as far as the 通报 needs it."""

    @property
    def target_id(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def evaluated_at(self) -> datetime: ...
    @property
    def report_id(self) -> str | None: ...
    @property
    def id(self) -> str: ...


J = TypeVar("J", bound=Judged)


def standing_at(evaluations: Iterable[J], month: Period) -> dict[str, J]:
    """Each target's evaluation as of the month's end, by target id.

    A figure counts by the period it covers (through the month, of the month's year), whenever it arrived, so a
    June figure released or revised in July is in the 通报 截至6月; the latest period wins, then the latest
    vintage. A status report counts by the day it was filed (before the month's end, Beijing time): it states
    the situation on that day.
    """
    until = cutoff(month)
    best: dict[str, tuple[tuple[int, int, int], datetime, str]] = {}
    chosen: dict[str, J] = {}
    for e in evaluations:
        if e.report_id is not None:
            if e.evaluated_at >= until:
                continue
            key: tuple[int, int, int] = (0, 0, 0)  # reports of a target compare by when they were filed
        else:
            try:
                p = Period.parse(e.period)
            except PeriodError:
                continue
            if p.year != month.year or p.last_month > month.last_month:
                continue
            key = p.sort_key
        rank = (key, e.evaluated_at, e.id)
        if e.target_id not in best or rank > best[e.target_id]:
            best[e.target_id] = rank
            chosen[e.target_id] = e
    return chosen


class Line(Protocol):
    """A target with its status, as the 通报 reads it."""

    @property
    def target(self) -> Target: ...
    @property
    def status(self) -> str | None: ...
    @property
    def severity(self) -> str | None: ...


L = TypeVar("L", bound=Line)


def listed(lines: Sequence[L]) -> list[L]:
    """The targets a 通报 lists, in its order.

    Every target whose status needs attention (severity critical or warning: 严重滞后, 突破上限, 未完成 of a
    binding target; 滞后, 接近上限, 存在风险, 未完成 of an expected one), critical ones first; within a
    severity by the report's sections (主要预期目标, then （一） to （九）); within a section in catalogue order
    (the order ``lines`` come in).
    """
    picked = [(i, x) for i, x in enumerate(lines) if x.severity in LISTED_SEVERITIES]
    picked.sort(key=lambda ix: (LISTED_SEVERITIES.index(str(ix[1].severity)), SECTIONS.index(ix[1].target.section),
                                ix[0]))
    return [x for _, x in picked]


def status_counts(lines: Iterable[Line]) -> list[tuple[str, int]]:
    """How many targets have each status, in the statuses' own order (超前 … 存在风险, then 暂无数据); none omitted
    but those with no target."""
    counts: dict[str, int] = {}
    for x in lines:
        label = STATUS_ZH[Status(x.status)] if x.status else NO_DATA_ZH
        counts[label] = counts.get(label, 0) + 1
    order = [*STATUS_ZH.values(), NO_DATA_ZH]
    return [(label, counts[label]) for label in order if label in counts]
