"""The evaluator's message handler: record the reading, evaluate dependent targets, publish status changes.

Runs inside the consumer loop's transaction; writes its events to the outbox in that same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from services.evaluator.adapters.tables import evaluations, readings, target_states
from services.evaluator.domain.evaluation import Evaluation, Reading, Status, evaluate
from services.evaluator.domain.messages_zh import compose
from shared.catalogue import Catalogue
from shared.catalogue.model import QUANTITATIVE_KINDS, Target
from shared.clock import Clock
from shared.messages import (
    Envelope,
    EventData,
    InvalidMessage,
    ObservationRecorded,
    ObservationStatus,
    Severity,
    TargetStatusChanged,
)
from shared.outbox import Outbox
from shared.periods import Period, PeriodError

CITY = "wuxi"  # the report's targets are for the whole city


class ObservationHandler:
    """Handles ObservationRecorded events."""

    def __init__(self, catalogue: Catalogue, outbox: Outbox, clock: Clock) -> None:
        self.catalogue = catalogue
        self.outbox = outbox
        self.clock = clock

    def __call__(self, conn: Connection, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, ObservationRecorded):
            raise InvalidMessage(f"the evaluator does not handle {envelope.type}")
        try:
            period = Period.parse(data.period)
        except PeriodError as exc:
            raise InvalidMessage(str(exc)) from exc
        now = self.clock()
        if not _store_reading(conn, data, now):
            return  # a vintage we already know (a repeat or a replay): nothing changes
        if data.region != CITY or period.year != self.catalogue.year:
            return
        for target in self.catalogue.targets_for_indicator(data.indicator):
            if target.kind not in QUANTITATIVE_KINDS or target.measure != data.measure:
                continue
            latest = _latest_reading(conn, target, self.catalogue.year)
            if latest is None or latest.period != period:
                continue  # a figure for an earlier period does not change where the target stands now
            self._evaluate(conn, target, latest, data, now)

    def _evaluate(
        self, conn: Connection, target: Target, reading: Reading, data: ObservationRecorded, now: datetime
    ) -> None:
        ev = evaluate(target, reading)
        state = conn.execute(
            select(target_states.c.status, target_states.c.severity).where(target_states.c.target_id == target.id)
        ).first()
        previous = Status(state.status) if state else None
        previous_severity = Severity(state.severity) if state else None
        changed = (previous, previous_severity) != (ev.status, ev.severity)
        # A first evaluation that finds nothing wrong is not news; anything else that changed is.
        publish = changed and not (previous is None and ev.severity == Severity.OK)
        is_revision = data.vintage > 1
        message = compose(
            target, reading, ev, previous=previous, is_revision=is_revision,
            departments_zh=(self.catalogue.department_name(target.lead_department),
                            [self.catalogue.department_name(d) for d in target.co_departments]),
        )
        evaluation_id = uuid.uuid4().hex
        conn.execute(evaluations.insert(), [_evaluation_row(evaluation_id, target, reading, ev, is_revision,
                                                            publish, message, now)])
        if changed:
            values = {"period": reading.period.code, "status": ev.status.value, "severity": ev.severity.value,
                      "evaluation_id": evaluation_id, "updated_at": now}
            if state:
                conn.execute(target_states.update().where(target_states.c.target_id == target.id).values(**values))
            else:
                conn.execute(target_states.insert().values(target_id=target.id, **values))
        if publish:
            self.outbox.add(conn, [_event(evaluation_id, target, reading, ev, previous, previous_severity,
                                          is_revision, message, now)], now)


def _store_reading(conn: Connection, data: ObservationRecorded, now: datetime) -> bool:
    r = readings
    key = (r.c.indicator == data.indicator, r.c.region == data.region, r.c.period == data.period,
           r.c.measure == data.measure.value)
    known = conn.execute(select(r.c.vintage).where(*key)).scalar()
    if known is not None and known >= data.vintage:
        return False
    values = {"value": data.value, "status": data.status.value, "vintage": data.vintage,
              "observation_id": data.observation_id, "recorded_at": data.recorded_at, "received_at": now}
    if known is None:
        conn.execute(r.insert().values(indicator=data.indicator, region=data.region, period=data.period,
                                       measure=data.measure.value, **values))
    else:
        conn.execute(r.update().where(*key).values(**values))
    return True


def _latest_reading(conn: Connection, target: Target, year: int) -> Reading | None:
    r = readings
    rows = conn.execute(
        select(r.c.period, r.c.value, r.c.status, r.c.observation_id, r.c.vintage).where(
            r.c.indicator == target.indicator, r.c.region == CITY, r.c.measure == target.measure,
            r.c.period.like(f"{year}%"),
        )
    ).all()
    if not rows:
        return None
    # The latest period is the one reaching furthest into the year; at equal reach the finer one is newer.
    best = max(rows, key=lambda x: (Period.parse(x.period).last_month, -len(x.period)))
    return Reading(best.value, Period.parse(best.period), ObservationStatus(best.status), best.observation_id,
                   best.vintage)


def _evaluation_row(evaluation_id: str, target: Target, reading: Reading, ev: Evaluation, is_revision: bool,
                    published: bool, message: str, now: datetime) -> dict[str, object]:
    return {
        "id": evaluation_id, "target_id": target.id, "period": reading.period.code, "status": ev.status.value,
        "severity": ev.severity.value, "actual": ev.actual, "expected": ev.expected, "gap_abs": ev.gap_abs,
        "gap_pp": ev.gap_pp, "progress": ev.progress, "expected_progress": ev.expected_progress,
        "projection": ev.projection, "run_rate_needed": ev.run_rate_needed,
        "observation_id": reading.observation_id, "observation_vintage": reading.vintage,
        "observation_status": reading.status.value, "is_revision": is_revision, "published": published,
        "message_zh": message, "evaluated_at": now,
    }


def _event(evaluation_id: str, target: Target, reading: Reading, ev: Evaluation, previous: Status | None,
           previous_severity: Severity | None, is_revision: bool, message: str, now: datetime) -> TargetStatusChanged:
    return TargetStatusChanged(
        evaluation_id=evaluation_id, target_id=target.id, target_name_zh=target.name_zh, section=target.section,
        kind=target.kind.value, indicator=target.indicator, region=CITY, period=reading.period.code,
        status=ev.status.value, severity=ev.severity, previous_status=previous.value if previous else None,
        previous_severity=previous_severity, actual=ev.actual, expected=ev.expected, target_value=target.value,
        unit=target.unit, gap_abs=ev.gap_abs, gap_rel=ev.gap_rel, gap_pp=ev.gap_pp, progress=ev.progress,
        expected_progress=ev.expected_progress, projection=ev.projection, run_rate_needed=ev.run_rate_needed,
        observation_status=reading.status, is_revision=is_revision, lead_department=target.lead_department,
        co_departments=target.co_departments, message_zh=message, observation_id=reading.observation_id,
        observation_vintage=reading.vintage, evaluated_at=now,
    )


__all__ = ["ObservationHandler"]
