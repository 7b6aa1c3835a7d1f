"""Inhibition rules: Alertmanager's matching semantics on plain labels, and the load-time checks (in Chinese)."""

from __future__ import annotations

from typing import Any

import pytest

from services.alerts.adapters.datafiles import load_routing
from services.alerts.config import DATA
from services.alerts.domain.directory import DirectoryError, Routing
from services.alerts.domain.inhibit import LABELS, InhibitRule, Source, inhibited_by, parse_rules
from shared.catalogue import load_catalogue
from shared.catalogue.model import SECTIONS

CAT = load_catalogue()
NAMES = {d: CAT.department_name(d) for d in CAT.departments}

HEADLINE = InhibitRule("headline", source={"section": frozenset({"headline"}), "severity": frozenset({"critical"})},
                       target={"severity": frozenset({"warning"})}, equal=("headline", "region", "year"))


def _labels(**kw: str) -> dict[str, str]:
    base = {"target": "t", "indicator": "i", "kind": "cumulative_total", "severity": "warning", "status": "behind",
            "notification": "firing", "department": "fgw", "lead_department": "fgw", "region": "wuxi",
            "year": "2024", "section": "1", "headline": ""}
    return {**base, **kw}


FAI = _labels(target="fixed_asset_investment_total", section="headline", severity="critical",
              headline="fixed_asset_investment_total")
FEEDER = _labels(target="major_project_investment", headline="fixed_asset_investment_total")


@pytest.mark.parametrize(("case", "rules", "alert_id", "labels", "sources", "expected"), [
    ("a feeder's warning while its headline target is critical", [HEADLINE], "b", FEEDER,
     [Source("a", FAI)], ("headline", "a")),
    ("its reminder too", [HEADLINE], "b", {**FEEDER, "notification": "reminder"}, [Source("a", FAI)],
     ("headline", "a")),
    ("not a critical feeder (target matchers)", [HEADLINE], "b", {**FEEDER, "severity": "critical"},
     [Source("a", FAI)], None),
    ("not the feeder's recovery (severity ok)", [HEADLINE], "b", {**FEEDER, "severity": "ok"},
     [Source("a", FAI)], None),
    ("not while the headline target is only a warning (source matchers)", [HEADLINE], "b", FEEDER,
     [Source("a", {**FAI, "severity": "warning"})], None),
    ("not a target feeding another headline target (equal)", [HEADLINE], "b",
     {**FEEDER, "headline": "gdp_growth"}, [Source("a", FAI)], None),
    ("not a target feeding none (equal: '' against the headline's id)", [HEADLINE], "b",
     {**FEEDER, "headline": ""}, [Source("a", FAI)], None),
    ("not another region's (equal)", [HEADLINE], "b", {**FEEDER, "region": "jiangyin"}, [Source("a", FAI)], None),
    ("not another year's (equal)", [HEADLINE], "b", {**FEEDER, "year": "2025"}, [Source("a", FAI)], None),
    ("never by itself", [InhibitRule("any", {"severity": frozenset({"warning"})},
                                      {"severity": frozenset({"warning"})})],
     "b", FEEDER, [Source("b", FEEDER)], None),
    ("never by itself, though its open alert matches the source side and its reminder the target side",
     [InhibitRule("own", {"notification": frozenset({"firing"})}, {"notification": frozenset({"reminder"})})],
     "b", {**FEEDER, "notification": "reminder"}, [Source("b", FEEDER)], None),
    ("no sources, nothing held", [HEADLINE], "b", FEEDER, [], None),
    ("the first source that holds is named", [HEADLINE], "b", FEEDER,
     [Source("x", {**FAI, "severity": "warning"}), Source("a", FAI), Source("c", FAI)], ("headline", "a")),
    ("a missing label is '' for matchers", [InhibitRule("m", {"indicator": frozenset({""})},
                                                         {"severity": frozenset({"warning"})})],
     "b", FEEDER, [Source("a", {"severity": "critical"})], ("m", "a")),
    ("equal holds between two missing labels", [InhibitRule("m", {"severity": frozenset({"critical"})},
                                                             {"severity": frozenset({"warning"})}, ("nope",))],
     "b", FEEDER, [Source("a", FAI)], ("m", "a")),
    ("alerts matching both sides do not inhibit each other (Alertmanager)",
     [InhibitRule("both", {"section": frozenset({"1"})}, {"section": frozenset({"1"})})], "b", FEEDER,
     [Source("a", FEEDER)], None),
    ("but one matching only the source side inhibits an alert matching both",
     [InhibitRule("both", {"section": frozenset({"1", "headline"})}, {"section": frozenset({"1"})})], "b", FEEDER,
     [Source("a", FAI)], ("both", "a")),
    ("rules are tried in order", [InhibitRule("never", {"target": frozenset({"zzz"})},
                                              {"severity": frozenset({"warning"})}), HEADLINE],
     "b", FEEDER, [Source("a", FAI)], ("headline", "a")),
])
def test_matching(case: str, rules: list[InhibitRule], alert_id: str, labels: dict[str, str],
                  sources: list[Source], expected: tuple[str, str] | None) -> None:
    got = inhibited_by(rules, alert_id, labels, sources)
    assert ((got.rule, got.alert_id) if got else None) == expected, case


