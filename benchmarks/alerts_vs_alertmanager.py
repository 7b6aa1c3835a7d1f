"""Alerts service beside Debian's Alertmanager, same machine, same run: delivery latency, throughput, memory.

    .venv/bin/python benchmarks/alerts_vs_alertmanager.py [--rate 300] [--seconds 5] [--burst 5000]
        [--open 10000] [--postgres postgresql://postgres@127.0.0.1:5432/test] [--timeout 120]

Both deliver to the same fast loopback webhook receiver (an asyncio HTTP server in this script), with
grouping off (ours: ALERTS_GROUP_WAIT_S=0; Alertmanager: group_by ['...'], group_wait 0s).

- latency: fixed-rate load (``--rate`` per second for ``--seconds``); for ours from the deviation handed to
  the Kafka producer to the webhook received (so it includes the Kafka hop and the consumer's fetch wait),
  for Alertmanager from the alert POSTed to its API to the webhook received. p50 and p99.
- throughput: ``--burst`` deviations / alerts at once; notifications per second from the first sent to the
  last received.
- memory: resident set size of each process after ``--open`` open alerts.

With ``--postgres`` ours runs on a database of its own, made on that server for this run and dropped at the
end (a database left from an earlier run would hold its open alerts, and new deviations would update them
instead of notifying). A phase that does not complete within ``--timeout`` seconds is reported as
INCOMPLETE with what did arrive, and the run goes on, so the script always ends in bounded time.

Every deviation is about a distinct synthetic target (lead department fgw, no co-departments), so each opens
an alert and yields exactly one notification, as each Alertmanager alert with distinct labels is its own group.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from kafka import KafkaProducer
from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.broker import TansuBroker, free_port, wait_for_port
from devstack.scratchdb import ScratchDatabases
from devstack.stack import ENV_PREFIX, ServiceProcess
from services.alerts.adapters.tables import notifications
from shared.db import normalise_url
from shared.messages import Severity, TargetStatusChanged, encode, envelope_for

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


class FastReceiver:
    """A minimal asyncio HTTP/1.1 server: records (arrival time, body) for every POST and answers 200."""

    def __init__(self) -> None:
        self.port = free_port()
        self.bodies: list[tuple[float, bytes]] = []
        self.loop = asyncio.new_event_loop()
        self.cond = threading.Condition()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                now = time.time()
                with self.cond:
                    self.bodies.append((now, body))
                    self.cond.notify_all()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.close()

    def start(self) -> FastReceiver:
        async def serve() -> None:
            server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=1024)
            async with server:
                await server.serve_forever()

        threading.Thread(target=lambda: self.loop.run_until_complete(serve()), daemon=True).start()
        wait_for_port(self.port)
        return self

    def wait_for(self, n: int, timeout_s: float) -> list[tuple[float, bytes]]:
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while len(self.bodies) < n and time.monotonic() < deadline:
                self.cond.wait(0.2)
            return list(self.bodies)

    def reset(self) -> None:
        with self.cond:
            self.bodies.clear()


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] if xs else float("nan")


# --- our alerts service -------------------------------------------------------------------------------------

def synthetic_deviation(i: int, run: str) -> TargetStatusChanged:
    """A warning on a distinct synthetic target, so each one opens an alert and notifies once."""
    return TargetStatusChanged(
        evaluation_id=f"{run}-{i}", target_id=f"bench_{run}_{i:06d}", target_name_zh=f"基准测试目标{i}",
        section="headline", kind="total", indicator=f"bench_{run}_{i:06d}", region="wuxi", period="2024-Q2",
        status="behind", severity=Severity.WARNING, previous_status=None, previous_severity=None, actual=40.0,
        expected=50.0, target_value=100.0, unit="亿元", gap_abs=-10.0, gap_rel=-0.2, gap_pp=None, progress=0.4,
        expected_progress=0.5, projection=80.0, run_rate_needed=10.0, observation_status=None,
        lead_department="fgw", co_departments=(), message_zh=f"基准测试目标{i}完成40亿元，序时进度要求50亿元，滞后。",
        observation_id=None, observation_vintage=None, evaluated_at=datetime.now(UTC),
    )


class Ours:
    def __init__(self, broker: TansuBroker, receiver: FastReceiver, work: Path, database_url: str | None) -> None:
        self.broker = broker
        self.prefix = f"bench{int(time.time())}"
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not any(k.startswith(p) for p in ENV_PREFIX.values())}
        env.update({
            "ALERTS_DATABASE_URL": database_url or f"sqlite:///{work / 'alerts.db'}",
            "ALERTS_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "ALERTS_TOPIC_PREFIX": self.prefix,
            "ALERTS_PORT": str(port), "ALERTS_WEBHOOK_SECRET": "benchmark-secret",
            "ALERTS_DEFAULT_WEBHOOK_URL": f"http://127.0.0.1:{receiver.port}/ours", "ALERTS_GROUP_WAIT_S": "0",
            "ALERTS_RECEIVER_CONCURRENCY": "16", "ALERTS_LOG_LEVEL": "WARNING",
            "ALERTS_PUBLIC_URL": f"http://127.0.0.1:{port}", "ALERTS_LINK_SECRET": "benchmark-link-secret",
        })
        self.database_url = env["ALERTS_DATABASE_URL"]
        self.proc = ServiceProcess("alerts", port, env, work / "alerts.log")
        self.producer: KafkaProducer | None = None
        self.n = 0

    def start(self) -> None:
        self.proc.start()
        self.proc.wait_ready(90)
        self.producer = KafkaProducer(bootstrap_servers=[self.broker.bootstrap], acks=1, linger_ms=0)
        # Wait until the consumer group has joined: one warm-up deviation goes through.
        self.send(1, "warmup")

    def send(self, n: int, run: str) -> dict[str, float]:
        """Publish n deviations; returns evaluation id -> time handed to the producer."""
        assert self.producer is not None
        sent: dict[str, float] = {}
        for i in range(n):
            d = synthetic_deviation(self.n + i, run)
            env = envelope_for(d, source="benchmark", time=datetime.now(UTC))
            sent[d.evaluation_id] = time.time()
            self.producer.send(f"{self.prefix}.deviations", key=d.key().encode(), value=encode(env))
        self.n += n
        self.producer.flush()
        return sent

    @staticmethod
    def ids(body: bytes) -> list[str]:
        return [a["event"]["evaluation_id"] for a in json.loads(body)["alerts"]]

    def stored(self, since: float) -> tuple[int, float]:
        """Notifications stored since ``since`` (epoch seconds) and when the last was: the consumer's stage."""
        engine = create_engine(normalise_url(self.database_url))
        try:
            with engine.connect() as conn:
                n, last = conn.execute(select(func.count(), func.max(notifications.c.created_at))
                                       .where(notifications.c.created_at >= datetime.fromtimestamp(since, UTC))).one()
        finally:
            engine.dispose()
        return n, (last.timestamp() if last else since)  # max() keeps the column's type: an aware datetime

    def stop(self) -> None:
        if self.producer is not None:
            self.producer.close()
        self.proc.stop()


