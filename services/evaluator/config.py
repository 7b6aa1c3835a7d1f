"""Evaluator settings, from EVALUATOR_* environment variables."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.catalogue.loader import DEFAULT_DIR
from shared.settings import ServiceSettings

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class EvaluatorSettings(ServiceSettings):
    """Settings of the evaluator service."""

    model_config = SettingsConfigDict(env_prefix="EVALUATOR_", extra="ignore", frozen=True)

    database_url: str = Field(default="sqlite:///./var/evaluator.db")
    port: int = Field(default=8002, ge=1, le=65535)
    consumer_group: str = Field(default="evaluator", description="Kafka consumer group of the replicas")
    catalogue_dir: Path = Field(
        default=DEFAULT_DIR,
        description="Directory of the catalogue files (every *.toml directly in it, one per region and year); "
        "default: the catalogues shipped in shared/catalogue",
    )
    ranking_green_needs_city: bool = Field(
        default=False,
        description="In the 板块 view a district's light is green only when it meets its own plan and is not worse "
        "than the city-wide figure (双达标); false: meeting its plan is enough",
    )
    status_report_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object, department id → lowercase hex SHA-256 of that department's bearer token for "
        "filing status reports; empty means nobody can file one (no default secrets)",
    )

    alerts_url: str | None = Field(
        default=None, pattern=r"^https?://[^\s]+$",
        description="Base URL of the alerts service's API (http://alerts:8000 in compose), whose open alerts and "
        "acknowledgements the department pages show; unset: the pages say the alerts are not shown",
    )
    alerts_token: SecretStr | None = Field(
        default=None, description="Bearer token with the alerts service's read scope, for alerts_url"
    )
    alerts_timeout_s: float = Field(
        default=2.0, gt=0, le=30,
        description="How long a department page waits for the alerts service before it renders without alerts",
    )

    @field_validator("status_report_tokens")
    @classmethod
    def _hashes_only(cls, value: dict[str, str]) -> dict[str, str]:
        for dep, digest in value.items():
            if not _SHA256_HEX.match(digest):
                raise ValueError(
                    f"status_report_tokens[{dep!r}] must be the lowercase hex SHA-256 of the token "
                    "(64 characters), never the token itself"
                )
        return value
