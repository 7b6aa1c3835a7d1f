"""Evaluator settings, from EVALUATOR_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class EvaluatorSettings(ServiceSettings):
    """Settings of the evaluator service."""

    model_config = SettingsConfigDict(env_prefix="EVALUATOR_", extra="ignore", frozen=True)

    database_url: str = Field(default="sqlite:///./var/evaluator.db")
    port: int = Field(default=8002, ge=1, le=65535)
    consumer_group: str = Field(default="evaluator", description="Kafka consumer group of the replicas")
