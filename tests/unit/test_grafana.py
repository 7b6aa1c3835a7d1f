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


# ---------------------------------------------------------------------------------------------------------
# Panels that draw right (issue 14): mistakes a Grafana server shows only as wrong pictures, never as errors.

SINGLE_VALUE_PANELS = {"stat", "gauge", "piechart", "bargauge"}
ID_LABELS = {"department", "section", "target", "status", "severity"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def drawing_problems(panel: dict) -> list[str]:
    """What would make this panel draw wrongly, or show ids to a Chinese-reading user."""
    problems = []
    title = panel.get("title", "")
    if not _CJK.search(title):
        problems.append(f"{title!r}: no Chinese title")
    if panel["type"] == "row":
        return problems
    targets = panel.get("targets", [])
    if panel["type"] in SINGLE_VALUE_PANELS:
        # A table-format frame, or reduceOptions without values: false, is reduced to one "Value" in all.
        reduce = panel.get("options", {}).get("reduceOptions", {})
        if reduce.get("values") is not False or not reduce.get("calcs"):
            problems.append(f"{title}: reduceOptions must say values: false and a calculation")
        if any(t.get("format", "time_series") != "time_series" for t in targets):
            problems.append(f"{title}: a single-value panel needs time_series frames, not tables")
    unit = str(panel.get("fieldConfig", {}).get("defaults", {}).get("unit", ""))
    # Grafana's dateTime units read milliseconds; the metrics are seconds (1970 dates otherwise).
    if unit.startswith("dateTime") and not all(t["expr"].lstrip("( ").startswith("1000 *") for t in targets):
        problems.append(f"{title}: a dateTime unit on seconds")
    for t in [t for t in targets if "evaluator_" in t["expr"]]:  # (an HTTP status is no id)
        ids = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", ""))) & ID_LABELS
        if ids:
            problems.append(f"{title}: the legend shows ids {sorted(ids)}, not names")
    for tr in panel.get("transformations", []):
        if tr["id"] == "organize":
            # Table columns come from the query's labels; id columns must be hidden when names are shown.
            expr = " ".join(t["expr"] for t in targets)
            shown = {label for label in ID_LABELS if re.search(rf"\b{label}_name\b", expr)}
            hidden = set(tr["options"].get("excludeByName", {}))
            if shown - hidden:
                problems.append(f"{title}: shows the id columns {sorted(shown - hidden)}")
    return problems


def test_every_panel_draws_right() -> None:
    problems = [f"{path.name}: {p}" for path in DASHBOARDS
                for panel in json.loads(path.read_text())["panels"] for p in drawing_problems(panel)]
    assert not problems, problems


def test_the_drawing_check_finds_what_issue_14_found() -> None:
    def stat(**changes: object) -> dict:
        reduce = {"values": False, "calcs": ["lastNotNull"]}
        panel = {"type": "stat", "title": "在线副本数", "options": {"reduceOptions": reduce},
                 "targets": [{"expr": "up", "legendFormat": "{{job}}"}], "fieldConfig": {"defaults": {}}}
        return {**panel, **changes}

    assert drawing_problems(stat()) == []
    assert drawing_problems(stat(title="Replicas up"))
    assert drawing_problems(stat(options={"reduceOptions": {"calcs": ["lastNotNull"]}}))
    assert drawing_problems(stat(targets=[{"expr": "up", "format": "table"}]))
    by_id = {"expr": "evaluator_target_progress_ratio", "legendFormat": "{{department}}"}
    assert drawing_problems(stat(targets=[by_id]))
    assert drawing_problems({"type": "table", "title": "最新偏差",
                             "fieldConfig": {"defaults": {"unit": "dateTimeAsIso"}},
                             "targets": [{"expr": "max(evaluator_target_status_changed_timestamp_seconds)"}]})


def test_the_targets_dashboard_spans_a_year() -> None:
    board = json.loads((REPO / "deploy" / "grafana" / "dashboards" / "targets-2024.json").read_text())
    assert board["time"]["from"] == "now-1y", board["time"]
