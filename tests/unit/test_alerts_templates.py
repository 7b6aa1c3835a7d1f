"""The Chinese notification text and the payload each channel sends."""

from __future__ import annotations

import json
from dataclasses import replace

from devstack.deviations import deviation
from services.alerts.channels.base import Channel, Message
from services.alerts.channels.dingtalk import DingTalkChannel
from services.alerts.channels.email import EmailChannel
from services.alerts.channels.feishu import FeishuChannel
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.webhook import WebhookChannel
from services.alerts.channels.wecom import WECOM_MAX_BYTES, WeComChannel
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import AlertPart, group_title, part_markdown, part_text
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


# What a department reads in its work chat or mailbox, line by line: the whole text of one alert for each kind
# of notification and each role. A change to any line is a change people see; it should show here, in review,
# before it reaches them.
FGW = "市发展改革委"
ACK = "https://alerts.example/v1/ack/a1?sig=x"  # what _part carries
FAI_LINES = """目标：固定资产投资4550亿元
期间：2024年上半年
累计完成：1500亿元
序时进度要求：2275亿元
完成率：33%（序时进度50%）
差距：低于预期775亿元（34.1%）
全年预计：3000亿元
后续月均需完成：508.33亿元
研判：固定资产投资完成1500亿元，序时进度要求2275亿元，严重滞后。
责任单位：市发展改革委（牵头）"""


def _fai(kind: str, role: str, department_zh: str = FGW) -> AlertPart:
    """_part, as told to ``department_zh``."""
    return replace(_part(kind=kind, role=role), department_zh=department_zh)


def test_the_lead_department_is_asked_to_act_and_acknowledge() -> None:
    assert part_text(_fai("firing", "lead")) == f"""【目标预警】固定资产投资（严重）
{FAI_LINES}
请牵头单位会同配合单位分析原因，提出整改措施，并通过下方链接填报说明和整改措施予以确认。
确认并填报整改措施：{ACK}"""


def test_a_co_department_is_reminded_to_help_and_a_button_carries_the_link() -> None:
    assert part_text(_fai("reminder", "co", "市统计局"), link=False) == f"""【预警提醒】固定资产投资（严重）
{FAI_LINES}
请配合牵头单位分析原因、落实整改措施。"""


def test_an_overdue_alert_goes_up_the_chain_in_markdown() -> None:
    quoted = "\n".join(f"> **{k}**：{v}" for k, v in (line.split("：", 1) for line in FAI_LINES.splitlines()))
    assert part_markdown(_fai("overdue", "overdue", "市人民政府督查室")) == f"""\
#### 【逾期未确认·提级督办】固定资产投资（严重）
{quoted}

该严重预警下发后牵头单位逾期未确认，现提请市人民政府督查室督促市发展改革委分析原因、落实整改措施。

[确认并填报整改措施]({ACK})"""


def test_a_rule_recipient_is_asked_to_follow_up_and_a_rate_reads_in_points() -> None:
    e = deviation(CAT, "cpi_within_provincial_limit", Severity.CRITICAL, actual=3.6, expected=3.0)
    assert part_text(AlertPart("a4", "escalated", e, "市人民政府督查室", "rule", None, None, FGW)) == """\
【预警升级】居民消费价格涨幅控制在省定范围内（严重）
目标：居民消费价格涨幅控制在省定范围内
期间：2024年上半年
实际涨幅：3.6%
调控目标：3%
差距：高于预期0.6个百分点
全年预计：3.6%
研判：居民消费价格涨幅控制在省定范围内3.6%，目标3%，严重滞后。
责任单位：市发展改革委（牵头）
请跟踪督办。"""


def test_a_recovery_asks_nothing_has_no_level_and_no_link() -> None:
    e = deviation(CAT, "fixed_asset_investment_total", Severity.OK, actual=2300.0, expected=2275.0)
    assert part_markdown(AlertPart("a5", "resolved", e, FGW, "lead", None, ACK, FGW)) == """\
#### 【预警解除】固定资产投资
> **目标**：固定资产投资
> **期间**：2024年上半年
> **累计完成**：2300亿元
> **序时进度要求**：2275亿元
> **完成率**：50.5%（序时进度50%）
> **差距**：高于预期25亿元（1.1%）
> **全年预计**：4600亿元
> **后续月均需完成**：375亿元
> **研判**：固定资产投资完成2300亿元，序时进度要求2275亿元，符合序时进度。
> **责任单位**：市发展改革委（牵头）

该目标已恢复正常进度，预警自动解除，无需处理。"""
    assert "确认并填报" not in part_text(AlertPart("a5", "resolved", e, FGW, "lead", None, ACK, FGW))


def test_only_the_figures_an_event_carries_are_stated() -> None:
    e = deviation(CAT, "fixed_asset_investment_total", Severity.WARNING, actual=2300.0, expected=2275.0)
    bare = e.model_copy(update={"gap_rel": None, "expected_progress": None, "projection": None,
                                "run_rate_needed": None})
    assert part_text(AlertPart("a6", "firing", bare, FGW, "lead", None, None, FGW)) == """\
【目标预警】固定资产投资（预警）
目标：固定资产投资
期间：2024年上半年
累计完成：2300亿元
全年目标：2275亿元
差距：高于预期25亿元
研判：固定资产投资完成2300亿元，序时进度要求2275亿元，滞后。
责任单位：市发展改革委（牵头）
请牵头单位会同配合单位分析原因，提出整改措施，并通过下方链接填报说明和整改措施予以确认。"""
    no_gap = bare.model_copy(update={"gap_abs": None, "gap_pp": None})
    assert "差距" not in part_text(AlertPart("a6", "firing", no_gap, FGW, "lead", None, None, FGW))


def test_an_unknown_kind_is_titled_as_an_alert() -> None:
    assert part_text(replace(_fai("firing", "lead"), kind="new-kind")).startswith("【目标预警】固定资产投资（严重）\n")


def test_group_titles() -> None:
    assert group_title(["escalated"], ["固定资产投资"]) == "【预警升级】固定资产投资"
    assert group_title(["new-kind"], ["固定资产投资"]) == "【目标预警】固定资产投资"
    assert group_title(["firing", "firing", "reminder", "overdue", "resolved", "escalated"],
                       ["固定资产投资", "b", "c", "d", "e", "f"]) == (
        "【目标预警汇总】固定资产投资等6项目标（新增预警2项、尚未确认1项、提级督办1项、预警解除1项、预警升级1项）")
    assert group_title(["new-kind", "firing"], ["固定资产投资", "x"]) == (
        "【目标预警汇总】固定资产投资等2项目标（new-kind1项、新增预警1项）")
