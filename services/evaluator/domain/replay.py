"""What the evaluator says after a sequence of figures, computed in memory: the golden table's engine and the
message sample's (scripts/messages_sample.py). Pure: the same functions the use case runs, no store.

Figures are fed in order. The same value and status again changes nothing; a different value or status is
the series' next vintage, revising the previous value (as ingest numbers them). The target's standing is its
latest evaluation, and its state moves as the recorder moves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.catalogue import Catalogue
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

from .judging import Arrival, Judgement, judge, roles_of
from .model import STATUS_ZH, Reading, Status
from .selection import Inputs

SEVERITY_ZH = {Severity.OK: "正常", Severity.WARNING: "一般预警", Severity.CRITICAL: "严重预警"}
# How a figure's measure and status are written in the golden table and the message sample.
MEASURE_WORDS = {"累计增速": "cumulative_yoy_pct", "累计": "cumulative_level", "期末值": "level", "同比": "yoy_pct"}
STATUS_WORDS = {"初步数": ObservationStatus.PROVISIONAL, "预计数": ObservationStatus.ESTIMATED,
                "最终核实数": ObservationStatus.FINAL}


@dataclass(frozen=True)
class Figure:
    """One figure a bureau sends."""

    indicator: str
    period: str
    measure: str
    value: float
    status: ObservationStatus


def parse_figure(line: str) -> Figure:
    """``gdp 2024-Q1 累计增速 4.9 初步数``: indicator, period, measure, value, status."""
    indicator, period, measure, value, status = line.split()
    return Figure(indicator, period, MEASURE_WORDS[measure], float(value), STATUS_WORDS[status])


def figure_line(f: Figure) -> str:
    """The line ``parse_figure`` reads."""
    measure = next(k for k, v in MEASURE_WORDS.items() if v == f.measure)
    status = next(k for k, v in STATUS_WORDS.items() if v == f.status)
    return f"{f.indicator} {f.period} {measure} {f.value:g} {status}"


@dataclass(frozen=True)
class Standing:
    """Where a target stands after the figures: the status before the last figure, and its latest evaluation."""

    previous: str  # the status before the last figure (Chinese), or —
    status: str  # Chinese; （无评估） when the figures never evaluated the target
    severity: str  # 正常, 一般预警, 严重预警, or —
    message: str
    judgement: Judgement | None = None


def run(catalogue: Catalogue, target_id: str, figures: tuple[Figure, ...]) -> Standing:
    """Feed the figures in order and return where the target stands."""
    held: dict[tuple[str, str, str], Reading] = {}
    state: dict[str, tuple[Status, Severity]] = {}
    latest: dict[str, Judgement] = {}
    before = "—"
    for i, fig in enumerate(figures):
        key = (fig.indicator, fig.measure, fig.period)
        old = held.get(key)
        if old is not None and old.value == fig.value and old.status == fig.status:
            continue  # the same figure again: unchanged, nothing published
        vintage = (old.vintage or 1) + 1 if old is not None else 1
        period = Period.parse(fig.period)
        held[key] = Reading(fig.value, period, fig.status, vintage=vintage)
        if i == len(figures) - 1:
            before = STATUS_ZH[state[target_id][0]] if target_id in state else "—"
        arrival = Arrival(fig.indicator, fig.measure, period, vintage, old.value if old is not None else None)
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
            latest[target.id] = judged
    if target_id not in state:
        return Standing(before, "（无评估）", "—", "")
    status, severity = state[target_id]
    j = latest[target_id]
    return Standing(before, STATUS_ZH[status], SEVERITY_ZH[severity], j.composed.text, j)
