"""docker-compose.yml is consistent with the code, the scrape configuration and the secrets policy.

There is no Docker engine on the machines that run these tests, so the compose file is checked statically
against the services' settings classes: every setting of every service can be passed (compose sets it, .env
does, or a secret file does), what compose sets is valid, each service connects as its own database role,
secrets are files and never environment values, the Kafka clients are tuned for Apache Kafka, images are
pinned, ports agree with Prometheus, health checks back every depends_on condition.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from devstack.env_example import APPS, compose_environment, is_secret, render, settings_class

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ENV_EXAMPLE = (REPO / ".env.example").read_text()
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
KAFKA_IMAGE_DEFAULT_CLUSTER_ID = "5L6g3nShT-eMCtK--X86sw"  # apache/kafka's, when CLUSTER_ID is not set


def environment(service: str) -> dict[str, str]:
    return compose_environment(service)


def interpolate(value: str) -> str:
    """What compose makes of a value: defaults where given, a placeholder for each required variable."""
    return _VAR.sub(lambda m: m["arg"] if m["op"] == ":-" else f"set-{m['name'].lower()}", value)


def container_port(mapping: str) -> int:
    return int(str(mapping).rsplit(":", 1)[1].split("/")[0])


def secret_files() -> dict[str, str]:
    """Top-level secret name -> its file."""
    return {name: spec["file"] for name, spec in COMPOSE["secrets"].items()}


def settings_as_the_container_reads_them(app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app's settings from compose's environment, with each /run/secrets file made in tmp_path."""
    cls = settings_class(app)
    prefix = str(cls.model_config["env_prefix"])
    import os

    for key in list(os.environ):
        if key.startswith(prefix):
            monkeypatch.delenv(key)
    for key, value in environment(app).items():
        value = interpolate(value)
        if key.endswith("_FILE") and value.startswith("/run/secrets/"):
            path = tmp_path / value.rsplit("/", 1)[1]
            field = cls.model_fields[key.removeprefix(prefix).removesuffix("_FILE").lower()]
            # A mapping of secrets (ALERTS_WEBHOOK_SECRETS) is JSON, as deploy/make-secrets.sh writes it.
            content = f"{path.name}-value: p@ss/w:rd#?%"
            if "dict" in str(field.annotation):
                content = '{"fgw": "p@ss/w:rd#?%"}'

            path.write_text(content + "\n")
            value = str(path)
        monkeypatch.setenv(key, value)
    return cls()


@pytest.mark.parametrize("app", APPS)
def test_every_setting_of_every_service_can_be_passed(app: str) -> None:
    cls = settings_class(app)
    prefix = str(cls.model_config["env_prefix"])
    env = environment(app)
    assert SERVICES[app]["env_file"] == ".env", f"{app}: .env is not passed to the service"
    unpassable = []
    for name in cls.model_fields:
        var = f"{prefix}{name.upper()}"
        in_compose = var in env or f"{var}_FILE" in env
        in_env_file = re.search(rf"^#? ?{var}=", ENV_EXAMPLE, re.M) is not None
        if not in_compose and not in_env_file:
            unpassable.append(var)
    assert not unpassable, f"{app}: neither compose nor .env.example passes {unpassable}"
    unknown = {k.removesuffix("_FILE") for k in env if k.startswith(prefix)} - {
        f"{prefix}{n.upper()}" for n in cls.model_fields}
    assert not unknown, f"{app}: {sorted(unknown)} are no settings of {cls.__name__} (typo?)"


def test_env_example_is_generated_from_the_settings_the_compose_file_and_the_directory() -> None:
    assert render() == ENV_EXAMPLE, "run: python -m devstack.env_example > .env.example"


def test_every_channel_of_the_directory_is_in_env_example() -> None:
    directory = (REPO / "services" / "alerts" / "data" / "directory.toml").read_text()
    variables = set(re.findall(r"\b(NOTIFY_[A-Z0-9_]+)\b", directory))
    assert len(variables) > 100
    assert not {v for v in variables if f"# {v}=" not in ENV_EXAMPLE}


