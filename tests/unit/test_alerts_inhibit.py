"""Inhibition rules: Alertmanager's matching semantics on plain labels, and the load-time checks (in Chinese)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.alerts.adapters.datafiles import load_routing
from services.alerts.config import DATA
from services.alerts.domain.directory import DirectoryError, Routing
from services.alerts.domain.inhibit import (
    LABELS,
    InhibitRule,
    Source,
    SourceFilter,
    inhibited_by,
    labels_of,
    parse_rules,
    source_filter,
)
from shared.catalogue import load_catalogue
from shared.catalogue.model import SECTIONS
from shared.messages import TargetStatusChanged

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
    ("a rule whose target side does not match is passed over for the next",
     [InhibitRule("other", {"severity": frozenset({"critical"})}, {"severity": frozenset({"ok"})}), HEADLINE],
     "b", FEEDER, [Source("a", FAI)], ("headline", "a")),
    ("a source matching both sides is passed over for the next one",
     [InhibitRule("both", {"section": frozenset({"1", "headline"})}, {"section": frozenset({"1"})})], "b", FEEDER,
     [Source("x", FEEDER), Source("a", FAI)], ("both", "a")),
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


# The labels a rule can match on, as the README's routing section lists them.
LABEL_LIST = ("target, indicator, kind, severity, status, notification, department, lead_department, region, year, "
              "section, headline")
EMPTY = "（至少一个标签 = [取值]）", "(at least one label = [values])"
NAME_RULE = "必填，小写字母、数字、-、_", "required: lower-case letters, digits, - and _"


EVENT_REST: dict[str, Any] = {
    "evaluation_id": "e1", "target_name_zh": "重大项目完成投资", "severity": "warning", "previous_status": None,
    "previous_severity": None, "actual": None, "expected": None, "target_value": None, "unit": None, "gap_abs": None,
    "gap_rel": None, "gap_pp": None, "progress": None, "expected_progress": None, "projection": None,
    "run_rate_needed": None, "observation_status": None, "message_zh": "…", "observation_id": None,
    "observation_vintage": None, "evaluated_at": datetime(2024, 7, 15, tzinfo=UTC)}


def _error(rule: str, field: str, zh: str, en: str) -> str:
    return f"routing: 抑制规则 '{rule}'：字段 '{field}'：{zh} (inhibit rule '{rule}': field '{field}': {en})"


@pytest.mark.parametrize(("entry", "message"), [
    (_rule(source_match={}), _error("r1", "source_match", "不能为空" + EMPTY[0], "must not be empty " + EMPTY[1])),
    (_rule(target_match={}), _error("r1", "target_match", "不能为空" + EMPTY[0], "must not be empty " + EMPTY[1])),
    ({"name": "r1", "source_match": {"severity": ["critical"]}},
     _error("r1", "target_match", "缺少或不是表" + EMPTY[0], "missing or not a table " + EMPTY[1])),
    (_rule(source_match={"colour": ["red"]}),
     _error("r1", "source_match.colour", f"未知标签，可用：{LABEL_LIST}", f"unknown label; one of {LABEL_LIST}")),
    (_rule(target_match={"severity": []}),
     _error("r1", "target_match.severity", "应为非空的字符串列表", "must be a non-empty list of strings")),
    (_rule(target_match={"severity": [1]}),
     _error("r1", "target_match.severity", "应为非空的字符串列表", "must be a non-empty list of strings")),
    (_rule(target_match={"severity": ["severe"]}),
     _error("r1", "target_match.severity", "未知取值 'severe'", "unknown value 'severe'")),
    (_rule(source_match={"section": ["headlines"]}),
     _error("r1", "source_match.section", "未知取值 'headlines'", "unknown value 'headlines'")),
    (_rule(source_match={"department": ["nope"]}),
     _error("r1", "source_match.department", "未知取值 'nope'", "unknown value 'nope'")),
    (_rule(source_match={"lead_department": ["nope"]}),
     _error("r1", "source_match.lead_department", "未知取值 'nope'", "unknown value 'nope'")),
    (_rule(target_match={"notification": ["grouped"]}),
     _error("r1", "target_match.notification", "未知取值 'grouped'", "unknown value 'grouped'")),
    (_rule(source_match={"severity": "critical.*"}),
     _error("r1", "source_match.severity", "未知取值 'critical.*'", "unknown value 'critical.*'")),
    (_rule(equal=["regoin"]), _error("r1", "equal", f"未知标签 'regoin'，可用：{LABEL_LIST}",
                                     f"unknown label 'regoin'; one of {LABEL_LIST}")),
    (_rule(equal="region"), _error("r1", "equal", "应为标签名列表", "must be a list of label names")),
    (_rule(equal=[1]), _error("r1", "equal", "应为标签名列表", "must be a list of label names")),
    (_rule(sources={"severity": ["critical"]}),
     _error("r1", "sources", "未知字段，可用：name, source_match, target_match, equal",
            "unknown field; one of name, source_match, target_match, equal")),
    (_rule(name="Bad Name"), _error("Bad Name", "name", *NAME_RULE)),
    ({"source_match": {"severity": ["critical"]}}, _error("#1", "name", *NAME_RULE)),
    ("not a table", _error("#1", "(entry)", "应为表", "must be a table")),
])
def test_a_bad_rule_is_refused_naming_the_rule_and_field_in_chinese_then_english(entry: Any, message: str) -> None:
    with pytest.raises(DirectoryError) as exc:
        Routing.parse({"inhibit_rule": [entry]}, NAMES, SECTIONS)
    assert str(exc.value) == message


def test_the_second_bad_entry_is_named_by_its_place() -> None:
    with pytest.raises(DirectoryError) as exc:
        Routing.parse({"inhibit_rule": [_rule(), 7]}, NAMES, SECTIONS)
    assert str(exc.value) == _error("#2", "(entry)", "应为表", "must be a table")
    with pytest.raises(DirectoryError) as exc:
        Routing.parse({"inhibit_rule": [_rule(), {"name": 7}]}, NAMES, SECTIONS)
    assert str(exc.value) == _error("#2", "name", *NAME_RULE)


def test_inhibit_rule_must_be_a_list_of_tables() -> None:
    with pytest.raises(DirectoryError) as exc:
        Routing.parse({"inhibit_rule": {"name": "r1"}}, NAMES, SECTIONS)
    assert str(exc.value) == ("routing: 抑制规则：字段 'inhibit_rule' 应为 [[inhibit_rule]] 表的列表 "
                              "(field 'inhibit_rule': must be a list of [[inhibit_rule]] tables)")


def test_a_rule_defined_twice_is_refused() -> None:
    with pytest.raises(DirectoryError) as exc:
        Routing.parse({"inhibit_rule": [_rule(), _rule()]}, NAMES, SECTIONS)
    assert str(exc.value) == _error("r1", "name", "重复定义", "defined twice")


def test_a_rule_without_equal_compares_nothing_and_a_single_value_is_a_list_of_one() -> None:
    [rule] = parse_rules([{"name": "r", "source_match": {"severity": "critical"},
                           "target_match": {"lead_department": ["fgw"]}}], NAMES)
    assert rule == InhibitRule("r", {"severity": frozenset({"critical"})}, {"lead_department": frozenset({"fgw"})})


def test_an_alerts_labels() -> None:
    """What a rule can match on, for a notification of a feeder target's status change."""
    event = TargetStatusChanged(
        target_id="major_project_investment", indicator=None, kind="cumulative_total", status="behind",
        lead_department="fgw", region="wuxi", period="2024-M06", section="1", **EVENT_REST)
    assert labels_of(event, severity="warning", headline="fixed_asset_investment_total", notification="reminder",
                     department="jxj") == {
        "target": "major_project_investment", "indicator": "", "kind": "cumulative_total", "severity": "warning",
        "status": "behind", "notification": "reminder", "department": "jxj", "lead_department": "fgw",
        "region": "wuxi", "year": "2024", "section": "1", "headline": "fixed_asset_investment_total"}
    assert labels_of(event.model_copy(update={"indicator": "major_project_investment"}), severity="ok", headline="",
                     notification="resolved", department="fgw")["indicator"] == "major_project_investment"


