"""Ingest's tables. The migrations in services/ingest/migrations create them; keep both in step."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from shared.db import BigId, UTCDateTime
from shared.outbox import outbox_table

metadata = MetaData()

observations = Table(
    "observations",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),  # public id of this vintage
    # indicator|region|period|measure: one string so a batch looks up all its series in one IN query
    Column("series_key", String(200), nullable=False),
    Column("indicator", String(64), nullable=False),
    Column("region", String(32), nullable=False),
    Column("period", String(16), nullable=False),
    Column("measure", String(32), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("value", Float, nullable=False),  # in the indicator's canonical unit
    Column("unit", String(16), nullable=False),
    Column("submitted_value", Float, nullable=False),  # as submitted
    Column("submitted_unit", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("revision_reason", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("source", Text, nullable=True),
    Column("submitted_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("api_key_id", String(32), nullable=True),  # the key that submitted it (None before keys existed)
    UniqueConstraint("series_key", "vintage", name="uq_observations_series_vintage"),
    Index("ix_observations_current", "series_key", postgresql_where=text("is_current"),
          sqlite_where=text("is_current")),
    Index("ix_observations_indicator_period", "indicator", "period"),
)

# One row per submitting organisation's key. Only the SHA-256 of the key is stored: the key itself is shown
# once, when issued. Scopes are JSON lists of ids; NULL means every indicator (or region).
api_keys = Table(
    "api_keys",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("organisation", String(64), nullable=False),
    Column("description", Text, nullable=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),  # the first characters, to recognise a key in a list
    Column("indicators", Text, nullable=True),
    Column("regions", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# Responses of requests sent with an Idempotency-Key, replayed to a retry with the same key and body.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("api_key_id", String(32), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path, query and body
    Column("status_code", Integer, nullable=False),
    Column("response_body", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("api_key_id", "idempotency_key", name="uq_idempotency_keys_key"),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

outbox = outbox_table(metadata)
