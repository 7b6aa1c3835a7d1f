"""What the evaluator's use cases need from persistence and publishing, as Protocols.

``adapters/repositories.py`` implements them on SQLAlchemy Core inside one transaction (the entry point's);
``tests/unit/test_evaluator_service.py`` implements them in memory. The use cases (``service.py``) and the
recorder (``recording.py``) see only these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.evaluator.domain.evaluation import Reading, Status
from shared.messages import EventData, ObservationRecorded, Severity


@dataclass(frozen=True)
class CurrentState:
    """A target's stored status."""

    status: Status
    severity: Severity
    period: str


@dataclass(frozen=True)
class EvaluationRow:
    """One stored evaluation, with the data vintage (or the status report) it was based on."""

    id: str
    target_id: str
    period: str
    status: str
    severity: str
    actual: float | None
    expected: float | None
    gap_abs: float | None
    gap_pp: float | None
    progress: float | None
    expected_progress: float | None
    projection: float | None
    run_rate_needed: float | None
    observation_id: str | None
    observation_vintage: int | None
    observation_status: str | None
    is_revision: bool
    published: bool
    message_zh: str
    evaluated_at: datetime
    related_actual: float | None = None
    related_observation_id: str | None = None
    related_vintage: int | None = None
    softened: bool | None = None
    report_id: str | None = None


@dataclass(frozen=True)
class StatusReportRow:
    """A department's status report on a milestone or qualitative target, as filed."""

    id: str
    target_id: str
    status: str
    note: str
    department: str
    reported_at: datetime
    evaluation_id: str


@dataclass(frozen=True)
class BoardRow:
    """A target's current state with the figures of its latest evaluation."""

    target_id: str
    period: str
    status: str
    severity: str
    updated_at: datetime
    message_zh: str
    actual: float | None
    expected: float | None
    progress: float | None
    expected_progress: float | None


@dataclass(frozen=True)
class OpenAlert:
    """An open alert of the alerts service (firing or acknowledged), with its acknowledgement if any."""

    id: str
    target_id: str
    status: str  # firing or acknowledged
    severity: str
    period: str
    message_zh: str
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_explanation: str | None
    ack_measures: str | None
    escalation_level: int


@dataclass(frozen=True)
class AlertsAnswer:
    """What the alerts service said: the alerts, or (``alerts`` None) why they cannot be shown, in Chinese."""

    alerts: list[OpenAlert] | None
    unavailable_zh: str | None = None


class AlertsSource(Protocol):
    """The alerts service's open alerts, read over its API."""

    def open_alerts(self, department: str) -> AlertsAnswer:
        """The open alerts of one department (lead or co-department); never raises for the service being away."""
        ...


class ReadingRepository(Protocol):
    """The latest vintage of every series the evaluator has received."""

    def record(self, data: ObservationRecorded, now: datetime, *, defer: bool) -> bool:
        """Store the figure if its vintage is new (``defer``: it may be written later in the batch).

        False when that vintage (or a later one) is already known: a repeat or a replay.
        """
        ...

    def series(self, indicator: str, measure: str, year: int, region: str) -> list[Reading]:
        """Every period's latest vintage of one series in one year."""
        ...


class EvaluationRepository(Protocol):
    """Every evaluation ever made (the history)."""

    def add(self, row: EvaluationRow) -> None:
        """Store an evaluation."""
        ...

    def history(self, target_id: str, limit: int) -> list[EvaluationRow]:
        """A target's evaluations, newest first."""
        ...

    def of_targets(self, target_ids: Sequence[str], year: int) -> list[EvaluationRow]:
        """Every evaluation of these targets for periods of one year (a report's period is its year)."""
        ...


class TargetStateRepository(Protocol):
    """Each target's current status and the evaluation it comes from."""

    def get(self, target_id: str) -> CurrentState | None:
        """The target's stored status, or None before its first evaluation."""
        ...

    def put(self, target_id: str, *, period: str, evaluation_id: str, status: Status, severity: Severity,
            changed: bool, now: datetime, exists: bool) -> None:
        """Point the target at its latest evaluation; status, severity and since-when move only when ``changed``."""
        ...

    def board(self) -> dict[str, BoardRow]:
        """Every evaluated target's state with its latest evaluation's figures, by target id."""
        ...


class StatusReportRepository(Protocol):
    """Departments' status reports, history kept."""

    def add(self, row: StatusReportRow) -> None:
        """Store a report."""
        ...

    def for_target(self, target_id: str) -> list[StatusReportRow]:
        """A target's reports, newest first."""
        ...

    def for_targets(self, target_ids: Sequence[str]) -> list[StatusReportRow]:
        """The reports of several targets, newest first."""
        ...


class EventOutbox(Protocol):
    """Events that leave the process once the transaction commits."""

    def add(self, events: Sequence[EventData], now: datetime) -> None:
        """Queue events in the current transaction."""
        ...


class EvaluatorStore(Protocol):
    """The repositories of one transaction (a unit of work owned by the entry point)."""

    @property
    def readings(self) -> ReadingRepository: ...
    @property
    def evaluations(self) -> EvaluationRepository: ...
    @property
    def states(self) -> TargetStateRepository: ...
    @property
    def reports(self) -> StatusReportRepository: ...
    @property
    def outbox(self) -> EventOutbox: ...
