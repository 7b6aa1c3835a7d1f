"""飞书 (Feishu) custom bot.

With 签名校验, the body carries ``"timestamp"`` (seconds) and ``"sign"`` = base64(HMAC-SHA256(key=f"{timestamp}\\n
{secret}", msg=b"")); answers ``{"code": 0}`` (older ``{"StatusCode": 0}``). 11232 (sending too fast) pauses
the bot (dispatcher); 9499 is retried. The signature is made per attempt; the stored payload stays the same.

The message is an interactive card: a header coloured by severity, each alert as a block followed by its
确认 button (the signed acknowledgement link), and, when it asks for it, ``<at id=…></at>`` for the
contacts' ``feishu_user_id_env`` (open_id or user_id; a Feishu bot cannot mention by phone number).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from services.alerts.channels.base import (
    DeliveryResult,
    Destination,
    Message,
    robot_result,
    strip_own,
    with_own,
)
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.robots import RobotPoster
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import ack_link, greeting, group_title, mention_wanted, part_text
from shared.messages import Severity

ROBOT_MAX_BYTES = 18000  # Feishu's limit is about 20 KB (30 KB for a card)
FEISHU_RETRYABLE = frozenset({9499})
FEISHU_RATE_LIMITED = frozenset({11232})


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu's sign body field: the HMAC key is the string to sign, the message empty."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def _size(doc: dict[str, Any]) -> int:
    return len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())


class FeishuChannel:
    """An interactive card with 确认 buttons; timestamp and sign in the body when the bot has a secret."""

    type = ChannelType.FEISHU

    def __init__(self, client: HttpPoster) -> None:
        self.poster = RobotPoster(client)

    def render(self, message: Message) -> str:
        """A card: one block per alert, each with its 确认 button (one button for a single alert)."""
        parts = message.parts
        title = group_title([p.kind for p in parts], [p.event.target_name_zh for p in parts])
        if all(p.kind == "resolved" for p in parts):
            colour = "green"
        elif any(p.event.severity == Severity.CRITICAL for p in parts if p.kind != "resolved"):
            colour = "red"
        else:
            colour = "orange"
        elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "plain_text",
                                                                   "content": greeting(message.department_zh)}}]
        doc: dict[str, Any] = {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title}, "template": colour},
            "elements": elements}}
        whole = 0
        for p in parts:
            link = ack_link(p)
            block: list[dict[str, Any]] = [{"tag": "hr"}, {"tag": "div", "text": {
                "tag": "plain_text", "content": part_text(p, link=False)}}]
            if link:
                label = "确认" if len(parts) == 1 else f"确认：{p.event.target_name_zh}"
                block.append({"tag": "action", "actions": [{"tag": "button", "text": {
                    "tag": "plain_text", "content": label}, "type": "primary", "url": link}]})
            elements += block
            if _size(doc) > ROBOT_MAX_BYTES - 200:  # 200 bytes kept for the cut line and the @-mentions
                del elements[-len(block):]
                elements.append({"tag": "div", "text": {
                    "tag": "plain_text", "content": f"……另有{len(parts) - whole}项，请登录系统查看。"}})
                break
            whole += 1
        return with_own(doc, mention=mention_wanted(parts), shown=whole, total=len(parts))

    @staticmethod
    def for_platform(dest: Destination, payload: bytes) -> dict[str, Any]:
        """The body Feishu gets (before signing): our own fields dropped, ``<at>`` added when the message asks."""
        doc, mention = strip_own(json.loads(payload))
        if mention and dest.user_ids and doc.get("msg_type") == "interactive":
            ats = "".join(f"<at id={u}></at>" for u in dest.user_ids)
            doc["card"]["elements"].insert(1, {"tag": "div", "text": {"tag": "lark_md", "content": ats}})
        return doc

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One signed POST; code (or StatusCode) in the 200 body decides."""
        doc = self.for_platform(dest, payload)
        if dest.secret:
            ts = str(int(time.time()))
            doc = {"timestamp": ts, "sign": feishu_sign(dest.secret, ts), **doc}
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        r = self.poster.post(dest.address, body, timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "code", FEISHU_RETRYABLE, "StatusCode",
                                                                    rate_limit_codes=FEISHU_RATE_LIMITED)
