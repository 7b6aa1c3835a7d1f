"""The alerts service's open alerts and acknowledgements, read over its API for the department pages.

The evaluator holds no alert state (status changes flow evaluator → alerts, never back): who acknowledged,
with which explanation and 整改措施, lives only in the alerts service's database. So a department page asks
its API (``GET /v1/alerts?status=open&department=…``) with a read-scoped token and a short timeout; when
the service is away, slow, or refuses the token, the page renders without the alerts and says why.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx

from services.evaluator.ports import AlertsAnswer, OpenAlert

log = logging.getLogger(__name__)

NOT_CONFIGURED_ZH = "未配置预警服务地址（EVALUATOR_ALERTS_URL），本页不显示预警及确认情况。"


class AlertsClient:
    """AlertsSource over HTTP: one GET per page, ``timeout_s`` at most."""

    def __init__(self, base_url: str, token: str | None, timeout_s: float,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout_s
        self._transport = transport

    def open_alerts(self, department: str) -> AlertsAnswer:
        """The open alerts of a department, newest first, or why they cannot be shown."""
        try:
            with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
                r = http.get(f"{self._base}/v1/alerts", headers=self._headers,
                             params={"status": "open", "department": department, "limit": 500})
        except httpx.TimeoutException:
            log.warning("alerts service: no answer within %ss", self._timeout)
            return AlertsAnswer(None, f"预警服务在{self._timeout:g}秒内未响应，暂无法显示预警及确认情况，请稍后刷新。")
        except httpx.HTTPError as exc:
            log.warning("alerts service unreachable: %s", type(exc).__name__)
            return AlertsAnswer(None, "预警服务暂时无法访问，暂无法显示预警及确认情况，请稍后刷新。")
        if r.status_code in (401, 403):
            log.warning("alerts service refused the evaluator's token: %s", r.status_code)
            return AlertsAnswer(None, "预警服务拒绝了本系统的读取令牌（EVALUATOR_ALERTS_TOKEN），"
                                      "暂无法显示预警及确认情况，请联系系统管理员。")
        if r.status_code != 200:
            log.warning("alerts service answered %s", r.status_code)
            return AlertsAnswer(None, f"预警服务返回错误（HTTP {r.status_code}），暂无法显示预警及确认情况。")
        try:
            return AlertsAnswer([_alert(a) for a in r.json()])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("alerts service: unreadable answer: %s", exc)
            return AlertsAnswer(None, "预警服务的答复无法识别，暂无法显示预警及确认情况。")


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _alert(a: dict[str, Any]) -> OpenAlert:
    opened = _time(a["opened_at"])
    if opened is None:
        raise ValueError("opened_at is empty")
    return OpenAlert(
        id=str(a["id"]), target_id=str(a["target_id"]), status=str(a["status"]), severity=str(a["severity"]),
        period=str(a["period"]), message_zh=str(a["message_zh"]), opened_at=opened,
        acknowledged_at=_time(a.get("acknowledged_at")), acknowledged_by=a.get("acknowledged_by"),
        ack_explanation=a.get("ack_explanation"), ack_measures=a.get("ack_measures"),
        escalation_level=int(a.get("escalation_level") or 0),
    )
