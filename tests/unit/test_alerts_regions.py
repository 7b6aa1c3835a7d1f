"""Alerts per region: a district's departments are in the directory and routing, escalate up to the city, and
rules may match the target's region."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.alerts.domain.directory import Directory, DirectoryError, Routing
from services.alerts.timed import chain_of
from shared.catalogue import Catalogues, load_catalogues
from shared.catalogue.loader import DEFAULT_PATH
from shared.catalogue.model import SECTIONS
from shared.messages import Severity

JIANGYIN = Path(__file__).parents[1] / "fixtures" / "catalogues" / "jiangyin_2024.toml"


@pytest.fixture
def catalogues(tmp_path: Path) -> Catalogues:
    shutil.copy(DEFAULT_PATH, tmp_path / "catalogue_2024.toml")
    shutil.copy(JIANGYIN, tmp_path / "jiangyin_2024.toml")
    return load_catalogues(tmp_path)


def _names(c: Catalogues) -> dict[str, str]:
    return {d: c.department_name(d) for d in c.departments}


def test_a_districts_department_escalates_up_to_the_city(catalogues: Catalogues) -> None:
    assert chain_of(catalogues, "jiangyin_fgw") == ["jiangyin_gov_office", "gov_office"]
    assert chain_of(catalogues, "fgw") == ["gov_office"]  # the city's own chain is unchanged


def test_the_directory_takes_a_districts_departments(catalogues: Catalogues) -> None:
    doc = {"department": [{"id": "jiangyin_fgw", "channels": [{"type": "wecom", "address_env": "NOTIFY_JY_FGW"}]}]}
    directory = Directory.parse(doc, _names(catalogues))
    assert [c.address_env for c in directory.channels("jiangyin_fgw")] == ["NOTIFY_JY_FGW"]
    with pytest.raises(DirectoryError, match=r"department 'yixing_fgw': field 'id': not a department"):
        Directory.parse({"department": [{"id": "yixing_fgw"}]}, _names(catalogues))


def test_routing_goes_to_the_targets_own_departments_and_may_match_its_region(catalogues: Catalogues) -> None:
    doc = {"rule": [{"name": "jiangyin-critical", "match": {"region": ["jiangyin"], "severity": ["critical"]},
                     "add_departments": ["jiangyin_gov_office"]}]}
    routing = Routing.parse(doc, _names(catalogues), SECTIONS)
    target = catalogues.targets["jiangyin.2024.gdp_growth"]
    r = routing.recipients(severity=Severity.CRITICAL, section=target.section, target_id=target.id,
                           lead=target.lead_department, co=target.co_departments, region="jiangyin")
    assert [(x.department, x.reason) for x in r] == [
        ("jiangyin_fgw", "lead"), ("jiangyin_stats", "co"), ("jiangyin_gov_office", "rule:jiangyin-critical")]
    city = routing.recipients(severity=Severity.CRITICAL, section="headline", target_id="gdp_growth", lead="fgw",
                              co=("stats",), region="wuxi")
    assert [x.department for x in city] == ["fgw", "stats"]


def test_a_rule_naming_an_unknown_region_names_the_rule_and_field(catalogues: Catalogues) -> None:
    doc = {"rule": [{"name": "atlantis", "match": {"region": ["atlantis"]}, "add_departments": ["gov_office"]}]}
    with pytest.raises(DirectoryError, match=r"routing rule 'atlantis': field 'match\.region': 'atlantis'"):
        Routing.parse(doc, _names(catalogues), SECTIONS)
