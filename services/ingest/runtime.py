"""What ingest's routes need at run time, wired once by main.py."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine

from services.ingest.adapters.keys import KeyCache
from services.ingest.api.limits import RateLimiter
from services.ingest.config import IngestSettings
from shared.catalogue import Catalogue
from shared.clock import Clock
from shared.metrics import CommonMetrics
from shared.outbox import Outbox, OutboxRelay


class IngestCounters:
    """What happened to submitted rows: stored outcomes and rejections by rule."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.observations = Counter(
            "observations_total", "Submitted observations by outcome (created, revised, unchanged)",
            ["outcome"], namespace="ingest", registry=registry,
        )
        self.rejections = Counter(
            "rejections_total", "Rejected fields by rule (validation, scope, authentication, limits)",
            ["rule"], namespace="ingest", registry=registry,
        )


@dataclass
class IngestRuntime:
    """Ingest's wired parts."""

    settings: IngestSettings
    engine: Engine
    catalogue: Catalogue
    outbox: Outbox
    relay: OutboxRelay
    metrics: CommonMetrics
    clock: Clock
    keys: KeyCache
    rate_limiter: RateLimiter
    counters: IngestCounters