def test_no_rules_no_inhibition_and_every_label_is_known_to_matchers() -> None:
    assert Routing.parse({}, NAMES, SECTIONS).inhibit_rules == ()
    every = {label: ["critical" if label == "severity" else "fgw" if "department" in label else "x"]
             for label in LABELS if label not in ("notification", "kind", "section", "region")}
    [rule] = parse_rules([_rule(source_match=every)], NAMES)
    assert set(rule.source) == set(every)


# Which open alerts are read as possible sources (a necessary condition; inhibited_by still decides): the source
# matchers on what the alerts table stores, and equal on target or headline narrowed to the targets that can match.
def _feeding(headline: str) -> frozenset[str]:
    return {"fixed_asset_investment_total": frozenset({"fixed_asset_investment_total", "major_project_investment"}),
            "gdp_growth": frozenset({"gdp_growth"})}.get(headline, frozenset())


SAME_TARGET = InhibitRule("same-target", {"notification": frozenset({"overdue"})},
                          {"notification": frozenset({"reminder"})}, equal=("target",))
NAMED = InhibitRule("named", {"target": frozenset({"gdp_growth", "fixed_asset_investment_total"})},
                    {"severity": frozenset({"warning"})}, equal=("target",))


@pytest.mark.parametrize(("rule", "notices", "expected"), [
    pytest.param(HEADLINE, [FEEDER], SourceFilter(frozenset({"critical"}), frozenset({"headline"}), frozenset(
        {"fixed_asset_investment_total", "major_project_investment"})), id="headline-rule-feeder-warning"),
    pytest.param(HEADLINE, [FEEDER, {**FEEDER, "headline": "gdp_growth"}], SourceFilter(
        frozenset({"critical"}), frozenset({"headline"}),
        frozenset({"fixed_asset_investment_total", "major_project_investment", "gdp_growth"})),
        id="two-headlines-both-families"),
    pytest.param(HEADLINE, [{**FEEDER, "severity": "critical"}], None, id="no-notice-held-by-the-rule"),
    pytest.param(HEADLINE, [{**FEEDER, "headline": ""}], SourceFilter(frozenset({"critical"}),
                                                                       frozenset({"headline"}), None),
                 id="no-headline-no-narrowing-by-it"),
    pytest.param(SAME_TARGET, [{**FEEDER, "notification": "reminder"}], SourceFilter(
        None, None, frozenset({"major_project_investment"})), id="equal-target-its-own-targets"),
    pytest.param(NAMED, [FEEDER], SourceFilter(None, None, frozenset()), id="named-sources-none-of-the-notices"),
    pytest.param(NAMED, [{**FEEDER, "target": "gdp_growth"}], SourceFilter(None, None, frozenset({"gdp_growth"})),
                 id="named-sources-and-equal-target"),
])
def test_which_open_alerts_are_read_as_sources(rule: InhibitRule, notices: list[dict[str, str]],
                                               expected: SourceFilter | None) -> None:
    assert source_filter(rule, notices, _feeding) == expected


def test_the_filter_never_leaves_out_a_source_that_inhibits() -> None:
    # Every (rule, notice, source) of the table above that inhibits passes its rule's filter.
    candidates = [Source("a", FAI), Source("c", {**FAI, "target": "gdp_growth", "headline": "gdp_growth"}),
                  Source("d", {**FEEDER, "notification": "overdue"})]
    inhibiting = 0
    for rule in (HEADLINE, SAME_TARGET, NAMED):
        for notice in (FEEDER, {**FEEDER, "notification": "reminder"}, {**FEEDER, "headline": "gdp_growth"},
                       {**FEEDER, "target": "gdp_growth"}):
            f = source_filter(rule, [notice], _feeding)
            for s in candidates:
                if inhibited_by([rule], "b", notice, [s]) is None:
                    continue
                assert f is not None, (rule.name, notice)
                inhibiting += 1
                lb = s.labels
                assert f.severities is None or lb["severity"] in f.severities, (rule.name, s)
                assert f.sections is None or lb["section"] in f.sections, (rule.name, s)
                assert f.target_ids is None or lb["target"] in f.target_ids, (rule.name, s)
    assert inhibiting >= 3  # the check saw every rule hold a notice back
