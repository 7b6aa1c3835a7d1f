"""The department directory and routing files: the shipped ones load; broken ones name the entry and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.alerts.adapters.datafiles import load_directory, load_routing
from services.alerts.config import DATA
from services.alerts.domain.directory import ChannelType, Directory, DirectoryError, Routing
from services.alerts.domain.model import NotificationKind, kind_of
from shared.catalogue import load_catalogue
from shared.catalogue.model import SECTIONS
from shared.messages import Severity

CAT = load_catalogue()
NAMES = {d: CAT.department_name(d) for d in CAT.departments}


def test_shipped_files_cover_every_department_and_route_critical_to_supervision() -> None:
    directory = load_directory(DATA / "directory.toml", CAT)
    assert set(directory.entries) == set(CAT.departments)
    assert {c.type for c in directory.channels("fgw")} == set(ChannelType)
    routing = load_routing(DATA / "routing.toml", CAT)
    r = routing.recipients(severity=Severity.CRITICAL, section="headline", target_id="gdp_growth", lead="fgw",
                           co=("stats", "fgw"))
    assert [(x.department, x.reason) for x in r] == [
        ("fgw", "lead"), ("stats", "co"), ("supervision", "rule:critical-to-supervision")]
    warn = routing.recipients(severity=Severity.WARNING, section="headline", target_id="gdp_growth", lead="fgw",
                              co=())
    assert [x.department for x in warn] == ["fgw"]


# Each refusal whole: the entry (by id, or by position when it has none), the field, and the rule it breaks.
@pytest.mark.parametrize(("doc", "message"), [
    ({"department": [{"id": "nope"}]}, "department 'nope': field 'id': not a department of the catalogue"),
    ({"department": [{"id": "fgw", "channels": [{"type": "wecom", "address_env": "lower"}]}]},
     "department 'fgw': field 'channels.0.address_env': String should match pattern '^[A-Z][A-Z0-9_]*$'"),
    ({"department": [{"id": "fgw", "channels": [{"type": "wecom", "address_env": "A", "secret_env": "B"}]}]},
     "department 'fgw': field 'channels.0': Value error, secret_env only applies to webhook, dingtalk and feishu "
     "channels, not wecom"),
    ({"department": [{"id": "fgw", "channels": [{"type": "pager", "address_env": "A"}]}]},
     "department 'fgw': field 'channels.0.type': Input should be 'webhook', 'wecom', 'dingtalk', 'feishu' or 'email'"),
    ({"department": [{"id": "fgw"}, {"id": "fgw"}]}, "department 'fgw': field 'id': defined twice"),
    ({"department": [{"id": "fgw", "phone": "123"}]},
     "department 'fgw': field 'phone': Extra inputs are not permitted"),
    ({"departments": []}, "directory: field 'departments': unknown (only [[department]] entries)"),
    ({"department": [{"id": "fgw"}, {"contacts": []}]}, "department '#2': field 'id': Field required"),
    ({"department": [{"id": "fgw", "channels": [{"type": "wecom", "address_env": "A"},
                                                {"type": "wecom", "address_env": "B"}]}]},
     "department 'fgw': field '(entry)': Value error, one channel per type: wecom given twice"),
], ids=["unknown-id", "address-env-pattern", "secret-on-wecom", "unknown-type", "id-twice", "unknown-field",
        "unknown-top-level", "no-id-second-entry", "two-channels-one-type"])
def test_broken_directory_names_entry_and_field(doc: dict, message: str) -> None:
    with pytest.raises(DirectoryError) as err:
        Directory.parse(doc, NAMES)
    assert str(err.value) == message


@pytest.mark.parametrize(("doc", "message"), [
    ({"rule": [{"name": "x", "add_departments": ["nobody"]}]},
     "routing rule 'x': field 'add_departments': 'nobody' is not known to the catalogue"),
    ({"rule": [{"name": "x", "match": {"section": ["99"]}, "add_departments": ["fgw"]}]},
     "routing rule 'x': field 'match.section': '99' is not known to the catalogue"),
    ({"rule": [{"name": "x", "match": {"department": ["nobody"]}, "add_departments": ["fgw"]}]},
     "routing rule 'x': field 'match.department': 'nobody' is not known to the catalogue"),
    ({"rule": [{"name": "x", "match": {"region": ["shanghai"]}, "add_departments": ["fgw"]}]},
     "routing rule 'x': field 'match.region': 'shanghai' is not known to the catalogue"),
    ({"rule": [{"name": "x", "match": {"severity": ["bad"]}, "add_departments": ["fgw"]}]},
     "routing: rule 'x': field 'match.severity.0': Input should be 'ok', 'warning' or 'critical'"),
    ({"rule": [{"name": "x", "add_departments": ["fgw"], "continue": True}]},
     "routing: rule 'x': field 'continue': Extra inputs are not permitted"),
    ({"rule": [{"name": "x", "add_departments": []}]},
     "routing: rule 'x': field 'add_departments': Tuple should have at least 1 item after validation, not 0"),
    ({"rule": [{"name": "x", "add_departments": ["fgw"]}, {"name": "x", "add_departments": ["fgw"]}]},
     "routing rule 'x': field 'name': defined twice"),
    ({"channels": ["sms"]},
     "routing: field 'channels.0': Input should be 'webhook', 'wecom', 'dingtalk', 'feishu' or 'email'"),
    ({"rule": [{"name": "x", "add_departments": ["fgw"]}, {"add_departments": ["fgw"], "stop": "maybe"}]},
     "routing: rule '#2': field 'name': Field required; rule '#2': field 'stop': Input should be a valid boolean, "
     "unable to interpret input"),
], ids=["unknown-added-department", "unknown-section", "unknown-matched-department", "unknown-region",
        "bad-severity", "unknown-field", "nothing-added", "name-twice", "unknown-channel-type",
        "two-problems-of-an-unnamed-rule"])
def test_broken_routing_names_rule_and_field(doc: dict, message: str) -> None:
    with pytest.raises(DirectoryError) as err:
        Routing.parse(doc, NAMES, SECTIONS)
    assert str(err.value) == message


def test_rules_match_by_section_and_department_and_stop() -> None:
    routing = Routing.parse({"rule": [
        {"name": "headline-to-office", "match": {"section": ["headline"]}, "add_departments": ["gov_office"],
         "stop": True},
        {"name": "stats-follows-fgw", "match": {"department": ["fgw"]}, "add_departments": ["stats"]},
    ], "notify_co_departments": False}, NAMES, SECTIONS)
    head = routing.recipients(severity=Severity.WARNING, section="headline", target_id="t", lead="fgw",
                              co=("swj",))
    assert [r.department for r in head] == ["fgw", "gov_office"]  # co not told; stop ends the rules
    other = routing.recipients(severity=Severity.WARNING, section="3", target_id="t", lead="swj", co=("fgw",))
    assert [r.department for r in other] == ["swj", "stats"]


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "routing.toml"
    bad.write_text("rule = [", encoding="utf-8")
    with pytest.raises(DirectoryError, match=r"routing file .* is not valid TOML"):
        load_routing(bad, CAT)


def test_rules_match_by_target_and_by_any_owner_and_by_region() -> None:
    routing = Routing.parse({"rule": [
        {"name": "gdp-to-office", "match": {"target": ["gdp_growth"]}, "add_departments": ["gov_office"]},
        {"name": "stats-owned", "match": {"department": ["stats"]}, "add_departments": ["supervision"]},
        {"name": "jiangyin-only", "match": {"region": ["jiangyin"]}, "add_departments": ["fgw"]},
    ]}, NAMES, SECTIONS)

    def told(target_id: str, lead: str, co: tuple[str, ...], region: str = "wuxi") -> list[str]:
        return [r.department for r in routing.recipients(severity=Severity.WARNING, section="headline",
                                                         target_id=target_id, lead=lead, co=co, region=region)]

    assert told("gdp_growth", "swj", ()) == ["swj", "gov_office"]  # the target matches
    assert told("retail_sales_growth", "swj", ()) == ["swj"]  # neither target, owner nor region
    assert told("retail_sales_growth", "swj", ("stats",)) == ["swj", "stats", "supervision"]  # a co-department
    assert told("retail_sales_growth", "stats", ()) == ["stats", "supervision"]  # the lead
    assert told("retail_sales_growth", "swj", (), region="jiangyin") == ["swj", "fgw"]
    assert told("retail_sales_growth", "swj", ()) == told("retail_sales_growth", "swj", (), region="wuxi")


def test_a_department_without_an_entry_has_no_channels_or_contacts() -> None:
    directory = Directory.parse({"department": [{"id": "fgw", "contacts": [{"role": "办公室值班"}],
                                                 "channels": [{"type": "wecom", "address_env": "FGW_WECOM"}]}]}, NAMES)
    assert [c.role for c in directory.contacts("fgw")] == ["办公室值班"]
    assert [c.address_env for c in directory.channels("fgw")] == ["FGW_WECOM"]
    assert (directory.contacts("stats"), directory.channels("stats")) == ((), ())


def test_the_routing_file_as_loaded_is_json() -> None:
    doc = {"channels": ["wecom", "email"], "notify_co_departments": False,
           "rule": [{"name": "x", "match": {"severity": ["critical"]}, "add_departments": ["supervision"]}]}
    got = Routing.parse(doc, NAMES, SECTIONS).as_doc()
    assert json.loads(json.dumps(got)) == got  # enums as their values, tuples as lists
    assert got["channels"] == ["wecom", "email"] and got["rule"][0]["match"]["severity"] == ["critical"]
    assert (got["notify_co_departments"], got["inhibit_rule"]) == (False, [])


@pytest.mark.parametrize(("kinds", "kind"), [
    (["firing"], NotificationKind.FIRING), (["resolved", "resolved"], NotificationKind.RESOLVED),
    (["firing", "resolved"], NotificationKind.GROUPED), (["reminder", "overdue", "firing"], NotificationKind.GROUPED),
], ids=["one-part", "parts-of-one-kind", "two-kinds", "three-kinds"])
def test_a_notifications_kind_is_its_parts_kind_or_grouped(kinds: list[str], kind: NotificationKind) -> None:
    assert kind_of(kinds) == kind
