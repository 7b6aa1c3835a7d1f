"""Single POSTs committed together (services/ingest/commits.py), over real HTTP on SQLite and PostgreSQL.

The writer is held on a first request while the others queue in a known order, so the group they form is
known; each request must be answered as it would be alone, and nothing may be stored or published twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from devstack.broker import TansuBroker
from services.ingest.adapters.store import WriteConflict
from services.ingest.adapters.tables import observations
from services.ingest.commits import SingleWrites
from shared.messages import decode
from tests.integration.ingest_app import GDP, RETAIL, Ingest, running_ingest, serving


@pytest.fixture
def ingest(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[Ingest]:
    with running_ingest(database_url, broker.bootstrap, topic_prefix) as app:
        yield app


class Held:
    """Holds the writer on the first request it takes, while the test queues the next ones one by one."""

    def __init__(self, ingest: Ingest, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.singles: SingleWrites = ingest.wiring.singles
        self.url = url
        self.release = threading.Event()
        self.taken = threading.Event()
        self.answers: dict[int, httpx.Response] = {}
        self.threads: list[threading.Thread] = []
        original = SingleWrites._write
        calls = {"n": 0}

        def held_write(writes: SingleWrites, group: list[Any]) -> None:
            calls["n"] += 1
            if calls["n"] == 1:
                self.taken.set()
                assert self.release.wait(30), "the test never released the writer"
            original(writes, group)

        monkeypatch.setattr(SingleWrites, "_write", held_write)

    def post(self, i: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        """POST in a thread of its own; returns once the request waits in the writer's queue."""
        queued = self.singles._queue.qsize()

        def run() -> None:
            self.answers[i] = httpx.post(f"{self.url}/v1/observations", json=body, headers=headers, timeout=30)

        thread = threading.Thread(target=run)
        thread.start()
        self.threads.append(thread)
        if i == 0:
            assert self.taken.wait(10), "the writer did not take the first request"
            return
        deadline = time.monotonic() + 10
        while self.singles._queue.qsize() <= queued:
            assert time.monotonic() < deadline, f"request {i} did not reach the writer's queue"
            time.sleep(0.005)

    def answered(self) -> dict[int, httpx.Response]:
        """Let the writer go on; every answer, by request."""
        self.release.set()
        for t in self.threads:
            t.join(30)
        return self.answers


def _events(ingest: Ingest) -> list[dict[str, Any]]:
    return [decode(p).data for p in ingest.outbox_payloads()]


