"""钉钉 (DingTalk) custom robot.

With 加签, append ``&timestamp=<ms>&sign=<urlencoded base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))>``
to the URL; answers ``{"errcode": 0}``. 130101 and 660026 (more than 20 messages a minute: the robot is then
refused for 10 minutes) pause the robot (dispatcher); -1 (busy) is retried. The signature is made per attempt
(old timestamps are refused).

The message is an ``actionCard`` with a 确认 button per alert to acknowledge (one ``singleURL`` button for a
single alert, ``btns`` for several), or ``markdown`` when it @-mentions the contacts: DingTalk honours ``at``
only on text and markdown messages, so a message that must reach a person by name carries its links in the
text instead of as buttons.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

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
from services.alerts.domain.templates import ack_link, greeting, group_title, mention_wanted, part_markdown

ROBOT_MAX_BYTES = 18000  # DingTalk's limit is about 20 KB
DINGTALK_RETRYABLE = frozenset({-1})
DINGTALK_RATE_LIMITED = frozenset({130101, 660026})


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk's sign query parameter value (before URL-encoding)."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


class DingTalkChannel:
    """An action card with 确认 buttons, or markdown that @-mentions; timestamp and sign when the robot has a secret."""

    type = ChannelType.DINGTALK

    def __init__(self, client: HttpPoster) -> None:
        self.poster = RobotPoster(client)

    def render(self, message: Message) -> str:
        """An action card (or markdown, to @-mention) with a title, within DingTalk's size limit."""
        parts = message.parts
        title = group_title([p.kind for p in parts], [p.event.target_name_zh for p in parts])
        head = f"### {title}\n\n{greeting(message.department_zh)}"
        mention = mention_wanted(parts)
        links = [(p, ack_link(p)) for p in parts]
        doc: dict[str, Any]
        if mention or not any(url for _, url in links):
            text, whole = fit_parts([part_markdown(p) for p in parts], head, ROBOT_MAX_BYTES, "\n\n")
            doc = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
        else:
            btns = [(p.alert_id, {"title": f"确认：{p.event.target_name_zh}", "actionURL": url})
                    for p, url in links if url]
            room = ROBOT_MAX_BYTES - len(json.dumps([b for _, b in btns], ensure_ascii=False).encode())
            text, whole = fit_parts([part_markdown(p, link=False) for p in parts], head, room, "\n\n")
            shown = {p.alert_id for p in parts[:whole]}
            card: dict[str, Any] = {"title": title, "text": text}
            if len(parts) == 1:
                card |= {"singleTitle": "确认", "singleURL": btns[0][1]["actionURL"]}
            else:  # one button per alert shown (a cut message's others are on the board)
                card |= {"btnOrientation": "0", "btns": [b for aid, b in btns if aid in shown]}
            doc = {"msgtype": "actionCard", "actionCard": card}
        return with_own(doc, mention=mention, shown=whole, total=len(parts))

    @staticmethod
    def for_platform(dest: Destination, payload: bytes) -> bytes:
        """The body DingTalk gets: our own fields dropped, ``at`` and ``@<phone>`` added when the message asks."""
        doc, mention = strip_own(json.loads(payload))
        if mention and (dest.mobiles or dest.user_ids) and doc.get("msgtype") == "markdown":
            ats = " ".join([*(f"@{m}" for m in dest.mobiles), *(f"@{u}" for u in dest.user_ids)])
            doc["markdown"]["text"] = f"{doc['markdown']['text']}\n\n{ats}"
            doc["at"] = {"atMobiles": list(dest.mobiles), "atUserIds": list(dest.user_ids), "isAtAll": False}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One signed POST; errcode in the 200 body decides."""
        url = dest.address
        if dest.secret:
            ts = str(int(time.time() * 1000))
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={urllib.parse.quote_plus(dingtalk_sign(dest.secret, ts))}"
        r = self.poster.post(url, self.for_platform(dest, payload), timeout_s)
        return r if isinstance(r, DeliveryResult) else robot_result(r, "errcode", DINGTALK_RETRYABLE,
                                                                    rate_limit_codes=DINGTALK_RATE_LIMITED)
