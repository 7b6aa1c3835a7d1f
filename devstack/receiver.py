"""A real HTTP receiver for notifications, for tests, benchmarks and drills: records what arrives.

It plays four kinds of endpoint by path prefix, checking what each platform documents and answering the way it
does (robots answer HTTP 200 with an error code in the body):

- ``/wecom/…``: 企业微信群机器人, ``{"msgtype": "markdown", "markdown": {"content"}}`` (content ≤ 4096 bytes);
  answers ``{"errcode": 0, "errmsg": "ok"}``.
- ``/dingtalk/…``: 钉钉自定义机器人; with ``dingtalk_secret`` set, checks the ``timestamp`` (ms, within an hour)
  and ``sign`` query parameters; body ``{"msgtype": "markdown", "markdown": {"title", "text"}}`` or
  ``{"msgtype": "actionCard", "actionCard": {"title", "text", "singleTitle"+"singleURL" | "btns"}}``.
- ``/feishu/…``: 飞书自定义机器人; with ``feishu_secret`` set, checks ``timestamp`` (s) and ``sign`` in the body;
  body ``{"msg_type": "post"|"text", "content"}`` or ``{"msg_type": "interactive", "card"}``; answers
  ``{"code": 0, "msg": "success"}``.
- anything else: the generic webhook; with a key for its path (``secrets``, by path prefix, or ``secret`` for
  every path), checks the Standard Webhooks signature (``webhook-id``, ``webhook-timestamp`` within 5 minutes,
  ``webhook-signature``), or the version-1 ``X-Signature`` when a sender has no Standard Webhooks headers
  (401 when wrong).

A rejected request lands in ``rejected`` with the reason, not in ``requests``. ``fail_with`` makes it answer an
HTTP error status (with ``retry_after``, ``fail_body`` and ``fail_content_type``; ``failed`` counts such answers),
``robot_errcode`` a robot error code in a 200,
``delay_s`` slows every answer (the request is recorded as accepted after the delay, as a slow platform would).

``robot_limit`` enforces the platforms' rate limit per robot (its path and query, signature left out): more
than that many accepted messages within ``robot_window_s`` is answered with the platform's own code (WeCom
45009, DingTalk 130101, Feishu 11232), and for ``robot_throttle_s`` afterwards everything to that robot is
(DingTalk refuses a robot for 10 minutes). Such answers land in ``rejected`` and ``throttled``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devstack.broker import free_port

WECOM_MAX_BYTES = 4096
RATE_LIMITED = {"wecom": ("errcode", 45009, "api freq out of limit"), "dingtalk": ("errcode", 130101, "send too fast"),
                "feishu": ("code", 11232, "frequency limited")}


@dataclass
class Received:
    """One request as it arrived."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival
    query: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def key(self) -> str:
        """The Idempotency-Key header (empty for robots, which have none)."""
        return self.headers.get("Idempotency-Key", "")


