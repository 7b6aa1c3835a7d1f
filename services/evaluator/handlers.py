"""The evaluator's Kafka entry point: each ObservationRecorded of a polled batch, in the consumer loop's
transaction, through the ``record_observation`` use case on repositories bound to that transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from services.evaluator.adapters.database import DbConnection
from services.evaluator.adapters.locks import lock_targets
from services.evaluator.adapters.repositories import BatchCache, SqlStore
from services.evaluator.domain.judging import Arrival
from services.evaluator.recording import EvaluationRecorder
from services.evaluator.service import record_observation
from shared.catalogue import Catalogue, Catalogues
from shared.clock import Clock
from shared.messages import Envelope, EventData, InvalidMessage, ObservationRecorded
from shared.outbox import Outbox
from shared.periods import Period, PeriodError


class ObservationHandler:
    """Handles ObservationRecorded events (the consumer loop calls begin_batch, each message, end_batch)."""

    def __init__(self, catalogues: Catalogue | Catalogues, outbox: Outbox, clock: Clock) -> None:
        self.recorder = EvaluationRecorder(catalogues)
        self.catalogues = self.recorder.catalogues
        self.outbox = outbox
        self.clock = clock
        self._batch = BatchCache()

    def begin_batch(self, conn: DbConnection, items: Sequence[tuple[Envelope, EventData]]) -> None:
        """Called by the consumer loop before a polled batch: lock the targets other replicas may judge at the same
        time (adapters/locks.py), then load what the batch needs in one query."""
        observations = [d for _, d in items if isinstance(d, ObservationRecorded)]
        lock_targets(conn, self._shared(observations))  # found only where it locks (PostgreSQL)
        self._batch.begin_batch(conn, observations)

    def shared_targets(self, observations: Sequence[ObservationRecorded]) -> set[str]:
        """The targets these figures move that are also read from other indicators' series (region/year/target)."""
        return set(self._shared(observations))

    def _shared(self, observations: Sequence[ObservationRecorded]) -> Iterator[str]:
        for d in observations:
            try:
                period = Period.parse(d.period)
            except PeriodError:
                continue  # refused when it is handled
            arrival = Arrival(d.indicator, d.measure.value, period, d.vintage, d.previous_value)
            yield from (f"{c.region}/{c.year}/{t.id}" for c, t, series, _ in self.recorder.roles(d.region, arrival)
                        if series.related is not None or series.deflator is not None)

    def end_batch(self, conn: DbConnection) -> None:
        """Called by the consumer loop after the batch's messages, before its commit."""
        self._batch.end_batch(conn)

    def __call__(self, conn: DbConnection, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, ObservationRecorded):
            raise InvalidMessage(f"the evaluator does not handle {envelope.type}")
        record_observation(SqlStore(conn, self.outbox, self._batch), self.recorder, data, self.clock())


__all__ = ["ObservationHandler"]
