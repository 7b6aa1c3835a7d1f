"""The evaluator's use cases: a statistic arrives (from the consumer loop), a department files a status report
(from the HTTP API). Both run in the caller's unit of work and go through the same recorder, so a report is
stored with history and published like a statistic's evaluation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.evaluator.domain.evaluation import Reading, evaluate
from services.evaluator.domain.messages_zh import Context, compose, compose_report, period_zh
from services.evaluator.domain.status_reports import ReportedStatus, evaluate_report
from services.evaluator.ports import EvaluatorStore, StatusReportRow
from services.evaluator.recording import CITY, Basis, EvaluationRecorder
from shared.catalogue import Catalogue
from shared.catalogue.model import QUANTITATIVE_KINDS, Kind, Target
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
    """Store a figure and re-evaluate the targets it moves; a status change goes to the outbox."""
    catalogue = recorder.catalogue
    try:
        period = Period.parse(data.period)
    except PeriodError as exc:
        raise InvalidMessage(str(exc)) from exc
    evaluates = data.region == CITY and period.year == catalogue.year and any(
        t.kind in QUANTITATIVE_KINDS for t in catalogue.targets_for_indicator(data.indicator))
    known = not store.readings.record(data, now, defer=not evaluates)
    if known and not data.replayed:
        return  # a vintage we already know (a repeat): nothing changes
    if not evaluates:
        return
    for target in catalogue.targets_for_indicator(data.indicator):
        if target.kind not in QUANTITATIVE_KINDS:
            continue  # qualitative targets carry an indicator for context only
        # A replay of a figure we hold means the broker may have lost what we published from it:
        # evaluate again and re-assert the status even if it did not change.
        _reevaluate(store, recorder, target, data, period, now, restate=known)


def _reevaluate(
    store: EvaluatorStore, recorder: EvaluationRecorder, target: Target, data: ObservationRecorded, period: Period,
    now: datetime, *, restate: bool,
) -> None:
    cat = recorder.catalogue
    own = target.indicator == data.indicator and target.measure == data.measure
    related_series = _related_series(target)
    is_related = related_series == (data.indicator, data.measure)
    if not own and not is_related:
        return
    related: Reading | None = None
    mine = _by_period(store, target.indicator or "", str(target.measure), cat.year)
    if target.kind == Kind.RELATIONAL:
        assert related_series is not None
        theirs = _by_period(store, related_series[0], related_series[1], cat.year)
        common = set(mine) & set(theirs)
        if not common:
            return  # the other indicator has no figure for this period yet
        code = max(common, key=Period.parse)
        if code != period.code:
            return  # this is not the latest period both have
        reading, related = mine[code], theirs[code]
    else:
        if not mine:
            return
        reading = max(mine.values(), key=lambda r: r.period)
        if reading.period != period:
            return  # a figure for an earlier period does not change where the target stands now
    state = store.states.get(target.id)
    ev = evaluate(target, reading, related=related, previous=state.status if state else None)
    is_revision = data.vintage > 1
    ctx = Context(
        lead_zh=cat.department_name(target.lead_department),
        co_zh=tuple(cat.department_name(d) for d in target.co_departments),
        previous=state.status if state else None, previous_severity=state.severity if state else None,
        is_revision=is_revision, revised_from=data.previous_value if is_revision else None,
        indicator_name_zh=cat.indicators[target.indicator].name_zh if target.indicator else None,
        related_name_zh=cat.indicators[related_series[0]].name_zh if related_series else None,
        related=related,
    )
    message = compose(target, reading, ev, ctx)
    basis = Basis(period=reading.period.code, period_zh=period_zh(target, reading), reading=reading,
                  related=related, is_revision=is_revision, revised_from=ctx.revised_from)
    recorder.record(store, target, ev, basis, message, state, now, restate=restate)


def _by_period(store: EvaluatorStore, indicator: str, measure: str, year: int) -> dict[str, Reading]:
    return {r.period.code: r for r in store.readings.series(indicator, measure, year, CITY)}


def _related_series(target: Target) -> tuple[str, str] | None:
    rel = target.params.get("related_indicator")
    if target.kind != Kind.RELATIONAL or not isinstance(rel, str):
        return None
    measure = target.params.get("related_measure", target.measure)
    return rel, str(measure)


def file_status_report(
    store: EvaluatorStore, recorder: EvaluationRecorder, *, target_id: str, department: str,
    reported: ReportedStatus, note: str, now: datetime,
) -> FiledReport:
    """Store a department's status report on its milestone or qualitative target and re-evaluate the target."""
    catalogue: Catalogue = recorder.catalogue
    target = catalogue.targets.get(target_id)
    if target is None:
        raise UnknownTarget(f"target {target_id!r} is not in the {catalogue.year} catalogue")
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
    ev = evaluate_report(reported)
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
