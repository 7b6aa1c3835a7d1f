"""The evaluator's business metrics, read from its own database at scrape time.

Per target (labels target, section, department: closed sets from the catalogue): progress, the progress
expected at the latest data (序时进度), status and severity as state sets, and when the status last changed
(``changes()`` of that timestamp over a range counts the status changes). Per indicator: when the evaluator
last received a figure and when ingest recorded it. Plus the share of the year gone by now, the time line
the dashboards compare against.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from services.evaluator.adapters.database import DbEngine, metrics_snapshot, readings_by_region_year
from services.evaluator.domain.evaluation import Status
from shared.catalogue import Catalogue, Catalogues
from shared.clock import Clock
from shared.messages import Severity
from shared.metrics import DatabaseCollector

NS = "evaluator"
TARGET_LABELS = ["target", "section", "department"]


def year_elapsed(year: int, now: datetime) -> float:
    """Share of the year gone at ``now`` (0 before it starts, 1 after it ends)."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    return min(1.0, max(0.0, (now - start) / (end - start)))


def _ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    return value.timestamp()


class EvaluatorBusinessCollector(DatabaseCollector):
    """Targets' progress and status and indicators' freshness, from the evaluator's tables."""

    def __init__(self, engine: DbEngine, catalogues: Catalogue | Catalogues, clock: Clock) -> None:
        super().__init__(NS)
        self.engine = engine
        self.catalogues = catalogues if isinstance(catalogues, Catalogues) else Catalogues.single(catalogues)
        self.catalogue = self.catalogues.primary
        self.clock = clock

    def families(self) -> list[Metric]:
        return [
            GaugeMetricFamily(f"{NS}_year_elapsed_ratio",
                              "Share of the catalogue's year gone by now (序时进度 today), 0-1", labels=["year"]),
            GaugeMetricFamily(f"{NS}_target_progress_ratio",
                              "Progress of a cumulative target at its latest data: actual / annual target",
                              labels=TARGET_LABELS),
            GaugeMetricFamily(f"{NS}_target_expected_progress_ratio",
                              "Share of the year gone at the end of the target's latest data period (序时进度)",
                              labels=TARGET_LABELS),
            GaugeMetricFamily(f"{NS}_target_status",
                              "The target's current status: 1 for the status it is in, 0 for the others",
                              labels=[*TARGET_LABELS, "status"]),
            GaugeMetricFamily(f"{NS}_target_severity",
                              "The target's current severity: 1 for the severity it is at, 0 for the others",
                              labels=[*TARGET_LABELS, "severity"]),
            GaugeMetricFamily(f"{NS}_target_status_changed_timestamp_seconds",
                              "When the target's status or severity last changed", labels=TARGET_LABELS),
            GaugeMetricFamily(f"{NS}_indicator_last_received_timestamp_seconds",
                              "When the evaluator last received a figure of the indicator", labels=["indicator"]),
            GaugeMetricFamily(f"{NS}_indicator_last_recorded_timestamp_seconds",
                              "When ingest recorded the latest figure of the indicator the evaluator has",
                              labels=["indicator"]),
            CounterMetricFamily(f"{NS}_observations_without_catalogue",
                                "Series-periods stored for a region and year that no catalogue "
                                "uses, neither its year's nor the next (judged against nothing)",
                                labels=["region", "year"]),
        ]

    def fill(self, families: dict[str, Metric]) -> None:
        def gauge(name: str) -> GaugeMetricFamily:
            return self.gauge(families, f"{NS}_{name}")

        for year in sorted({c.year for c in self.catalogues}):
            gauge("year_elapsed_ratio").add_metric([str(year)], year_elapsed(year, self.clock()))
        # target_states points at the target's latest evaluation, which carries its current progress.
        states, freshness = metrics_snapshot(self.engine)
        by_target = {row.target_id: row for row in states}
        for target in self.catalogues.targets.values():
            labels = [target.id, target.section, target.lead_department]
            row = by_target.get(target.id)
            status = row.status if row else Status.NOT_EVALUATED.value
            severity = row.severity if row else Severity.OK.value
            for s in Status:
                gauge("target_status").add_metric([*labels, s.value], 1.0 if s.value == status else 0.0)
            for sev in Severity:
                gauge("target_severity").add_metric([*labels, sev.value], 1.0 if sev.value == severity else 0.0)
            if row is not None and (changed := _ts(row.updated_at)) is not None:
                gauge("target_status_changed_timestamp_seconds").add_metric(labels, changed)
            if row is not None and row.progress is not None:
                gauge("target_progress_ratio").add_metric(labels, row.progress)
            if row is not None and row.expected_progress is not None:
                gauge("target_expected_progress_ratio").add_metric(labels, row.expected_progress)
        for fresh in freshness:
            if not any(fresh.indicator in c.indicators for c in self.catalogues):
                continue  # label values stay within the catalogue's closed set
            if (t := _ts(fresh.received_at)) is not None:
                gauge("indicator_last_received_timestamp_seconds").add_metric([fresh.indicator], t)
            if (t := _ts(fresh.recorded_at)) is not None:
                gauge("indicator_last_recorded_timestamp_seconds").add_metric([fresh.indicator], t)
        unjudged = families[f"{NS}_observations_without_catalogue"]
        assert isinstance(unjudged, CounterMetricFamily)
        for count in readings_by_region_year(self.engine):
            if not self.catalogues.judging(count.region, count.year):
                unjudged.add_metric([count.region, str(count.year)], count.observations)


# The severities as the notifications name them (services/alerts/domain/templates.py).
SEVERITY_ZH = {Severity.OK: "正常", Severity.WARNING: "预警", Severity.CRITICAL: "严重"}


def catalogue_names(catalogue: Catalogue | Catalogues) -> dict[str, dict[str, str]]:
    """Chinese names of the ids the business metrics carry, for shared.metrics.NamesCollector."""
    from services.evaluator.api.read_model import SECTION_ZH
    from services.evaluator.domain.evaluation import STATUS_ZH

    return {
        "department": {d.id: d.name_zh for d in catalogue.departments.values()},
        "section": dict(SECTION_ZH),
        "target": {t.id: t.name_zh for t in catalogue.targets.values()},
        "status": {s.value: name for s, name in STATUS_ZH.items()},
        "severity": {s.value: name for s, name in SEVERITY_ZH.items()},
    }
