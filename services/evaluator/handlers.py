"""The evaluator's Kafka entry point: each ObservationRecorded of a polled batch, in the consumer loop's
transaction, through the ``record_observation`` use case on repositories bound to that transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.evaluator.adapters.database import DbConnection
from services.evaluator.adapters.repositories import ReadingCache, SqlStore
from services.evaluator.recording import EvaluationRecorder
from services.evaluator.service import record_observation
from shared.catalogue import Catalogue, Catalogues
from shared.clock import Clock
from shared.messages import Envelope, EventData, InvalidMessage, ObservationRecorded
from shared.outbox import Outbox


class ObservationHandler:
    """Handles ObservationRecorded events (the consumer loop calls begin_batch, each message, end_batch)."""

    def __init__(self, catalogues: Catalogue | Catalogues, outbox: Outbox, clock: Clock) -> None:
        self.recorder = EvaluationRecorder(catalogues)
        self.catalogues = self.recorder.catalogues
        self.outbox = outbox
        self.clock = clock
        self._readings = ReadingCache()

    def begin_batch(self, conn: DbConnection, items: Sequence[tuple[Envelope, EventData]]) -> None:
        """Called by the consumer loop before a polled batch: load what the batch needs in one query."""
        self._readings.begin_batch(conn, [d for _, d in items if isinstance(d, ObservationRecorded)])

    def end_batch(self, conn: DbConnection) -> None:
        """Called by the consumer loop after the batch's messages, before its commit."""
        self._readings.end_batch(conn)

    def __call__(self, conn: DbConnection, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, ObservationRecorded):
            raise InvalidMessage(f"the evaluator does not handle {envelope.type}")
        record_observation(SqlStore(conn, self.outbox, self._readings), self.recorder, data, self.clock())


__all__ = ["ObservationHandler"]
