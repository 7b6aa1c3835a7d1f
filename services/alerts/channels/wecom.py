"""企业微信 (WeCom) group robot.

POST the webhook URL (``…/cgi-bin/webhook/send?key=…``) with ``{"msgtype": "markdown", "markdown": {"content":
…}}`` (content at most 4096 bytes); answers ``{"errcode": 0, "errmsg": "ok"}``. 45009 (rate limit) and -1
(busy) are retried.
"""

from __future__ import annotations

import json

from services.alerts.channels.base import DeliveryResult, Destination, Message, fit, robot_result
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.robots import RobotPoster
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import greeting, group_title, part_markdown

WECOM_MAX_BYTES = 4096  # WeCom rejects markdown content over 4096 bytes
WECOM_RETRYABLE = frozenset({-1, 45009})


class WeComChannel:
    """The stored markdown message, posted as is."""

    type = ChannelType.WECOM

    def __init__(self, client: HttpPoster) -> None:
        self.poster = RobotPoster(client)

    def render(self, message: Message) -> str:
        """Markdown cut to WeCom's 4096 bytes."""
        parts = message.parts
        title = group_title([p.kind for p in parts], [p.event.target_name_zh for p in parts])
        content = fit([part_markdown(p) for p in parts], f"### {title}\n{greeting(message.department_zh)}",
                      WECOM_MAX_BYTES, "\n\n")
        return json.dumps({"msgtype": "markdown", "markdown": {"content": content}}, ensure_ascii=False,
                          separators=(",", ":"))

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One POST; errcode in the 200 body decides."""
        r = self.poster.post(dest.address, payload, timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "errcode", WECOM_RETRYABLE)
