"""Settings every service has; each service subclasses this with its own environment prefix."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shared.db import with_password

FILE_SUFFIX = "_FILE"


class FileSettingsSource(PydanticBaseSettingsSource):
    """Any setting ``<VAR>`` may be given as ``<VAR>_FILE``: the path of a file holding its value.

    The Docker convention (the postgres image's POSTGRES_PASSWORD_FILE), for compose ``secrets:``, which are
    files in /run/secrets: the secret never sits in the environment. Trailing newlines are dropped; an empty
    file means unset. Setting both ``<VAR>`` and ``<VAR>_FILE`` is an error.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every field at once

    def __call__(self) -> dict[str, Any]:
        prefix = str(self.settings_cls.model_config.get("env_prefix", ""))
        env = {k.upper(): v for k, v in os.environ.items()}
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            var = f"{prefix}{name}".upper()
            path = env.get(var + FILE_SUFFIX)
            if not path:
                continue
            if var in env:
                raise ValueError(f"set {var} or {var}{FILE_SUFFIX}, not both")
            try:
                text = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ValueError(f"{var}{FILE_SUFFIX}: cannot read {path}: {exc.strerror}") from None
            if text:
                values[name] = self.decode_complex_value(name, field, text) if self.field_is_complex(field) else text
        return values


class ServiceSettings(BaseSettings):
    """Common settings. A service's subclass sets ``env_prefix`` (INGEST_, EVALUATOR_, ALERTS_)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, FileSettingsSource(settings_cls), dotenv_settings, file_secret_settings

    database_url: str = Field(description="SQLAlchemy URL of the service's own database")
    database_password: SecretStr | None = Field(
        default=None,
        description="Password of the database role, put into the URL (URL-encoded: any character may be in it)",
    )
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
    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one JSON object per line (service, event id, target, department); text"
    )
    access_log: bool = Field(default=False, description="Log one line per HTTP request (method, route, status, time)")

    @model_validator(mode="before")
    @classmethod
    def _password_into_url(cls, data: Any) -> Any:
        # A password in a URL must be percent-encoded (an @ or / in it breaks the URL); shared/db.py does it.
        if not isinstance(data, dict) or not data.get("database_password"):
            return data
        password = data["database_password"]
        raw = password.get_secret_value() if isinstance(password, SecretStr) else str(password)
        url = data.get("database_url") or cls.model_fields["database_url"].default
        return {**data, "database_url": with_password(str(url), raw)}

    @property
    def outbox_retention(self) -> timedelta:
        """How long published outbox rows are kept."""
        return timedelta(hours=self.outbox_retention_h)

    @property
    def processed_events_retention(self) -> timedelta:
        """How long processed event ids are kept."""
        return timedelta(hours=self.processed_events_retention_h)
