"""Alerts settings, from ALERTS_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AlertsSettings(ServiceSettings):
    """Settings of the alerts service."""

    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore", frozen=True)

    database_url: str = Field(default="sqlite:///./var/alerts.db")
    port: int = Field(default=8003, ge=1, le=65535)
    consumer_group: str = Field(default="alerts", description="Kafka consumer group of the replicas")
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
    delivery_timeout_s: float = Field(default=5.0, gt=0, le=60, description="Timeout of one delivery attempt")
    max_attempts: int = Field(default=10, ge=1, le=100, description="Attempts before a notification is dead")
    retry_base_s: float = Field(default=1.0, gt=0, description="First retry delay; doubles up to retry_max_s")
    retry_max_s: float = Field(default=60.0, gt=0)
    dispatch_poll_interval_s: float = Field(default=0.5, gt=0, description="Dispatcher poll interval when idle")
    public_url: str | None = Field(default=None, description="Base URL of this service, for acknowledgement links")