# --- Alertmanager -------------------------------------------------------------------------------------------

class Alertmanager:
    def __init__(self, receiver: FastReceiver, work: Path) -> None:
        self.port = free_port()
        cfg = work / "alertmanager.yml"
        cfg.write_text(
            "route:\n  receiver: hook\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1m\n"
            "  repeat_interval: 4h\nreceivers:\n- name: hook\n  webhook_configs:\n"
            f"  - url: http://127.0.0.1:{receiver.port}/am\n    send_resolved: false\n"
        )
        (work / "am-data").mkdir()
        self.cmd = [ALERTMANAGER, f"--config.file={cfg}", f"--storage.path={work / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=warn"]
        self.log = open(work / "alertmanager.log", "ab")  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self.n = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, 30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.client.get("/-/ready").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def send(self, n: int, run: str, batch: int = 1) -> dict[str, float]:
        sent: dict[str, float] = {}
        alerts = []
        for i in range(n):
            key = f"{run}-{self.n + i}"
            alerts.append({"labels": {"alertname": "TargetDeviation", "target": key, "severity": "warning"},
                           "annotations": {"summary": f"基准测试目标{i}滞后"}})
            if len(alerts) >= batch:
                now = time.time()
                sent.update({a["labels"]["target"]: now for a in alerts})
                self.client.post("/api/v2/alerts", json=alerts).raise_for_status()
                alerts = []
        if alerts:
            now = time.time()
            sent.update({a["labels"]["target"]: now for a in alerts})
            self.client.post("/api/v2/alerts", json=alerts).raise_for_status()
        self.n += n
        return sent

    @staticmethod
    def ids(body: bytes) -> list[str]:
        return [a["labels"]["target"] for a in json.loads(body)["alerts"]]

    def stop(self) -> None:
        self.client.close()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


# --- the measurements ---------------------------------------------------------------------------------------

