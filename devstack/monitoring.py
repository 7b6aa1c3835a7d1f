"""Prometheus and Alertmanager beside the local stack (Debian's binaries), configured from deploy/.

``./dev run`` starts them when they are installed, and the end-to-end tests run them the same way: the
repository's rules, the production Alertmanager routing (deploy/alertmanager/alertmanager.yml), and scrape
targets on this machine instead of the compose network.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from devstack.broker import free_port

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"  # Debian's name


def installed() -> dict[str, bool]:
    """Which of the two binaries this machine has."""
    return {"prometheus": Path(PROMETHEUS).exists(), "alertmanager": Path(ALERTMANAGER).exists()}


def alertmanager_config(webhook_url: str, *, group_wait: str | None = None) -> dict[str, Any]:
    """The production routing with every receiver's ``url_file`` replaced by ``webhook_url``.

    Compose reads the operator's address from a secret file (``url_file``, Alertmanager 0.26 and later);
    Debian's Alertmanager 0.25 only knows ``url``, and locally the address is no secret. ``group_wait``
    shortens the first wait in tests; routes, matchers, inhibitions and receivers stay as shipped.
    """
    config: dict[str, Any] = copy.deepcopy(yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text()))
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook.pop("url_file", None)
            hook["url"] = webhook_url
    if group_wait is not None:
        config["route"]["group_wait"] = group_wait
    return config


def prometheus_config(targets: dict[str, list[str]], alertmanager: str | None, *,
                      interval: str = "15s") -> dict[str, Any]:
    """prometheus.local.yml with these scrape targets per job, the rules and (optionally) an Alertmanager."""
    config: dict[str, Any] = copy.deepcopy(yaml.safe_load((DEPLOY / "prometheus" / "prometheus.local.yml").read_text()))
    config["global"] = {"scrape_interval": interval, "evaluation_interval": interval}
    config["rule_files"] = [str(p) for p in sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": targets[job["job_name"]]}]
    if alertmanager is None:
        config.pop("alerting", None)
    else:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    return config


class MonitoringProcess:
    """One Prometheus or Alertmanager process on 127.0.0.1, its configuration written to ``data_dir``."""

    def __init__(self, kind: str, config: dict[str, Any], data_dir: Path, port: int | None = None) -> None:
        self.kind = kind
        self.config = config
        self.data_dir = data_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"{kind}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self, config_path: Path) -> list[str]:
        listen = f"--web.listen-address=127.0.0.1:{self.port}"
        if self.kind == "prometheus":
            return [PROMETHEUS, f"--config.file={config_path}", f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
                    listen]
        # --cluster.listen-address= turns off the HA gossip port (9094), which one local instance does not need.
        return [ALERTMANAGER, f"--config.file={config_path}", f"--storage.path={self.data_dir / 'data'}", listen,
                "--cluster.listen-address="]

    def start(self, timeout_s: float = 30.0) -> None:
        """Write the configuration, start the process and wait until it is ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.data_dir / f"{self.kind}.yml"
        config_path.write_text(yaml.safe_dump(self.config, allow_unicode=True))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(config_path), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.kind} not ready after {timeout_s}s; see {self.log_path}")

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Monitoring:
    """``./dev run``'s Prometheus and Alertmanager, when Debian's packages are installed.

    Pipeline alerts go to ``WUXI_OPERATOR_WEBHOOK_URL`` when it is set, otherwise to a local receiver that
    prints each one on the console and appends it to ``<data dir>/logs/pipeline-alerts.jsonl``.
    """

    def __init__(self, data_dir: Path, prometheus_port: int, alertmanager_port: int, *, enabled: bool = True) -> None:
        self.data_dir = data_dir
        self.prometheus_port = prometheus_port
        self.alertmanager_port = alertmanager_port
        self.enabled = enabled and all(installed().values())
        self.parts: list[MonitoringProcess] = []
        self.inbox: Any = None
        self.webhook_url = os.environ.get("WUXI_OPERATOR_WEBHOOK_URL", "")
        self._reported = 0

    def start(self, stack: Any) -> None:
        """Start Alertmanager, then Prometheus scraping every process of ``stack``."""
        if not self.enabled:
            return
        if not self.webhook_url:
            from devstack.receiver import Receiver

            self.inbox = Receiver().start()
            self.webhook_url = f"{self.inbox.url}/pipeline-alerts"
        am = MonitoringProcess("alertmanager", alertmanager_config(self.webhook_url),
                               self.data_dir / "alertmanager", self.alertmanager_port)
        am.log_path = self.data_dir / "logs" / "alertmanager.log"
        am.start()
        self.parts.append(am)
        targets: dict[str, list[str]] = {}
        for svc in stack.processes:
            targets.setdefault(svc.name, []).append(f"127.0.0.1:{svc.port}")
        prom = MonitoringProcess("prometheus", prometheus_config(targets, am.address), self.data_dir / "prometheus",
                                 self.prometheus_port)
        prom.log_path = self.data_dir / "logs" / "prometheus.log"
        prom.start()
        self.parts.append(prom)

    def describe(self) -> list[str]:
        """Lines for the console: where Prometheus and Alertmanager are, or why they are not running."""
        if not self.enabled:
            missing = [k for k, ok in installed().items() if not ok]
            return [f"no Prometheus/Alertmanager (not installed: {', '.join(missing)}; apt-get install prometheus "
                    "prometheus-alertmanager)"] if missing else []
        am, prom = self.parts
        log = self.data_dir / "logs" / "pipeline-alerts.jsonl"
        where = self.webhook_url if self.inbox is None else f"this console and {log}"
        return [f"prometheus {prom.url}   (alerts {prom.url}/alerts)",
                f"alertmanager {am.url}   (pipeline alerts go to {where})"]

    def report_alerts(self) -> None:
        """Print and log the pipeline alerts the local receiver got since the last call."""
        if self.inbox is None:
            return
        new = self.inbox.requests[self._reported:]
        self._reported += len(new)
        for req in new:
            body = req.json()
            with open(self.data_dir / "logs" / "pipeline-alerts.jsonl", "a") as f:
                f.write(json.dumps(body, ensure_ascii=False) + "\n")
            for alert in body.get("alerts", []):
                labels, notes = alert.get("labels", {}), alert.get("annotations", {})
                print(f"pipeline alert {alert.get('status')}: {labels.get('alertname')} "
                      f"({labels.get('severity')}): {notes.get('summary', '')}", flush=True)

    def stop(self) -> None:
        """Stop Prometheus, Alertmanager and the local receiver."""
        for part in reversed(self.parts):
            part.stop()
        if self.inbox is not None:
            self.inbox.stop()
