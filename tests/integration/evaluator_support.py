"""Helpers for the evaluator's integration tests: observations as ingest publishes them, events as published."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine, select

from services.evaluator.adapters.tables import outbox
from shared.messages import ObservationRecorded, ObservationStatus, TargetStatusChanged, decode, envelope_for
from shared.periods import Period

_ids = itertools.count(1)
# Bureaus release a period's figures some weeks after it ends; revisions come later still.
RELEASE_LAG = timedelta(days=20)


def released_at(period: str, vintage: int = 1) -> datetime:
    """When a figure for ``period`` is plausibly recorded: 20 days after the period ends, a month per revision."""
    end = Period.parse(period).end_date()
    return datetime.combine(end, time(2, 0), tzinfo=UTC) + RELEASE_LAG + timedelta(days=30 * (vintage - 1))


def observation(indicator: str, period: str, measure: str, value: float, *, status: str = "provisional",
                vintage: int = 1, previous_value: float | None = None, unit: str = "%",
                recorded_at: datetime | None = None) -> ObservationRecorded:
    """An ObservationRecorded as ingest would publish it (recorded after its period ended, unless told)."""
    return ObservationRecorded(
        observation_id=f"obs{next(_ids):08d}", indicator=indicator, region="wuxi", period=period,
        measure=measure, value=value, unit=unit, status=ObservationStatus(status), vintage=vintage,
        previous_value=previous_value, revision_reason="统计局修订" if vintage > 1 else None,
        submitted_by="stats", recorded_at=recorded_at or released_at(period, vintage),
    )


def envelope(data: ObservationRecorded):
    """The CloudEvents envelope of an observation."""
    return envelope_for(data, source="/wuxi-targets/ingest", time=data.recorded_at)


def published(engine: Engine) -> list[TargetStatusChanged]:
    """Every TargetStatusChanged in the evaluator's outbox, in order."""
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars().all()
    out = []
    for raw in rows:
        data = decode(raw).payload()
        assert isinstance(data, TargetStatusChanged)
        out.append(data)
    return out
