"""Ingest settings, from INGEST_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    """Settings of the ingest service."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", frozen=True)

    database_url: str = Field(default="sqlite:///./var/ingest.db")
    port: int = Field(default=8001, ge=1, le=65535)
    max_batch_size: int = Field(default=5000, ge=1, le=100_000, description="Most observations in one request")
