"""README *Delivery* promises against a real HTTP receiver of the test's own (it counts, stalls and answers 503):

- ``ALERTS_DELIVERY_TIMEOUT_S``: a receiver slower than the timeout gets a retry recorded while it still stalls
  (the attempt gave up at the timeout, it did not hang), then the notification goes out;
- ``ALERTS_RECEIVER_CONCURRENCY``: the most requests one receiver sees at once is the cap, never more;
- ``Retry-After`` honoured: the next attempt does not come before it, even with a shorter own backoff.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devstack.broker import TansuBroker, free_port
from shared.messages import Severity

from .alerts_harness import FGW_TARGETS_SAMPLE, running, send, settings, wait_until


@dataclass
class Scripted:
    """A threaded HTTP receiver: counts requests in flight, holds each ``hold_s`` (the first until
    ``stall_first`` is set) and answers the first ``fail_first`` requests 503 with ``retry_after``."""

    hold_s: float = 0.0  # every request is held this long
    stall_first: threading.Event | None = None  # the first request waits for this event
    fail_first: int = 0
    retry_after: str | None = None
    arrivals: list[float] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = field(default_factory=free_port)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fgw"

    def start(self) -> Scripted:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    n = len(outer.arrivals)
                    outer.arrivals.append(time.monotonic())
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    if n == 0 and outer.stall_first is not None:
                        outer.stall_first.wait(30)
                    if outer.hold_s:
                        time.sleep(outer.hold_s)  # the receiver is slow: that is what is being tested
                    status = 503 if n < outer.fail_first else 200
                    self.send_response(status)
                    if status == 503 and outer.retry_after:
                        self.send_header("Retry-After", outer.retry_after)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the sender gave up (timeout) and closed the connection
                finally:
                    with outer.lock:
                        outer.in_flight -= 1
                        outer.answered.append(status if "status" in locals() else 0)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'alerts.sqlite'}"


def _log(client: TestClient, delivery_id: int) -> list[dict[str, Any]]:
    return client.get(f"/v1/deliveries/{delivery_id}/attempts").json()  # type: ignore[no-any-return]


def test_a_receiver_slower_than_the_timeout_is_retried_not_waited_for(
        sqlite_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    stall = threading.Event()
    recv = Scripted(stall_first=stall).start()
    try:
        s = settings(sqlite_url, broker, topic_prefix, delivery_timeout_s=0.5)
        with running(s, {"NOTIFY_FGW_WEBHOOK_URL": recv.url}) as client:
            send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
            [d] = wait_until(lambda: client.get("/v1/deliveries").json(), what="a queued notification")
            # The first request is still stalled at the receiver, yet the attempt is already over and recorded.
            first = wait_until(lambda: _log(client, d["id"]), timeout_s=5, what="the first attempt recorded")[0]
            assert not stall.is_set() and recv.answered == []
            assert first["outcome"] == "retry" and "timed out" in (first["error"] or "").lower(), first
            stall.set()
            wait_until(lambda: client.get("/v1/deliveries", params={"status": "sent"}).json(), what="sent on retry")
            assert [a["outcome"] for a in _log(client, d["id"])][-1] == "delivered"
    finally:
        stall.set()
        recv.stop()


def test_one_receiver_never_sees_more_requests_at_once_than_the_cap(
        sqlite_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    recv = Scripted(hold_s=0.4).start()
    try:
        s = settings(sqlite_url, broker, topic_prefix, receiver_concurrency=2, delivery_workers=16)
        with running(s, {"NOTIFY_FGW_WEBHOOK_URL": recv.url}) as client:
            send(broker, topic_prefix, [(t, Severity.WARNING) for t in FGW_TARGETS_SAMPLE])
            n = len(FGW_TARGETS_SAMPLE)
            wait_until(lambda: len(client.get("/v1/deliveries", params={"status": "sent"}).json()) == n,
                       timeout_s=30, what=f"{n} notifications sent")
        assert len(recv.arrivals) == n
        assert recv.max_in_flight == 2  # the cap was reached (five were waiting), and never passed
    finally:
        recv.stop()


def test_retry_after_is_honoured_beyond_the_own_backoff(
        sqlite_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    recv = Scripted(fail_first=1, retry_after="2").start()
    try:
        # Our own backoff is at most 0.3 s here (retry_max_s), well under the receiver's 2 s.
        s = settings(sqlite_url, broker, topic_prefix, retry_max_s=0.3)
        with running(s, {"NOTIFY_FGW_WEBHOOK_URL": recv.url}) as client:
            send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
            wait_until(lambda: client.get("/v1/deliveries", params={"status": "sent"}).json(), timeout_s=15,
                       what="sent after the Retry-After")
        assert recv.answered[:2] == [503, 200] and len(recv.arrivals) == 2
        assert recv.arrivals[1] - recv.arrivals[0] >= 2.0
    finally:
        recv.stop()
