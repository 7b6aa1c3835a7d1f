"""Alerts settings, from ALERTS_* environment variables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.alerts.channels.email import SmtpSecurity
from services.alerts.domain.directory import ChannelType
from shared.catalogue.loader import DEFAULT_DIR
from shared.settings import ServiceSettings
from shared.workdays import TimeBasis

DATA = Path(__file__).with_name("data")
HEX64 = set("0123456789abcdef")


class Scope(StrEnum):
    """What a bearer token may do."""

    READ = "read"  # every GET of /v1 (alerts and departments' explanations, silences, the delivery log)
    ACKNOWLEDGE = "acknowledge"
    SILENCE = "silence"  # create and expire silences
    RESEND = "resend"  # queue given-up notifications again


class ApiToken(BaseModel):
    """One configured token: the hex SHA-256 of the token and what it may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str
    scopes: frozenset[Scope] = Field(min_length=1)

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str) -> str:
        v = v.strip().lower()
        if len(v) != 64 or not set(v) <= HEX64:
            raise ValueError("give the hex SHA-256 of the token (64 hex digits), not the token")
        return v


class AlertsSettings(ServiceSettings):
    """Settings of the alerts service."""

    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore", frozen=True)

    database_url: str = Field(default="sqlite:///./var/alerts.db")
    port: int = Field(default=8003, ge=1, le=65535)
    consumer_group: str = Field(default="alerts", description="Kafka consumer group of the replicas")
    directory_path: Path = Field(default=DATA / "directory.toml", description="The department directory file")
    catalogue_dir: Path = Field(
        default=DEFAULT_DIR,
        description="Directory of the catalogue files (every *.toml directly in it, one per region and year), whose "
        "departments the directory and routing name; default: the catalogues shipped in shared/catalogue",
    )
    routing_path: Path = Field(default=DATA / "routing.toml", description="The routing rules file")
    webhook_urls: dict[str, str] = Field(
        default_factory=dict,
        description='JSON object: department id -> webhook URL, e.g. {"fgw": "https://…"}',
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description="JSON object: department id -> signing secret of its webhook URL"
    )
    default_webhook_url: str | None = Field(
        default=None, description="Webhook for departments without their own entry in ALERTS_WEBHOOK_URLS"
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="Signing secret of ALERTS_DEFAULT_WEBHOOK_URL (and of ALERTS_WEBHOOK_URLS entries "
        "without their own, as long as no two addresses share it)"
    )
    link_secret: SecretStr | None = Field(
        default=None, description="Key signing acknowledgement links; required with ALERTS_PUBLIC_URL, never derived"
    )
    ack_link_ttl_days: float = Field(default=30, gt=0, description="How long an acknowledgement link stays valid")
    api_tokens: dict[str, ApiToken] = Field(
        default_factory=dict,
        description='JSON object: token name -> {"sha256": hex SHA-256 of the token, "scopes": [...]} (or the hex '
        "alone: every scope)",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail notifications")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str | None = Field(default=None, description="From address of e-mail notifications")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: SmtpSecurity = Field(default=SmtpSecurity.NONE, description="none, starttls or implicit (465)")
    smtp_allow_plaintext_login: bool = Field(default=False, description="Allow a login over SMTP without TLS")
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle trusted for the SMTP server's certificate")
    group_wait_s: float = Field(default=0.0, ge=0, description="Wait to group a receiver's alerts; 0 = no grouping")
    group_interval_s: float = Field(default=60.0, ge=0, description="Least time between two groups to a receiver")
    repeat_interval_s: float = Field(default=86400.0, ge=0, description="Remind of open alerts after; 0 = never")
    escalate_after_s: float = Field(
        default=86400.0, ge=0, description="Escalate unacknowledged critical alerts up the chain after; 0 = never"
    )
    deadlines_in: TimeBasis = Field(
        default=TimeBasis.WORKING_DAYS,
        description="How ALERTS_REPEAT_INTERVAL_S and ALERTS_ESCALATE_AFTER_S are counted: working_days (only "
        "working days by the State Council's holiday schedule, make-up days included, 24 h each, Beijing time) "
        "or calendar (every second)",
    )
    lifecycle_interval_s: float = Field(default=5.0, gt=0, description="How often escalations and reminders run")
    delivery_timeout_s: float = Field(default=5.0, gt=0, le=60, description="Timeout of one delivery attempt")
    delivery_workers: int = Field(default=32, ge=1, le=512, description="Concurrent deliveries in all")
    receiver_concurrency: int = Field(default=4, ge=1, le=64, description="Concurrent deliveries to one receiver")
    retry_budget_s: float = Field(
        default=86400.0, gt=0, description="How long a notification is retried before it is given up (dead)"
    )
    retry_base_s: float = Field(default=1.0, gt=0, description="First retry delay; doubles up to retry_max_s")
    retry_max_s: float = Field(default=15.0, gt=0)
    retry_ambiguous_channels: str = Field(
        default="webhook", description="Comma-separated channels whose ambiguous failures are retried (else uncertain)"
    )
    robot_max_per_minute: int = Field(
        default=18, ge=1, le=1000, description="Messages one chat robot is sent per window (WeCom and DingTalk take "
        "20 a minute); what waits beyond it is merged into one message"
    )
    robot_max_per_minute_by_channel: dict[str, int] = Field(
        default_factory=dict, description='JSON object: robot channel -> its own limit per window, e.g. {"feishu": 90}'
    )
    robot_window_s: float = Field(
        default=60.0, gt=0, description="The robots' sliding window (the platforms count per minute; shorter only "
        "for tests)"
    )
    robot_pause_s: float = Field(
        default=60.0, gt=0, description="How long a WeCom or Feishu robot is left alone after it answered that it "
        "is sent too fast (45009, 11232)"
    )
    dingtalk_pause_s: float = Field(
        default=600.0, gt=0, description="How long a DingTalk robot is left alone after 130101/660026 (DingTalk "
        "refuses it for 10 minutes)"
    )
    dispatch_poll_interval_s: float = Field(default=0.5, gt=0, description="Dispatcher poll interval when idle")
    public_url: str | None = Field(default=None, description="Base URL of this service, for acknowledgement links")
    delivery_log_retention_days: float = Field(
        default=90, gt=0, description="Finished notifications and their delivery log are deleted after this"
    )
    alert_retention_days: float = Field(
        default=730, ge=365, description="Resolved alerts are kept for audit this long (at least a year)"
    )
    prune_interval_s: float = Field(default=3600, gt=0, description="How often old rows are pruned")

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _tokens(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        # The hex alone is the earlier form: such a token keeps every scope it had (writes, and reads were open).
        return {name: {"sha256": t, "scopes": [s.value for s in Scope]} if isinstance(t, str) else t
                for name, t in v.items()}

    @field_validator("retry_ambiguous_channels")
    @classmethod
    def _channels(cls, v: str) -> str:
        for c in (x.strip() for x in v.split(",") if x.strip()):
            if c not in {t.value for t in ChannelType}:
                raise ValueError(f"{c!r} is not a channel ({', '.join(t.value for t in ChannelType)})")
        return v

    @field_validator("robot_max_per_minute_by_channel")
    @classmethod
    def _robot_channels(cls, v: dict[str, int]) -> dict[str, int]:
        robots = ("wecom", "dingtalk", "feishu")
        for c, n in v.items():
            if c not in robots:
                raise ValueError(f"{c!r} is not a chat robot channel ({', '.join(robots)})")
            if not 1 <= n <= 1000:
                raise ValueError(f"{c}: give 1 to 1000 messages per window, not {n}")
        return v

    @model_validator(mode="after")
    def _secrets(self) -> AlertsSettings:
        if self.public_url and self.link_secret is None:
            raise ValueError("ALERTS_LINK_SECRET: required when ALERTS_PUBLIC_URL is set (acknowledgement links are "
                             "signed with it; it is never derived from another secret)")
        if self.link_secret is not None and len(self.link_secret.get_secret_value()) < 16:
            raise ValueError("ALERTS_LINK_SECRET: at least 16 characters")
        if (self.smtp_username and self.smtp_security == SmtpSecurity.NONE and not self.smtp_allow_plaintext_login):
            raise ValueError("ALERTS_SMTP_SECURITY: a login (ALERTS_SMTP_USERNAME) needs starttls or implicit TLS; "
                             "set ALERTS_SMTP_ALLOW_PLAINTEXT_LOGIN=true to send the password in the clear")
        return self

    def ambiguous_retried(self) -> frozenset[ChannelType]:
        """The channels whose ambiguous failures are retried."""
        return frozenset(ChannelType(c.strip()) for c in self.retry_ambiguous_channels.split(",") if c.strip())

    def link_key(self) -> bytes | None:
        """The key signing acknowledgement links (None without links)."""
        return self.link_secret.get_secret_value().encode() if self.link_secret is not None else None
