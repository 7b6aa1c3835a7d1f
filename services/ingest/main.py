"""Ingest's composition root: the only place that wires concrete parts (database, Kafka, relay, routes)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from services.ingest.adapters.tables import outbox as outbox_table
from services.ingest.api.routes import Rejected, router
from services.ingest.config import IngestSettings
from services.ingest.metrics import IngestBusinessCollector
from services.ingest.runtime import IngestRuntime
from shared.app import build_app
from shared.catalogue import Catalogue, load_catalogue
from shared.clock import Clock, utc_now
from shared.db import make_engine, ping, run_migrations
from shared.kafka import broker_reachable, ensure_topics, make_producer, topic_name
from shared.messages import ObservationRecorded, TargetStatusChanged
from shared.metrics import CommonMetrics
from shared.outbox import Outbox, OutboxRelay
from shared.runtime import BackgroundLoops, configure_logging

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
SOURCE = "/wuxi-targets/ingest"


def create_app(
    settings: IngestSettings | None = None,
    *,
    catalogue: Catalogue | None = None,
    clock: Clock = utc_now,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """Build the ingest app; background loops start with the app's lifespan."""
    settings = settings or IngestSettings()
    configure_logging(settings.log_level)
    catalogue = catalogue or load_catalogue()
    metrics = CommonMetrics(registry or CollectorRegistry(), "ingest")
    engine = make_engine(settings.database_url)
    metrics.registry.register(IngestBusinessCollector(engine, catalogue))
    relay = OutboxRelay(
        engine, outbox_table, lambda: make_producer(settings, "ingest"), metrics,
        batch_size=settings.outbox_batch_size, poll_interval_s=settings.outbox_poll_interval_s, clock=clock,
    )
    runtime = IngestRuntime(
        settings=settings, engine=engine, catalogue=catalogue,
        outbox=Outbox(outbox_table, source=SOURCE, topic_prefix=settings.topic_prefix, clock=clock),
        relay=relay, metrics=metrics, clock=clock,
    )
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        run_migrations(settings.database_url, MIGRATIONS)
        ensure_topics(settings, [topic_name(settings, t) for t in (ObservationRecorded.topic,
                                                                    TargetStatusChanged.topic)])
        loops.start("outbox-relay", relay.run)
        log.info("ingest ready on %s:%s", settings.host, settings.port)
        yield
        loops.stop()
        engine.dispose()

    app = build_app(
        title="无锡市2024年目标监测 · 统计数据接收 (ingest)",
        description="Statistics bureaus push periodic statistics here: single observations, atomic batches, "
        "revisions. Every accepted row is committed together with its event and published to Kafka.",
        metrics=metrics,
        checks={"database": lambda: ping(engine), "broker": lambda: broker_reachable(settings),
                "outbox-relay": lambda: loops.alive("outbox-relay")},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.include_router(router)

    @app.exception_handler(Rejected)
    async def _rejected(_: Request, exc: Rejected) -> JSONResponse:
        detail = [
            {"loc": ["body", "observations", e.row, e.field] if exc.batch else ["body", e.field],
             "msg": e.message, "type": e.rule}
            for e in exc.errors
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    return app
