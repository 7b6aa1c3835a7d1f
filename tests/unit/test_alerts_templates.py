"""The Chinese notification text and the payload each channel sends."""

from __future__ import annotations

import json

from devstack.deviations import deviation
from services.alerts.channels.base import Channel, Message
from services.alerts.channels.dingtalk import DingTalkChannel
from services.alerts.channels.email import EmailChannel
from services.alerts.channels.feishu import FeishuChannel
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.webhook import WebhookChannel
from services.alerts.channels.wecom import WECOM_MAX_BYTES, WeComChannel
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import AlertPart, part_text
from shared.catalogue import load_catalogue
from shared.messages import Severity

CAT = load_catalogue()
_HTTP = HttpPoster()
CHANNELS: dict[ChannelType, Channel] = {
    ChannelType.WEBHOOK: WebhookChannel(_HTTP), ChannelType.WECOM: WeComChannel(_HTTP),
    ChannelType.DINGTALK: DingTalkChannel(_HTTP), ChannelType.FEISHU: FeishuChannel(_HTTP),
    ChannelType.EMAIL: EmailChannel(host=None, port=25, sender=None),
}


def render(channel: ChannelType, parts: list[AlertPart], *, department: str, department_zh: str,
           idempotency_key: str) -> str:
    """Each channel class renders its own payload."""
    return CHANNELS[channel].render(Message(parts, department, department_zh, idempotency_key,
                                            [f"event-{i}" for i in range(len(parts))]))


def _part(target: str = "fixed_asset_investment_total", kind: str = "firing", role: str = "lead") -> AlertPart:
    e = deviation(CAT, target, Severity.CRITICAL, actual=1500.0, expected=2275.0)
    t = CAT.targets[target]
    return AlertPart("a1", kind, e, CAT.department_name(t.lead_department), role, t.phrase,
                     "https://alerts.example/v1/ack/a1?sig=x", CAT.department_name(t.lead_department))


def test_text_states_target_period_actual_expected_gap_projection_run_rate_and_link() -> None:
    text = part_text(_part())
    for fragment in ("【目标预警】固定资产投资（严重）", "目标：固定资产投资4550亿元", "期间：2024年上半年",
                     "累计完成：1500亿元", "序时进度要求：2275亿元", "差距：低于预期775亿元（34.1%）",
                     "完成率：33%（序时进度50%）",  # numbers as releases write them (shared.wording)
                     "全年预计：3000亿元", "后续月均需完成：508.33亿元", "请牵头单位会同配合单位分析原因",
                     "确认并填报整改措施：https://alerts.example/v1/ack/a1?sig=x"):
        assert fragment in text, f"{fragment!r} missing from:\n{text}"


def test_a_growth_rate_is_labelled_as_growth_not_as_an_amount_against_progress() -> None:
    e = deviation(CAT, "gdp_growth", Severity.WARNING, actual=4.9, expected=5.5)
    t = CAT.targets["gdp_growth"]
    text = part_text(AlertPart("a2", "firing", e, "市发展改革委", "lead", t.phrase, None, "市发展改革委"))
    assert "实际增速：4.9%" in text and "目标增速：5.5%" in text, text
    figures = text.split("研判")[0]
    assert "实际完成" not in figures and "序时进度要求" not in figures and "完成率" not in figures, text


def test_an_amount_once_the_year_is_over_is_read_against_the_annual_target() -> None:
    e = deviation(CAT, "fixed_asset_investment_total", Severity.CRITICAL, period="2024-Q4", actual=4400.0,
                  expected=4550.0)
    t = CAT.targets["fixed_asset_investment_total"]
    text = part_text(AlertPart("a3", "firing", e, "市发展改革委", "lead", t.phrase, None, "市发展改革委"))
    assert "累计完成：4400亿元" in text and "全年目标：4550亿元" in text, text
    assert "序时进度要求" not in text.split("研判")[0], text


def test_recovery_asks_nothing_and_has_no_link() -> None:
    text = part_text(_part(kind="resolved"))
    assert text.startswith("【预警解除】固定资产投资")
    assert "无需处理" in text and "https://" not in text


def test_group_renders_every_part_under_one_title_per_channel() -> None:
    parts = [_part(), _part("gdp_growth", kind="resolved")]
    for channel in ChannelType:
        doc = json.loads(render(channel, parts, department="fgw", department_zh="市发展改革委", idempotency_key="k"))
        flat = json.dumps(doc, ensure_ascii=False)
        assert "固定资产投资等2项目标（新增预警1项、预警解除1项）" in flat, channel
        assert "地区生产总值增长" in flat
    web = json.loads(render(ChannelType.WEBHOOK, parts, department="fgw", department_zh="市发展改革委",
                            idempotency_key="k"))
    assert web["version"] == "1" and web["kind"] == "grouped" and len(web["alerts"]) == 2
    assert web["department"] == {"id": "fgw", "name_zh": "市发展改革委"}
    # Each alert names the event that caused it, inside the signed body.
    assert web["event_id"] == "event-0" and [a["event_id"] for a in web["alerts"]] == ["event-0", "event-1"]


def test_wecom_content_stays_within_its_4096_bytes() -> None:
    parts = [_part() for _ in range(30)]
    doc = json.loads(render(ChannelType.WECOM, parts, department="fgw", department_zh="市发展改革委",
                            idempotency_key="k"))
    content = doc["markdown"]["content"]
    assert len(content.encode()) <= WECOM_MAX_BYTES
    assert "请登录系统查看" in content
