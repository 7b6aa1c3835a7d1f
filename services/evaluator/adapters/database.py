"""The evaluator's database: transactions handed to the entry points, and the one read the metrics scrape does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from services.evaluator.adapters.repositories import SqlStore
from services.evaluator.adapters.tables import evaluations, readings, target_states
from shared.outbox import Outbox

# The consumer loop hands its handler a SQLAlchemy connection; the handler names the type through here.
DbConnection = Connection
DbEngine = Engine


@dataclass(frozen=True)
class TargetMetricsRow:
    """A target's state as the metrics show it."""

    target_id: str
    status: str
    severity: str
    updated_at: datetime | None
    progress: float | None
    expected_progress: float | None


@dataclass(frozen=True)
class IndicatorFreshness:
    """When the evaluator last received a figure of an indicator, and when ingest recorded it."""

    indicator: str
    received_at: datetime | None
    recorded_at: datetime | None


@dataclass(frozen=True)
class RegionYearCount:
    """How many series-periods the evaluator holds for one region and year."""

    region: str
    year: int
    observations: int


def readings_by_region_year(engine: Engine) -> list[RegionYearCount]:
    """The stored readings (latest vintage of each series and period) counted per region and year."""
    year = func.substr(readings.c.period, 1, 4)
    with engine.connect() as conn:
        rows = conn.execute(
            select(readings.c.region, year, func.count()).group_by(readings.c.region, year)
            .order_by(readings.c.region, year)
        ).all()
    return [RegionYearCount(region, int(y), int(n)) for region, y, n in rows]


class EvaluatorDatabase:
    """The engine, and the units of work the entry points (routes, the consumer loop) open on it."""

    def __init__(self, engine: Engine, outbox: Outbox) -> None:
        self.engine = engine
        self.outbox = outbox

    @contextmanager
    def transaction(self) -> Iterator[SqlStore]:
        """A unit of work committed when the block ends without an exception (rolled back otherwise)."""
        with self.engine.begin() as conn:
            yield SqlStore(conn, self.outbox)

    @contextmanager
    def reading(self) -> Iterator[SqlStore]:
        """A unit of work for reads only (nothing is committed)."""
        with self.engine.connect() as conn:
            yield SqlStore(conn, self.outbox)

    def metrics_snapshot(self) -> tuple[list[TargetMetricsRow], list[IndicatorFreshness]]:
        """Every target's state with its latest progress, and each indicator's freshness."""
        return metrics_snapshot(self.engine)

    def dispose(self) -> None:
        """Close the engine's connections."""
        self.engine.dispose()


def metrics_snapshot(engine: Engine) -> tuple[list[TargetMetricsRow], list[IndicatorFreshness]]:
    """Every target's state with its latest progress, and each indicator's freshness, in one connection."""
    with engine.connect() as conn:
        states = conn.execute(
            select(target_states.c.target_id, target_states.c.status, target_states.c.severity,
                   target_states.c.updated_at, evaluations.c.progress, evaluations.c.expected_progress)
            .join(evaluations, evaluations.c.id == target_states.c.evaluation_id, isouter=True)
        ).all()
        freshness = conn.execute(
            select(readings.c.indicator, func.max(readings.c.received_at), func.max(readings.c.recorded_at))
            .group_by(readings.c.indicator)
        ).all()
    return ([TargetMetricsRow(*row) for row in states], [IndicatorFreshness(*row) for row in freshness])