@pytest.mark.parametrize("app", APPS)
def test_what_compose_sets_is_valid(app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_as_the_container_reads_them(app, tmp_path, monkeypatch)
    assert settings.host == "0.0.0.0" and settings.port == 8000
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    url = make_url(settings.database_url)
    # its own role, its own database; the password from the secret file, percent-encoded into the URL
    assert (url.drivername, url.username, url.host, url.port, url.database) == ("postgresql", app, "postgres", 5432,
                                                                              app)
    assert url.password == f"{app}_db_password-value: p@ss/w:rd#?%"


def test_each_service_connects_as_its_own_role_owning_only_its_database() -> None:
    init = (REPO / "deploy" / "postgres" / "init.sh").read_text()
    sql = (REPO / "deploy" / "postgres" / "service-database.sql").read_text()
    assert re.search(r"for service in ingest evaluator alerts; do", init)
    assert "NOSUPERUSER NOCREATEDB NOCREATEROLE" in sql and "OWNER %I" in sql and "FROM PUBLIC" in sql
    postgres = SERVICES["postgres"]
    assert set(postgres["environment"]) == {"POSTGRES_PASSWORD_FILE"}
    for app in APPS:
        env = environment(app)
        url = env[f"{app.upper()}_DATABASE_URL"]
        assert make_url(url).username == app and make_url(url).password is None, f"{app}: {url}"
        assert env[f"{app.upper()}_DATABASE_PASSWORD_FILE"] == f"/run/secrets/{app}_db_password"
        assert f"{app}_db_password" in SERVICES[app]["secrets"] and f"{app}_db_password" in postgres["secrets"]
    mounts = " ".join(postgres["volumes"])
    assert "./deploy/postgres/init.sh:/docker-entrypoint-initdb.d/" in mounts
    assert "./deploy/postgres/service-database.sql:/etc/wuxi-targets/service-database.sql" in mounts


def test_secrets_are_files_never_environment_values() -> None:
    files = secret_files()
    assert all(f == f"./secrets/{name}" for name, f in files.items())
    for app in APPS:
        cls = settings_class(app)
        prefix = str(cls.model_config["env_prefix"])
        env = environment(app)
        for name, field in cls.model_fields.items():
            var = f"{prefix}{name.upper()}"
            if is_secret(field.annotation):
                assert var not in env, f"{app}: {var} in the environment"
                path = env.get(f"{var}_FILE", "")
                assert path.startswith("/run/secrets/"), f"{app}: {var} is not given as a secret file"
                secret = path.rsplit("/", 1)[1]
                assert secret in SERVICES[app]["secrets"] and secret in files
    for name in SERVICES:
        for key, value in environment(name).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), f"{name}: {key}={value}"
    # every ${…} that could carry a secret is required, never defaulted
    text = (REPO / "docker-compose.yml").read_text()
    for m in _VAR.finditer(text):
        if re.search(r"PASSWORD|SECRET|TOKEN|KEY", m["name"]):
            assert m["op"] == ":?", f"${{{m['name']}}} must be required (':?'), never defaulted"
    # deploy/make-secrets.sh makes every random one; the operator writes the webhook URL
    script = (REPO / "deploy" / "make-secrets.sh").read_text()
    assert all(name in script for name in files), [n for n in files if n not in script]
    assert (REPO / ".gitignore").read_text().count("secrets/*") == 1


def test_alerts_needs_its_public_url_and_reads_who_is_told_from_mounted_configuration() -> None:
    env = environment("alerts")
    assert _VAR.fullmatch(env["ALERTS_PUBLIC_URL"])["op"] == ":?"  # type: ignore[index]
    targets = {c["source"]: c["target"] for c in SERVICES["alerts"]["configs"]}
    assert env["ALERTS_DIRECTORY_PATH"] == targets["alerts_directory"]
    assert env["ALERTS_ROUTING_PATH"] == targets["alerts_routing"]
    for spec in COMPOSE["configs"].values():
        assert (REPO / interpolate(spec["file"])).is_file(), spec


@pytest.mark.parametrize("app", ["evaluator", "alerts"])
def test_kafka_clients_are_tuned_for_apache_kafka(app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings_as_the_container_reads_them(app, tmp_path, monkeypatch)
    # Apache Kafka's group.min/max.session.timeout.ms are 6 s and 30 min; heartbeats at most a third of it.
    assert 6000 <= s.kafka_session_timeout_ms <= 1_800_000
    assert s.kafka_heartbeat_interval_ms * 3 <= s.kafka_session_timeout_ms
    # Kafka answers a fetch when data arrives; a wait tuned for the local broker (20 ms) only spins.
    assert s.kafka_fetch_max_wait_ms >= 100
    tansu = settings_class(app).model_fields["kafka_fetch_max_wait_ms"].default
    assert s.kafka_fetch_max_wait_ms != tansu  # compose does not keep the local broker's tuning


def test_kafka_is_apache_kafka_in_kraft_mode_with_its_own_cluster_id() -> None:
    kafka = SERVICES["kafka"]
    env = environment("kafka")
    assert kafka["image"].startswith("apache/kafka:")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert any(v.endswith(":" + env["KAFKA_LOG_DIRS"]) for v in kafka["volumes"])
    cluster_id = interpolate(env["CLUSTER_ID"])
    assert cluster_id != KAFKA_IMAGE_DEFAULT_CLUSTER_ID
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16  # a UUID, as kafka-storage.sh random-uuid


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


def test_prometheus_keeps_a_year_and_has_no_lifecycle_or_admin_api() -> None:
    command = SERVICES["prometheus"]["command"]
    assert not [c for c in command if c.startswith(("--web.enable-lifecycle", "--web.enable-admin-api"))]
    [retention] = [c.split("=", 1)[1] for c in command if c.startswith("--storage.tsdb.retention.time=")]
    assert retention.endswith("d") and int(retention[:-1]) >= 366


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
    [am] = prometheus["alerting"]["alertmanagers"]
    assert am["static_configs"] == [{"targets": ["alertmanager:9093"]}]
    assert "9093:9093" in SERVICES["alertmanager"]["ports"]


def test_alertmanager_reads_its_receiver_from_the_secret_compose_mounts() -> None:
    am = SERVICES["alertmanager"]
    config = yaml.safe_load((REPO / interpolate(COMPOSE["configs"]["alertmanager"]["file"])).read_text())
    [hook] = config["receivers"][0]["webhook_configs"]
    secret = hook["url_file"].removeprefix("/run/secrets/")
    assert secret in am["secrets"] and secret in secret_files()
    assert {"source": "alertmanager", "target": "/etc/alertmanager/alertmanager.yml"} in am["configs"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in am["command"]


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


def test_mounted_files_exist() -> None:
    mounts: list[Any] = [v for svc in SERVICES.values() for v in svc.get("volumes", [])]
    binds = [str(v).split(":")[0] for v in mounts if str(v).startswith("./")]
    assert len(binds) >= 6
    for path in binds:
        assert (REPO / path).exists(), f"{path} is mounted but missing"
    provider = yaml.safe_load((REPO / "deploy" / "grafana" / "provisioning" / "dashboards" / "wuxi.yml").read_text())
    dashboards_in_container = provider["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{dashboards_in_container}:ro" in SERVICES["grafana"]["volumes"]