def _b64_hmac(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def _webhook_signed(key: bytes, req: Received) -> bool:
    """Standard Webhooks: one of the space-separated ``v1,<base64>`` signatures over id.timestamp.body is ours."""
    h = {k.lower(): v for k, v in req.headers.items()}
    msg_id, ts, sigs = h.get("webhook-id", ""), h.get("webhook-timestamp", ""), h.get("webhook-signature", "")
    if not sigs:  # a version-1 sender
        want = "sha256=" + hmac.new(key, h.get("x-signature-timestamp", "").encode() + b"." + req.body,
                                    hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, h.get("x-signature", ""))
    if not msg_id or not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    want = "v1," + _b64_hmac(key, f"{msg_id}.{ts}.".encode() + req.body)
    return any(hmac.compare_digest(want, given) for given in sigs.split())


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1 recording POSTs; ``fail_with`` makes it answer an error status."""

    port: int = 0
    fail_with: int | None = None
    fail_body: bytes = b'{"error":"unavailable"}'  # what an error answer carries (a proxy's binary page, say)
    fail_content_type: str = "application/json"  # the Content-Type of an error answer
    failed: int = 0  # error answers served (``fail_with``), for drills proving a failing phase happened
    retry_after: str | None = None
    robot_errcode: int | None = None
    delay_s: float = 0.0
    secret: bytes | None = None  # the generic webhook's signing key, for every path
    secrets: dict[str, bytes] = field(default_factory=dict)  # path prefix -> that webhook's own key
    dingtalk_secret: str | None = None
    feishu_secret: str | None = None
    robot_limit: int | None = None  # accepted messages per robot per robot_window_s
    robot_window_s: float = 60.0
    robot_throttle_s: float = 0.0  # refuse a robot this long once it went over its limit
    throttled: list[Received] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    rejected: list[tuple[Received, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cond: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._cond = threading.Condition(self._lock)
        self.port = self.port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def check(self, req: Received) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) for a request, as the platform its path plays would answer."""
        kind = req.path.strip("/").split("/")[0]
        try:
            doc = req.json()
        except ValueError:
            doc = None
        if kind == "wecom":
            content = (doc or {}).get("markdown", {}).get("content") if isinstance(doc, dict) else None
            if doc is None or doc.get("msgtype") != "markdown" or not isinstance(content, str):
                return 200, {"errcode": 40008, "errmsg": "invalid message type"}
            if len(content.encode()) > WECOM_MAX_BYTES:
                return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
            return 200, {"errcode": self.robot_errcode or 0, "errmsg": "ok" if not self.robot_errcode else "error"}
        if kind == "dingtalk":
            if self.dingtalk_secret:
                ts, sign = req.query.get("timestamp", ""), req.query.get("sign", "")
                want = _b64_hmac(self.dingtalk_secret.encode(), f"{ts}\n{self.dingtalk_secret}".encode())
                if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3_600_000 or sign != want:
                    return 200, {"errcode": 310000, "errmsg": "sign not match"}
            kind_ = doc.get("msgtype") if isinstance(doc, dict) else None
            body = (doc or {}).get(kind_) if kind_ in ("markdown", "actionCard") else None
            if not isinstance(body, dict) or not body.get("title") or not body.get("text"):
                return 200, {"errcode": 40035, "errmsg": f"缺少参数 {kind_ or 'msgtype'}"}
            if kind_ == "actionCard" and not (body.get("singleTitle") and body.get("singleURL")) and not (
                    isinstance(body.get("btns"), list) and body["btns"]
                    and all(b.get("title") and b.get("actionURL") for b in body["btns"])):
                return 200, {"errcode": 40035, "errmsg": "缺少参数 singleURL 或 btns"}
            return 200, {"errcode": self.robot_errcode or 0, "errmsg": "ok" if not self.robot_errcode else "error"}
        if kind == "feishu":
            if not isinstance(doc, dict):
                return 200, {"code": 9499, "msg": "Bad Request"}
            if self.feishu_secret:
                ts, sign = str(doc.get("timestamp", "")), str(doc.get("sign", ""))
                want = _b64_hmac(f"{ts}\n{self.feishu_secret}".encode(), b"")
                if not ts.isdigit() or abs(time.time() - int(ts)) > 3600 or sign != want:
                    return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
            content = doc.get("card") if doc.get("msg_type") == "interactive" else doc.get("content")
            if doc.get("msg_type") not in ("text", "post", "interactive", "image", "share_chat") \
                    or not isinstance(content, dict):
                return 200, {"code": 19002, "msg": "params error, msg_type need"}
            code = self.robot_errcode or 0
            return 200, {"code": code, "msg": "success" if not code else "error", "data": {}}
        key = self.key_for(req.path)
        if key is not None and not _webhook_signed(key, req):
            return 401, {"error": "bad signature"}
        return 200, {"ok": True}

    def robot_of(self, req: Received) -> str | None:
        """Which robot a request is for (its path and query, signature left out); None for webhooks."""
        kind = req.path.strip("/").split("/")[0]
        if kind not in RATE_LIMITED:
            return None
        q = sorted((k, v) for k, v in req.query.items() if k not in ("timestamp", "sign"))
        return f"{req.path}?{urllib.parse.urlencode(q)}"

    def over_limit(self, req: Received) -> dict[str, Any] | None:
        """The platform's rate-limit answer when this request would exceed its robot's limit (called locked)."""
        robot = self.robot_of(req)
        if robot is None or self.robot_limit is None:
            return None
        field_, code, msg = RATE_LIMITED[req.path.strip("/").split("/")[0]]
        now = req.at
        throttled = [t for t in self.throttled if self.robot_of(t) == robot]
        recent = [r for r in self.requests if self.robot_of(r) == robot and r.at > now - self.robot_window_s]
        if (throttled and throttled[-1].at > now - self.robot_throttle_s) or len(recent) >= self.robot_limit:
            self.throttled.append(req)
            return {field_: code, "errmsg" if field_ == "errcode" else "msg": msg}
        return None

    def sent_per_window(self, robot: str | None = None) -> int:
        """The most messages one robot accepted within any robot_window_s (all robots, or ``robot``)."""
        with self._lock:
            by: dict[str, list[float]] = {}
            for r in self.requests:
                key = self.robot_of(r)
                if key is not None and (robot is None or key == robot):
                    by.setdefault(key, []).append(r.at)
        best = 0
        for times in by.values():
            times.sort()
            j = 0
            for i, t in enumerate(times):
                while times[j] <= t - self.robot_window_s:
                    j += 1
                best = max(best, i - j + 1)
        return best

    def key_for(self, path: str) -> bytes | None:
        """The signing key this receiver expects on ``path`` (the longest matching prefix), if any."""
        prefixes = sorted((p for p in self.secrets if path.startswith(p)), key=len, reverse=True)
        return self.secrets[prefixes[0]] if prefixes else self.secret

    def start(self) -> Receiver:
        recv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
            # The headers and the body go out in two writes: with Nagle's algorithm on, the body waited for the
            # sender's delayed ACK (40 ms on Linux), and four requests in flight to one receiver made 100-170/s.
            # Real endpoints (nginx, Go's net/http) set TCP_NODELAY.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: a real endpoint would not accept it
                    self.close_connection = True
                    return
                if recv.delay_s:
                    time.sleep(recv.delay_s)
                parsed = urllib.parse.urlsplit(self.path)
                req = Received(parsed.path, dict(self.headers.items()), body, time.time(),
                               dict(urllib.parse.parse_qsl(parsed.query)))
                status = recv.fail_with
                if status is None:
                    status, answer = recv.check(req)
                    ok = status == 200 and answer.get("errcode", answer.get("code", 0)) == 0
                    with recv._cond:
                        limited = recv.over_limit(req) if ok else None
                        if limited is not None:
                            ok, answer = False, limited
                        if ok:
                            recv.requests.append(req)
                        else:
                            recv.rejected.append((req, json.dumps(answer, ensure_ascii=False)))
                        recv._cond.notify_all()
                    out = json.dumps(answer, ensure_ascii=False).encode()
                else:
                    out = recv.fail_body
                    with recv._cond:
                        recv.failed += 1
                self.send_response(status)
                if recv.fail_with and recv.retry_after:
                    self.send_header("Retry-After", recv.retry_after)
                self.send_header("Content-Type", recv.fail_content_type if recv.fail_with else "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

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

    def wait_for(self, n: int, timeout_s: float = 30.0, path_prefix: str = "") -> list[Received]:
        """Wait until at least ``n`` requests (under ``path_prefix``) arrived; returns them (fewer on timeout)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                got = [r for r in self.requests if r.path.startswith(path_prefix)]
                left = deadline - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self._cond.wait(left)

    def idempotency_keys(self) -> list[str]:
        with self._lock:
            return [r.headers.get("Idempotency-Key", "") for r in self.requests]

    def unique(self) -> list[Received]:
        """The requests a receiver deduplicating by Idempotency-Key would keep (robots: by body)."""
        seen: set[str] = set()
        out = []
        with self._lock:
            for r in self.requests:
                k = r.key or hashlib.sha256(r.path.encode() + r.body).hexdigest()
                if k not in seen:
                    seen.add(k)
                    out.append(r)
        return out
