"""Ingest's business metrics, read from its own database at scrape time: the freshness of each indicator.

Per indicator (a closed set from the catalogue): when its latest figure was accepted, and, from the
release calendar (shared/release_calendar.py), the next period of the catalogue's year still missing and
the instant it becomes overdue. The "data overdue" alert compares that instant with time().
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import Engine, func, select

from services.ingest.adapters.tables import observations
from shared.catalogue import Catalogue
from shared.metrics import DatabaseCollector
from shared.periods import Period, PeriodError
from shared.release_calendar import RELEASE_LAG_DAYS, next_due, overdue_at

NS = "ingest"
CITY = "wuxi"  # the report's targets are for the whole city


class IngestBusinessCollector(DatabaseCollector):
    """Indicators' freshness against the release calendar, from ingest's observations."""

    def __init__(self, engine: Engine, catalogue: Catalogue) -> None:
        super().__init__(NS)
        self.engine = engine
        self.catalogue = catalogue

    def families(self) -> list[Metric]:
        return [
            GaugeMetricFamily(f"{NS}_indicator_last_recorded_timestamp_seconds",
                              "When ingest last accepted a figure of the indicator", labels=["indicator"]),
            GaugeMetricFamily(f"{NS}_indicator_next_release_overdue_timestamp_seconds",
                              "When the indicator's next missing period of the catalogue's year becomes overdue "
                              "by the release calendar (absent once the year is complete)",
                              labels=["indicator", "frequency", "period"]),
            GaugeMetricFamily(f"{NS}_release_lag_seconds",
                              "Release calendar: time after a period's end by which its figures are due",
                              labels=["frequency"]),
        ]

    def fill(self, families: dict[str, Metric]) -> None:
        for freq, days in RELEASE_LAG_DAYS.items():
            families[f"{NS}_release_lag_seconds"].add_metric([freq.name.lower()], days * 86400.0)
        o = observations
        year = self.catalogue.year
        with self.engine.connect() as conn:
            # One row per indicator and period: a few hundred a year. ix_observations_indicator_period serves it.
            rows = conn.execute(
                select(o.c.indicator, o.c.period, func.max(o.c.recorded_at))
                .where(o.c.region == CITY)
                .group_by(o.c.indicator, o.c.period)
            ).all()
        last_recorded: dict[str, datetime] = {}
        reached: dict[str, int] = {}
        for indicator, code, recorded in rows:
            if recorded is not None and (indicator not in last_recorded or recorded > last_recorded[indicator]):
                last_recorded[indicator] = recorded
            try:
                period = Period.parse(code)
            except PeriodError:
                continue
            if period.year == year:
                reached[indicator] = max(reached.get(indicator, 0), period.last_month)
        for indicator in self.catalogue.indicators.values():
            if indicator.id in last_recorded:
                families[f"{NS}_indicator_last_recorded_timestamp_seconds"].add_metric(
                    [indicator.id], last_recorded[indicator.id].timestamp())
            due = next_due(year, indicator.frequency, reached.get(indicator.id))
            if due is not None:
                families[f"{NS}_indicator_next_release_overdue_timestamp_seconds"].add_metric(
                    [indicator.id, indicator.frequency.name.lower(), due.code], overdue_at(due).timestamp())
