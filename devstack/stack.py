"""The whole system as local processes: the broker and the three services, each with its own database.

Used by ``./dev run``, the end-to-end tests, the benchmarks and the fault drills, so they all run the
system the same way.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.broker import TansuBroker, free_port
from shared.faults import MARKER

SERVICES = ("ingest", "evaluator", "alerts")
ENV_PREFIX = {"ingest": "INGEST_", "evaluator": "EVALUATOR_", "alerts": "ALERTS_"}
FAULT_ENV = ("WX_TEST_BUILD", "WX_FAULT_POINT", "WX_FAULT_AFTER")  # shared/faults.py: only arm() sets them
REPO = Path(__file__).resolve().parent.parent


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM) in MB; NaN when it does not say (the benchmarks' memory figure)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class ServiceProcess:
    """One service running as ``python -m services.<name>``."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    replica: int = 1  # 1 for the first (or only) process of the service

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process (its output appended to its log file)."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}", "--port", str(self.port)],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait for /readyz to answer 200."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout_s}s: {last}; see {self.log_path}")

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def arm(self, point: str, after: int = 1) -> None:
        """Arm a fault point (shared/faults.py) for the next start: the process dies on its ``after``-th pass."""
        self.env.update({"WX_TEST_BUILD": "1", "WX_FAULT_POINT": point, "WX_FAULT_AFTER": str(after)})

    def disarm(self) -> None:
        """Start without a fault point from the next start on."""
        for k in FAULT_ENV:
            self.env.pop(k, None)

    def faults_fired(self) -> list[str]:
        """The marker lines of the fault points that fired in this service's log, oldest first."""
        if not self.log_path.exists():
            return []
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if line.startswith(MARKER)]

    def wait_fault(self, point: str, timeout_s: float = 60.0) -> str:
        """Wait until the process died at ``point`` (its marker logged, the process gone); returns the marker."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            fired = [line for line in self.faults_fired() if line.split()[1] == point]
            if fired and self.proc is not None and self.proc.poll() is not None:
                assert self.proc.returncode == -signal.SIGKILL, f"{self.name} exited with {self.proc.returncode}"
                self.proc = None
                return fired[-1]
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode} before fault point "
                                     f"{point} fired; see {self.log_path}")
            time.sleep(0.05)
        raise TimeoutError(f"fault point {point} of {self.name} did not fire in {timeout_s}s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@dataclass
class Stack:
    """The broker plus the three services, configured to talk to each other."""

    data_dir: Path
    database_urls: dict[str, str] = field(default_factory=dict)  # service -> URL; SQLite in data_dir by default
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)  # service -> env
    broker_port: int | None = None
    ports: dict[str, int] = field(default_factory=dict)
    broker: TansuBroker | None = None  # pass a running broker to share it; otherwise the stack runs its own
    topic_prefix: str = "wuxi"
    services: dict[str, ServiceProcess] = field(default_factory=dict)  # service -> its first replica
    # The operator's token of ingest's /admin endpoints; a fresh one per stack unless given.
    ingest_admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    replicas: dict[str, int] = field(default_factory=dict)  # service -> processes sharing its database (1)
    processes: list[ServiceProcess] = field(default_factory=list)  # every replica of every service

    def __post_init__(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        self._own_broker = self.broker is None
        if self.broker is None:
            self.broker = TansuBroker(self.broker_port, self.data_dir / "logs" / "broker.log")
        for name in SERVICES:
            port = self.ports.get(name) or free_port()
            p = ENV_PREFIX[name]
            # A fault point is armed per process by arm(), never inherited from the caller's environment.
            env = {k: v for k, v in os.environ.items()
                   if not any(k.startswith(x) for x in ENV_PREFIX.values()) and k not in FAULT_ENV}
            env.update({
                f"{p}DATABASE_URL": self.database_urls.get(name, f"sqlite:///{self.data_dir / (name + '.db')}"),
                f"{p}KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
                f"{p}PORT": str(port),
                f"{p}TOPIC_PREFIX": self.topic_prefix,
            })
            if name == "ingest":
                env["INGEST_ADMIN_TOKEN"] = self.ingest_admin_token
            else:
                # A consumer group per stack: stacks sharing a broker (the tests) must not join each other's
                # groups, where members killed by an earlier test would stall every rebalance.
                env[f"{p}CONSUMER_GROUP"] = f"{self.topic_prefix}-{name}"
            env.update(self.extra_env.get(name, {}))
            self.services[name] = ServiceProcess(name, port, env, self.data_dir / "logs" / f"{name}.log")
            self.processes.append(self.services[name])
            # Further replicas: the same database, topics and consumer group; their own port and client id.
            for replica in range(2, self.replicas.get(name, 1) + 1):
                replica_port = free_port()
                replica_env = {**env, f"{p}PORT": str(replica_port), f"{p}KAFKA_CLIENT_ID": f"{name}-{replica}"}
                self.processes.append(ServiceProcess(
                    name, replica_port, replica_env, self.data_dir / "logs" / f"{name}-{replica}.log", replica=replica))

    def start(self, timeout_s: float = 90.0) -> None:
        """Start the broker, then the services, and wait until every one is ready."""
        assert self.broker is not None
        if self._own_broker:
            self.broker.start()
        for svc in self.processes:
            svc.start()
        for svc in self.processes:
            svc.wait_ready(timeout_s)

    def stop(self) -> None:
        """Stop the services, then the broker."""
        for svc in reversed(self.processes):
            svc.stop()
        if self.broker is not None and self._own_broker:
            self.broker.stop()

    def url(self, name: str) -> str:
        """Base URL of a service (its first replica)."""
        return self.services[name].url

    def issue_ingest_key(self, organisation: str = "市统计局", *, indicators: list[str] | None = None,
                         regions: list[str] | None = None) -> str:
        """Issue an ingest API key through the admin endpoint (all indicators and regions by default)."""
        r = httpx.post(f"{self.url('ingest')}/admin/keys", timeout=10,
                       headers={"Authorization": f"Bearer {self.ingest_admin_token}"},
                       json={"organisation": organisation, "indicators": indicators, "regions": regions})
        r.raise_for_status()
        return str(r.json()["key"])

    def replicas_of(self, name: str) -> list[ServiceProcess]:
        """Every process of a service, the first replica first."""
        return [p for p in self.processes if p.name == name]
