"""Where an end-to-end latency goes, hop by hop, from the times the three services store.

For each notification of the latency phase, followed back through its evaluation to the observation it came from:

- ingest: the observation committed (``recorded_at``) → its event published (ingest's outbox ``sent_at``);
- evaluator: published → evaluated (``evaluated_at``, the handler's clock in the consumer batch);
- evaluator: evaluated → its status change published (the batch's commit, the relay's round, the broker's ack);
- alerts: published → the notification stored (``created_at``, in the consumer batch);
- alerts: stored → delivered (``sent_at``: the commit, the dispatcher's round, the POST).

Only wall-clock stamps the services already keep: no extra instrumentation, so it reads any finished run's
databases (SQLite or PostgreSQL). A hop's times come from one clock (one machine), so they are comparable.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import create_engine, text

from shared.db import normalise_url

HOPS = ("ingest commit → published", "published → evaluated", "evaluated → published",
        "published → notification stored", "stored → delivered")


def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _rows(url: str, sql: str) -> list[Any]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def hop_times(urls: dict[str, str]) -> dict[str, list[float]]:
    """Milliseconds per hop (HOPS), one value per traced notification; ``urls``: the services' databases."""
    recorded = {i: _at(t) for i, t in _rows(urls["ingest"], "SELECT id, recorded_at FROM observations")}
    published: dict[str, datetime] = {}
    for payload, sent in _rows(urls["ingest"], "SELECT payload, sent_at FROM outbox WHERE sent_at IS NOT NULL"):
        data = json.loads(bytes(payload))["data"]
        if data.get("observation_id") in recorded:
            published[data["observation_id"]] = _at(sent)
    evaluated = {e: (o, _at(t)) for e, o, t in _rows(
        urls["evaluator"], "SELECT id, observation_id, evaluated_at FROM evaluations WHERE published")}
    announced: dict[str, datetime] = {}
    for payload, sent in _rows(urls["evaluator"], "SELECT payload, sent_at FROM outbox WHERE sent_at IS NOT NULL"):
        data = json.loads(bytes(payload))["data"]
        if data.get("evaluation_id") in evaluated:
            announced[data["evaluation_id"]] = _at(sent)
    out: dict[str, list[float]] = {h: [] for h in HOPS}
    for parts, created, sent in _rows(urls["alerts"], "SELECT parts, created_at, sent_at FROM notifications "
                                                      "WHERE sent_at IS NOT NULL"):
        for part in json.loads(parts or "[]"):
            e = part["event"]["evaluation_id"]
            if e not in evaluated or e not in announced or evaluated[e][0] not in published:
                continue
            o, t_eval = evaluated[e]
            stamps = [recorded[o], published[o], t_eval, announced[e], _at(created), _at(sent)]
            for hop, (a, b) in zip(HOPS, pairwise(stamps), strict=True):
                out[hop].append((b - a).total_seconds() * 1000)
    return out


def describe(times: dict[str, list[float]]) -> list[str]:
    """One line per hop: its median and p90 in ms, and its share of the sum of the medians."""
    def q(v: list[float], p: float) -> float:
        s = sorted(v)
        return s[min(len(s) - 1, int(p * len(s)))] if s else float("nan")
    medians = {h: q(v, 0.5) for h, v in times.items()}
    total = sum(m for m in medians.values() if m == m) or 1.0
    n = max((len(v) for v in times.values()), default=0)
    return [f"  {h:34s} p50 {medians[h]:6.1f} ms  p90 {q(v, 0.9):6.1f} ms  ({medians[h] / total:4.0%})"
            for h, v in times.items()] + [f"  ({n} notifications traced; the medians sum to {total:.1f} ms)"]
