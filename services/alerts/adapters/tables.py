"""The alerts service's tables. The migrations in services/alerts/migrations create them; keep both in step."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, text

from shared.db import BigId
from shared.inbox import inbox_table

metadata = MetaData()

# One alert per target while it deviates: firing -> acknowledged -> resolved.
alerts = Table(
    "alerts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("target_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # firing, acknowledged, resolved
    Column("severity", String(16), nullable=False),
    Column("target_status", String(16), nullable=False),
    Column("period", String(16), nullable=False),
    Column("lead_department", String(64), nullable=False),
    Column("co_departments", Text, nullable=False),  # comma-separated ids
    Column("message_zh", Text, nullable=False),
    Column("last_event_id", String(64), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Index("ix_alerts_open_target", "target_id", postgresql_where=text("status <> 'resolved'"),
          sqlite_where=text("status <> 'resolved'")),
)

# The delivery queue: one row per notification to one receiver. Its idempotency key is stable across retries.
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("alert_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # firing, escalated, resolved
    Column("department", String(64), nullable=False),
    Column("channel", String(16), nullable=False),  # webhook
    Column("receiver", Text, nullable=False),  # the URL
    Column("payload", Text, nullable=False),  # JSON, rendered once so retries send the same bytes
    Column("status", String(16), nullable=False),  # pending, sent, failed, dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("ix_notifications_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
)

# The delivery log: every attempt and what came of it.
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("notification_id", BigId, nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered, retry, failed
    Column("http_status", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=False),
)

processed_events = inbox_table(metadata)
