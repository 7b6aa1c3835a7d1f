"""Ingest settings, from INGEST_* environment variables."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.workdays import TimeBasis


class IngestSettings(ServiceSettings):
    """Settings of the ingest service."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", frozen=True)

    database_url: str = Field(default="sqlite:///./var/ingest.db")
    port: int = Field(default=8001, ge=1, le=65535)
    max_batch_size: int = Field(default=5000, ge=1, le=100_000, description="Most observations in one request")
    # Each batch or file being processed holds its rows as objects (megabytes per 1,000 rows); more than the
    # cores could run at once mostly interleaves under the GIL and adds to the peak memory; a few overlap one
    # batch's database waits with another's Python (4: 130 MB peak under 8 clients, against 140 with 8).
    batch_concurrency: int = Field(default=4, ge=1, le=64, description="Batch and file requests processed at "
                                   "once; more wait their turn, their bodies read")
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest request body accepted; larger ones get 413"
    )
    # No default: without a token the /admin endpoints do not exist (404).
    admin_token: SecretStr | None = Field(default=None, description="Bearer token of the /admin endpoints")
    api_key_cache_ttl_s: float = Field(
        default=5.0, ge=0, le=300, description="How long a looked-up API key is trusted; bounds revocation delay"
    )
    rate_limit_per_s: float = Field(
        default=100.0, ge=0, description="Requests per second per API key (token bucket refill); 0 turns it off"
    )
    rate_limit_burst: int = Field(default=200, ge=1, description="Token bucket size: requests a key may burst")
    # Before authentication: a key the cache does not know costs a database query; a client address (the
    # proxy's, behind one) may cause this many a second. Bureaus' known keys never count against it.
    auth_rate_limit_per_s: float = Field(
        default=20.0, ge=0, description="Lookups of keys not in the cache per second per client address; 0 = off"
    )
    auth_rate_limit_burst: int = Field(default=50, ge=1, description="Lookups a client address may burst")
    release_due_in: TimeBasis = Field(
        default=TimeBasis.WORKING_DAYS,
        description="Data-overdue due days: working_days moves a due day on a holiday to the next working day",
    )
    idempotency_ttl_h: float = Field(
        default=24.0, gt=0, description="How long a stored Idempotency-Key response is replayed"
    )

    @field_validator("admin_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, v: object) -> object:
        # INGEST_ADMIN_TOKEN= (empty, as compose's ${VAR:-} gives) must mean "no admin endpoints".
        return None if v == "" else v

    @property
    def idempotency_ttl(self) -> timedelta:
        """How long stored Idempotency-Key responses are kept."""
        return timedelta(hours=self.idempotency_ttl_h)
