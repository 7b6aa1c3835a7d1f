"""The evaluator's repositories on SQLAlchemy Core, bound to the caller's connection (the caller's transaction).

Every query of the evaluator is here (and in ``database.py`` for the metrics' scrape): the use cases see the
Protocols of ``services/evaluator/ports.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from services.evaluator.adapters.tables import evaluations, readings, status_reports, target_states
from services.evaluator.domain.evaluation import Reading, Status
from services.evaluator.ports import BoardRow, CurrentState, EvaluationRow, StatusReportRow
from shared.db import insert_rows, update_rows
from shared.messages import EventData, ObservationRecorded, ObservationStatus, Severity
from shared.outbox import Outbox
from shared.periods import Period

# Statements built once: building SQLAlchemy expressions per message cost more than running them.
_KEY = (readings.c.indicator == bindparam("k_indicator"), readings.c.region == bindparam("k_region"),
        readings.c.period == bindparam("k_period"), readings.c.measure == bindparam("k_measure"))
_VALUES: dict[str, Any] = {
    c: bindparam(c) for c in ("value", "status", "vintage", "observation_id", "recorded_at", "received_at")}
_SELECT_VINTAGES = select(readings.c.indicator, readings.c.region, readings.c.period, readings.c.measure,
                          readings.c.vintage)
_COLUMN = {"k_indicator": "indicator", "k_region": "region", "k_period": "period", "k_measure": "measure"}
_UPDATE = readings.update().where(*_KEY).values(**_VALUES)
_EVALUATION_COLUMNS = tuple(f.name for f in fields(EvaluationRow))
_REPORT_COLUMNS = tuple(f.name for f in fields(StatusReportRow))

SeriesKey = tuple[str, str, str, str]


class BatchCache:
    """What one polled batch reads once and writes once, across its messages (the consumer loop's transaction).

    - the known vintages of every series in the batch: one query in ``begin_batch``;
    - readings that trigger no evaluation: written together, before anything reads the table and at the end;
    - each series an evaluation reads: read once per batch, then kept current as the batch's figures arrive;
    - each target's state: read once per batch; evaluations and state moves are written at the end of the batch.

    Outside a batch (a route's unit of work) every read goes to the database and every write is made at once.
    Nothing is kept from one batch to the next: another replica may have moved a series or a state in between.
    """

    def __init__(self) -> None:
        self._known: dict[SeriesKey, int | None] = {}
        self._pending: dict[SeriesKey, dict[str, object]] = {}
        self._series: dict[tuple[str, str, int, str], dict[str, Reading]] = {}  # (indicator, measure, year, region)
        self._states: dict[str, CurrentState | None] = {}
        self._evaluations: list[dict[str, Any]] = []
        self._state_writes: dict[str, tuple[bool, dict[str, object]]] = {}  # target id -> (insert, values)
        self._prepared = False  # whether begin_batch opened a batch

    def begin_batch(self, conn: Connection, items: Sequence[ObservationRecorded]) -> None:
        """Forget any earlier batch and load the known vintages of every series in this one."""
        self._clear()
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

    def _clear(self) -> None:
        self._known.clear()
        self._pending.clear()
        self._series.clear()
        self._states.clear()
        self._evaluations.clear()
        self._state_writes.clear()

    def record(self, conn: Connection, data: ObservationRecorded, now: datetime, *, defer: bool) -> bool:
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
        if self._series:
            period = Period.parse(data.period)
            held = self._series.get((data.indicator, data.measure.value, period.year, data.region))
            if held is not None:  # a series this batch has read: it now holds the new figure
                held[data.period] = Reading(data.value, period, data.status, data.observation_id, data.vintage,
                                            data.recorded_at)
        if not defer:
            self.flush(conn)
        return True

    def series(self, conn: Connection, indicator: str, measure: str, year: int, region: str) -> list[Reading]:
        """Every period's latest vintage of one series in one year: from the batch once it has read it."""
        key = (indicator, measure, year, region)
        held = self._series.get(key)
        if held is None:
            self.flush(conn)  # evaluations read what this batch has received so far
            r = readings
            rows = conn.execute(
                select(r.c.period, r.c.value, r.c.status, r.c.observation_id, r.c.vintage, r.c.recorded_at).where(
                    r.c.indicator == indicator, r.c.region == region, r.c.measure == measure,
                    r.c.period.like(f"{year}%"),
                )
            ).all()
            held = {x.period: Reading(x.value, Period.parse(x.period), ObservationStatus(x.status), x.observation_id,
                                      x.vintage, x.recorded_at) for x in rows}
            if self._prepared:
                self._series[key] = held
        return list(held.values())

    def state(self, conn: Connection, target_id: str) -> CurrentState | None:
        """The target's stored status (as this batch has moved it), or None before its first evaluation."""
        if self._prepared and target_id in self._states:
            return self._states[target_id]
        s = target_states
        row = conn.execute(select(s.c.status, s.c.severity, s.c.period).where(s.c.target_id == target_id)).first()
        found = CurrentState(Status(row.status), Severity(row.severity), row.period) if row else None
        if self._prepared:
            self._states[target_id] = found
        return found

    def put_state(self, conn: Connection, target_id: str, values: dict[str, object], *, exists: bool) -> None:
        """Move a target's state: at once outside a batch, at the end of the batch inside one."""
        if not self._prepared:
            _write_states(conn, {target_id: (not exists, values)})
            return
        before = self._states.get(target_id) if target_id in self._states else self.state(conn, target_id)
        if "status" in values or before is None:
            self._states[target_id] = CurrentState(Status(str(values["status"])), Severity(str(values["severity"])),
                                                   str(values["period"]))
        else:
            self._states[target_id] = CurrentState(before.status, before.severity, str(values["period"]))
        insert, held = self._state_writes.get(target_id, (not exists, {}))
        self._state_writes[target_id] = (insert, {**held, **values})

    def add_evaluation(self, conn: Connection, row: dict[str, Any]) -> None:
        """Store an evaluation: at once outside a batch, at the end of the batch inside one."""
        if self._prepared:
            self._evaluations.append(row)
        else:
            conn.execute(evaluations.insert(), [row])

    def flush(self, conn: Connection) -> None:
        """Write the deferred readings (before anything reads the table, and at the end of the batch)."""
        if not self._pending:
            return
        rows = list(self._pending.values())
        self._pending.clear()
        updates = [r for r in rows if r["_exists"]]
        inserts = [r for r in rows if not r["_exists"]]
        if updates:
            conn.execute(_UPDATE, [{k: v for k, v in r.items() if k != "_exists"} for r in updates])
        if inserts:
            insert_rows(conn, readings, [{_COLUMN.get(k, k): v for k, v in r.items() if k != "_exists"}
                                         for r in inserts])

    def end_batch(self, conn: Connection) -> None:
        """Write what is left (readings, evaluations, then the states pointing at them) and forget the batch."""
        self.flush(conn)
        insert_rows(conn, evaluations, self._evaluations)
        _write_states(conn, self._state_writes)
        self._clear()
        self._prepared = False


def _write_states(conn: Connection, writes: dict[str, tuple[bool, dict[str, object]]]) -> None:
    """Insert the new target states (every field), update the others (the fields moved)."""
    insert_rows(conn, target_states, [{"target_id": t, **values} for t, (insert, values) in writes.items() if insert])
    update_rows(conn, target_states, target_states.c.target_id,
                {t: values for t, (insert, values) in writes.items() if not insert})


class SqlReadings:
    """ReadingRepository on the ``readings`` table."""

    def __init__(self, conn: Connection, cache: BatchCache) -> None:
        self._conn = conn
        self._cache = cache

    def record(self, data: ObservationRecorded, now: datetime, *, defer: bool) -> bool:
        """Store the figure if its vintage is new; False when it is already known."""
        return self._cache.record(self._conn, data, now, defer=defer)

    def series(self, indicator: str, measure: str, year: int, region: str) -> list[Reading]:
        """Every period's latest vintage of one series in one year."""
        return self._cache.series(self._conn, indicator, measure, year, region)

    def of_period(self, indicator: str, measure: str, period: str) -> dict[str, Reading]:
        """Every region's latest vintage of one series in one period, by region."""
        self._cache.flush(self._conn)
        r = readings
        rows = self._conn.execute(
            select(r.c.region, r.c.period, r.c.value, r.c.status, r.c.observation_id, r.c.vintage, r.c.recorded_at)
            .where(r.c.indicator == indicator, r.c.measure == measure, r.c.period == period)
        ).all()
        return {x.region: Reading(x.value, Period.parse(x.period), ObservationStatus(x.status), x.observation_id,
                                  x.vintage, x.recorded_at) for x in rows}

    def periods(self, indicator: str, measure: str, regions: Sequence[str]) -> list[Period]:
        """The periods of one series that any of ``regions`` has a figure for, earliest first."""
        self._cache.flush(self._conn)
        r = readings
        codes = self._conn.execute(
            select(r.c.period).distinct().where(r.c.indicator == indicator, r.c.measure == measure,
                                                r.c.region.in_(list(regions)))
        ).scalars().all()
        return sorted(Period.parse(c) for c in codes)


class SqlEvaluations:
    """EvaluationRepository on the ``evaluations`` table."""

    def __init__(self, conn: Connection, cache: BatchCache) -> None:
        self._conn = conn
        self._cache = cache

    def add(self, row: EvaluationRow) -> None:
        """Store an evaluation (in a batch, with the batch's others at its end)."""
        self._cache.add_evaluation(self._conn, asdict(row))

    def history(self, target_id: str, limit: int) -> list[EvaluationRow]:
        """A target's evaluations, newest first."""
        e = evaluations
        rows = self._conn.execute(
            select(*(e.c[name] for name in _EVALUATION_COLUMNS)).where(e.c.target_id == target_id)
            .order_by(e.c.evaluated_at.desc(), e.c.id).limit(limit)
        ).mappings().all()
        return [EvaluationRow(**dict(r)) for r in rows]

    def of_targets(self, target_ids: Sequence[str], year: int) -> list[EvaluationRow]:
        """Every evaluation of these targets for periods of one year (a report's period is its year)."""
        e = evaluations
        out: list[EvaluationRow] = []
        ids = sorted(set(target_ids))
        for i in range(0, len(ids), 200):  # bounded IN lists
            rows = self._conn.execute(
                select(*(e.c[name] for name in _EVALUATION_COLUMNS))
                .where(e.c.target_id.in_(ids[i : i + 200]), e.c.period.like(f"{year}%"))
            ).mappings().all()
            out.extend(EvaluationRow(**dict(r)) for r in rows)
        return out


class SqlTargetStates:
    """TargetStateRepository on the ``target_states`` table."""

    def __init__(self, conn: Connection, cache: BatchCache) -> None:
        self._conn = conn
        self._cache = cache

    def get(self, target_id: str) -> CurrentState | None:
        """The target's stored status, or None before its first evaluation."""
        return self._cache.state(self._conn, target_id)

    def put(self, target_id: str, *, period: str, evaluation_id: str, status: Status, severity: Severity,
            changed: bool, now: datetime, exists: bool) -> None:
        """Point the target at its latest evaluation; status and since-when move only when ``changed``."""
        values: dict[str, object] = {"period": period, "evaluation_id": evaluation_id}
        if changed or not exists:
            values.update(status=status.value, severity=severity.value, updated_at=now)
        self._cache.put_state(self._conn, target_id, values, exists=exists)

    def board(self) -> dict[str, BoardRow]:
        """Every evaluated target's state with its latest evaluation's figures."""
        e, s = evaluations, target_states
        rows = self._conn.execute(
            select(s.c.target_id, s.c.period, s.c.status, s.c.severity, s.c.updated_at, e.c.message_zh, e.c.actual,
                   e.c.expected, e.c.progress, e.c.expected_progress)
            .join(e, e.c.id == s.c.evaluation_id)
        ).mappings().all()
        return {r["target_id"]: BoardRow(**dict(r)) for r in rows}


class SqlStatusReports:
    """StatusReportRepository on the ``status_reports`` table."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, row: StatusReportRow) -> None:
        """Store a report."""
        self._conn.execute(status_reports.insert().values(**asdict(row)))

    def for_target(self, target_id: str) -> list[StatusReportRow]:
        """A target's reports, newest first."""
        s = status_reports
        rows = self._conn.execute(
            select(*(s.c[name] for name in _REPORT_COLUMNS)).where(s.c.target_id == target_id)
            .order_by(s.c.reported_at.desc(), s.c.id)
        ).mappings().all()
        return [StatusReportRow(**dict(r)) for r in rows]

    def for_targets(self, target_ids: Sequence[str]) -> list[StatusReportRow]:
        """The reports of several targets, newest first."""
        s = status_reports
        out: list[StatusReportRow] = []
        ids = sorted(set(target_ids))
        for i in range(0, len(ids), 200):
            rows = self._conn.execute(
                select(*(s.c[name] for name in _REPORT_COLUMNS)).where(s.c.target_id.in_(ids[i : i + 200]))
            ).mappings().all()
            out.extend(StatusReportRow(**dict(r)) for r in rows)
        return sorted(out, key=lambda r: (r.reported_at, r.id), reverse=True)


class SqlOutbox:
    """EventOutbox on the shared outbox table, in the connection's transaction."""

    def __init__(self, conn: Connection, outbox: Outbox) -> None:
        self._conn = conn
        self._outbox = outbox

    def add(self, events: Sequence[EventData], now: datetime) -> None:
        """Queue events in the current transaction."""
        self._outbox.add(self._conn, list(events), now)


class SqlStore:
    """The evaluator's repositories on one connection: a unit of work whose transaction the caller owns."""

    def __init__(self, conn: Connection, outbox: Outbox, cache: BatchCache | None = None) -> None:
        cache = cache or BatchCache()
        self.readings = SqlReadings(conn, cache)
        self.evaluations = SqlEvaluations(conn, cache)
        self.states = SqlTargetStates(conn, cache)
        self.reports = SqlStatusReports(conn)
        self.outbox = SqlOutbox(conn, outbox)