def test_the_shipped_routing_file_holds_back_feeder_warnings_of_a_critical_headline_target() -> None:
    routing = load_routing(DATA / "routing.toml", CAT)
    [rule] = routing.inhibit_rules
    assert rule.name == "headline-critical-holds-feeder-warnings"
    assert rule.source == HEADLINE.source and rule.target == HEADLINE.target and rule.equal == HEADLINE.equal
    assert routing.as_doc()["inhibit_rule"] == [{
        "name": "headline-critical-holds-feeder-warnings",
        "source_match": {"section": ["headline"], "severity": ["critical"]},
        "target_match": {"severity": ["warning"]}, "equal": ["headline", "region", "year"]}]


def _rule(**kw: Any) -> dict[str, Any]:
    return {"name": "r1", "source_match": {"severity": ["critical"]}, "target_match": {"severity": ["warning"]},
            "equal": ["region"], **kw}


@pytest.mark.parametrize(("entry", "message"), [
    (_rule(source_match={}), "抑制规则 'r1'：字段 'source_match'：不能为空"),
    (_rule(target_match={}), "抑制规则 'r1'：字段 'target_match'：不能为空"),
    ({"name": "r1", "source_match": {"severity": ["critical"]}}, "抑制规则 'r1'：字段 'target_match'：缺少或不是表"),
    (_rule(source_match={"colour": ["red"]}), "抑制规则 'r1'：字段 'source_match.colour'：未知标签"),
    (_rule(target_match={"severity": []}), "抑制规则 'r1'：字段 'target_match.severity'：应为非空的字符串列表"),
    (_rule(target_match={"severity": ["severe"]}), "抑制规则 'r1'：字段 'target_match.severity'：未知取值 'severe'"),
    (_rule(source_match={"section": ["headlines"]}), "字段 'source_match.section'：未知取值 'headlines'"),
    (_rule(source_match={"department": ["nope"]}), "字段 'source_match.department'：未知取值 'nope'"),
    (_rule(target_match={"notification": ["grouped"]}), "字段 'target_match.notification'：未知取值 'grouped'"),
    (_rule(source_match={"severity": "critical.*"}), "字段 'source_match.severity'：未知取值 'critical.*'"),
    (_rule(equal=["regoin"]), "抑制规则 'r1'：字段 'equal'：未知标签 'regoin'"),
    (_rule(equal="region"), "抑制规则 'r1'：字段 'equal'：应为标签名列表"),
    (_rule(sources={"severity": ["critical"]}), "抑制规则 'r1'：字段 'sources'：未知字段"),
    (_rule(name="Bad Name"), "抑制规则 'Bad Name'：字段 'name'：必填"),
    ({"source_match": {"severity": ["critical"]}}, "抑制规则 '#1'：字段 'name'：必填"),
])
def test_a_bad_rule_is_refused_naming_the_rule_and_field(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(DirectoryError) as exc:
        Routing.parse({"inhibit_rule": [entry]}, NAMES, SECTIONS)
    assert message in str(exc.value)
    assert "(inhibit rule " in str(exc.value)  # then in English


def test_a_rule_defined_twice_is_refused() -> None:
    with pytest.raises(DirectoryError, match="抑制规则 'r1'：字段 'name'：重复定义"):
        Routing.parse({"inhibit_rule": [_rule(), _rule()]}, NAMES, SECTIONS)


def test_no_rules_no_inhibition_and_every_label_is_known_to_matchers() -> None:
    assert Routing.parse({}, NAMES, SECTIONS).inhibit_rules == ()
    every = {label: ["critical" if label == "severity" else "fgw" if "department" in label else "x"]
             for label in LABELS if label not in ("notification", "kind", "section", "region")}
    [rule] = parse_rules([_rule(source_match=every)], NAMES)
    assert set(rule.source) == set(every)
