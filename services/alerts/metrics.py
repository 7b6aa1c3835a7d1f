"""The alerts service's own metrics, beside the common ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.metrics import CommonMetrics

DELIVERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class AlertsMetrics(CommonMetrics):
    """Common metrics plus notifications sent, failed and dead-lettered by channel, and delivery time."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry, "alerts")
        self.notifications_sent = Counter(
            "notifications_sent_total", "Notifications delivered (2xx, or a robot's errcode 0), by channel",
            ["channel"], namespace="alerts", registry=registry,
        )
        self.notifications_failed = Counter(
            "notifications_failed_total", "Failed delivery attempts, by channel and kind (retryable, permanent)",
            ["channel", "kind"], namespace="alerts", registry=registry,
        )
        self.dead_letters = Counter(
            "dead_letters_total", "Notifications given up after the last attempt (sent to the .dlq topic)",
            ["channel"], namespace="alerts", registry=registry,
        )
        self.delivery_duration = Histogram(
            "delivery_duration_seconds", "Time of one delivery attempt, by channel", ["channel"],
            namespace="alerts", registry=registry, buckets=DELIVERY_BUCKETS,
        )

    def watch_open_alerts(self, count_by_severity: Callable[[], dict[str, int]]) -> None:
        """Export alerts_open_alerts{severity} from a query run at each scrape."""
        self.registry.register(_OpenAlerts(count_by_severity))


class _OpenAlerts(Collector):
    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self.count = count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        g = GaugeMetricFamily("alerts_open_alerts", "Alerts not yet resolved (firing or acknowledged), by severity",
                              labels=["severity"])
        try:
            counts = self.count()
        except Exception:  # the database is away: /readyz says so; the scrape still answers
            counts = {}
        for sev in ("warning", "critical"):
            g.add_metric([sev], counts.get(sev, 0))
        yield g
