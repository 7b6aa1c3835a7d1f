"""钉钉 (DingTalk) custom robot.

With 加签, append ``&timestamp=<ms>&sign=<urlencoded base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))>``
to the URL; body ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; answers ``{"errcode": 0}``. 130101
(sending too fast) and -1 (busy) are retried. The signature is made per attempt (old timestamps are refused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from services.alerts.channels.base import DeliveryResult, Destination, Message, fit, robot_result
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.robots import RobotPoster
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import greeting, group_title, part_markdown

ROBOT_MAX_BYTES = 18000  # DingTalk's limit is about 20 KB
DINGTALK_RETRYABLE = frozenset({-1, 130101})


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk's sign query parameter value (before URL-encoding)."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


class DingTalkChannel:
    """Markdown; timestamp and sign as query parameters when the robot has a secret."""

    type = ChannelType.DINGTALK

    def __init__(self, client: HttpPoster) -> None:
        self.poster = RobotPoster(client)

    def render(self, message: Message) -> str:
        """Markdown with a title, within DingTalk's size limit."""
        parts = message.parts
        title = group_title([p.kind for p in parts], [p.event.target_name_zh for p in parts])
        text = fit([part_markdown(p) for p in parts], f"### {title}\n\n{greeting(message.department_zh)}",
                   ROBOT_MAX_BYTES, "\n\n")
        return json.dumps({"msgtype": "markdown", "markdown": {"title": title, "text": text}}, ensure_ascii=False,
                          separators=(",", ":"))

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One signed POST; errcode in the 200 body decides."""
        url = dest.address
        if dest.secret:
            ts = str(int(time.time() * 1000))
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={urllib.parse.quote_plus(dingtalk_sign(dest.secret, ts))}"
        r = self.poster.post(url, payload, timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "errcode", DINGTALK_RETRYABLE)
