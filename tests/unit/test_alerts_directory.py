"""The department directory and routing files: the shipped ones load; broken ones name the entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.alerts.adapters.datafiles import load_directory, load_routing
from services.alerts.config import DATA
from services.alerts.domain.directory import ChannelType, Directory, DirectoryError, Routing
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


@pytest.mark.parametrize(("doc", "message"), [
    ({"department": [{"id": "nope"}]}, "department 'nope': field 'id': not a department of the catalogue"),
    ({"department": [{"id": "fgw", "channels": [{"type": "wecom", "address_env": "lower"}]}]},
     "department 'fgw': field 'channels.0.address_env'"),
    ({"department": [{"id": "fgw", "channels": [{"type": "wecom", "address_env": "A", "secret_env": "B"}]}]},
     "secret_env only applies to webhook, dingtalk and feishu"),
    ({"department": [{"id": "fgw", "channels": [{"type": "pager", "address_env": "A"}]}]},
     "field 'channels.0.type'"),
    ({"department": [{"id": "fgw"}, {"id": "fgw"}]}, "department 'fgw': field 'id': defined twice"),
    ({"department": [{"id": "fgw", "phone": "123"}]}, "department 'fgw': field 'phone'"),
    ({"departments": []}, "field 'departments': unknown"),
])
def test_broken_directory_names_entry_and_field(doc: dict, message: str) -> None:
    with pytest.raises(DirectoryError) as err:
        Directory.parse(doc, NAMES)
    assert message in str(err.value)


@pytest.mark.parametrize(("doc", "message"), [
    ({"rule": [{"name": "x", "add_departments": ["nobody"]}]},
     "routing rule 'x': field 'add_departments': 'nobody' is not known"),
    ({"rule": [{"name": "x", "match": {"section": ["99"]}, "add_departments": ["fgw"]}]},
     "routing rule 'x': field 'match.section'"),
    ({"rule": [{"name": "x", "match": {"severity": ["bad"]}, "add_departments": ["fgw"]}]},
     "rule 'x': field 'match.severity.0'"),
    ({"rule": [{"name": "x", "add_departments": ["fgw"], "continue": True}]}, "rule 'x': field 'continue'"),
    ({"rule": [{"name": "x", "add_departments": []}]}, "rule 'x': field 'add_departments'"),
    ({"rule": [{"name": "x", "add_departments": ["fgw"]}, {"name": "x", "add_departments": ["fgw"]}]},
     "routing rule 'x': field 'name': defined twice"),
    ({"channels": ["sms"]}, "field 'channels.0'"),
])
def test_broken_routing_names_rule_and_field(doc: dict, message: str) -> None:
    with pytest.raises(DirectoryError) as err:
        Routing.parse(doc, NAMES, SECTIONS)
    assert message in str(err.value)


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
