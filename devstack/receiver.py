"""A real HTTP receiver for notifications, for tests, benchmarks and drills: records what arrives.

It verifies webhook signatures when given the secret, counts repeats by idempotency key, and can be told to
answer with an error status (or a delay) to act out a failing department endpoint.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devstack.broker import free_port


@dataclass
class Received:
    """One request as it arrived."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1 recording POSTs; ``fail_with`` makes it answer an error status."""

    port: int = 0
    fail_with: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cond: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._cond = threading.Condition(self._lock)
        self.port = self.port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if recv.delay_s:
                    time.sleep(recv.delay_s)
                status = recv.fail_with
                if status is None:
                    with recv._cond:
                        recv.requests.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                        recv._cond.notify_all()
                self.send_response(status or 200)
                if status and recv.retry_after:
                    self.send_header("Retry-After", recv.retry_after)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode":0,"errmsg":"ok"}' if not status else b'{"error":"unavailable"}')

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="receiver").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, n: int, timeout_s: float = 30.0) -> list[Received]:
        """Wait until at least ``n`` requests arrived; returns them all (may be fewer after the timeout)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self.requests)

    def idempotency_keys(self) -> list[str]:
        with self._lock:
            return [r.headers.get("Idempotency-Key", "") for r in self.requests]
