"""Helpers for the evaluator's integration tests: observations as ingest publishes them, events as published."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from services.evaluator.adapters.tables import outbox
from shared.messages import ObservationRecorded, ObservationStatus, TargetStatusChanged, decode, envelope_for

_ids = itertools.count(1)
RECORDED_AT = datetime(2024, 7, 15, 2, 0, tzinfo=UTC)


def observation(indicator: str, period: str, measure: str, value: float, *, status: str = "provisional",
                vintage: int = 1, previous_value: float | None = None, unit: str = "%") -> ObservationRecorded:
    """An ObservationRecorded as ingest would publish it."""
    return ObservationRecorded(
        observation_id=f"obs{next(_ids):08d}", indicator=indicator, region="wuxi", period=period,
        measure=measure, value=value, unit=unit, status=ObservationStatus(status), vintage=vintage,
        previous_value=previous_value, revision_reason="统计局修订" if vintage > 1 else None,
        submitted_by="stats", recorded_at=RECORDED_AT,
    )


def envelope(data: ObservationRecorded):
    """The CloudEvents envelope of an observation."""
    return envelope_for(data, source="/wuxi-targets/ingest", time=RECORDED_AT)


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
