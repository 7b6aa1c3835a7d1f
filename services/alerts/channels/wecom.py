"""企业微信 (WeCom) group robot.

POST the webhook URL (``…/cgi-bin/webhook/send?key=…``) with ``{"msgtype": "markdown", "markdown": {"content":
…}}`` (content at most 4096 bytes); answers ``{"errcode": 0, "errmsg": "ok"}``. 45009 (more than 20 messages
a minute) pauses the robot (dispatcher); -1 (busy) is retried. Markdown @-mentions by ``<@userid>`` (the
contacts' ``wecom_userid_env``); WeCom markdown cannot mention by phone number.
"""

from __future__ import annotations

import json

from services.alerts.channels.base import (
    DeliveryResult,
    Destination,
    Message,
    fit_parts,
    robot_result,
    strip_own,
    with_own,
)
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.robots import RobotPoster
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import greeting, group_title, mention_wanted, part_markdown

WECOM_MAX_BYTES = 4096  # WeCom rejects markdown content over 4096 bytes
WECOM_RETRYABLE = frozenset({-1})
WECOM_RATE_LIMITED = frozenset({45009})


def mention_line(user_ids: tuple[str, ...], room: int) -> str:
    """``<@userid>`` for as many contacts as fit in ``room`` bytes."""
    out = ""
    for u in user_ids:
        candidate = f"{out} <@{u}>" if out else f"<@{u}>"
        if len(candidate.encode()) > room:
            break
        out = candidate
    return out


class WeComChannel:
    """The stored markdown message; the contacts' mentions added when sending."""

    type = ChannelType.WECOM

    def __init__(self, client: HttpPoster) -> None:
        self.poster = RobotPoster(client)

    def render(self, message: Message) -> str:
        """Markdown cut to WeCom's 4096 bytes."""
        parts = message.parts
        title = group_title([p.kind for p in parts], [p.event.target_name_zh for p in parts])
        content, whole = fit_parts([part_markdown(p) for p in parts],
                                   f"### {title}\n{greeting(message.department_zh)}", WECOM_MAX_BYTES, "\n\n")
        doc: dict[str, object] = {"msgtype": "markdown", "markdown": {"content": content}}
        return with_own(doc, mention=mention_wanted(parts), shown=whole, total=len(parts))

    @staticmethod
    def for_platform(dest: Destination, payload: bytes) -> bytes:
        """The body WeCom gets: our own fields dropped, ``<@userid>`` appended when the message asks for it."""
        doc, mention = strip_own(json.loads(payload))
        if mention and dest.user_ids and doc.get("msgtype") == "markdown":
            content = doc["markdown"]["content"]
            line = mention_line(dest.user_ids, WECOM_MAX_BYTES - len(content.encode()) - 2)
            if line:
                doc["markdown"]["content"] = f"{content}\n\n{line}"
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One POST; errcode in the 200 body decides."""
        r = self.poster.post(dest.address, self.for_platform(dest, payload), timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "errcode", WECOM_RETRYABLE,
                                                                    rate_limit_codes=WECOM_RATE_LIMITED)
