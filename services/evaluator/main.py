"""The evaluator's composition root: database, consumer loop, outbox relay and read API, wired once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.evaluator.adapters.alerts_client import AlertsClient
from services.evaluator.adapters.database import EvaluatorDatabase
from services.evaluator.adapters.tables import outbox as outbox_table
from services.evaluator.adapters.tables import processed_events
from services.evaluator.api.board import router as board_router
from services.evaluator.api.department_page import router as department_router
from services.evaluator.api.rankings import router as rankings_router
from services.evaluator.api.report import router as report_router
from services.evaluator.api.routes import router
from services.evaluator.config import EvaluatorSettings
from services.evaluator.handlers import ObservationHandler
from services.evaluator.metrics import EvaluatorBusinessCollector, catalogue_names
from services.evaluator.recording import EvaluationRecorder
from services.evaluator.runtime import EvaluatorRuntime
from shared.app import build_app
from shared.catalogue import Catalogue, CatalogueError, Catalogues, load_catalogues
from shared.clock import Clock, utc_now
from shared.consumer import ConsumerLoop
from shared.db import make_engine, ping, run_migrations
from shared.inbox import Inbox
from shared.kafka import broker_reachable, ensure_topics, make_consumer, make_producer, topic_creator, topic_name
from shared.messages import ObservationRecorded, TargetStatusChanged
from shared.metrics import CommonMetrics, NamesCollector
from shared.outbox import Outbox, OutboxRelay
from shared.runtime import BackgroundLoops, configure_logging

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
SOURCE = "/wuxi-targets/evaluator"


def create_app(
    settings: EvaluatorSettings | None = None,
    *,
    catalogue: Catalogue | None = None,
    catalogues: Catalogues | None = None,
    clock: Clock = utc_now,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """Build the evaluator app; the consumer and relay start with the app's lifespan."""
    settings = settings or EvaluatorSettings()
    configure_logging(settings, "evaluator")
    if catalogues is None:
        catalogues = Catalogues.single(catalogue) if catalogue else load_catalogues(settings.catalogue_dir)
    catalogue = catalogues.primary
    for department in settings.status_report_tokens:
        if department not in catalogues.departments:
            raise CatalogueError(f"setting EVALUATOR_STATUS_REPORT_TOKENS: unknown department {department!r}")
    metrics = CommonMetrics(registry or CollectorRegistry(), "evaluator")
    engine = make_engine(settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s)
    metrics.registry.register(EvaluatorBusinessCollector(engine, catalogues, clock))
    metrics.registry.register(NamesCollector("evaluator", catalogue_names(catalogues)))
    relay = OutboxRelay(
        engine, outbox_table, lambda: make_producer(settings, "evaluator"), metrics,
        batch_size=settings.outbox_batch_size, poll_interval_s=settings.outbox_poll_interval_s, clock=clock,
        ensure_topics=topic_creator(settings), retention=settings.outbox_retention,
    )
    outbox = Outbox(outbox_table, source=SOURCE, topic_prefix=settings.topic_prefix, clock=clock)
    database = EvaluatorDatabase(engine, outbox)
    observations_topic = topic_name(settings, ObservationRecorded.topic)
    consumer = ConsumerLoop(
        name="evaluator-consumer",
        inbox=Inbox(engine, processed_events),
        consumer_factory=lambda: make_consumer(settings, settings.consumer_group, "evaluator"),
        dead_letter_producer_factory=lambda: make_producer(settings, "evaluator-dlq"),
        topics=[observations_topic],
        handler=ObservationHandler(catalogues, outbox, clock),
        metrics=metrics,
        after_commit=relay.wake,
        clock=clock,
        ensure_topics=topic_creator(settings),
        processed_retention=settings.processed_events_retention,
    )
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        run_migrations(settings.database_url, MIGRATIONS)
        ensure_topics(settings, [observations_topic, f"{observations_topic}.dlq",
                                 topic_name(settings, TargetStatusChanged.topic)])
        loops.start("outbox-relay", relay.run)
        loops.start("consumer", consumer.run)
        log.info("evaluator ready on %s:%s", settings.host, settings.port)
        yield
        loops.stop()
        database.dispose()

    app = build_app(
        title="无锡市2024年目标监测 · 目标评估 (evaluator)",
        description="Evaluates every 2024 target against the statistics as they arrive (序时进度, 左右 bands, "
        "caps, relational targets) and publishes status changes to Kafka.",
        metrics=metrics,
        checks={"database": lambda: ping(engine), "broker": lambda: broker_reachable(settings),
                "consumer": lambda: loops.alive("consumer"), "outbox-relay": lambda: loops.alive("outbox-relay")},
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
    )
    alerts = None
    if settings.alerts_url:
        token = settings.alerts_token.get_secret_value() if settings.alerts_token else None
        alerts = AlertsClient(settings.alerts_url, token, settings.alerts_timeout_s)
    app.state.runtime = EvaluatorRuntime(settings=settings, catalogue=catalogue, clock=clock, database=database,
                                         recorder=EvaluationRecorder(catalogues), wake_relay=relay.wake,
                                         catalogues=catalogues, alerts=alerts)
    app.include_router(router)
    # Before the board's router: /board/departments/… and /board/report… are their own pages.
    app.include_router(department_router)
    app.include_router(report_router)
    app.include_router(board_router)
    app.include_router(rankings_router)
    return app
