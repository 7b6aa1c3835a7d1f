"""Alerts settings, from ALERTS_* environment variables."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DATA = Path(__file__).with_name("data")


class AlertsSettings(ServiceSettings):
    """Settings of the alerts service."""

    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore", frozen=True)

    database_url: str = Field(default="sqlite:///./var/alerts.db")
    port: int = Field(default=8003, ge=1, le=65535)
    consumer_group: str = Field(default="alerts", description="Kafka consumer group of the replicas")
    directory_path: Path = Field(default=DATA / "directory.toml", description="The department directory file")
    routing_path: Path = Field(default=DATA / "routing.toml", description="The routing rules file")
    webhook_urls: dict[str, str] = Field(
        default_factory=dict,
        description='JSON object: department id -> webhook URL, e.g. {"fgw": "https://…"}',
    )
    default_webhook_url: str | None = Field(
        default=None, description="Webhook for departments without their own entry in ALERTS_WEBHOOK_URLS"
    )
    webhook_secret: SecretStr = Field(
        description="HMAC-SHA256 key signing every webhook (no default: set it, also in development)"
    )
    link_secret: SecretStr | None = Field(
        default=None, description="Key signing acknowledgement links; derived from the webhook secret when unset"
    )
    ack_link_ttl_days: float = Field(default=30, gt=0, description="How long an acknowledgement link stays valid")
    api_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: token name -> hex SHA-256 of the bearer token allowed to call write endpoints",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail notifications")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str | None = Field(default=None, description="From address of e-mail notifications")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    group_wait_s: float = Field(default=0.0, ge=0, description="Wait to group a receiver's alerts; 0 = no grouping")
    group_interval_s: float = Field(default=60.0, ge=0, description="Least time between two groups to a receiver")
    repeat_interval_s: float = Field(default=86400.0, ge=0, description="Remind of open alerts after; 0 = never")
    escalate_after_s: float = Field(
        default=86400.0, ge=0, description="Escalate unacknowledged critical alerts up the chain after; 0 = never"
    )
    lifecycle_interval_s: float = Field(default=5.0, gt=0, description="How often escalations and reminders run")
    delivery_timeout_s: float = Field(default=5.0, gt=0, le=60, description="Timeout of one delivery attempt")
    delivery_workers: int = Field(default=32, ge=1, le=512, description="Concurrent deliveries in all")
    receiver_concurrency: int = Field(default=4, ge=1, le=64, description="Concurrent deliveries to one receiver")
    max_attempts: int = Field(default=24, ge=1, le=1000, description="Attempts before a notification is dead")
    retry_base_s: float = Field(default=1.0, gt=0, description="First retry delay; doubles up to retry_max_s")
    retry_max_s: float = Field(default=15.0, gt=0)
    dispatch_poll_interval_s: float = Field(default=0.5, gt=0, description="Dispatcher poll interval when idle")
    public_url: str | None = Field(default=None, description="Base URL of this service, for acknowledgement links")

    @field_validator("api_tokens")
    @classmethod
    def _hashes(cls, v: dict[str, str]) -> dict[str, str]:
        for name, digest in v.items():
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
                raise ValueError(f"token {name!r}: give the hex SHA-256 of the token (64 hex digits), not the token")
        return {k: d.lower() for k, d in v.items()}

    def link_key(self) -> bytes:
        """The key signing acknowledgement links."""
        if self.link_secret is not None:
            return self.link_secret.get_secret_value().encode()
        return hashlib.sha256(b"ack-links\x00" + self.webhook_secret.get_secret_value().encode()).digest()
