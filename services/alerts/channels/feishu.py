"""飞书 (Feishu) custom bot.

With 签名校验, the body carries ``"timestamp"`` (seconds) and ``"sign"`` = base64(HMAC-SHA256(key=f"{timestamp}\\n
{secret}", msg=b"")); answers ``{"code": 0}`` (older ``{"StatusCode": 0}``). 11232 (rate limit) and 9499 are
retried. The signature is made per attempt; the stored payload stays the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from services.alerts.channels.base import DeliveryResult, Destination, Message, robot_result
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.robots import RobotPoster
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import greeting, group_title, part_text

ROBOT_MAX_BYTES = 18000  # Feishu's limit is about 20 KB
FEISHU_RETRYABLE = frozenset({9499, 11232})


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu's sign body field: the HMAC key is the string to sign, the message empty."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


class FeishuChannel:
    """A rich-text post; timestamp and sign in the body when the bot has a secret."""

    type = ChannelType.FEISHU

    def __init__(self, client: HttpPoster) -> None:
        self.poster = RobotPoster(client)

    def render(self, message: Message) -> str:
        """A ``post`` message, the acknowledgement link as a link element."""
        parts = message.parts
        title = group_title([p.kind for p in parts], [p.event.target_name_zh for p in parts])
        content: list[list[dict[str, str]]] = [[{"tag": "text", "text": greeting(message.department_zh)}]]
        for p in parts:
            lines = part_text(p).split("\n")
            link = p.ack_url if p.ack_url and p.kind != "resolved" else None
            content += [[{"tag": "text", "text": ln}] for ln in lines if not (link and ln.endswith(link))]
            if link:
                content.append([{"tag": "a", "text": "确认并填报整改措施", "href": link}])
        doc: dict[str, Any] = {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title,
                                                                                  "content": content}}}}
        if len(json.dumps(doc, ensure_ascii=False).encode()) > ROBOT_MAX_BYTES:
            more = [{"tag": "text", "text": "……内容较多，请登录系统查看。"}]
            doc["content"]["post"]["zh_cn"]["content"] = [*content[:60], more]
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One signed POST; code (or StatusCode) in the 200 body decides."""
        body = payload
        if dest.secret:
            ts = str(int(time.time()))
            doc = {"timestamp": ts, "sign": feishu_sign(dest.secret, ts), **json.loads(payload)}
            body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        r = self.poster.post(dest.address, body, timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "code", FEISHU_RETRYABLE, "StatusCode")
