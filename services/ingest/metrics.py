"""Ingest's business metrics, read from its own database at scrape time: the freshness of each indicator.

Per indicator (a closed set from the catalogue): when its latest figure was accepted, and, from the
release calendar (shared/release_calendar.py), the next period of the catalogue's year still missing and
the instant it becomes overdue. The "data overdue" alert compares that instant with time().
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from services.ingest.adapters.store import IngestStore
from shared.catalogue import Catalogue
from shared.metrics import DatabaseCollector
from shared.periods import Period, PeriodError
from shared.release_calendar import RELEASE_LAG_DAYS, next_due, overdue_at
from shared.workdays import TimeBasis

NS = "ingest"
CITY = "wuxi"  # the report's targets are for the whole city


class IngestCounters:
    """What happened to submitted rows (stored outcomes, rejections by rule) and to presented keys."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.observations = Counter(
            "observations_total", "Submitted observations by outcome (created, revised, unchanged)",
            ["outcome"], namespace=NS, registry=registry,
        )
        self.rejections = Counter(
            "rejections_total", "Rejected fields by rule (validation, scope, authentication, limits)",
            ["rule"], namespace=NS, registry=registry,
        )
        self.key_lookups = Counter(
            "api_key_lookups_total", "API keys looked up in the database (not answered by the key cache)",
            namespace=NS, registry=registry,
        )


class IngestBusinessCollector(DatabaseCollector):
    """Indicators' freshness against the release calendar, from ingest's observations."""

    def __init__(self, store: IngestStore, catalogue: Catalogue,
                 due_in: TimeBasis = TimeBasis.WORKING_DAYS) -> None:
        super().__init__(NS)
        self.store = store
        self.catalogue = catalogue
        self.due_in = due_in

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
        lag = self.gauge(families, f"{NS}_release_lag_seconds")
        recorded_at = self.gauge(families, f"{NS}_indicator_last_recorded_timestamp_seconds")
        overdue = self.gauge(families, f"{NS}_indicator_next_release_overdue_timestamp_seconds")
        for freq, days in RELEASE_LAG_DAYS.items():
            lag.add_metric([freq.name.lower()], days * 86400.0)
        year = self.catalogue.year
        with self.store.reading() as reads:
            rows = reads.observations.last_recorded(CITY)
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
        for ind in self.catalogue.indicators.values():
            if ind.id in last_recorded:
                recorded_at.add_metric([ind.id], last_recorded[ind.id].timestamp())
            due = next_due(year, ind.frequency, reached.get(ind.id))
            if due is not None:
                overdue.add_metric([ind.id, ind.frequency.name.lower(), due.code],
                                   overdue_at(due, self.due_in).timestamp())


