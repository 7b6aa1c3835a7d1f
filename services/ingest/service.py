"""Ingest's use cases. They write through the caller's connection; the caller (a route) owns the transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from services.ingest.adapters.tables import observations
from services.ingest.domain.observations import Checked, Outcome, decide
from shared.catalogue.model import Measure
from shared.messages import ObservationRecorded, ObservationStatus
from shared.outbox import Outbox


@dataclass(frozen=True)
class Recorded:
    """What happened to one submitted row."""

    row: int
    id: str
    outcome: Outcome
    vintage: int


@dataclass
class _Current:
    pk: int | None
    id: str
    value: float
    status: str
    vintage: int


def record_observations(
    conn: Connection,
    outbox: Outbox,
    checked: list[Checked],
    *,
    submitted_by: str,
    now: datetime,
) -> list[Recorded]:
    """Store new figures and revisions as vintages and queue their events; identical repeats change nothing."""
    keys = list({c.series_key for c in checked})
    current: dict[str, _Current] = {}
    t = observations
    for i in range(0, len(keys), 500):
        for r in conn.execute(
            select(t.c.pk, t.c.id, t.c.series_key, t.c.value, t.c.status, t.c.vintage).where(
                t.c.series_key.in_(keys[i : i + 500]), t.c.is_current
            )
        ):
            current[r.series_key] = _Current(r.pk, r.id, r.value, r.status, r.vintage)

    results: list[Recorded] = []
    inserts: list[dict[str, object]] = []
    superseded: list[int] = []
    events: list[ObservationRecorded] = []
    for row, c in enumerate(checked):
        s = c.submission
        cur = current.get(c.series_key)
        outcome = decide(cur.value if cur else None, cur.status if cur else None, c)
        if outcome == Outcome.UNCHANGED:
            assert cur is not None
            results.append(Recorded(row, cur.id, outcome, cur.vintage))
            continue
        vintage = cur.vintage + 1 if cur else 1
        if cur is not None:
            if cur.pk is not None:
                superseded.append(cur.pk)
            else:  # revised twice in one batch: the earlier insert of this batch is not current
                for ins in inserts:
                    if ins["id"] == cur.id:
                        ins["is_current"] = False
        obs_id = uuid.uuid4().hex
        inserts.append({
            "id": obs_id, "series_key": c.series_key, "indicator": s.indicator, "region": s.region,
            "period": c.period.code, "measure": s.measure, "vintage": vintage, "is_current": True,
            "value": c.value, "unit": c.unit, "submitted_value": s.value, "submitted_unit": s.unit,
            "status": s.status, "revision_reason": s.revision_reason if cur else None, "note": s.note,
            "source": s.source, "submitted_by": submitted_by, "recorded_at": now,
        })
        events.append(ObservationRecorded(
            observation_id=obs_id, indicator=s.indicator, region=s.region, period=c.period.code,
            measure=Measure(s.measure), value=c.value, unit=c.unit, status=ObservationStatus(s.status),
            vintage=vintage, previous_value=cur.value if cur else None,
            revision_reason=s.revision_reason if cur else None, submitted_by=submitted_by, recorded_at=now,
        ))
        current[c.series_key] = _Current(None, obs_id, c.value, s.status, vintage)
        results.append(Recorded(row, obs_id, outcome, vintage))

    if superseded:
        conn.execute(update(t).where(t.c.pk.in_(superseded)).values(is_current=False))
    if inserts:
        conn.execute(t.insert(), inserts)
    outbox.add(conn, events, now)
    return results
