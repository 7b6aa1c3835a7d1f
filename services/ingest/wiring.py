"""What ingest's routes need at run time, typed, wired once by main.py (``app.state.ingest``)."""

from __future__ import annotations

from dataclasses import dataclass

from anyio import CapacityLimiter
from starlette.requests import Request

from services.ingest.adapters.keys import KeyCache
from services.ingest.adapters.store import IngestStore
from services.ingest.commits import SingleWrites
from services.ingest.config import IngestSettings
from services.ingest.metrics import IngestCounters
from shared.catalogue import Catalogue
from shared.clock import Clock
from shared.limits import RateLimiter
from shared.metrics import CommonMetrics
from shared.outbox import OutboxRelay


@dataclass
class IngestWiring:
    """Ingest's wired parts."""

    settings: IngestSettings
    store: IngestStore
    catalogue: Catalogue
    relay: OutboxRelay
    metrics: CommonMetrics
    clock: Clock
    keys: KeyCache
    rate_limiter: RateLimiter  # per API key, after authentication
    auth_limiter: RateLimiter  # per client address, before a key is looked up in the database
    counters: IngestCounters
    singles: SingleWrites  # single POSTs, committed in groups
    batch_slots: CapacityLimiter  # batch and file requests processed at once (INGEST_BATCH_CONCURRENCY)


def wiring(request: Request) -> IngestWiring:
    """The wiring of the app serving ``request``."""
    w: IngestWiring = request.app.state.ingest
    return w
