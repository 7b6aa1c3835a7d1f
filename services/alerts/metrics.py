"""The alerts service's own metrics, beside the common ones."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from shared.metrics import CommonMetrics


class AlertsMetrics(CommonMetrics):
    """Common metrics plus notifications sent and failed by channel."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry, "alerts")
        self.notifications_sent = Counter(
            "notifications_sent_total", "Notifications delivered (2xx), by channel", ["channel"],
            namespace="alerts", registry=registry,
        )
        self.notifications_failed = Counter(
            "notifications_failed_total", "Failed delivery attempts, by channel and kind (retryable, permanent)",
            ["channel", "kind"], namespace="alerts", registry=registry,
        )