def test_queued_single_posts_are_committed_together_and_answered_as_one_at_a_time(
        ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> None:
    city, yixing = ingest.key(), ingest.key("宜兴市统计局")
    with serving(ingest) as url:
        held = Held(ingest, url, monkeypatch)
        held.post(0, RETAIL, city)  # written alone; the writer is held before it
        held.post(1, GDP, city)
        held.post(2, {**GDP, "value": 5.0, "revision_reason": "季度核实"}, city)  # revises 1 in the same group
        held.post(3, {**GDP, "region": "yixing"}, {**yixing, "Idempotency-Key": "k-1"})
        held.post(4, {**GDP, "region": "yixing"}, {**yixing, "Idempotency-Key": "k-1"})  # a retry of 3
        held.post(5, RETAIL, city)  # the same figure as 0: unchanged
        held.post(6, {**GDP, "region": "jiangyin"}, {**city, "Idempotency-Key": "k-1"})  # another key's "k-1"
        answers = held.answered()
    assert held.singles.groups == 1  # 1-6 in one transaction (4 written after it, alone)
    got = {i: (r.status_code, r.json()["outcome"], r.json()["vintage"]) for i, r in answers.items()}
    assert got == {0: (201, "created", 1), 1: (201, "created", 1), 2: (201, "revised", 2), 3: (201, "created", 1),
                   4: (201, "created", 1), 5: (200, "unchanged", 1), 6: (201, "created", 1)}
    assert answers[4].headers.get("Idempotent-Replayed") == "true" and answers[4].json() == answers[3].json()
    assert "Idempotent-Replayed" not in answers[6].headers
    assert answers[5].json()["id"] == answers[0].json()["id"]
    with ingest.engine.connect() as conn:
        rows = conn.execute(select(observations.c.region, observations.c.indicator, observations.c.vintage,
                                   observations.c.is_current, observations.c.submitted_by)
                            .order_by(observations.c.pk)).all()
    assert sorted(map(tuple, rows)) == sorted([
        ("wuxi", "retail_sales", 1, True, "市统计局"), ("wuxi", "gdp", 1, False, "市统计局"),
        ("wuxi", "gdp", 2, True, "市统计局"), ("yixing", "gdp", 1, True, "宜兴市统计局"),
        ("jiangyin", "gdp", 1, True, "市统计局")])
    events = _events(ingest)
    assert sorted((e["region"], e["indicator"], e["vintage"], e["submitted_by"]) for e in events) == sorted([
        ("wuxi", "retail_sales", 1, "市统计局"), ("wuxi", "gdp", 1, "市统计局"), ("wuxi", "gdp", 2, "市统计局"),
        ("yixing", "gdp", 1, "宜兴市统计局"), ("jiangyin", "gdp", 1, "市统计局")])
    assert ingest.metric("ingest_observations_total", {"outcome": "created"}) == 4
    assert ingest.metric("ingest_observations_total", {"outcome": "revised"}) == 1
    assert ingest.metric("ingest_observations_total", {"outcome": "unchanged"}) == 1


def _failing_once(exc: Exception) -> Callable[..., Any]:
    original = SingleWrites._together
    calls = {"n": 0}

    def together(writes: SingleWrites, group: list[Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise exc
        return original(writes, group)

    return together


def test_a_group_that_collides_with_a_concurrent_write_is_written_one_by_one(
        ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> None:
    city = ingest.key()
    with serving(ingest) as url:
        held = Held(ingest, url, monkeypatch)
        monkeypatch.setattr(SingleWrites, "_together", _failing_once(WriteConflict("observations_series_vintage")))
        held.post(0, RETAIL, city)
        held.post(1, GDP, city)
        held.post(2, {**GDP, "value": 5.0}, city)
        held.post(3, {**GDP, "region": "yixing"}, {**city, "Idempotency-Key": "k-2"})
        answers = held.answered()
    assert held.singles.groups == 0
    assert {i: (r.status_code, r.json()["vintage"]) for i, r in answers.items()} == {
        0: (201, 1), 1: (201, 1), 2: (201, 2), 3: (201, 1)}
    assert sorted((e["region"], e["indicator"], e["vintage"]) for e in _events(ingest)) == [
        ("wuxi", "gdp", 1), ("wuxi", "gdp", 2), ("wuxi", "retail_sales", 1), ("yixing", "gdp", 1)]


def test_a_group_whose_database_fails_fails_every_request_and_the_writer_goes_on(
        ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> None:
    city = ingest.key()
    with serving(ingest) as url:
        held = Held(ingest, url, monkeypatch)
        monkeypatch.setattr(SingleWrites, "_together",
                            _failing_once(OperationalError("COMMIT", {}, Exception("the database went away"))))
        held.post(0, RETAIL, city)
        held.post(1, GDP, city)
        held.post(2, {**GDP, "region": "yixing"}, city)
        answers = held.answered()
        assert answers[0].status_code == 201
        assert [answers[i].status_code for i in (1, 2)] == [503, 503]
        assert all(answers[i].json()["errors"][0]["type"] == "dependency_unavailable" for i in (1, 2))
        again = httpx.post(f"{url}/v1/observations", json=GDP, headers=city, timeout=30)
    assert again.status_code == 201 and again.json()["vintage"] == 1  # nothing of the failed group was stored
    assert sorted((e["indicator"], e["region"]) for e in _events(ingest)) == [("gdp", "wuxi"), ("retail_sales", "wuxi")]
