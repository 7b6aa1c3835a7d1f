"""What ingest's routes need at run time, wired once by main.py."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from services.ingest.config import IngestSettings
from shared.catalogue import Catalogue
from shared.clock import Clock
from shared.metrics import CommonMetrics
from shared.outbox import Outbox, OutboxRelay


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
