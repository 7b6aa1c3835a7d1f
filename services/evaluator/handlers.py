"""The evaluator's message handler: record the reading, evaluate dependent targets, publish status changes.

Runs inside the consumer loop's transaction; writes its events to the outbox in that same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
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
        self.readings = ReadingStore()

    def begin_batch(self, conn: Connection, items: list[tuple[Envelope, EventData]]) -> None:
        """Called by the consumer loop before a polled batch: load what the batch needs in one query."""
        self.readings.begin_batch(conn, [d for _, d in items if isinstance(d, ObservationRecorded)])

    def end_batch(self, conn: Connection) -> None:
        """Called by the consumer loop after the batch's messages, before its commit."""
        self.readings.end_batch(conn)

    def __call__(self, conn: Connection, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, ObservationRecorded):
            raise InvalidMessage(f"the evaluator does not handle {envelope.type}")
        try:
            period = Period.parse(data.period)
        except PeriodError as exc:
            raise InvalidMessage(str(exc)) from exc
        now = self.clock()
        evaluates = data.region == CITY and period.year == self.catalogue.year and any(
            t.kind in QUANTITATIVE_KINDS for t in self.catalogue.targets_for_indicator(data.indicator))
        known = not self.readings.store(conn, data, now, defer=not evaluates)
        if known and not data.replayed:
            return  # a vintage we already know (a repeat): nothing changes
        if not evaluates:
            return
        self.readings.flush(conn)  # evaluations read the readings table
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


# Statements built once: building SQLAlchemy expressions per message cost more than running them.
_KEY = (readings.c.indicator == bindparam("k_indicator"), readings.c.region == bindparam("k_region"),
        readings.c.period == bindparam("k_period"), readings.c.measure == bindparam("k_measure"))
_VALUES = {c: bindparam(c) for c in ("value", "status", "vintage", "observation_id", "recorded_at", "received_at")}
_SELECT_VINTAGES = select(readings.c.indicator, readings.c.region, readings.c.period, readings.c.measure,
                          readings.c.vintage)
_INSERT = readings.insert().values(indicator=bindparam("k_indicator"), region=bindparam("k_region"),
                                   period=bindparam("k_period"), measure=bindparam("k_measure"), **_VALUES)
_UPDATE = readings.update().where(*_KEY).values(**_VALUES)

SeriesKey = tuple[str, str, str, str]


class ReadingStore:
    """Stores the latest vintage of each series, batch by batch.

    One query loads the known vintages of a whole polled batch; readings that trigger no evaluation are
    written together at the end of the batch (or before the next evaluation reads the table).
    """

    def __init__(self) -> None:
        self._known: dict[SeriesKey, int | None] = {}
        self._pending: dict[SeriesKey, dict[str, object]] = {}
        self._prepared = False  # whether begin_batch loaded this batch's vintages

    def begin_batch(self, conn: Connection, items: list[ObservationRecorded]) -> None:
        """Load the known vintages of every series in the batch."""
        self._known.clear()
        self._pending.clear()
        self._prepared = True
        keys = {(d.indicator, d.region, d.period, d.measure.value) for d in items}
        indicators = sorted({k[0] for k in keys})
        periods = sorted({k[2] for k in keys})
        for i in range(0, len(indicators), 200):
            rows = conn.execute(_SELECT_VINTAGES.where(readings.c.indicator.in_(indicators[i : i + 200]),
                                                       readings.c.period.in_(periods)))
            for ind, region, period, measure, vintage in rows:
                if (ind, region, period, measure) in keys:
                    self._known[(ind, region, period, measure)] = vintage

    def store(self, conn: Connection, data: ObservationRecorded, now: datetime, *, defer: bool) -> bool:
        """Record the reading if its vintage is new; False for a vintage already known (a repeat or replay)."""
        key = (data.indicator, data.region, data.period, data.measure.value)
        if not self._prepared:  # called outside a batch (a single message): look it up, write at once
            self._known[key] = conn.execute(select(readings.c.vintage).where(*_KEY), {
                "k_indicator": key[0], "k_region": key[1], "k_period": key[2], "k_measure": key[3]}).scalar()
            defer = False
        known = self._known.get(key)
        if known is not None and known >= data.vintage:
            return False
        row = {"k_indicator": key[0], "k_region": key[1], "k_period": key[2], "k_measure": key[3],
               "value": data.value, "status": data.status.value, "vintage": data.vintage,
               "observation_id": data.observation_id, "recorded_at": data.recorded_at, "received_at": now,
               "_exists": known is not None or self._pending.get(key, {}).get("_exists", False)}
        self._known[key] = data.vintage
        self._pending[key] = row
        if not defer:
            self.flush(conn)
        return True

    def flush(self, conn: Connection) -> None:
        """Write the deferred readings (before anything reads the table, and at the end of the batch)."""
        if not self._pending:
            return
        self._write(conn)

    def end_batch(self, conn: Connection) -> None:
        """Write what is left and forget the batch."""
        self.flush(conn)
        self._prepared = False
        self._known.clear()

    def _write(self, conn: Connection) -> None:
        if not self._pending:
            return
        rows = list(self._pending.values())
        self._pending.clear()
        updates = [r for r in rows if r["_exists"]]
        inserts = [r for r in rows if not r["_exists"]]
        if updates:
            conn.execute(_UPDATE, [{k: v for k, v in r.items() if k != "_exists"} for r in updates])
        if inserts:
            conn.execute(_INSERT, [{k: v for k, v in r.items() if k != "_exists"} for r in inserts])


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
