"""The alerts handler a polled batch at a time (begin_batch, each event, end_batch) against one event at a time,
on real SQLite and PostgreSQL, through the real pipeline (route, inhibit, silence, render, store).

A batch reads its targets' open alerts once, writes its alerts at its end and queues its notifications in one
pipeline run: the alerts and notifications it leaves must be those the same events leave one at a time, and an
inhibition must see an alert opened earlier in the same batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from devstack.deviations import deviation
from services.alerts.adapters.datafiles import load_directory, load_routing
from services.alerts.adapters.tables import alerts, notifications
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.webhook import WebhookChannel
from services.alerts.config import AlertsSettings
from services.alerts.domain.directory import ChannelType
from services.alerts.handlers import StatusChangeHandler
from services.alerts.links import AckLinks
from services.alerts.main import MIGRATIONS
from services.alerts.pipeline import Rendering, build_pipeline
from services.alerts.receivers import Receivers
from shared.catalogue import load_catalogue
from shared.clock import utc_now
from shared.db import make_engine, run_migrations
from shared.messages import Envelope, Severity, TargetStatusChanged, envelope_for

CAT = load_catalogue()
HEADLINE = "fixed_asset_investment_total"  # lead fgw; its critical holds back its feeders' warnings
FEEDER = "major_project_investment"  # feeds HEADLINE
OTHER = "retail_sales_growth"


def _handler() -> StatusChangeHandler:
    s = AlertsSettings(database_url="sqlite://", webhook_secret="batch-secret", link_secret="batch-link-secret-0123",
                       public_url="http://alerts.test", group_wait_s=0)
    routing = load_routing(s.routing_path, CAT)
    receivers = Receivers(load_directory(s.directory_path, CAT), routing.config.channels, {},
                          default_webhook_url="http://127.0.0.1:9/hook", default_webhook_secret="batch-secret",
                          departments={d: d for d in CAT.departments})
    channels: dict[ChannelType, Any] = {ChannelType.WEBHOOK: WebhookChannel(HttpPoster())}  # nothing is sent here
    rendering = Rendering(CAT, AckLinks(s.link_key(), s.public_url, 86400), channels)
    pipeline = build_pipeline(receivers, rendering, group_wait_s=0, inhibit_rules=routing.inhibit_rules)
    return StatusChangeHandler(routing, pipeline, utc_now)


@pytest.fixture
def engines(db_factory: Any) -> Iterator[tuple[Engine, Engine]]:
    made = []
    for _ in range(2):
        url = db_factory()
        run_migrations(url, MIGRATIONS)
        made.append(make_engine(url))
    yield made[0], made[1]
    for e in made:
        e.dispose()


def _events(items: list[tuple[str, Severity]]) -> list[tuple[Envelope, TargetStatusChanged]]:
    out = []
    for k, (target, sev) in enumerate(items):
        data = deviation(CAT, target, sev, actual=40.0 - k)
        out.append((envelope_for(data, source="/test", time=utc_now()), data))
    return out


def _one_at_a_time(engine: Engine, events: list[tuple[Envelope, TargetStatusChanged]]) -> None:
    handler = _handler()
    for env, data in events:
        with engine.begin() as conn:
            handler(conn, env, data)


def _as_a_batch(engine: Engine, events: list[tuple[Envelope, TargetStatusChanged]], *, batches: int = 1) -> None:
    """The events in ``batches`` consecutive batches (each a transaction), as the consumer loop runs them."""
    handler = _handler()
    size = -(-len(events) // batches)
    for i in range(0, len(events), size):
        chunk = events[i : i + size]
        with engine.begin() as conn:
            handler.begin_batch(conn, list(chunk))
            for env, data in chunk:
                handler(conn, env, data)
            handler.end_batch(conn)


def _left(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The alerts and notifications, without what differs by run (ids, times, keys made from alert ids)."""
    a, n = alerts.c, notifications.c
    with engine.connect() as conn:
        ids = {r.id: r.target_id for r in conn.execute(select(a.id, a.target_id))}
        rows = sorted(tuple(r) for r in conn.execute(select(
            a.target_id, a.status, a.severity, a.target_status, a.message_zh, a.last_event_id, a.escalation_level,
            a.resolved_at.is_(None), a.escalated_at.is_(None), a.acknowledged_at.is_(None))))
        notes = sorted((ids[r.alert_id], r.kind, r.department, r.receiver, r.status, r.inhibit_rule,
                        ids.get(r.inhibited_by) if r.inhibited_by else None)
                       for r in conn.execute(select(n.alert_id, n.kind, n.department, n.receiver, n.status,
                                                    n.inhibit_rule, n.inhibited_by)))
        keys = list(conn.execute(select(n.idempotency_key)).scalars())
    assert len(set(keys)) == len(keys)  # one idempotency key per notification: none queued twice
    return rows, notes


def test_a_batch_leaves_the_alerts_and_notifications_that_one_event_at_a_time_leaves(
        engines: tuple[Engine, Engine]) -> None:
    # A target opening, worsening, recovering and opening again; another opening and improving; one resolving
    # an alert that a later event in the batch re-opens: every action of the lifecycle, several per target.
    events = _events([(OTHER, Severity.WARNING), (FEEDER, Severity.WARNING), (OTHER, Severity.CRITICAL),
                      (FEEDER, Severity.OK), (OTHER, Severity.OK), (OTHER, Severity.WARNING),
                      (FEEDER, Severity.CRITICAL), (FEEDER, Severity.WARNING)])
    single, batched = engines
    _one_at_a_time(single, events)
    _as_a_batch(batched, events)
    left_single, left_batched = _left(single), _left(batched)
    assert left_batched == left_single
    rows, notes = left_batched
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (FEEDER, "firing", "warning"), (FEEDER, "resolved", "warning"),
        (OTHER, "firing", "warning"), (OTHER, "resolved", "critical")]
    assert sorted({(x[0], x[1]) for x in notes}) == [
        (FEEDER, "firing"), (FEEDER, "resolved"), (OTHER, "escalated"), (OTHER, "firing"), (OTHER, "resolved")]


def test_a_batch_changing_alerts_opened_before_it_writes_each_of_them(engines: tuple[Engine, Engine]) -> None:
    # The first batch opens three alerts; the second changes all of them at once (two worsen alike, one
    # recovers), so the writes of the second go out as executemany statements over alerts read as open.
    events = _events([(OTHER, Severity.WARNING), (FEEDER, Severity.WARNING), (HEADLINE, Severity.WARNING),
                      (OTHER, Severity.CRITICAL), (FEEDER, Severity.CRITICAL), (HEADLINE, Severity.OK)])
    single, batched = engines
    _one_at_a_time(single, events)
    _as_a_batch(batched, events, batches=2)
    assert _left(batched) == _left(single)
    rows, _ = _left(batched)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (HEADLINE, "resolved", "warning"), (FEEDER, "firing", "critical"), (OTHER, "firing", "critical")]


def test_in_a_batch_a_headline_alert_opened_earlier_holds_back_its_feeders_warning(
        engines: tuple[Engine, Engine]) -> None:
    events = _events([(HEADLINE, Severity.CRITICAL), (FEEDER, Severity.WARNING)])
    single, batched = engines
    _one_at_a_time(single, events)
    _as_a_batch(batched, events)
    assert _left(batched) == _left(single)
    _, notes = _left(batched)
    held = [x for x in notes if x[0] == FEEDER]
    assert held and {(x[4], x[5], x[6]) for x in held} == {
        ("inhibited", "headline-critical-holds-feeder-warnings", HEADLINE)}
    assert {x[4] for x in notes if x[0] == HEADLINE} == {"pending"}
