"""The evaluator's tables. The migrations in services/evaluator/migrations create them; keep both in step."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from shared.db import UTCDateTime
from shared.inbox import inbox_table
from shared.outbox import outbox_table

metadata = MetaData()

# The latest vintage of every series the evaluator has seen: what was known, and since when.
readings = Table(
    "readings",
    metadata,
    Column("indicator", String(64), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("measure", String(32), primary_key=True),
    Column("value", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("observation_id", String(32), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

# Every evaluation, with the data vintage it used.
evaluations = Table(
    "evaluations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("target_id", String(64), nullable=False),
    Column("period", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("actual", Float, nullable=True),
    Column("expected", Float, nullable=True),
    Column("gap_abs", Float, nullable=True),
    Column("gap_pp", Float, nullable=True),
    Column("progress", Float, nullable=True),
    Column("expected_progress", Float, nullable=True),
    Column("projection", Float, nullable=True),
    Column("run_rate_needed", Float, nullable=True),
    Column("observation_id", String(32), nullable=True),
    Column("observation_vintage", Integer, nullable=True),
    Column("observation_status", String(16), nullable=True),
    Column("is_revision", Boolean, nullable=False),
    Column("published", Boolean, nullable=False),  # whether it changed the status and was published
    Column("message_zh", Text, nullable=False),
    Column("evaluated_at", UTCDateTime, nullable=False),
    # Added in 0002: the other half of a relational target's data, and the report a milestone was judged on.
    Column("related_actual", Float, nullable=True),
    Column("related_observation_id", String(32), nullable=True),
    Column("related_vintage", Integer, nullable=True),
    Column("softened", Boolean, nullable=True),  # severity lowered for provisional or estimated data
    Column("report_id", String(32), nullable=True),
    Index("ix_evaluations_target", "target_id", "evaluated_at"),
)

# Status reports of milestones and qualitative targets, as their departments filed them (history kept).
status_reports = Table(
    "status_reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("target_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("department", String(64), nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("evaluation_id", String(32), nullable=False),
    Index("ix_status_reports_target", "target_id", "reported_at"),
)

# Each target's current status: the state that decides whether an evaluation is a change to publish.
target_states = Table(
    "target_states",
    metadata,
    Column("target_id", String(64), primary_key=True),
    Column("period", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("evaluation_id", String(32), nullable=False),  # the latest evaluation (the board's figures)
    Column("updated_at", UTCDateTime, nullable=False),  # when status or severity last changed
)

outbox = outbox_table(metadata)
processed_events = inbox_table(metadata)

__all__ = ["evaluations", "metadata", "outbox", "processed_events", "readings", "status_reports", "target_states"]
