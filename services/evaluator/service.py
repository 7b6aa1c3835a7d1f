"""Use cases called by the evaluator's HTTP routes: a department files the status of its milestone.

Milestones and qualitative targets have no statistic; their status is what the lead department reports,
with a note. The report goes through the same path as a statistic's evaluation (stored with history,
published to the outbox when the status or severity changes), so the alerts service notifies on it too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from services.evaluator.adapters.tables import status_reports
from services.evaluator.domain.messages_zh import Context, compose_report
from services.evaluator.domain.status_reports import ReportedStatus, evaluate_report
from services.evaluator.tracker import Basis, Tracker, current_state
from shared.catalogue.model import Kind
from shared.clock import CHINA_TZ

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


def file_status_report(
    conn: Connection, tracker: Tracker, *, target_id: str, department: str, reported: ReportedStatus, note: str,
    now: datetime,
) -> FiledReport:
    """Store a department's status report on its milestone or qualitative target and re-evaluate the target."""
    catalogue = tracker.catalogue
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
    state = current_state(conn, target.id)
    ev = evaluate_report(reported)
    ctx = Context(
        lead_zh=catalogue.department_name(target.lead_department),
        co_zh=tuple(catalogue.department_name(d) for d in target.co_departments),
        previous=state.status if state else None, previous_severity=state.severity if state else None,
    )
    local = now.astimezone(CHINA_TZ)  # a report is dated as the department dated it if now.tzinfo else now
    message = compose_report(target, ev, ctx, reported=reported, reported_by_zh=ctx.lead_zh,
                             reported_on=local.date(), note=note)
    report_id = uuid.uuid4().hex
    basis = Basis(period=str(catalogue.year), period_zh=f"{catalogue.year}年", report_id=report_id,
                  reported_by=department, report_note=note)
    evaluation_id, published = tracker.record(conn, target, ev, basis, message, state, now)
    conn.execute(status_reports.insert().values(
        id=report_id, target_id=target.id, status=reported.value, note=note, department=department,
        reported_at=now, evaluation_id=evaluation_id,
    ))
    return FiledReport(report_id, evaluation_id, ev.status.value, ev.severity.value, published, message)
