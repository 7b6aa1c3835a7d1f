"""docker-compose.yml is consistent with the code, the scrape configuration and the secrets policy.

There is no Docker engine on the machines that run these tests, so the compose file is checked statically:
every setting a service needs is set and valid, images are pinned, ports agree with Prometheus, secrets
have no defaults, health checks back every depends_on condition.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APPS = ("ingest", "evaluator", "alerts")
SETTINGS = {"ingest": "IngestSettings", "evaluator": "EvaluatorSettings", "alerts": "AlertsSettings"}
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def settings_class(app: str) -> type[BaseSettings]:
    return getattr(importlib.import_module(f"services.{app}.config"), SETTINGS[app])


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def interpolate(value: str) -> str:
    """What compose makes of a value: defaults where given, a placeholder for each required variable."""
    return _VAR.sub(lambda m: m["arg"] if m["op"] == ":-" else f"set-{m['name'].lower()}", value)


def container_port(mapping: str) -> int:
    return int(str(mapping).rsplit(":", 1)[1].split("/")[0])


@pytest.mark.parametrize("app", APPS)
def test_every_setting_the_service_needs_is_set_and_valid(app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cls = settings_class(app)
    prefix = cls.model_config["env_prefix"]
    env = environment(app)
    fields = {prefix + name.upper(): f for name, f in cls.model_fields.items()}
    required = {var for var, f in fields.items() if f.is_required()}
    # Required by the settings class, and what a container needs besides: its database, Kafka, and to listen
    # on every interface on the port the scrape configuration uses.
    needed = required | {f"{prefix}{n}" for n in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "HOST", "PORT")}
    assert needed <= env.keys(), f"{app}: not set: {sorted(needed - env.keys())}"
    unknown = {k for k in env if k.startswith(prefix)} - fields.keys()
    assert not unknown, f"{app}: {sorted(unknown)} are no settings of {cls.__name__} (typo?)"
    for key in fields:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, interpolate(value))
    settings = cls()  # as the container would read it
    assert settings.host == "0.0.0.0"
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.database_url.startswith("postgresql://") and "@postgres:5432/" in settings.database_url


def test_each_service_has_its_own_database_created_at_init() -> None:
    init = (REPO / "deploy" / "postgres-init.sql").read_text()
    names = [environment(app)[f"{app.upper()}_DATABASE_URL"].rsplit("/", 1)[1] for app in APPS]
    assert len(set(names)) == len(APPS)
    for name in names:
        assert f"CREATE DATABASE {name};" in init


def test_images_are_pinned() -> None:
    for name, svc in SERVICES.items():
        image = svc.get("image")
        assert image, f"{name}: no image"
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image!r} is not pinned"
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            image = line.split()[1]
            assert ":" in image and not image.endswith(":latest"), f"Dockerfile: {image} is not pinned"


def test_secrets_come_from_the_environment_with_no_default() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    secret_vars = set()
    for m in _VAR.finditer(text):
        if re.search(r"PASSWORD|SECRET|TOKEN|KEY", m["name"]):
            secret_vars.add(m["name"])
            assert m["op"] == ":?", f"${{{m['name']}}} must be required (':?'), never defaulted"
    assert {"POSTGRES_PASSWORD", "ALERTS_WEBHOOK_SECRET", "GRAFANA_ADMIN_PASSWORD"} <= secret_vars
    for name in SERVICES:
        for key, value in environment(name).items():
            if re.search(r"PASSWORD|SECRET", key):
                assert _VAR.fullmatch(value), f"{name}: {key} is a literal, not taken from the environment"


def test_ports_agree_with_the_scrape_configuration_and_the_health_checks() -> None:
    prometheus = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert set(jobs) == set(APPS)
    for app in APPS:
        port = int(environment(app)[f"{app.upper()}_PORT"])
        [sd] = jobs[app]["dns_sd_configs"]
        assert sd["names"] == [app] and sd["port"] == port, f"Prometheus scrapes {app} elsewhere than :{port}"
        assert all(container_port(p) == port for p in SERVICES[app]["ports"])
        assert f"127.0.0.1:{port}/readyz" in " ".join(SERVICES[app]["healthcheck"]["test"])
        command = SERVICES[app]["command"]
        assert command[:3] == ["python", "-m", f"services.{app}"] and "--port" not in command
    datasource = yaml.safe_load(
        (REPO / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    assert "9090:9090" in SERVICES["prometheus"]["ports"]


def test_host_ports_do_not_collide() -> None:
    used: dict[int, str] = {}
    for name, svc in SERVICES.items():
        for mapping in svc.get("ports", []):
            host = str(mapping).rsplit(":", 1)[0].split(":")[-1]
            lo, _, hi = host.partition("-")
            for port in range(int(lo), int(hi or lo) + 1):
                assert port not in used, f"host port {port}: {name} and {used[port]}"
                used[port] = name


def test_depends_on_conditions_are_backed_by_health_checks() -> None:
    for app in APPS:
        deps = SERVICES[app]["depends_on"]
        assert deps["kafka"] == {"condition": "service_healthy"}
        assert deps["postgres"] == {"condition": "service_healthy"}
    for name, svc in SERVICES.items():
        assert "healthcheck" in svc, f"{name} has no health check"
        for dep, cond in svc.get("depends_on", {}).items():
            assert dep in SERVICES, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dep]
    assert SERVICES["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_kafka_is_apache_kafka_in_kraft_mode_without_auto_created_topics() -> None:
    kafka = SERVICES["kafka"]
    env = environment("kafka")
    assert kafka["image"].startswith("apache/kafka:")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert any(v.endswith(":" + env["KAFKA_LOG_DIRS"]) for v in kafka["volumes"])


def test_mounted_files_exist() -> None:
    mounts: list[Any] = [v for svc in SERVICES.values() for v in svc.get("volumes", [])]
    binds = [str(v).split(":")[0] for v in mounts if str(v).startswith("./")]
    assert len(binds) >= 5
    for path in binds:
        assert (REPO / path).exists(), f"{path} is mounted but missing"
    provider = yaml.safe_load((REPO / "deploy" / "grafana" / "provisioning" / "dashboards" / "wuxi.yml").read_text())
    dashboards_in_container = provider["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{dashboards_in_container}:ro" in SERVICES["grafana"]["volumes"]
