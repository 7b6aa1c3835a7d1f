"""The evaluator's use cases: a statistic arrives (from the consumer loop), a department files a status report
(from the HTTP API). Both run in the caller's unit of work and go through the same recorder, so a report is
stored with history and published like a statistic's evaluation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.evaluator.domain.evaluation import Reading
from services.evaluator.domain.judging import Arrival, judge
from services.evaluator.domain.messages_zh import Context, compose_report
from services.evaluator.domain.selection import Inputs, TargetSeries
from services.evaluator.domain.status_reports import ReportedStatus, evaluate_report
from services.evaluator.ports import EvaluatorStore, StatusReportRow
from services.evaluator.recording import Basis, EvaluationRecorder
from shared.catalogue import Catalogue
from shared.catalogue.model import Kind
from shared.clock import CHINA_TZ
from shared.messages import InvalidMessage, ObservationRecorded
from shared.periods import Period, PeriodError

REPORTED_KINDS = frozenset({Kind.MILESTONE, Kind.QUALITATIVE})


class UnknownTarget(LookupError):
    """No target with that id in the catalogue."""


class NotReportable(ValueError):
    """The target is evaluated from statistics, not from status reports."""


class NotResponsible(PermissionError):
    """The reporting department does not lead the target."""


@dataclass(frozen=True)
class FiledReport:
    """A stored status report and what it did to the target."""

    report_id: str
    evaluation_id: str
    status: str
    severity: str
    published: bool
    message_zh: str


def record_observation(
    store: EvaluatorStore, recorder: EvaluationRecorder, data: ObservationRecorded, now: datetime
) -> None:
    """Store a figure and re-evaluate the targets it moves; a status change goes to the outbox.

    The figure is judged against the catalogue of its region and year, and is last year's figure for the next
    year's (a path, growth weights, a stock's start); with neither it is stored and judged against nothing
    (``GET /v1/observations/without-catalogue`` and a metric count these).
    """
    try:
        period = Period.parse(data.period)
    except PeriodError as exc:
        raise InvalidMessage(str(exc)) from exc
    arrival = Arrival(data.indicator, data.measure.value, period, data.vintage, data.previous_value)
    roles = recorder.roles(data.region, arrival)
    known = not store.readings.record(data, now, defer=not roles)
    if known and not data.replayed:
        return  # a vintage we already know (a repeat): nothing changes
    for catalogue, target, series, role in roles:
        state = store.states.get(target.id)
        judged = judge(catalogue, target, series, role, _inputs(store, series, catalogue.year, catalogue.region),
                       (state.status, state.severity) if state else None, arrival)
        if judged is None:
            continue
        a, c = judged.assessment, judged.composed
        basis = Basis(period=a.reading.period.code, period_zh=c.period_zh, reading=a.reading, related=a.related,
                      is_revision=judged.is_revision, revised_from=judged.revised_from, rule_zh=c.rule_zh,
                      figure_zh=c.figure_zh)
        # A replay of a figure we hold means the broker may have lost what we published from it:
        # evaluate again and re-assert the status even if it did not change.
        recorder.record(store, target, a.evaluation, basis, c.text, state, now, restate=known)


def _inputs(store: EvaluatorStore, series: TargetSeries, year: int, region: str) -> Inputs:
    """The figures of a target's series the store holds: this year's, and last year's for its previous_year."""
    def load(s: tuple[str, str] | None, y: int) -> list[Reading]:
        return store.readings.series(s[0], s[1], y, region) if s is not None else []

    return Inputs(own=load(series.own, year), related=load(series.related, year),
                  deflator=load(series.deflator, year), previous_year=load(series.previous_year, year - 1))


def file_status_report(
    store: EvaluatorStore, recorder: EvaluationRecorder, *, target_id: str, department: str,
    reported: ReportedStatus, note: str, now: datetime,
) -> FiledReport:
    """Store a department's status report on its milestone or qualitative target and re-evaluate the target."""
    found: Catalogue | None = recorder.catalogues.of_target(target_id)
    if found is None:
        raise UnknownTarget(f"target {target_id!r} is in no catalogue")
    catalogue = found
    target = catalogue.targets[target_id]
    if target.kind not in REPORTED_KINDS:
        raise NotReportable(
            f"target {target_id!r} is a {target.kind} target, evaluated from statistics; "
            "only milestone and qualitative targets take status reports"
        )
    if department != target.lead_department:
        raise NotResponsible(
            f"target {target_id!r} is led by {target.lead_department!r}; {department!r} may not report its status"
        )
    state = store.states.get(target.id)
    ev = evaluate_report(reported, target.strength)
    ctx = Context(
        lead_zh=catalogue.department_name(target.lead_department),
        co_zh=tuple(catalogue.department_name(d) for d in target.co_departments),
        previous=state.status if state else None, previous_severity=state.severity if state else None,
    )
    local = now.astimezone(CHINA_TZ)  # a report is dated as the department dated it
    message = compose_report(target, ev, ctx, reported=reported, reported_by_zh=ctx.lead_zh,
                             reported_on=local.date(), note=note)
    report_id = uuid.uuid4().hex
    basis = Basis(period=str(catalogue.year), period_zh=f"{catalogue.year}年", report_id=report_id,
                  reported_by=department, report_note=note)
    recorded = recorder.record(store, target, ev, basis, message, state, now)
    store.reports.add(StatusReportRow(
        id=report_id, target_id=target.id, status=reported.value, note=note, department=department,
        reported_at=now, evaluation_id=recorded.evaluation_id,
    ))
    return FiledReport(report_id, recorded.evaluation_id, ev.status.value, ev.severity.value, recorded.published,
                       message)
