"""API keys of submitting organisations and what each may submit: pure rules, no storage."""

from __future__ import annotations

import secrets
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime

from services.ingest.domain.observations import FieldError
from shared.regions import REGIONS
from shared.tokens import token_digest

KEY_PREFIX = "wxk_"  # recognisable in logs and secret scanners; the rest is 256 random bits


@dataclass(frozen=True)
class ApiKey:
    """An issued key as ingest knows it (never the key itself, only its hash)."""

    id: str
    organisation: str
    description: str | None
    key_prefix: str
    indicators: frozenset[str] | None  # None: every indicator
    regions: frozenset[str] | None  # None: every region
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the key may still be used."""
        return self.revoked_at is None


def new_key() -> str:
    """A fresh, high-entropy API key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    """A public id for a key (safe to show and log)."""
    return "key_" + secrets.token_hex(6)


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256 is enough for 256 random bits (no dictionary to guess from)."""
    return token_digest(key)


def scope_errors(key: ApiKey, rows: list[tuple[int, str, str]], known: Container[str]) -> list[FieldError]:
    """Every (row, indicator, region) the key may not submit, each naming the field and the value.

    An indicator the catalogue does not know (or a region nobody knows) is not refused here: validation then
    calls it unknown, which tells the clerk what is wrong (a misspelt name), where "may not submit" would
    mislead."""
    errors: list[FieldError] = []
    for row, indicator, region in rows:
        if key.indicators is not None and indicator not in key.indicators and indicator in known:
            errors.append(FieldError(row, "indicator", "indicator_not_allowed",
                                     f"this key ({key.organisation}) may not submit indicator {indicator!r}",
                                     f"此密钥（{key.organisation}）无权报送指标“{indicator}”"))
        if key.regions is not None and region not in key.regions and region in REGIONS:
            errors.append(FieldError(row, "region", "region_not_allowed",
                                     f"this key ({key.organisation}) may not submit region {region!r}",
                                     f"此密钥（{key.organisation}）无权报送地区“{region}”"))
    return errors


def read_errors(key: ApiKey, indicator: str, region: str | None) -> list[FieldError]:
    """What a key may not read: a bureau reads only the indicators and regions it may submit."""
    errors: list[FieldError] = []
    if key.indicators is not None and indicator not in key.indicators:
        errors.append(FieldError(0, "indicator", "indicator_not_allowed",
                                 f"this key ({key.organisation}) may not read indicator {indicator!r}",
                                 f"此密钥（{key.organisation}）无权查询指标“{indicator}”"))
    if region is not None and key.regions is not None and region not in key.regions:
        errors.append(FieldError(0, "region", "region_not_allowed",
                                 f"this key ({key.organisation}) may not read region {region!r}",
                                 f"此密钥（{key.organisation}）无权查询地区“{region}”"))
    return errors
