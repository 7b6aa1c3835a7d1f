"""The alerts service's composition root: database, consumer loop, dispatcher and API, wired once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.alerts.adapters.tables import processed_events
from services.alerts.api.routes import router
from services.alerts.config import AlertsSettings
from services.alerts.dispatcher import Dispatcher
from services.alerts.handlers import StatusChangeHandler
from services.alerts.metrics import AlertsMetrics
from shared.app import build_app
from shared.catalogue import Catalogue, load_catalogue
from shared.clock import Clock, utc_now
from shared.consumer import ConsumerLoop
from shared.db import make_engine, ping, run_migrations
from shared.kafka import broker_reachable, ensure_topics, make_consumer, make_producer, topic_name
from shared.messages import TargetStatusChanged
from shared.runtime import BackgroundLoops, configure_logging

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(
    settings: AlertsSettings | None = None,
    *,
    catalogue: Catalogue | None = None,
    clock: Clock = utc_now,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """Build the alerts app; the consumer and the dispatcher start with the app's lifespan."""
    settings = settings or AlertsSettings()  # type: ignore[call-arg]
    configure_logging(settings.log_level)
    catalogue = catalogue or load_catalogue()
    metrics = AlertsMetrics(registry or CollectorRegistry())
    engine = make_engine(settings.database_url)

    def receivers(department: str) -> list[tuple[str, str]]:
        url = settings.webhook_urls.get(department, settings.default_webhook_url)
        return [("webhook", url)] if url else []

    dispatcher = Dispatcher(
        engine, secret=settings.webhook_secret.get_secret_value().encode(), metrics=metrics,
        timeout_s=settings.delivery_timeout_s, max_attempts=settings.max_attempts,
        retry_base_s=settings.retry_base_s, retry_max_s=settings.retry_max_s,
        poll_interval_s=settings.dispatch_poll_interval_s, clock=clock,
    )
    deviations_topic = topic_name(settings, TargetStatusChanged.topic)
    consumer = ConsumerLoop(
        name="alerts-consumer",
        engine=engine,
        inbox=processed_events,
        consumer_factory=lambda: make_consumer(settings, settings.consumer_group, "alerts"),
        dead_letter_producer_factory=lambda: make_producer(settings, "alerts-dlq"),
        topics=[deviations_topic],
        handler=StatusChangeHandler(catalogue, receivers, clock, settings.public_url),
        metrics=metrics,
        after_commit=dispatcher.wake,
        clock=clock,
    )
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        run_migrations(settings.database_url, MIGRATIONS)
        ensure_topics(settings, [deviations_topic, f"{deviations_topic}.dlq"])
        loops.start("consumer", consumer.run)
        loops.start("dispatcher", dispatcher.run)
        log.info("alerts ready on %s:%s", settings.host, settings.port)
        yield
        loops.stop()
        engine.dispose()

    app = build_app(
        title="无锡市2024年目标监测 · 预警通知 (alerts)",
        description="Notifies the responsible departments, in Chinese, when a target deviates or recovers; "
        "keeps the alerts, their acknowledgements and a delivery log.",
        metrics=metrics,
        checks={"database": lambda: ping(engine), "broker": lambda: broker_reachable(settings),
                "consumer": lambda: loops.alive("consumer"), "dispatcher": lambda: loops.alive("dispatcher")},
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.include_router(router)
    return app
