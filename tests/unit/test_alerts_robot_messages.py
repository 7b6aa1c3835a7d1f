"""Chat robot messages: who is @-mentioned and how on each platform, and the 确认 buttons of cards."""

from __future__ import annotations

import json

from devstack.deviations import deviation
from services.alerts.channels.base import MENTION, Destination, Message
from services.alerts.channels.dingtalk import DingTalkChannel
from services.alerts.channels.feishu import FeishuChannel
from services.alerts.channels.http import HttpPoster
from services.alerts.channels.wecom import WECOM_MAX_BYTES, WeComChannel
from services.alerts.domain.directory import ChannelType, Directory
from services.alerts.domain.templates import AlertPart, mention_wanted
from services.alerts.receivers import Receivers
from shared.catalogue import load_catalogue
from shared.messages import Severity

CAT = load_catalogue()
HTTP = HttpPoster()


def _part(alert_id: str, severity: Severity = Severity.CRITICAL, role: str = "lead", kind: str = "firing",
          target: str = "fixed_asset_investment_total") -> AlertPart:
    t = CAT.targets[target]
    link = f"https://alerts.example/v1/ack/{alert_id}?department=fgw&expires=1&signature=s"
    return AlertPart(alert_id, kind, deviation(CAT, target, severity, actual=1500.0, expected=2275.0),
                     "市发展改革委", role, t.phrase, link if role in ("lead", "overdue") else None, "市发展改革委")


def _msg(parts: list[AlertPart]) -> Message:
    return Message(parts, "fgw", "市发展改革委", "k", [f"e{i}" for i in range(len(parts))])


DEST = {c: Destination(f"fgw:{c.value}", c, "http://robot", mobiles=("13800000001",),
                       user_ids=("u-duty", "u-liaison")) for c in (ChannelType.WECOM, ChannelType.DINGTALK,
                                                                   ChannelType.FEISHU)}


def test_who_is_mentioned_critical_alerts_the_department_leads_and_overdue_ones() -> None:
    assert mention_wanted([_part("a1")])
    assert mention_wanted([_part("a1", Severity.WARNING, role="overdue", kind="overdue")])
    assert not mention_wanted([_part("a1", Severity.WARNING)])
    assert not mention_wanted([_part("a1", role="co")])
    assert not mention_wanted([_part("a1", kind="resolved")])
    assert mention_wanted([_part("a1", Severity.WARNING), _part("a2")]), "a group with one critical lead alert"


def test_wecom_mentions_user_ids_when_sending_and_the_stored_payload_holds_no_contact() -> None:
    ch = WeComChannel(HTTP)
    stored = ch.render(_msg([_part("a1")]))
    assert json.loads(stored)[MENTION] is True and "u-duty" not in stored
    body = json.loads(ch.for_platform(DEST[ChannelType.WECOM], stored.encode()))
    assert MENTION not in body and body["msgtype"] == "markdown"
    assert body["markdown"]["content"].endswith("<@u-duty> <@u-liaison>")
    quiet = json.loads(ch.for_platform(DEST[ChannelType.WECOM], ch.render(_msg([_part("a1", Severity.WARNING)]))
                                       .encode()))
    assert "<@" not in quiet["markdown"]["content"]
    # Mentions never push content past WeCom's 4096 bytes, even on a message cut to fit.
    full = ch.render(_msg([_part(f"a{i}") for i in range(30)]))
    assert len(json.loads(ch.for_platform(DEST[ChannelType.WECOM], full.encode()))["markdown"]["content"]
               .encode()) <= WECOM_MAX_BYTES