def collect(system, receiver: FastReceiver, sent: dict[str, float], timeout_s: float) -> list[float]:  # type: ignore[no-untyped-def]
    """Latencies (ms) of the sent items that arrived within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    got: dict[str, float] = {}
    seen = 0
    while True:
        with receiver.cond:
            bodies = receiver.bodies[seen:]
        seen += len(bodies)
        for at, body in bodies:
            for i in system.ids(body):
                if i in sent and i not in got:
                    got[i] = at
        if len(got) >= len(sent) or time.monotonic() > deadline:
            if len(got) < len(sent):
                print(f"INCOMPLETE: {len(sent) - len(got)} of {len(sent)} not delivered within {timeout_s:g} s",
                      flush=True)
            return [(got[i] - sent[i]) * 1000 for i in got]
        time.sleep(0.1)


def fixed_rate(system, receiver: FastReceiver, rate: int, seconds: float, run: str,  # type: ignore[no-untyped-def]
               timeout_s: float) -> tuple[list[float], int]:
    receiver.reset()
    sent: dict[str, float] = {}
    n = int(rate * seconds)
    start = time.perf_counter()
    for k in range(n):
        target = start + k / rate
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent.update(system.send(1, run))
    return collect(system, receiver, sent, timeout_s), n


def burst(system, receiver: FastReceiver, n: int, run: str, timeout_s: float,  # type: ignore[no-untyped-def]
          **kw) -> tuple[float, int]:
    receiver.reset()
    t0 = time.time()
    sent = system.send(n, run, **kw)
    lat = collect(system, receiver, sent, timeout_s)
    with receiver.cond:
        last = max((at for at, _ in receiver.bodies), default=t0)
        first = min((at for at, _ in receiver.bodies), default=t0)
    if isinstance(system, Ours):  # where the burst's time went: consuming and storing, then delivering
        stored, last_stored = system.stored(t0)
        print(f"ours, burst of {n}: {stored} notifications stored by +{last_stored - t0:.2f} s "
              f"({stored / max(1e-9, last_stored - t0):,.0f}/s), first delivered at +{first - t0:.2f} s, "
              f"last at +{last - t0:.2f} s", flush=True)
    return len(lat) / max(1e-9, last - t0), len(lat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=300, help="deviations or alerts per second in the latency run")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--burst", type=int, default=5000)
    ap.add_argument("--open", type=int, default=10000, help="open alerts for the memory figure")
    ap.add_argument("--postgres", default=None,
                    help="PostgreSQL admin URL: ours gets a database of its own there (default: SQLite in a temp dir)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds a phase may take before it is INCOMPLETE")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="alerts-bench-"))
    receiver = FastReceiver().start()
    broker = TansuBroker(log_path=work / "broker.log")
    broker.start()
    scratch = ScratchDatabases(args.postgres, prefix="bench") if args.postgres else None
    ours, am = Ours(broker, receiver, work, scratch.create("alerts") if scratch else None), Alertmanager(receiver, work)
    results: dict[str, dict[str, float]] = {}
    try:
        ours.start()
        am.start()
        receiver.wait_for(1, 30)
        for name, system in (("alerts (ours)", ours), ("Alertmanager 0.25", am)):
            lat, n = fixed_rate(system, receiver, args.rate, args.seconds, f"lat{name[:2]}", args.timeout)
            kw = {"batch": 500} if system is am else {}
            rate, delivered = burst(system, receiver, args.burst, f"burst{name[:2]}", args.timeout, **kw)
            opened = args.burst + n
            if args.open > opened:
                burst(system, receiver, args.open - opened, f"open{name[:2]}", args.timeout, **kw)
            pid = system.proc.proc.pid if isinstance(system, Ours) else system.proc.pid  # type: ignore[union-attr]
            results[name] = {"p50": statistics.median(lat) if lat else float("nan"), "p99": pct(lat, 99),
                             "lat_n": len(lat), "lat_sent": n, "rate": rate, "burst_n": delivered,
                             "rss": rss_mb(pid), "open": max(args.open, opened)}
    finally:
        ours.stop()
        am.stop()
        broker.stop()
        if scratch:
            scratch.drop_all()
    print(f"\nsame machine, same run; grouping off; {os.cpu_count()} CPUs; work dir {work}\n")
    print("| system | latency p50 | latency p99 | delivered (latency run) | notifications/s (burst) | "
          "burst delivered | RSS with open alerts |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        print(f"| {name} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['lat_n']}/{r['lat_sent']} at {args.rate}/s | "
              f"{r['rate']:,.0f} | {r['burst_n']}/{args.burst} | {r['rss']:.0f} MB with {r['open']:,} |")
    if len(results) == 2:
        o, a = results["alerts (ours)"], results["Alertmanager 0.25"]
        print(f"\nours / Alertmanager (baseline, same run): burst throughput {o['rate'] / max(a['rate'], 1e-9):.0%}, "
              f"latency p99 {o['p99'] / max(a['p99'], 1e-9):.1f}×; targets: >= 2,000/s and >= 40% of Alertmanager, "
              "p99 < 50 ms")


if __name__ == "__main__":
    main()
