"""The dashboards against Grafana's published schema: the dashboard and panel types of @grafana/schema (the
Grafana version compose runs), checked by the TypeScript compiler.

Each dashboard JSON becomes a TypeScript constant typed with ``DashboardJson`` (tests/grafana_schema/
dashboard_types.ts), so a misspelt or unknown field, a wrong type or a value outside an option's set fails
with the compiler's message. ``./dev test`` installs the two npm packages (``npm ci`` in tests/grafana_schema,
pinned with integrity hashes in its package-lock.json); no Grafana server is needed.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from tests.promql_names import DASHBOARDS, REPO

SCHEMA = REPO / "tests" / "grafana_schema"
TSC = SCHEMA / "node_modules" / "typescript" / "bin" / "tsc"


def typecheck(dashboards: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run tsc on the given dashboards (name -> JSON text); returns the compiler's result."""
    node = shutil.which("node")
    assert node, "node is missing: ./dev test installs Debian's nodejs"
    assert TSC.exists(), f"{TSC} is missing: run ./dev test (or npm ci --prefix {SCHEMA})"
    generated = SCHEMA / ".generated"
    shutil.rmtree(generated, ignore_errors=True)
    generated.mkdir()
    for name, text in dashboards.items():
        const = name.replace("-", "_")
        (generated / f"{const}.ts").write_text("import type { DashboardJson } from '../dashboard_types';\n\n"
                                               f"export const {const}: DashboardJson = {text};\n")
    return subprocess.run([node, str(TSC), "-p", str(SCHEMA / "tsconfig.json")], capture_output=True, text=True,
                          timeout=120)


def test_the_schema_is_grafanas_of_the_version_compose_runs() -> None:
    lock = json.loads((SCHEMA / "package-lock.json").read_text())
    schema = lock["packages"]["node_modules/@grafana/schema"]
    compose = (REPO / "docker-compose.yml").read_text()
    assert f"grafana/grafana:{schema['version']}" in compose
    assert schema["integrity"].startswith("sha512-")


def test_the_dashboards_pass_grafanas_schema() -> None:
    r = typecheck({p.stem: p.read_text() for p in DASHBOARDS})
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_schema_check_can_fail() -> None:
    board = json.loads(DASHBOARDS[0].read_text())
    stat = next(p for p in board["panels"] if p["type"] == "stat")
    stat["options"]["reduceOption"] = stat["options"].pop("reduceOptions")  # misspelt
    bargauge = {**stat, "id": 999, "type": "bargauge", "options": {"displayMode": "fancy"}}  # not one of its modes
    board["panels"].append(bargauge)
    board["graphTooltip"] = "shared"  # a number in the schema
    r = typecheck({"broken": json.dumps(board, ensure_ascii=False)})
    assert r.returncode != 0
    for expected in ("'\"reduceOption\"' does not exist", "'\"fancy\"' is not assignable", "DashboardCursorSync"):
        assert expected in r.stdout, r.stdout
