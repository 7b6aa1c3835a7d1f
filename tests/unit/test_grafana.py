"""The Grafana provisioning and dashboards hang together: datasource uid, ids, layout, template variables."""

from __future__ import annotations

import json
import re

import yaml

from tests.promql_names import DASHBOARDS, REPO

PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"


def test_the_two_dashboards_exist_with_unique_uids() -> None:
    boards = [json.loads(p.read_text()) for p in DASHBOARDS]
    assert {b["uid"] for b in boards} == {"wuxi-pipeline-health", "wuxi-targets-2024"}
    assert len({b["title"] for b in boards}) == len(boards)


def test_panels_use_the_provisioned_datasource_and_fit_the_grid() -> None:
    [datasource] = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        cells: set[tuple[int, int]] = set()
        for panel in board["panels"]:
            g = panel["gridPos"]
            assert g["x"] >= 0 and g["x"] + g["w"] <= 24, f"{path.name}: {panel['title']} leaves the grid"
            area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
            assert not area & cells, f"{path.name}: {panel['title']} overlaps another panel"
            cells |= area
            if panel["type"] == "row":
                continue
            assert panel["targets"], f"{path.name}: {panel['title']} has no query"
            for t in [panel, *panel["targets"]]:
                assert t["datasource"]["uid"] == datasource["uid"]


def test_template_variables_used_are_defined() -> None:
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        defined = {v["name"] for v in board.get("templating", {}).get("list", [])}
        used = set(re.findall(r"\$(?!__)(\w+)", path.read_text()))
        assert used <= defined, f"{path.name}: undefined variables {sorted(used - defined)}"


def test_the_dashboards_provider_points_where_compose_mounts_them() -> None:
    [provider] = yaml.safe_load((PROVISIONING / "dashboards" / "wuxi.yml").read_text())["providers"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in compose["services"]["grafana"]["volumes"]