def test_dingtalk_one_confirm_button_for_one_alert_one_per_alert_in_a_group() -> None:
    ch = DingTalkChannel(HTTP)
    one = json.loads(ch.for_platform(DEST[ChannelType.DINGTALK], ch.render(_msg([_part("a1", Severity.WARNING)]))
                                     .encode()))
    card = one["actionCard"]
    assert one["msgtype"] == "actionCard" and card["singleTitle"] == "确认"
    assert card["singleURL"].startswith("https://alerts.example/v1/ack/a1?")
    assert "/v1/ack/" not in card["text"], "the button carries the link"
    assert "at" not in one
    group = json.loads(ch.render(_msg([_part("a1", Severity.WARNING), _part("a2", Severity.WARNING, role="co"),
                                       _part("a3", Severity.WARNING, target="gdp_growth")])))
    btns = group["actionCard"]["btns"]
    assert [b["actionURL"].split("?")[0][-2:] for b in btns] == ["a1", "a3"], "co-departments do not acknowledge"
    assert btns[1]["title"] == "确认：地区生产总值增长"


def test_dingtalk_mentions_by_phone_in_markdown_with_the_link_in_the_text() -> None:
    ch = DingTalkChannel(HTTP)
    stored = ch.render(_msg([_part("a1")]))
    assert "13800000001" not in stored
    body = json.loads(ch.for_platform(DEST[ChannelType.DINGTALK], stored.encode()))
    assert body["msgtype"] == "markdown" and MENTION not in body
    assert body["at"] == {"atMobiles": ["13800000001"], "atUserIds": ["u-duty", "u-liaison"], "isAtAll": False}
    assert "@13800000001" in body["markdown"]["text"]
    assert "[确认并填报整改措施](https://alerts.example/v1/ack/a1?" in body["markdown"]["text"]


def test_feishu_card_has_a_confirm_button_per_alert_and_mentions_by_user_id() -> None:
    ch = FeishuChannel(HTTP)
    one = ch.for_platform(DEST[ChannelType.FEISHU], ch.render(_msg([_part("a1")])).encode())
    assert one["msg_type"] == "interactive" and one["card"]["header"]["template"] == "red"
    elements = one["card"]["elements"]
    assert elements[1] == {"tag": "div", "text": {"tag": "lark_md", "content": "<at id=u-duty></at><at id=u-liaison>"
                                                                              "</at>"}}
    buttons = [a for e in elements if e["tag"] == "action" for a in e["actions"]]
    assert [b["text"]["content"] for b in buttons] == ["确认"]
    assert buttons[0]["url"].startswith("https://alerts.example/v1/ack/a1?")
    group = ch.for_platform(DEST[ChannelType.FEISHU], ch.render(_msg([
        _part("a1", Severity.WARNING), _part("a2", Severity.WARNING, target="gdp_growth"),
        _part("a3", kind="resolved")])).encode())
    labels = [a["text"]["content"] for e in group["card"]["elements"] if e["tag"] == "action" for a in e["actions"]]
    assert labels == ["确认：固定资产投资", "确认：地区生产总值增长"], "a recovery asks for nothing"
    assert not any("<at" in json.dumps(e, ensure_ascii=False) for e in group["card"]["elements"])
    assert group["card"]["header"]["template"] == "orange"


def test_contacts_ids_come_from_the_environment_per_platform() -> None:
    doc = {"department": [{"id": "fgw", "contacts": [
        {"role": "办公室值班", "phone_env": "P1", "wecom_userid_env": "W1", "feishu_user_id_env": "F1"},
        {"role": "督查联络员", "phone_env": "P2", "dingtalk_userid_env": "D2"}],
        "channels": [{"type": "wecom", "address_env": "WECOM"}, {"type": "dingtalk", "address_env": "DING"},
                     {"type": "feishu", "address_env": "FEI"}]}]}
    directory = Directory.parse(doc, {d: d for d in CAT.departments})
    env = {"WECOM": "http://w", "DING": "http://d", "FEI": "http://f", "P1": "13800000001", "P2": " ",
           "W1": "zhangsan", "F1": "ou_1", "D2": "ding-2"}
    r = Receivers(directory, tuple(ChannelType), env)
    wecom, ding, fei = (r.resolve(f"fgw:{c}") for c in ("wecom", "dingtalk", "feishu"))
    assert wecom is not None and (wecom.mobiles, wecom.user_ids) == ((), ("zhangsan",))
    assert ding is not None and (ding.mobiles, ding.user_ids) == (("13800000001",), ("ding-2",))
    assert fei is not None and (fei.mobiles, fei.user_ids) == ((), ("ou_1",))
