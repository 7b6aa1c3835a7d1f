"""Prometheus metrics every service exports, built on a registry passed in (one per app)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
access_log = logging.getLogger("wuxi.access")  # shared.runtime.ACCESS_LOGGER

CONSUMER_OUTCOMES = ("processed", "duplicate", "invalid")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class CommonMetrics:
    """HTTP, outbox and consumer metrics: one name for every service (``http_requests_total``, …).

    Prometheus tells the services apart by the scrape's ``job`` label (the job is named after the service,
    see deploy/prometheus), so rules and dashboards aggregate ``by (job)`` over one name instead of
    ``ingest_… or evaluator_… or alerts_…``. Metrics that only one service has keep its prefix.
    """

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.registry = registry
        self.service = service
        ns = ""
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests handled, by route template, method and status code",
            ["method", "route", "status"], namespace=ns, registry=registry,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds", "HTTP request handling time",
            ["method", "route"], namespace=ns, registry=registry, buckets=LATENCY_BUCKETS,
        )
        self.outbox_pending = Gauge(
            "outbox_pending_events", "Events written to the outbox and not yet published",
            namespace=ns, registry=registry,
        )
        self.outbox_oldest_age = Gauge(
            "outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox event (0 when empty)",
            namespace=ns, registry=registry,
        )
        self.outbox_published = Counter(
            "outbox_published_total", "Outbox events published to Kafka", ["topic"],
            namespace=ns, registry=registry,
        )
        self.outbox_publish_failures = Counter(
            "outbox_publish_failures_total", "Outbox relay rounds that failed to publish (retried)",
            namespace=ns, registry=registry,
        )
        self.consumer_messages = Counter(
            "consumer_messages_total", "Kafka messages consumed, by topic and outcome "
            "(processed, duplicate, invalid)", ["topic", "outcome"], namespace=ns, registry=registry,
        )
        self.consumer_failures = Counter(
            "consumer_batch_failures_total", "Consumer batches that failed and were retried",
            ["topic"], namespace=ns, registry=registry,
        )
        self.consumer_duration = Histogram(
            "consumer_batch_duration_seconds", "Time to process one polled batch, database commit included",
            namespace=ns, registry=registry, buckets=LATENCY_BUCKETS,
        )
        self.consumer_lag = Gauge(
            "consumer_lag_messages", "Messages behind the partition's high watermark",
            ["topic", "partition"], namespace=ns, registry=registry,
        )
        self.consumer_assigned_partitions = Gauge(
            "consumer_assigned_partitions", "Partitions assigned to this replica by the consumer group, by topic",
            ["topic"], namespace=ns, registry=registry,
        )
        self.consumer_unknown_fields = Counter(
            "consumer_unknown_fields_total", "Messages read with fields this version does not know (a newer "
            "producer; the fields are ignored)", ["topic"], namespace=ns, registry=registry,
        )
        self.transient_failures = Counter(
            "transient_failures_total", "Failures of a background loop retried with backoff, by loop and the "
            "dependency that failed (database: locked, busy or away; broker)", ["loop", "dependency"],
            namespace=ns, registry=registry,
        )
        self.pruned_rows = Counter(
            "pruned_rows_total", "Rows deleted past their retention (sent outbox rows, processed event ids)",
            ["table"], namespace=ns, registry=registry,
        )
        self.consumer_last_message = Gauge(
            "consumer_last_message_timestamp_seconds", "When the consumer last processed a message",
            namespace=ns, registry=registry,
        )

    def init_consumer_series(self, topics: list[str]) -> None:
        """Export the consumer counters at 0 for every topic and outcome before anything happens.

        A counter series that first appears at 1 shows no ``increase()`` in Prometheus, so the first dead
        letter after a start would never fire MessagesDeadLettered.
        """
        for topic in topics:
            for outcome in CONSUMER_OUTCOMES:
                self.consumer_messages.labels(topic, outcome)
            self.consumer_failures.labels(topic)


class DatabaseCollector(Collector):
    """A collector that reads the service's own database at scrape time.

    Values come from the database, not from process memory, so they are right after a restart and the
    same in every replica sharing the database (aggregate them with ``max``, not ``sum``). A failed read
    yields the families without samples and ``business_metrics_up`` 0, never a failed scrape.
    """

    def __init__(self, service: str) -> None:
        self.service = service

    def families(self) -> list[Metric]:
        """Fresh, empty metric families this collector exports (its names, for describe())."""
        raise NotImplementedError

    def fill(self, families: dict[str, Metric]) -> None:
        """Add the samples to ``families`` (keyed by family name), reading the database."""
        raise NotImplementedError

    def describe(self) -> Iterable[Metric]:
        return [*self.families(), self._up(None)]

    @staticmethod
    def gauge(families: dict[str, Metric], name: str) -> GaugeMetricFamily:
        """The gauge family ``name`` of ``families``, to add samples to in ``fill``."""
        family = families[name]
        assert isinstance(family, GaugeMetricFamily)
        return family

    def collect(self) -> Iterator[Metric]:
        families = {f.name: f for f in self.families()}
        ok = True
        try:
            self.fill(families)
        except Exception:
            log.exception("%s: reading business metrics from the database failed", self.service)
            families = {f.name: f for f in self.families()}
            ok = False
        yield from families.values()
        yield self._up(ok)

    def _up(self, ok: bool | None) -> GaugeMetricFamily:
        up = GaugeMetricFamily("business_metrics_up",
                               "1 when the last scrape read the business metrics from the database, else 0")
        if ok is not None:
            up.add_metric([], 1.0 if ok else 0.0)
        return up


class HttpMetrics:
    """ASGI middleware recording request counts and durations by route template (and the access log).

    Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, which runs the app in a task of its own and passes
    the response through a memory stream: that hop was about a tenth of a small request's time.
    """

    def __init__(self, app: ASGIApp, metrics: CommonMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what an exception escaping the app becomes

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # The router records the matched route in the scope; its template keeps label values few.
            route = getattr(scope.get("route"), "path", "unmatched")
            if route != "/metrics":
                self._record(scope, route, status, time.perf_counter() - start)

    def _record(self, scope: Scope, route: str, status: int, elapsed: float) -> None:
        method = scope["method"]
        self.metrics.http_duration.labels(method, route).observe(elapsed)
        self.metrics.http_requests.labels(method, route, str(status)).inc()
        if access_log.isEnabledFor(logging.INFO):  # <P>ACCESS_LOG
            client = scope.get("client")
            access_log.info("%s %s %d", method, scope["path"], status, extra={
                "method": method, "route": route, "path": scope["path"], "status": status,
                "duration_s": round(elapsed, 6), "client": client[0] if client else None})


class NamesCollector(Collector):
    """Info metrics naming the ids the other metrics carry: ``<ns>_<label>_info{<label>, <label>_name} 1``.

    The dashboards join on them (``* on (department) group_left (department_name) …``) to show 市发展改革委
    instead of ``fgw``, without a second, redundant label on every business series. Names come from the
    catalogue, a closed set, so the info series are few and constant.
    """

    def __init__(self, namespace: str, names: dict[str, dict[str, str]]) -> None:
        self.namespace = namespace
        self.names = names

    def collect(self) -> Iterator[Metric]:
        for label, by_id in self.names.items():
            family = GaugeMetricFamily(f"{self.namespace}_{label}_info", f"The Chinese name of each {label} id",
                                       labels=[label, f"{label}_name"])
            for id_, name in by_id.items():
                family.add_metric([id_, name], 1.0)
            yield family
