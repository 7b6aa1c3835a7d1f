"""Ingest's composition root: the only place that wires concrete parts (database, Kafka, relay, routes)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from kafka import KafkaProducer
from prometheus_client import CollectorRegistry
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.ingest.adapters.keys import KeyCache
from services.ingest.adapters.tables import outbox as outbox_table
from services.ingest.api import admin
from services.ingest.api.errors import ApiError, api_error_handler
from services.ingest.api.limits import BodySizeLimit, RateLimiter
from services.ingest.api.routes import router
from services.ingest.api.schemas import ObservationBatchIn, ObservationIn
from services.ingest.config import IngestSettings
from services.ingest.metrics import IngestBusinessCollector
from services.ingest.runtime import IngestCounters, IngestRuntime
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
    configure_logging(settings, "ingest")
    catalogue = catalogue or load_catalogue()
    registry = registry or CollectorRegistry()
    metrics = CommonMetrics(registry, "ingest")
    engine = make_engine(settings.database_url)
    metrics.registry.register(IngestBusinessCollector(engine, catalogue))
    topics = [topic_name(settings, t) for t in (ObservationRecorded.topic, TargetStatusChanged.topic)]

    def producer() -> KafkaProducer:
        # Made anew after every failed relay round. A broker that restarted empty (Tansu keeps nothing) lost
        # the topics too, and producers never create them: make sure they exist before publishing again.
        ensure_topics(settings, topics, timeout_s=2.0)
        return make_producer(settings, "ingest")

    relay = OutboxRelay(
        engine, outbox_table, producer, metrics,
        batch_size=settings.outbox_batch_size, poll_interval_s=settings.outbox_poll_interval_s, clock=clock,
    )
    runtime = IngestRuntime(
        settings=settings, engine=engine, catalogue=catalogue,
        outbox=Outbox(outbox_table, source=SOURCE, topic_prefix=settings.topic_prefix, clock=clock),
        relay=relay, metrics=metrics, clock=clock,
        keys=KeyCache(engine, settings.api_key_cache_ttl_s),
        rate_limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        counters=IngestCounters(registry),
    )
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        run_migrations(settings.database_url, MIGRATIONS)
        ensure_topics(settings, topics)
        loops.start("outbox-relay", relay.run)
        log.info("ingest ready on %s:%s", settings.host, settings.port)
        yield
        loops.stop()
        engine.dispose()

    app = build_app(
        title="无锡市2024年目标监测 · 统计数据接收 (ingest)",
        description="Statistics bureaus push periodic statistics here: single observations, atomic batches, "
        "CSV and SDMX-CSV files, revisions. Every accepted row is committed together with its event and "
        "published to Kafka.\n\nAuthenticate with the organisation's API key: `Authorization: Bearer wxk_…` "
        "(401 when missing, unknown or revoked; 403 for an indicator or region outside the key's scope). "
        "Limits: request bodies up to INGEST_MAX_BODY_BYTES (413), a token bucket per key (429 with "
        "Retry-After). `Idempotency-Key` makes retries safe. Errors are `{\"detail\": [{\"loc\", \"msg\", "
        "\"type\"}]}`, `type` naming the rule.",
        metrics=metrics,
        checks={"database": lambda: ping(engine), "broker": lambda: broker_reachable(settings),
                "outbox-relay": lambda: loops.alive("outbox-relay")},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.include_router(router)
    if settings.admin_token is not None:  # no token, no admin endpoints
        app.include_router(admin.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(ApiError, api_error_handler)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        for d in detail:
            runtime.counters.rejections.labels(d["type"]).inc()
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI answers an undecodable JSON body with a bare 400; bureaus get the same 422 as for any
        # malformed body, in the one error shape.
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            runtime.counters.rejections.labels("json_invalid").inc()
            return JSONResponse({"detail": [{"loc": ["body"], "msg": "the body is not valid JSON in UTF-8",
                                             "type": "json_invalid"}]}, status_code=422)
        return await http_exception_handler(request, exc)

    _document_raw_bodies(app)
    return app


def _document_raw_bodies(app: FastAPI) -> None:
    """Add the schemas of the bodies read raw (see api/routes.py) to the OpenAPI document's components."""
    build = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            doc = build()
            _, defs = models_json_schema([(ObservationIn, "validation"), (ObservationBatchIn, "validation")],
                                         ref_template="#/components/schemas/{model}")
            doc.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
