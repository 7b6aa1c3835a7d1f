"""Runs a golden case (tests/golden/verdicts.csv) through the pure domain: figures held in memory, fed in order.

Each case starts from nothing. A figure for a series already holding the same value and status changes nothing;
a different value or status is the series' next vintage, revising the previous value (as ingest numbers them).
After the case's figures, the target's standing is its latest evaluation: status, severity and sentence.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from services.evaluator.domain.judging import Arrival, judge, roles_of
from services.evaluator.domain.model import STATUS_ZH, Reading, Status
from services.evaluator.domain.selection import Inputs
from shared.catalogue import Catalogue
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

GOLDEN = Path(__file__).with_name("verdicts.csv")
MEASURES = {"累计增速": "cumulative_yoy_pct", "累计": "cumulative_level", "期末值": "level", "同比": "yoy_pct"}
STATUSES = {"初步数": ObservationStatus.PROVISIONAL, "预计数": ObservationStatus.ESTIMATED,
            "最终核实数": ObservationStatus.FINAL}
SEVERITY_ZH = {Severity.OK: "正常", Severity.WARNING: "一般预警", Severity.CRITICAL: "严重预警"}
COLUMNS = ("编号", "目标代码", "目标", "情形", "数据（依次报送）", "上期状态", "预期状态", "预期级别", "预期研判")


@dataclass(frozen=True)
class Figure:
    """One line of a case's data: what a bureau sends."""

    indicator: str
    period: str
    measure: str
    value: float
    status: ObservationStatus

    @classmethod
    def parse(cls, line: str) -> Figure:
        """``gdp 2024-Q1 累计增速 4.9 初步数``."""
        indicator, period, measure, value, status = line.split()
        return cls(indicator, period, MEASURES[measure], float(value), STATUSES[status])


@dataclass(frozen=True)
class Case:
    """A row of the golden table."""

    id: str
    target: str
    figures: tuple[Figure, ...]
    previous: str  # the status before the last figure (Chinese), or —
    status: str  # Chinese
    severity: str  # Chinese
    message: str


@dataclass(frozen=True)
class Standing:
    """Where the target stands after the case's figures."""

    previous: str
    status: str
    severity: str
    message: str


def load_cases(path: Path = GOLDEN) -> list[Case]:
    """The golden table's rows (UTF-8 with BOM, Chinese headers)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [Case(r["编号"], r["目标代码"], _figures(r["数据（依次报送）"]), r["上期状态"], r["预期状态"], r["预期级别"],
                 r["预期研判"]) for r in rows]


def _figures(cell: str) -> tuple[Figure, ...]:
    return tuple(Figure.parse(line) for line in cell.splitlines() if line.strip())


def run(catalogue: Catalogue, target_id: str, figures: tuple[Figure, ...]) -> Standing:
    """Feed the figures in order and return where the target stands."""
    held: dict[tuple[str, str, str], Reading] = {}
    state: dict[str, tuple[Status, Severity]] = {}
    message: dict[str, str] = {}
    before = "—"
    for i, fig in enumerate(figures):
        key = (fig.indicator, fig.measure, fig.period)
        old = held.get(key)
        if old is not None and old.value == fig.value and old.status == fig.status:
            continue  # the same figure again: unchanged, nothing published
        vintage = (old.vintage or 1) + 1 if old is not None else 1
        held[key] = Reading(fig.value, Period.parse(fig.period), fig.status, vintage=vintage)
        if i == len(figures) - 1:
            before = STATUS_ZH[state[target_id][0]] if target_id in state else "—"
        arrival = Arrival(fig.indicator, fig.measure, Period.parse(fig.period), vintage,
                          old.value if old is not None else None)
        for target, series, role in roles_of(catalogue, arrival):
            def series_in(s: tuple[str, str] | None, year: int) -> list[Reading]:
                if s is None:
                    return []
                return [r for (ind, m, _), r in held.items() if (ind, m) == s and r.period.year == year]

            year = catalogue.year
            inputs = Inputs(series_in(series.own, year), series_in(series.related, year),
                            series_in(series.deflator, year), series_in(series.previous_year, year - 1))
            judged = judge(catalogue, target, series, role, inputs, state.get(target.id), arrival)
            if judged is None:
                continue
            ev = judged.assessment.evaluation
            state[target.id] = (ev.status, ev.severity)
            message[target.id] = judged.composed.text
    if target_id not in state:
        return Standing(before, "（无评估）", "—", "")
    status, severity = state[target_id]
    return Standing(before, STATUS_ZH[status], SEVERITY_ZH[severity], message[target_id])
