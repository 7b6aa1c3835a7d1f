"""Ingest's composition root: the only place that wires concrete parts (database, Kafka, relay, routes)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import CapacityLimiter
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pydantic.json_schema import models_json_schema

from services.ingest.adapters.keys import KeyCache
from services.ingest.adapters.store import IngestStore
from services.ingest.adapters.tables import outbox as outbox_table
from services.ingest.api import admin, upload_page
from services.ingest.api.problems import DOMAIN_ERRORS, counting
from services.ingest.api.routes import router
from services.ingest.api.schemas import ObservationBatchIn, ObservationIn
from services.ingest.commits import SingleWrites
from services.ingest.config import IngestSettings
from services.ingest.metrics import IngestBusinessCollector, IngestCounters
from services.ingest.wiring import IngestWiring
from shared.app import build_app, extend_openapi
from shared.catalogue import Catalogue, load_catalogue
from shared.clock import Clock, utc_now
from shared.db import make_engine, run_migrations
from shared.kafka import broker_reachable, ensure_topics, make_producer, topic_creator, topic_name
from shared.limits import RateLimiter
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
    configure_logging(settings, "ingest")
    catalogue = catalogue or load_catalogue()
    registry = registry or CollectorRegistry()
    metrics = CommonMetrics(registry, "ingest")
    counters = IngestCounters(registry)
    engine = make_engine(settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s)
    store = IngestStore(engine, Outbox(outbox_table, source=SOURCE, topic_prefix=settings.topic_prefix, clock=clock))
    metrics.registry.register(IngestBusinessCollector(store, catalogue, settings.release_due_in))
    # At start-up ingest creates the evaluator's topic too; after a broker loss each service re-creates the
    # topics it reads and writes (the relay and the consumer loops are given topic_creator).
    topics = [topic_name(settings, t) for t in (ObservationRecorded.topic, TargetStatusChanged.topic)]
    relay = OutboxRelay(
        engine, outbox_table, lambda: make_producer(settings, "ingest"), metrics,
        batch_size=settings.outbox_batch_size, poll_interval_s=settings.outbox_poll_interval_s, clock=clock,
        ensure_topics=topic_creator(settings), retention=settings.outbox_retention,
    )
    ingest = IngestWiring(
        settings=settings, store=store, catalogue=catalogue, relay=relay, metrics=metrics, clock=clock,
        keys=KeyCache(store.reading, settings.api_key_cache_ttl_s, on_lookup=counters.key_lookups.inc),
        rate_limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        auth_limiter=RateLimiter(settings.auth_rate_limit_per_s, settings.auth_rate_limit_burst),
        counters=counters, singles=SingleWrites(store, clock, settings.idempotency_ttl),
        batch_slots=CapacityLimiter(settings.batch_concurrency),
    )
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        run_migrations(settings.database_url, MIGRATIONS)
        ensure_topics(settings, topics)
        loops.start("outbox-relay", relay.run)
        log.info("ingest ready on %s:%s", settings.host, settings.port)
        yield
        ingest.singles.close()
        loops.stop()
        engine.dispose()

    app = build_app(
        title="无锡市2024年目标监测 · 统计数据接收 (ingest)",
        description="统计部门在此报送数据：单条观测值、整批提交、CSV 与 SDMX-CSV 文件、修订。"
        "每条被接收的数据都与其事件一同提交，再发布到 Kafka。\n\n"
        "Statistics bureaus push periodic statistics here: single observations, atomic batches, CSV and "
        "SDMX-CSV files, revisions. Every accepted row is committed together with its event and "
        "published to Kafka.\n\nAuthenticate with the organisation's API key: `Authorization: Bearer wxk_…` "
        "(401 when missing, unknown or revoked; 403 for an indicator or region outside the key's scope, for "
        "reads as for writes). Limits: request bodies up to INGEST_MAX_BODY_BYTES (413), a token bucket per key "
        "(429 with Retry-After), and one per client address for keys not yet known. `Idempotency-Key` makes "
        "retries safe. Errors are RFC 9457 problem details (`application/problem+json`): `title` and "
        "`detail` in Chinese, `errors[]` with `loc`, `type` (the rule), `msg_zh` and `msg`.",
        metrics=metrics,
        checks={"database": store.ping, "broker": lambda: broker_reachable(settings),
                "outbox-relay": lambda: loops.alive("outbox-relay")},
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        domain_errors=DOMAIN_ERRORS,
        on_problem=counting(counters),
        # Bureaus get the same 422 for a body that is not JSON as for any malformed body.
        invalid_json_status=422,
        refuse_nul=False,  # every text field refuses NUL itself, naming the field (api/schemas.py NO_NUL)
    )
    app.state.ingest = ingest
    app.include_router(router)
    app.include_router(upload_page.router)
    if settings.admin_token is not None:  # no token, no admin endpoints
        app.include_router(admin.router)
    _document_raw_bodies(app)
    return app


def _document_raw_bodies(app: FastAPI) -> None:
    """Add the schemas of the bodies read raw (see api/routes.py) to the OpenAPI document's components."""

    def add_schemas(doc: dict[str, Any]) -> dict[str, Any]:
        _, defs = models_json_schema([(ObservationIn, "validation"), (ObservationBatchIn, "validation")],
                                     ref_template="#/components/schemas/{model}")
        doc.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
        return doc

    extend_openapi(app, add_schemas)
