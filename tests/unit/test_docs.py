"""The README stays true: every setting the services read, every file path, command and HTTP route it names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.alerts.config import AlertsSettings
from services.evaluator.config import EvaluatorSettings
from services.ingest.config import IngestSettings
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("services/", "shared/", "docs/", "deploy/", "devstack/", "benchmarks/", "tests/", ".ci/")
ROOT_FILES = {"SECURITY.md", "CONTRIBUTING.md", "README.md", "Dockerfile", "docker-compose.yml", "pyproject.toml",
              "requirements.lock", "requirements-dev.lock", "dev"}
PLACEHOLDER = re.compile(r"[<{*…]|\.\.\.")


@pytest.mark.parametrize("cls", [IngestSettings, EvaluatorSettings, AlertsSettings])
def test_every_setting_is_in_the_readme(cls: type[ServiceSettings]) -> None:
    prefix = cls.model_config["env_prefix"]
    missing = []
    for name in cls.model_fields:
        env = f"{prefix}{name.upper()}"
        common = name in ServiceSettings.model_fields and f"`<P>{name.upper()}`" in README
        if f"`{env}`" not in README and not common:
            missing.append(env)
    assert not missing, f"settings missing from README.md: {missing}"


def _mentioned_paths(text: str) -> set[str]:
    """Repository paths in backticks and link targets: the first word of each, without anchors."""
    found: set[str] = set()
    for raw in [*re.findall(r"`([^`\n]+)`", text), *re.findall(r"\]\(([^)\s]+)\)", text)]:
        token = raw.split()[0].split("#")[0] if raw.split() else ""
        token = token.removeprefix("./")
        if token and (token.startswith(TOP) or token in ROOT_FILES) and not PLACEHOLDER.search(token):
            found.add(token.rstrip(".,;:"))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_the_docs_name_exists(doc: Path) -> None:
    base = doc.parent if doc.parent != ROOT else ROOT
    missing = [p for p in sorted(_mentioned_paths(doc.read_text(encoding="utf-8")))
               if not (ROOT / p).exists() and not (base / p).exists()]
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"


def _commands(text: str) -> set[tuple[str, ...]]:
    """``python -m module [subcommand]`` as written in the docs (placeholders left out)."""
    out: set[tuple[str, ...]] = set()
    for m in re.finditer(r"python -m ([\w.]+)(?: ([a-z][\w-]*))?", text):
        module, sub = m.group(1), m.group(2)
        if module in ("pytest", "pip", "venv", "devstack", "devstack.drill"):
            continue  # tools, and ./dev's own entry points (checked below)
        out.add((module, sub) if sub else (module,))
    return out


def test_every_documented_python_command_runs() -> None:
    commands = set().union(*(_commands(d.read_text(encoding="utf-8")) for d in DOCS))
    assert ("services.ingest.manage", "issue") in commands and ("shared.redrive", "observations") in commands
    failing = []
    for cmd in sorted(commands):
        module = cmd[0]
        if module.startswith("services.") and module.count(".") == 1:
            continue  # `python -m services.ingest` starts the service; its CLI is shared.app.serve's
        r = subprocess.run([sys.executable, "-m", *cmd, "--help"], cwd=ROOT, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            failing.append((" ".join(cmd), r.stderr.strip().splitlines()[-1:]))
    assert not failing, f"documented commands that do not run: {failing}"


def test_every_documented_dev_command_exists() -> None:
    script = (ROOT / "dev").read_text(encoding="utf-8")
    known = set(re.findall(r"^  ([a-z]+)\)$", script, flags=re.MULTILINE))
    documented = set(re.findall(r"\./dev ([a-z]+)", README))
    assert documented and documented <= known, f"./dev commands in the README that do not exist: {documented - known}"


def _apps() -> list[FastAPI]:
    from services.alerts.main import create_app as create_alerts
    from services.evaluator.main import create_app as create_evaluator
    from services.ingest.main import create_app as create_ingest

    common = {"database_url": "sqlite://", "kafka_bootstrap_servers": "127.0.0.1:1"}
    return [create_ingest(IngestSettings(admin_token="t", **common), registry=CollectorRegistry()),
            create_evaluator(EvaluatorSettings(**common), registry=CollectorRegistry()),
            create_alerts(AlertsSettings(webhook_secret="s", **common), registry=CollectorRegistry())]


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_documented_http_route_is_served() -> None:
    # The OpenAPI documents are the contract (and list the routes of included routers).
    served = {(m.upper(), _template(p)) for app in _apps() for p, ops in app.openapi()["paths"].items() for m in ops}
    documented: set[tuple[str, str]] = set()
    for methods, path in re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE)(?:\|[A-Z]+)*) (/[^\s`]*)", README):
        path = path.split("?")[0]
        variants = [re.sub(r"\[([^\]]*)\]", "", path), re.sub(r"\[([^\]]*)\]", r"\1", path)]
        for method in methods.split("|"):
            for p in variants:
                documented.add((method, _template(p)))
    assert len(documented) >= 30
    missing = sorted(documented - served)
    assert not missing, f"the README documents routes no service serves: {missing}"
