"""The evaluator's message handler: record the reading, evaluate dependent targets, publish status changes.

Runs inside the consumer loop's transaction; writes its events to the outbox in that same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from services.evaluator.adapters.tables import readings
from services.evaluator.domain.evaluation import Reading, evaluate
from services.evaluator.domain.messages_zh import Context, compose, period_zh
from services.evaluator.tracker import CITY, Basis, Tracker, current_state
from shared.catalogue import Catalogue
from shared.catalogue.model import QUANTITATIVE_KINDS, Kind, Measure, Target
from shared.clock import Clock
from shared.messages import Envelope, EventData, InvalidMessage, ObservationRecorded, ObservationStatus
from shared.outbox import Outbox
from shared.periods import Period, PeriodError


class ObservationHandler:
    """Handles ObservationRecorded events."""

    def __init__(self, catalogue: Catalogue, outbox: Outbox, clock: Clock) -> None:
        self.catalogue = catalogue
        self.tracker = Tracker(catalogue, outbox)
        self.clock = clock

    def __call__(self, conn: Connection, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, ObservationRecorded):
            raise InvalidMessage(f"the evaluator does not handle {envelope.type}")
        try:
            period = Period.parse(data.period)
        except PeriodError as exc:
            raise InvalidMessage(str(exc)) from exc
        now = self.clock()
        known = not _store_reading(conn, data, now)
        if known and not data.replayed:
            return  # a vintage we already know (a repeat): nothing changes
        if data.region != CITY or period.year != self.catalogue.year:
            return
        for target in self.catalogue.targets_for_indicator(data.indicator):
            if target.kind not in QUANTITATIVE_KINDS:
                continue  # qualitative targets carry an indicator for context only
            # A replay of a figure we hold means the broker may have lost what we published from it:
            # evaluate again and re-assert the status even if it did not change.
            self._reevaluate(conn, target, data, period, now, restate=known)

    def _reevaluate(
        self, conn: Connection, target: Target, data: ObservationRecorded, period: Period, now: datetime,
        *, restate: bool = False,
    ) -> None:
        year = self.catalogue.year
        own = target.indicator == data.indicator and target.measure == data.measure
        related_series = _related_series(target)
        is_related = related_series == (data.indicator, data.measure)
        if not own and not is_related:
            return
        related: Reading | None = None
        if target.kind == Kind.RELATIONAL:
            assert related_series is not None and target.indicator and target.measure
            pair = _latest_common(conn, (target.indicator, target.measure), related_series, year)
            if pair is None or pair[0].period != period:
                return  # the other indicator has no figure for this period yet, or this is not the latest
            reading, related = pair
        else:
            latest = _latest_reading(conn, target.indicator or "", target.measure, year)
            if latest is None or latest.period != period:
                return  # a figure for an earlier period does not change where the target stands now
            reading = latest
        state = current_state(conn, target.id)
        ev = evaluate(target, reading, related=related, previous=state.status if state else None)
        is_revision = data.vintage > 1
        cat = self.catalogue
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
        self.tracker.record(conn, target, ev, basis, message, state, now, restate=restate)


def _related_series(target: Target) -> tuple[str, str] | None:
    rel = target.params.get("related_indicator")
    if target.kind != Kind.RELATIONAL or not isinstance(rel, str):
        return None
    measure = target.params.get("related_measure", target.measure)
    return rel, str(measure)


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


def _readings_of(conn: Connection, indicator: str, measure: Measure | str | None, year: int) -> dict[str, Reading]:
    r = readings
    rows = conn.execute(
        select(r.c.period, r.c.value, r.c.status, r.c.observation_id, r.c.vintage).where(
            r.c.indicator == indicator, r.c.region == CITY, r.c.measure == str(measure),
            r.c.period.like(f"{year}%"),
        )
    ).all()
    return {x.period: Reading(x.value, Period.parse(x.period), ObservationStatus(x.status), x.observation_id,
                              x.vintage) for x in rows}


def _reach(p: Period) -> tuple[int, int]:
    # The latest period is the one reaching furthest into the year; at equal reach the coarser one (the
    # annual figure over December's, the quarter over its last month) is the fuller statement.
    return p.last_month, -len(p.code)


def _latest_reading(conn: Connection, indicator: str, measure: Measure | None, year: int) -> Reading | None:
    found = _readings_of(conn, indicator, measure, year)
    return max(found.values(), key=lambda x: _reach(x.period)) if found else None


def _latest_common(
    conn: Connection, own: tuple[str, str], related: tuple[str, str], year: int
) -> tuple[Reading, Reading] | None:
    mine = _readings_of(conn, own[0], own[1], year)
    theirs = _readings_of(conn, related[0], related[1], year)
    common = set(mine) & set(theirs)
    if not common:
        return None
    code = max(common, key=lambda c: _reach(Period.parse(c)))
    return mine[code], theirs[code]


__all__ = ["ObservationHandler"]
