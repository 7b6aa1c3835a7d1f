"""The alerts service's composition root: database, consumer loop, dispatcher, timed transitions, retention and API."""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.alerts.adapters.datafiles import load_directory, load_routing
from services.alerts.adapters.db import Database
from services.alerts.adapters.tables import outbox, processed_events
from services.alerts.api import ack
from services.alerts.api.routes import router
from services.alerts.channels.base import Channel
from services.alerts.channels.dingtalk import DingTalkChannel
from services.alerts.channels.email import EmailChannel
from services.alerts.channels.feishu import FeishuChannel
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.webhook import WebhookChannel
from services.alerts.channels.wecom import WeComChannel
from services.alerts.config import AlertsSettings
from services.alerts.dispatcher import Dispatcher, Leadership, RobotLimits
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.retry import RetryBudget
from services.alerts.grouping import GroupFlusher
from services.alerts.handlers import StatusChangeHandler
from services.alerts.links import AckLinks
from services.alerts.metrics import AlertsMetrics
from services.alerts.pipeline import Rendering, build_pipeline
from services.alerts.receivers import Receivers
from services.alerts.retention import Pruner
from services.alerts.runtime import AlertsRuntime
from services.alerts.timed import TimedTransitions
from shared.adapters.leader import LeaderLock
from shared.app import build_app
from shared.catalogue import Catalogue, Catalogues, load_catalogues
from shared.clock import Clock, utc_now
from shared.consumer import ConsumerLoop
from shared.db import make_engine, ping, run_migrations
from shared.inbox import Inbox
from shared.kafka import broker_reachable, ensure_topics, make_consumer, make_producer, topic_creator, topic_name
from shared.messages import NotificationDeadLettered, TargetStatusChanged
from shared.outbox import Outbox, OutboxRelay
from shared.runtime import BackgroundLoops, configure_logging

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
DISPATCHER_LOCK_KEY = 0x0A1E_D15B  # the PostgreSQL advisory lock of the dispatcher's leadership


