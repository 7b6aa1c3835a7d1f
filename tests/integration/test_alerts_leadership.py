"""A dispatcher that loses its leader lock stops sending what it had buffered (issue 11 item 7)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from services.alerts.adapters.groups import GroupRepository
from shared.messages import Severity

from .alerts_harness import FGW_TARGETS_SAMPLE, running, send, settings, wait_until


class SwitchableLeader:
    """A leader lock the test takes away and gives back."""

    def __init__(self) -> None:
        self.leading = True

    def held(self) -> bool:
        return self.leading

    def release(self) -> None:
        self.leading = False


def _gauge(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def test_a_replica_that_loses_the_lock_drops_its_buffer_and_sends_nothing_until_it_leads_again(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    receiver.fail_with = 503
    leader = SwitchableLeader()
    s = settings(database_url, broker, topic_prefix, retry_base_s=5, retry_max_s=5)
    with running(s, {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}, leader=leader) as client:
        send(broker, topic_prefix, [(t, Severity.WARNING) for t in FGW_TARGETS_SAMPLE])
        # The first probe failed: the rest wait in this replica's buffer for the receiver's backoff.
        wait_until(lambda: _gauge(client, "alerts_dispatcher_buffered_notifications") >= len(FGW_TARGETS_SAMPLE) - 1,
                   what="a buffered backlog")
        leader.leading = False  # another replica took over (this one's lock connection broke)
        wait_until(lambda: _gauge(client, "alerts_dispatcher_leader") == 0
                   and _gauge(client, "alerts_dispatcher_buffered_notifications") == 0, what="the buffer dropped")
        receiver.fail_with = None
        dispatcher = client.app.state.dispatcher  # type: ignore[attr-defined]
        rounds = dispatcher.rounds
        wait_until(lambda: dispatcher.rounds > rounds + 20 and dispatcher._results.empty(), what="rounds as follower")
        assert receiver.requests == []
        leader.leading = True
        assert len(receiver.wait_for(len(FGW_TARGETS_SAMPLE), timeout_s=20)) == len(FGW_TARGETS_SAMPLE)


def test_only_the_leader_groups_and_a_second_flush_of_the_same_parts_cannot_send_them_again(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    leader = SwitchableLeader()
    leader.leading = False
    s = settings(database_url, broker, topic_prefix, group_wait_s=0.3, group_interval_s=0)
    with running(s, {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}, leader=leader) as client:
        rt, dispatcher, flusher = (client.app.state.runtime, client.app.state.dispatcher,  # type: ignore[attr-defined]
                                   client.app.state.flusher)  # type: ignore[attr-defined]

        def waiting() -> list[Any]:
            with rt.db.read() as repos:
                return repos.groups.waiting("fgw:webhook")

        send(broker, topic_prefix, [(t, Severity.WARNING) for t in FGW_TARGETS_SAMPLE])
        stale = wait_until(lambda: len(w := waiting()) == len(FGW_TARGETS_SAMPLE) and w, what="parts waiting")
        started, rounds = time.monotonic(), dispatcher.rounds
        wait_until(lambda: time.monotonic() - started > 1 and dispatcher.rounds > rounds + 5, what="rounds")
        assert waiting() and client.get("/v1/deliveries").json() == []  # a follower groups nothing
        # A replica that read the same parts before this flush committed (leadership changing hands)...
        assert flusher.flush(rt.clock()) == 1
        monkeypatch.setattr(GroupRepository, "oldest_waiting", lambda self: {"fgw:webhook": stale[0].created_at})
        monkeypatch.setattr(GroupRepository, "waiting", lambda self, receiver: stale)
        assert flusher.flush(rt.clock()) == 0  # ...meets the same key and the claimed parts: rolled back
        monkeypatch.undo()
        [group] = client.get("/v1/deliveries").json()
        assert sorted(group["alert_ids"]) == sorted(r.alert_id for r in stale)
        leader.leading = True
        [got] = receiver.wait_for(1, timeout_s=10)
        assert got.headers["Idempotency-Key"] == group["idempotency_key"]
