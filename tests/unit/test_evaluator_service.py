"""The evaluator's use cases on an in-memory store: what is recorded, what is published, and when nothing is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from services.evaluator.domain.evaluation import Reading, Status
from services.evaluator.domain.status_reports import ReportedStatus
from services.evaluator.ports import BoardRow, CurrentState, EvaluationRow, StatusReportRow
from services.evaluator.recording import EvaluationRecorder
from services.evaluator.service import (
    NotReportable,
    NotResponsible,
    UnknownTarget,
    file_status_report,
    record_observation,
)
from shared.catalogue import load_catalogue
from shared.messages import EventData, ObservationRecorded, ObservationStatus, Severity, TargetStatusChanged
from shared.periods import Period

CAT = load_catalogue()
NOW = datetime(2025, 3, 1, tzinfo=UTC)


class MemoryReadings:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], Reading] = {}

    def record(self, data: ObservationRecorded, now: datetime, *, defer: bool) -> bool:
        key = (data.indicator, data.region, data.period, data.measure.value)
        known = self.rows.get(key)
        if known is not None and (known.vintage or 0) >= data.vintage:
            return False
        self.rows[key] = Reading(data.value, Period.parse(data.period), data.status, data.observation_id,
                                 data.vintage, data.recorded_at)
        return True

    def series(self, indicator: str, measure: str, year: int, region: str) -> list[Reading]:
        return [r for (i, reg, _, m), r in self.rows.items()
                if (i, reg, m) == (indicator, region, measure) and r.period.year == year]


class MemoryEvaluations:
    def __init__(self) -> None:
        self.rows: list[EvaluationRow] = []

    def add(self, row: EvaluationRow) -> None:
        self.rows.append(row)

    def history(self, target_id: str, limit: int) -> list[EvaluationRow]:
        return [r for r in reversed(self.rows) if r.target_id == target_id][:limit]


class MemoryStates:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[CurrentState, str]] = {}

    def get(self, target_id: str) -> CurrentState | None:
        found = self.rows.get(target_id)
        return found[0] if found else None

    def put(self, target_id: str, *, period: str, evaluation_id: str, status: Status, severity: Severity,
            changed: bool, now: datetime, exists: bool) -> None:
        old = self.rows.get(target_id)
        state = CurrentState(status, severity, period) if changed or old is None else \
            CurrentState(old[0].status, old[0].severity, period)
        self.rows[target_id] = (state, evaluation_id)

    def board(self) -> dict[str, BoardRow]:
        return {}


class MemoryReports:
    def __init__(self) -> None:
        self.rows: list[StatusReportRow] = []

    def add(self, row: StatusReportRow) -> None:
        self.rows.append(row)

    def for_target(self, target_id: str) -> list[StatusReportRow]:
        return [r for r in reversed(self.rows) if r.target_id == target_id]


class MemoryOutbox:
    def __init__(self) -> None:
        self.events: list[EventData] = []

    def add(self, events: Sequence[EventData], now: datetime) -> None:
        self.events.extend(events)


@dataclass
class MemoryStore:
    readings: MemoryReadings = field(default_factory=MemoryReadings)
    evaluations: MemoryEvaluations = field(default_factory=MemoryEvaluations)
    states: MemoryStates = field(default_factory=MemoryStates)
    reports: MemoryReports = field(default_factory=MemoryReports)
    outbox: MemoryOutbox = field(default_factory=MemoryOutbox)

    def published(self) -> list[TargetStatusChanged]:
        return [e for e in self.outbox.events if isinstance(e, TargetStatusChanged)]


def obs(indicator: str, period: str, value: float, measure: str = "cumulative_yoy_pct", *, vintage: int = 1,
        unit: str = "%", replayed: bool = False) -> ObservationRecorded:
    return ObservationRecorded(
        observation_id=f"o-{indicator}-{period}-{vintage}", indicator=indicator, region="wuxi", period=period,
        measure=measure, value=value, unit=unit, status=ObservationStatus.PROVISIONAL, vintage=vintage,
        submitted_by="stats", recorded_at=datetime(2025, 2, 1, tzinfo=UTC), replayed=replayed)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


RECORDER = EvaluationRecorder(CAT)


def test_a_status_change_is_stored_and_published_once(store: MemoryStore) -> None:
    record_observation(store, RECORDER, obs("gdp", "2024-Q1", 4.9), NOW)
    record_observation(store, RECORDER, obs("gdp", "2024-Q1", 4.9), NOW)  # the same vintage again
    assert [(e.target_id, e.status) for e in store.published()] == [("gdp_growth", "behind")]
    assert [r.status for r in store.evaluations.history("gdp_growth", 10)] == ["behind"]
    assert store.states.get("gdp_growth") == CurrentState(Status.BEHIND, Severity.WARNING, "2024-Q1")


def test_a_first_evaluation_that_finds_nothing_wrong_is_stored_not_published(store: MemoryStore) -> None:
    record_observation(store, RECORDER, obs("gdp", "2024-Q1", 5.5), NOW)
    assert store.published() == [] and len(store.evaluations.rows) == 1


def test_a_replay_restates_the_status(store: MemoryStore) -> None:
    record_observation(store, RECORDER, obs("gdp", "2024-Q1", 4.9), NOW)
    record_observation(store, RECORDER, obs("gdp", "2024-Q1", 4.9, replayed=True), NOW)
    assert [e.restated for e in store.published()] == [False, True]


def test_other_regions_and_years_are_stored_but_not_evaluated(store: MemoryStore) -> None:
    record_observation(store, RECORDER, obs("gdp", "2023-Q1", 1.0), NOW)
    assert store.readings.rows and store.evaluations.rows == []


def test_status_reports_go_through_the_same_recorder(store: MemoryStore) -> None:
    filed = file_status_report(store, RECORDER, target_id="binding_environment_targets", department="sthjj",
                               reported=ReportedStatus.AT_RISK, note="PM2.5浓度同比上升", now=NOW)
    assert filed.published and filed.status == "at_risk"
    assert [r.evaluation_id for r in store.reports.rows] == [filed.evaluation_id]
    assert store.published()[0].report_id == filed.report_id
    with pytest.raises(UnknownTarget):
        file_status_report(store, RECORDER, target_id="nope", department="sthjj", reported=ReportedStatus.DONE,
                           note="x", now=NOW)
    with pytest.raises(NotReportable):
        file_status_report(store, RECORDER, target_id="gdp_growth", department="fgw", reported=ReportedStatus.DONE,
                           note="x", now=NOW)
    with pytest.raises(NotResponsible):
        file_status_report(store, RECORDER, target_id="binding_environment_targets", department="fgw",
                           reported=ReportedStatus.DONE, note="x", now=NOW)


def test_the_recorder_remembers_the_targets_a_figure_moves_and_forgets_them_all_when_full(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from services.evaluator import recording
    from services.evaluator.domain.judging import Arrival, roles_of

    cat = load_catalogue()
    recorder = EvaluationRecorder(cat)
    gdp = Arrival("gdp", "cumulative_yoy_pct", Period.parse("2024-Q2"), 1)
    first = recorder.roles("wuxi", gdp)
    assert first == [(cat, *r) for r in roles_of(cat, gdp)] and first
    # Another vintage, value or quarter of the same year asks the same question: the answer is the one remembered.
    assert recorder.roles("wuxi", Arrival("gdp", "cumulative_yoy_pct", Period.parse("2024-Q3"), 4, 5.0)) is first
    assert recorder.roles("jiangyin", gdp) == []  # no catalogue of its own: judged against nothing
    last_year = recorder.roles("wuxi", Arrival("gdp", "cumulative_level", Period.parse("2023-Q2"), 1))  # weights
    assert [r[3] for r in last_year] and {r[3] for r in last_year} == {"previous_year"}
    monkeypatch.setattr(recording, "ROLES_REMEMBERED", 3)
    again = recorder.roles("wuxi", Arrival("gdp", "yoy_pct", Period.parse("2024-Q2"), 1))  # a fourth key: all forgotten
    assert recorder.roles("wuxi", gdp) == first and recorder.roles("wuxi", gdp) is not first
    assert again == [(cat, *r) for r in roles_of(cat, Arrival("gdp", "yoy_pct", Period.parse("2024-Q2"), 1))]
