"""The alerts service's composition root: database, consumer loop, dispatcher, lifecycle loop and API, wired once."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from services.alerts.adapters.datafiles import load_directory, load_routing
from services.alerts.adapters.tables import alerts, outbox, processed_events
from services.alerts.api import ack
from services.alerts.api.routes import router
from services.alerts.channels.base import Notifier
from services.alerts.channels.email import EmailNotifier
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.robots import DingTalkNotifier, FeishuNotifier, WeComNotifier
from services.alerts.channels.webhook import WebhookNotifier
from services.alerts.config import AlertsSettings
from services.alerts.dispatcher import Dispatcher
from services.alerts.escalation import LifecycleLoop
from services.alerts.handlers import StatusChangeHandler
from services.alerts.links import AckLinks
from services.alerts.metrics import AlertsMetrics
from services.alerts.notify import NotificationQueue
from services.alerts.receivers import Receivers
from shared.app import build_app
from shared.catalogue import Catalogue, load_catalogue
from shared.clock import Clock, utc_now
from shared.consumer import ConsumerLoop
from shared.db import make_engine, ping, run_migrations
from shared.kafka import broker_reachable, ensure_topics, make_consumer, make_producer, topic_creator, topic_name
from shared.messages import NotificationDeadLettered, TargetStatusChanged
from shared.outbox import Outbox, OutboxRelay
from shared.runtime import BackgroundLoops, configure_logging

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(
    settings: AlertsSettings | None = None,
    *,
    catalogue: Catalogue | None = None,
    clock: Clock = utc_now,
    registry: CollectorRegistry | None = None,
    env: Mapping[str, str] | None = None,
) -> FastAPI:
    """Build the alerts app; the consumer, dispatcher and lifecycle loops start with the app's lifespan."""
    settings = settings or AlertsSettings()  # type: ignore[call-arg]
    configure_logging(settings.log_level)
    catalogue = catalogue or load_catalogue()
    directory = load_directory(settings.directory_path, catalogue)
    routing = load_routing(settings.routing_path, catalogue)
    metrics = AlertsMetrics(registry or CollectorRegistry())
    engine = make_engine(settings.database_url, pool_size=max(10, settings.delivery_workers // 4),
                         busy_timeout_s=settings.sqlite_busy_timeout_s)
    receivers = Receivers(directory, routing.config.channels, env if env is not None else os.environ,
                          webhook_urls=settings.webhook_urls, default_webhook_url=settings.default_webhook_url,
                          departments={d: d for d in catalogue.departments})
    links = AckLinks(settings.link_key(), settings.public_url, settings.ack_link_ttl_days * 86400)
    queue = NotificationQueue(catalogue, receivers, links, group_wait_s=settings.group_wait_s,
                              group_interval_s=settings.group_interval_s)
    http = HttpPoster()
    notifiers: dict[str, Notifier] = {
        "webhook": WebhookNotifier(http, settings.webhook_secret.get_secret_value().encode()),
        "wecom": WeComNotifier(http), "dingtalk": DingTalkNotifier(http), "feishu": FeishuNotifier(http),
        "email": EmailNotifier(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
                              username=settings.smtp_username, starttls=settings.smtp_starttls,
                              password=settings.smtp_password.get_secret_value() if settings.smtp_password else None),
    }
    dead_letters = Outbox(outbox, source="alerts", topic_prefix=settings.topic_prefix, clock=clock)
    relay = OutboxRelay(engine, outbox, lambda: make_producer(settings, "alerts-outbox"), metrics,
                        batch_size=settings.outbox_batch_size, poll_interval_s=settings.outbox_poll_interval_s,
                        clock=clock, ensure_topics=topic_creator(settings), retention=settings.outbox_retention)

    def flush_groups() -> float | None:
        now = clock()
        with engine.begin() as conn:
            queue.flush_groups(conn, now)
            return queue.next_flush_in(conn, now)

    dispatcher = Dispatcher(
        engine, receivers, notifiers, metrics=metrics, outbox=dead_letters, timeout_s=settings.delivery_timeout_s,
        max_attempts=settings.max_attempts, retry_base_s=settings.retry_base_s, retry_max_s=settings.retry_max_s,
        poll_interval_s=settings.dispatch_poll_interval_s, workers=settings.delivery_workers,
        per_receiver=settings.receiver_concurrency,
        flush_groups=flush_groups if settings.group_wait_s > 0 else None, clock=clock,
    )
    dispatcher.on_dead_letter = relay.wake
    lifecycle = LifecycleLoop(engine, catalogue, routing, queue, escalate_after_s=settings.escalate_after_s,
                              repeat_interval_s=settings.repeat_interval_s, interval_s=settings.lifecycle_interval_s,
                              after_commit=dispatcher.wake, clock=clock)
    deviations_topic = topic_name(settings, TargetStatusChanged.topic)
    consumer = ConsumerLoop(
        name="alerts-consumer",
        engine=engine,
        inbox=processed_events,
        consumer_factory=lambda: make_consumer(settings, settings.consumer_group, "alerts"),
        dead_letter_producer_factory=lambda: make_producer(settings, "alerts-dlq"),
        topics=[deviations_topic],
        handler=StatusChangeHandler(routing, queue, clock),
        metrics=metrics,
        after_commit=dispatcher.wake,
        clock=clock,
        # Smaller batches than the default 500: on SQLite a batch holds the only write lock, and the
        # dispatcher's bookkeeping waits for it; 200 keeps both moving.
        max_records=200,
        ensure_topics=topic_creator(settings),
        processed_retention=settings.processed_events_retention,
    )

    def open_alerts() -> dict[str, int]:
        with engine.connect() as conn:
            rows = conn.execute(select(alerts.c.severity, func.count()).where(alerts.c.status != "resolved")
                                .group_by(alerts.c.severity)).all()
        return {sev: n for sev, n in rows}

    metrics.watch_open_alerts(open_alerts)
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        run_migrations(settings.database_url, MIGRATIONS)
        ensure_topics(settings, [deviations_topic, f"{deviations_topic}.dlq",
                                 topic_name(settings, NotificationDeadLettered.topic)])
        loops.start("consumer", consumer.run)
        loops.start("dispatcher", dispatcher.run)
        loops.start("lifecycle", lifecycle.run)
        loops.start("outbox-relay", relay.run)
        log.info("alerts ready on %s:%s", settings.host, settings.port)
        yield
        loops.stop()
        http.close()
        engine.dispose()

    app = build_app(
        title="无锡市2024年目标监测 · 预警通知 (alerts)",
        description="Notifies the responsible departments, in Chinese, over webhook, e-mail and the WeCom, DingTalk "
        "and Feishu robots when a target deviates or recovers; keeps the alerts, their acknowledgements, "
        "silences, escalations and a delivery log.",
        metrics=metrics,
        checks={"database": lambda: ping(engine), "broker": lambda: broker_reachable(settings),
                "consumer": lambda: loops.alive("consumer"), "dispatcher": lambda: loops.alive("dispatcher"),
                "lifecycle": lambda: loops.alive("lifecycle")},
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
    )
    app.state.engine = engine
    app.state.catalogue = catalogue
    app.state.directory = directory
    app.state.routing = routing
    app.state.receivers = receivers
    app.state.links = links
    app.state.clock = clock
    app.state.api_tokens = settings.api_tokens
    app.state.wake_dispatcher = dispatcher.wake
    app.state.dispatcher = dispatcher
    app.state.lifecycle = lifecycle
    app.include_router(router)
    app.include_router(ack.router)
    return app
