"""Settings every service has; each service subclasses this with its own environment prefix."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Common settings. A service's subclass sets ``env_prefix`` (INGEST_, EVALUATOR_, ALERTS_)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(description="SQLAlchemy URL of the service's own database")
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the HTTP server listens on")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Comma-separated host:port list of the Kafka brokers"
    )
    kafka_client_id: str = Field(default="", description="Kafka client id; the service name when empty")
    topic_prefix: str = Field(default="wuxi", description="Prefix of every Kafka topic name")
    topic_partitions: int = Field(default=6, ge=1, le=256, description="Partitions of topics created at start-up")
    topic_replication_factor: int = Field(default=1, ge=1, description="Replication factor of created topics")
    kafka_session_timeout_ms: int = Field(
        default=6000, ge=1000, description="Consumer group session timeout (6000 is Apache Kafka's minimum)"
    )
    kafka_heartbeat_interval_ms: int = Field(default=2000, ge=100)
    kafka_fetch_max_wait_ms: int = Field(
        default=20, ge=0, le=5000, description="How long a fetch waits for data; bounds end-to-end latency"
    )
    outbox_poll_interval_s: float = Field(
        default=0.5, gt=0, description="Outbox relay poll interval when nothing wakes it"
    )
    outbox_batch_size: int = Field(default=1000, ge=1, le=10000)
    outbox_retention_h: float = Field(
        default=168.0, gt=0, description="Hours a published outbox row is kept before it is deleted"
    )
    processed_events_retention_h: float = Field(
        default=336.0, gt=0,
        description="Hours a processed event id is remembered; keep it above the topics' retention (docs/kafka.md)",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted; larger ones get 413"
    )
    sqlite_busy_timeout_s: float = Field(
        default=30.0, gt=0, le=600,
        description="How long a SQLite write waits for another process's lock before it is retried",
    )
    log_level: str = Field(default="INFO")

    @property
    def outbox_retention(self) -> timedelta:
        """How long published outbox rows are kept."""
        return timedelta(hours=self.outbox_retention_h)

    @property
    def processed_events_retention(self) -> timedelta:
        """How long processed event ids are kept."""
        return timedelta(hours=self.processed_events_retention_h)
