"""The alerts service's own metrics, beside the common ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.alerts.channels.base import DeliveryResult
from services.alerts.domain.model import DeliveryStatus
from shared.metrics import CommonMetrics

DELIVERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class AlertsMetrics(CommonMetrics):
    """Common metrics plus notifications sent, failed, dead-lettered and uncertain by channel, and delivery time."""

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
            "dead_letters_total", "Notifications given up when their retry budget ran out (sent to the .dlq topic)",
            ["channel"], namespace="alerts", registry=registry,
        )
        self.uncertain = Counter(
            "notifications_uncertain_total", "Notifications the platform may have accepted (an ambiguous failure on "
            "a channel that cannot drop repeats): not re-sent, a person decides", ["channel"], namespace="alerts",
            registry=registry,
        )
        self.suppressed_at_send = Counter(
            "notifications_suppressed_at_send_total", "Queued notifications held back by a silence created later",
            ["channel"], namespace="alerts", registry=registry,
        )
        self.inhibited = Counter(
            "notifications_inhibited_total", "Notifications held back by an open alert through an inhibition rule "
            "(recorded as inhibited, never sent), by rule", ["rule"], namespace="alerts", registry=registry,
        )
        self.revived = Counter(
            "notifications_revived_total", "Dead notifications queued again because their receiver answered again "
            "within the retry budget", namespace="alerts", registry=registry,
        )
        self.bookkeeping_failures = Counter(
            "delivery_log_commit_failures_total", "Failed commits of delivery outcomes (retried; readiness fails "
            "while they last)", namespace="alerts", registry=registry,
        )
        self.robot_merged = Counter(
            "robot_notifications_merged_total", "Notifications that went out inside another's message to a chat "
            "robot (its backlog merged to keep under the robot's limit), by channel", ["channel"],
            namespace="alerts", registry=registry,
        )
        self.robot_paused = Counter(
            "robot_pauses_total", "Times a chat robot answered that it was sent too fast and was left alone for its "
            "pause, by channel", ["channel"], namespace="alerts", registry=registry,
        )
        self.delivery_duration = Histogram(
            "delivery_duration_seconds", "Time of one delivery attempt, by channel", ["channel"],
            namespace="alerts", registry=registry, buckets=DELIVERY_BUCKETS,
        )

    def count(self, channel: str, status: DeliveryStatus, result: DeliveryResult) -> None:
        """Count one recorded attempt."""
        if status == DeliveryStatus.SUPPRESSED:
            self.suppressed_at_send.labels(channel).inc()
            return
        if result.delivered:
            self.notifications_sent.labels(channel).inc()
            return
        self.notifications_failed.labels(channel, "retryable" if result.retryable else "permanent").inc()
        if status == DeliveryStatus.DEAD:
            self.dead_letters.labels(channel).inc()
        elif status == DeliveryStatus.UNCERTAIN:
            self.uncertain.labels(channel).inc()

    def watch_open_alerts(self, count_by_severity: Callable[[], dict[str, int]]) -> None:
        """Export alerts_open_alerts{severity} from a query run at each scrape."""
        self.registry.register(_OpenAlerts(count_by_severity))

    def watch_dispatcher(self, state: Callable[[], tuple[bool, int]]) -> None:
        """Export whether this replica's dispatcher leads, and how many notifications it holds buffered."""
        self.registry.register(_Dispatcher(state))


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


class _Dispatcher(Collector):
    def __init__(self, state: Callable[[], tuple[bool, int]]) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        leading, buffered = self.state()
        yield GaugeMetricFamily("alerts_dispatcher_leader", "1 when this replica's dispatcher holds the leader lock",
                                value=1 if leading else 0)
        yield GaugeMetricFamily("alerts_dispatcher_buffered_notifications",
                                "Due notifications this replica holds in memory, waiting for a worker", value=buffered)
