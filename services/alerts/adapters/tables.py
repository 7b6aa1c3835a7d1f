"""The alerts service's tables. The migrations in services/alerts/migrations create them; keep both in step."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, text

from shared.db import BigId, UTCDateTime
from shared.inbox import inbox_table
from shared.outbox import outbox_table

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
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True, index=True),
    Column("section", String(32), nullable=False, server_default=""),
    Column("event", Text, nullable=True),  # the last status-change event's data (JSON), for reminders
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", Text, nullable=True),
    Column("ack_explanation", Text, nullable=True),  # the department's written explanation
    Column("ack_measures", Text, nullable=True),  # 整改措施
    Column("escalation_level", Integer, nullable=False, server_default="0"),  # steps up the administrative chain
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("last_notified_at", UTCDateTime, nullable=True),  # for the repeat interval
    Index("ix_alerts_open_target", "target_id", postgresql_where=text("status <> 'resolved'"),
          sqlite_where=text("status <> 'resolved'")),
)

# The delivery queue: one row per notification to one receiver (``department:channel``). Its idempotency key
# is stable across retries. A grouped notification carries several alerts.
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("alert_id", String(32), nullable=False),  # the first alert of the group
    Column("kind", String(16), nullable=False),  # firing, escalated, resolved, reminder, overdue, grouped
    Column("department", String(64), nullable=False),
    Column("channel", String(16), nullable=False),  # webhook, wecom, dingtalk, feishu, email
    Column("receiver", Text, nullable=False),  # department:channel; the address is resolved when sending
    Column("payload", Text, nullable=False),  # the channel's JSON, rendered once so retries send the same bytes
    Column("status", String(16), nullable=False),  # DeliveryStatus: pending, sent, failed, dead, suppressed,
    # inhibited, uncertain
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("alert_ids", Text, nullable=False, server_default=""),  # comma-separated, every alert in the group
    Column("silence_id", String(32), nullable=True),  # the silence that suppressed it
    Column("inhibited_by", String(32), nullable=True),  # the open alert that inhibited it
    Column("inhibit_rule", String(64), nullable=True),  # through which inhibition rule
    Column("retry_since", UTCDateTime, nullable=True),  # start of its retry budget (NULL: created_at)
    Column("matchers", Text, nullable=True),  # JSON [[target_id, severity], …]: what silences match at send time
    Column("parts", Text, nullable=True),  # JSON [part, …] (pipeline.part_doc): to merge a rate-limited robot's backlog
    Index("ix_notifications_created_at", "created_at"),
    Index("ix_notifications_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
)

# Alerts waiting to be grouped into one notification per receiver (only when group_wait > 0).
notification_items = Table(
    "notification_items",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("department", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("receiver", Text, nullable=False),
    Column("content", Text, nullable=False),  # JSON: the alert's rendered part and its event
    Column("created_at", UTCDateTime, nullable=False),
    Column("notification_id", BigId, nullable=True),  # set when grouped into a notification
    Column("part_key", String(64), nullable=True),  # the part's own idempotency key; a group's key is made of them
    Index("ix_notification_items_ungrouped", "receiver", postgresql_where=text("notification_id IS NULL"),
          sqlite_where=text("notification_id IS NULL")),
)

# When the last group of each receiver was released, for group_interval.
receiver_groups = Table(
    "receiver_groups",
    metadata,
    Column("receiver", String(200), primary_key=True),
    Column("last_flushed_at", UTCDateTime, nullable=False),
)

# The delivery log: every attempt and what came of it.
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("notification_id", BigId, nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),  # AttemptOutcome: delivered, retry, failed, dead, uncertain, …
    Column("http_status", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=False),
)

# Silences: mute by target, department or severity (every given matcher must match) for a period.
silences = Table(
    "silences",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("target_id", String(64), nullable=True),
    Column("department", String(64), nullable=True),
    Column("severity", String(16), nullable=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False, index=True),
    Column("owner", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

processed_events = inbox_table(metadata)
outbox = outbox_table(metadata)  # dead-lettered notifications on their way to <prefix>.notifications.dlq