def create_app(
    settings: AlertsSettings | None = None,
    *,
    catalogue: Catalogue | Catalogues | None = None,
    clock: Clock = utc_now,
    registry: CollectorRegistry | None = None,
    env: Mapping[str, str] | None = None,
    leader: Leadership | None = None,
) -> FastAPI:
    """Build the alerts app; the consumer, dispatcher and lifecycle loops start with the app's lifespan."""
    settings = settings or AlertsSettings()
    configure_logging(settings, "alerts")
    # Every region's and year's catalogue: departments (a district's own, escalating up to the city) and targets.
    catalogue = catalogue or load_catalogues(settings.catalogue_dir)
    directory = load_directory(settings.directory_path, catalogue)
    routing = load_routing(settings.routing_path, catalogue)
    metrics = AlertsMetrics(registry or CollectorRegistry())
    engine = make_engine(settings.database_url, pool_size=max(10, settings.delivery_workers // 4),
                         busy_timeout_s=settings.sqlite_busy_timeout_s)
    db = Database(engine)
    receivers = Receivers(directory, routing.config.channels, env if env is not None else os.environ,
                          webhook_urls=settings.webhook_urls, default_webhook_url=settings.default_webhook_url,
                          webhook_secrets={d: s.get_secret_value() for d, s in settings.webhook_secrets.items()},
                          default_webhook_secret=settings.webhook_secret.get_secret_value()
                          if settings.webhook_secret else None,
                          departments={d: d for d in catalogue.departments})
    link_key = settings.link_key()
    if link_key is not None and link_key in receivers.signing_keys():
        raise ValueError("ALERTS_LINK_SECRET: must not be a webhook secret (a department could sign links with it)")
    links = AckLinks(link_key, settings.public_url, settings.ack_link_ttl_days * 86400)
    http = HttpPoster()
    smtp_tls = ssl.create_default_context(cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)
    channels: dict[ChannelType, Channel] = {
        ChannelType.WEBHOOK: WebhookChannel(http), ChannelType.WECOM: WeComChannel(http),
        ChannelType.DINGTALK: DingTalkChannel(http), ChannelType.FEISHU: FeishuChannel(http),
        ChannelType.EMAIL: EmailChannel(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
            username=settings.smtp_username, security=settings.smtp_security,
            allow_plaintext_login=settings.smtp_allow_plaintext_login, ssl_context=smtp_tls,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None),
    }
    rendering = Rendering(catalogue, links, channels)
    pipeline = build_pipeline(receivers, rendering, group_wait_s=settings.group_wait_s,
                              inhibit_rules=routing.inhibit_rules,
                              on_inhibited=lambda rule: metrics.inhibited.labels(rule).inc())
    dead_letters = Outbox(outbox, source="/wuxi-targets/alerts", topic_prefix=settings.topic_prefix, clock=clock)
    relay = OutboxRelay(engine, outbox, lambda: make_producer(settings, "alerts-outbox"), metrics,
                        batch_size=settings.outbox_batch_size, poll_interval_s=settings.outbox_poll_interval_s,
                        clock=clock, ensure_topics=topic_creator(settings), retention=settings.outbox_retention)
    flusher = GroupFlusher(db, receivers, rendering, group_wait_s=settings.group_wait_s,
                           group_interval_s=settings.group_interval_s)

    def flush_groups() -> float | None:
        now = clock()
        flusher.flush(now)
        return flusher.next_in(now)

    dispatcher = Dispatcher(
        db, receivers, channels, leader=leader or LeaderLock(engine, "dispatcher", DISPATCHER_LOCK_KEY),
        metrics=metrics, outbox=dead_letters, timeout_s=settings.delivery_timeout_s,
        budget=RetryBudget(settings.retry_budget_s), retry_base_s=settings.retry_base_s,
        retry_max_s=settings.retry_max_s, retry_ambiguous=settings.ambiguous_retried(),
        poll_interval_s=settings.dispatch_poll_interval_s, workers=settings.delivery_workers,
        per_receiver=settings.receiver_concurrency,
        flush_groups=flush_groups if settings.group_wait_s > 0 else None, clock=clock,
        robot_limits=RobotLimits(settings.robot_max_per_minute, settings.robot_max_per_minute_by_channel,
                                 settings.robot_window_s, settings.robot_pause_s, settings.dingtalk_pause_s),
        merge=rendering.merged,
    )
    dispatcher.on_dead_letter = relay.wake
    timed = TimedTransitions(db, catalogue, routing, pipeline, escalate_after_s=settings.escalate_after_s,
                             repeat_interval_s=settings.repeat_interval_s, interval_s=settings.lifecycle_interval_s,
                             after_commit=dispatcher.wake, clock=clock, deadlines_in=settings.deadlines_in)
    pruner = Pruner(db, delivery_log_days=settings.delivery_log_retention_days,
                    alert_days=settings.alert_retention_days, interval_s=settings.prune_interval_s, clock=clock)
    deviations_topic = topic_name(settings, TargetStatusChanged.topic)
    consumer = ConsumerLoop(
        name="alerts-consumer",
        inbox=Inbox(engine, processed_events),
        consumer_factory=lambda: make_consumer(settings, settings.consumer_group, "alerts"),
        dead_letter_producer_factory=lambda: make_producer(settings, "alerts-dlq"),
        topics=[deviations_topic],
        handler=StatusChangeHandler(routing, pipeline, clock),
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
        with db.read() as repos:
            return repos.alerts.open_by_severity()

    metrics.watch_open_alerts(open_alerts)
    loops = BackgroundLoops()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        run_migrations(settings.database_url, MIGRATIONS)
        ensure_topics(settings, [deviations_topic, f"{deviations_topic}.dlq",
                                 topic_name(settings, NotificationDeadLettered.topic)])
        loops.start("consumer", consumer.run)
        loops.start("dispatcher", dispatcher.run)
        loops.start("lifecycle", timed.run)
        loops.start("retention", pruner.run)
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
                "lifecycle": lambda: loops.alive("lifecycle"), "retention": lambda: loops.alive("retention")},
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
    )
    app.state.runtime = AlertsRuntime(db=db, catalogue=catalogue, directory=directory, routing=routing,
                                      receivers=receivers, links=links, clock=clock, api_tokens=settings.api_tokens,
                                      wake_dispatcher=dispatcher.wake)
    app.state.dispatcher = dispatcher  # for tests that watch its rounds
    app.state.flusher = flusher  # for tests that race two flushes
    app.include_router(router)
    app.include_router(ack.router)
    return app
