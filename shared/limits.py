"""Request limits: a body size limit (413, before the body is read) and token buckets per key (429)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import HTTPProblem, Problem


def body_too_large(max_bytes: int) -> Problem:
    """The 413 answer."""
    return Problem.of(
        413, "body_too_large", f"the request body is larger than {max_bytes} bytes; split it into smaller requests",
        f"请求体超过{max_bytes}字节，请分成较小的请求提交", loc=("body",), headers={"Connection": "close"})


class BodySizeLimit:
    """ASGI middleware answering 413 when a request body is larger than ``max_bytes``.

    A declared Content-Length is refused before anything is read; a chunked body is counted as it arrives
    and refused once it passes the limit, so no body larger than the limit is ever held in memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await body_too_large(self.max_bytes).response()(scope, receive, send)
                    return
        seen = 0
        started = False
        exceeded = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    # An HTTPException, so that FastAPI's body reading lets it through to the error handler.
                    raise HTTPProblem(body_too_large(self.max_bytes))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BaseException:
            # Inner middlewares may wrap the exception (in an ExceptionGroup): the flag says what happened.
            if not exceeded or started:
                raise
            await body_too_large(self.max_bytes).response()(scope, receive, send)


_WHERE_ZH = {"query": "查询参数", "path": "路径", "body": "内容"}


def nul_refused(where: str) -> Problem:
    """The 422 for a NUL character."""
    return Problem.of(422, "nul_character", f"the {where} contains a NUL character (\\u0000), which no field accepts",
                      f"请求的{_WHERE_ZH[where]}含有 NUL 字符（\\u0000），任何字段都不接受",
                      loc=(where,))


class RefuseNul:
    """ASGI middleware refusing NUL characters in the path, the query string and JSON bodies (422).

    PostgreSQL text cannot hold NUL: a value with one would fail in the database (a 500) or, on SQLite, be
    stored. No field of these services needs it. A JSON body is read whole (the body limit bounds it) and
    handed on unchanged. Services that check each field themselves (ingest) do without it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("raw_path", b"") or b"%00" in scope["query_string"]:
            where = "query" if b"%00" in scope["query_string"] else "path"
            await nul_refused(where).response()(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type")
        if content_type is not None and b"json" not in content_type:  # without one, a body may be read as JSON
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if b"\\u0000" in body:
            await nul_refused("body").response()(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RateLimiter:
    """A token bucket per key: ``rate_per_s`` tokens a second, at most ``burst`` saved up. 0 turns it off.

    At most ``max_keys`` buckets are kept (least recently used dropped first), so that many keys (client
    addresses in a flood) cannot fill memory; a dropped bucket comes back full.
    """

    def __init__(self, rate_per_s: float, burst: int, monotonic: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.monotonic = monotonic
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token; returns 0 when allowed, otherwise the seconds until a token is available."""
        if self.rate <= 0:
            return 0.0
        now = self.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return 0.0 if allowed else (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after_header(wait_s: float) -> str:
        """Retry-After takes whole seconds; round up so a client that obeys it is let in."""
        return str(max(1, math.ceil(wait_s)))
