"""The chat robots departments live in: 企业微信 (WeCom) group robot, 钉钉 (DingTalk) and 飞书 (Feishu) custom bots.

- WeCom: POST the webhook URL (``…/cgi-bin/webhook/send?key=…``) with ``{"msgtype": "markdown", "markdown":
  {"content": …}}``; answers ``{"errcode": 0, "errmsg": "ok"}``. 45009 (rate limit) and -1 (busy) are retried.
- DingTalk: with 加签, append ``&timestamp=<ms>&sign=<urlencoded base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}"))>`` to the URL; body ``{"msgtype": "markdown", "markdown": {"title", "text"}}``;
  answers ``{"errcode": 0}``. 130101 (sending too fast) and -1 (busy) are retried.
- Feishu: with 签名校验, the body carries ``"timestamp"`` (seconds) and ``"sign"`` = base64(HMAC-SHA256(
  key=f"{timestamp}\\n{secret}", msg=b"")); answers ``{"code": 0}`` (older ``{"StatusCode": 0}``). 11232
  (rate limit) and 9499 are retried.

The signature is made per attempt (the platforms reject old timestamps); the stored payload stays the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from services.alerts.channels.base import DeliveryResult, Destination, network_failure, robot_result
from services.alerts.channels.http import HttpPoster, Response, TransportError

WECOM_RETRYABLE = frozenset({-1, 45009})
DINGTALK_RETRYABLE = frozenset({-1, 130101})
FEISHU_RETRYABLE = frozenset({9499, 11232})


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk's sign query parameter value (before URL-encoding)."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu's sign body field: the HMAC key is the string to sign, the message empty."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


class _Robot:
    def __init__(self, client: HttpPoster) -> None:
        self.client = client

    def _post(self, url: str, body: bytes, timeout_s: float) -> Response | DeliveryResult:
        try:
            return self.client.post(url, content=body, timeout=timeout_s,
                                    headers={"Content-Type": "application/json; charset=utf-8"})
        except TransportError as exc:
            return network_failure(exc)


class WeComNotifier(_Robot):
    """企业微信群机器人: the stored markdown message as is."""

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One POST; errcode in the 200 body decides."""
        r = self._post(dest.address, payload, timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "errcode", WECOM_RETRYABLE)


class DingTalkNotifier(_Robot):
    """钉钉自定义机器人: timestamp and sign as query parameters when the robot has a secret."""

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One signed POST; errcode in the 200 body decides."""
        url = dest.address
        if dest.secret:
            ts = str(int(time.time() * 1000))
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={urllib.parse.quote_plus(dingtalk_sign(dest.secret, ts))}"
        r = self._post(url, payload, timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "errcode", DINGTALK_RETRYABLE)


class FeishuNotifier(_Robot):
    """飞书自定义机器人: timestamp and sign in the body when the bot has a secret."""

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One signed POST; code (or StatusCode) in the 200 body decides."""
        body = payload
        if dest.secret:
            ts = str(int(time.time()))
            doc = {"timestamp": ts, "sign": feishu_sign(dest.secret, ts), **json.loads(payload)}
            body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        r = self._post(dest.address, body, timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "code", FEISHU_RETRYABLE, "StatusCode")
