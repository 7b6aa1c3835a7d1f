"""Renders one department's notification (one or more alert parts) into the JSON a channel sends.

Rendered once when the notification is queued and stored, so every retry sends the same content; only the
robots' signatures are made per attempt.
"""

from __future__ import annotations

import json
from typing import Any

from services.alerts.channels.webhook import PAYLOAD_VERSION
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import AlertPart, greeting, group_title, part_markdown, part_text

WECOM_MAX_BYTES = 4096  # WeCom rejects markdown content over 4096 bytes
ROBOT_MAX_BYTES = 18000  # DingTalk's and Feishu's limits are about 20 KB


def _fit(parts_text: list[str], head: str, limit: int, sep: str) -> str:
    out = head
    for i, t in enumerate(parts_text):
        candidate = out + sep + t
        if len(candidate.encode()) > limit - 200:
            return out + sep + f"……另有{len(parts_text) - i}项，请登录系统查看。"
        out = candidate
    return out


def render(channel: ChannelType, parts: list[AlertPart], *, department: str, department_zh: str,
           idempotency_key: str) -> str:
    """The stored payload (JSON text) of one notification."""
    kinds = [p.kind for p in parts]
    title = group_title(kinds, [p.event.target_name_zh for p in parts])
    kind = kinds[0] if len(set(kinds)) == 1 else "grouped"
    doc: dict[str, Any]
    if channel == ChannelType.WEBHOOK:
        text = "\n\n".join([f"{title}\n{greeting(department_zh)}", *(part_text(p) for p in parts)])
        first = parts[0]
        doc = {
            "version": PAYLOAD_VERSION, "idempotency_key": idempotency_key, "kind": kind,
            "alert_id": first.alert_id, "department": {"id": department, "name_zh": department_zh},
            "title": title, "text": text, "event": first.event.model_dump(mode="json"),
            "alerts": [{"alert_id": p.alert_id, "kind": p.kind, "ack_url": p.ack_url,
                        "event": p.event.model_dump(mode="json")} for p in parts],
        }
    elif channel == ChannelType.WECOM:
        content = _fit([part_markdown(p) for p in parts], f"### {title}\n{greeting(department_zh)}",
                       WECOM_MAX_BYTES, "\n\n")
        doc = {"msgtype": "markdown", "markdown": {"content": content}}
    elif channel == ChannelType.DINGTALK:
        text = _fit([part_markdown(p) for p in parts], f"### {title}\n\n{greeting(department_zh)}",
                    ROBOT_MAX_BYTES, "\n\n")
        doc = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    elif channel == ChannelType.FEISHU:
        content: list[list[dict[str, str]]] = [[{"tag": "text", "text": greeting(department_zh)}]]
        for p in parts:
            lines = part_text(p).split("\n")
            link = p.ack_url if p.ack_url and p.kind != "resolved" else None
            content += [[{"tag": "text", "text": ln}] for ln in lines if not (link and ln.endswith(link))]
            if link:
                content.append([{"tag": "a", "text": "确认并填报整改措施", "href": link}])
        doc = {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": content}}}}
        if len(json.dumps(doc, ensure_ascii=False).encode()) > ROBOT_MAX_BYTES:
            more = [{"tag": "text", "text": "……内容较多，请登录系统查看。"}]
            doc["content"]["post"]["zh_cn"]["content"] = [*content[:60], more]
    else:  # e-mail
        text = "\n\n".join([greeting(department_zh), *(part_text(p) for p in parts),
                            "（本邮件由无锡市2024年政府工作报告目标监测系统自动发送，请勿直接回复。）"])
        doc = {"subject": title, "text": text}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
