"""The observations table behind a repository: every query ingest makes about stored figures, in one place."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, RowMapping

from services.ingest.adapters.tables import observations as t
from services.ingest.domain.observations import ObservationQuery, StoredObservation
from shared.db import insert_rows, one_of

_FIELDS = [f.name for f in dataclasses.fields(StoredObservation)]
# IN lists in chunks, within SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


def _stored(r: RowMapping) -> StoredObservation:
    return StoredObservation(**{name: r[name] for name in _FIELDS})


class SqlObservations:
    """Stored vintages of the bureaus' series, read and written through the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def current(self, series_keys: Sequence[str]) -> dict[str, StoredObservation]:
        """The current vintage of each of these series that has one."""
        keys = list(dict.fromkeys(series_keys))
        found: dict[str, StoredObservation] = {}
        for i in range(0, len(keys), _CHUNK):
            # One array parameter on PostgreSQL (one_of): psycopg split a 500-placeholder IN at each of them.
            q = select(t).where(one_of(self.conn, t.c.series_key, keys[i : i + _CHUNK]), t.c.is_current)
            for r in self.conn.execute(q).mappings():
                found[r["series_key"]] = _stored(r)
        return found

    def supersede(self, pks: Sequence[int]) -> None:
        """Mark these vintages as no longer current."""
        for i in range(0, len(pks), _CHUNK):
            self.conn.execute(update(t).where(one_of(self.conn, t.c.pk, pks[i : i + _CHUNK])).values(is_current=False))

    def add(self, rows: Sequence[StoredObservation]) -> None:
        """Insert new vintages (one executemany, or COPY for a large batch on PostgreSQL)."""
        insert_rows(self.conn, t, [{name: getattr(r, name) for name in _FIELDS if name != "pk"} for r in rows])

    def search(self, q: ObservationQuery) -> list[StoredObservation]:
        """Vintages of one indicator, oldest first within each series."""
        stmt = select(t).where(t.c.indicator == q.indicator)
        if q.region is not None:
            stmt = stmt.where(t.c.region == q.region)
        if q.regions is not None:
            stmt = stmt.where(t.c.region.in_(sorted(q.regions)))
        if q.period is not None:
            stmt = stmt.where(t.c.period == q.period)
        if q.current_only:
            stmt = stmt.where(t.c.is_current)
        stmt = stmt.order_by(t.c.period, t.c.measure, t.c.region, t.c.vintage).limit(q.limit)
        return [_stored(r) for r in self.conn.execute(stmt).mappings()]

    def current_in_years(self, first_year: int, last_year: int,
                         indicators: Sequence[str] | None) -> Iterator[StoredObservation]:
        """Current vintages whose period lies in these years, in the order they were stored."""
        # Period codes of one year sort together ("2024" < "2024-M01" < "2024-Q1" < "2024-S1" < "2025").
        stmt = (select(t).where(t.c.is_current, t.c.period >= str(first_year), t.c.period < str(last_year + 1))
                .order_by(t.c.pk))
        if indicators:
            stmt = stmt.where(t.c.indicator.in_(list(indicators)))
        for r in self.conn.execute(stmt).mappings():
            yield _stored(r)

    def last_recorded(self, region: str) -> list[tuple[str, str, datetime | None]]:
        """(indicator, period, when its latest figure was recorded) for one region: the freshness metrics."""
        # One row per indicator and period: a few hundred a year. ix_observations_indicator_period serves it.
        rows = self.conn.execute(
            select(t.c.indicator, t.c.period, func.max(t.c.recorded_at)).where(t.c.region == region)
            .group_by(t.c.indicator, t.c.period)
        ).all()
        return [(indicator, period, recorded) for indicator, period, recorded in rows]
