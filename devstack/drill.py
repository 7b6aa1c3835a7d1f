"""Fault drill: the whole stack as processes, a known stream of observations, and faults while it flows.

    python -m devstack.drill [--duration 120] [--outage 60] [--postgres postgresql://postgres@127.0.0.1:5432/test]
                             [--pg-restart]

While a client pushes observations (retrying each with its Idempotency-Key until ingest answers), the drill
SIGKILLs each service at random moments and restarts it, restarts the broker (which loses everything; the
drill then asks ingest to replay 2024's observations), stops and restarts PostgreSQL (with --pg-restart: the
services' databases then live on a PostgreSQL server of the drill's own, devstack/pgcluster.py, so the
machine's server is never stopped), and takes the departments' webhook receiver down for ``--outage``
seconds. At the end it waits for the pipeline to settle and counts, at the receiver and in the databases:

    sent, accepted, stored, evaluated, notified, lost (must be 0), duplicated (must be 0)

and exits non-zero if anything was lost or duplicated. Run by tests/e2e/test_drill.py in a short form.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from devstack.broker import TansuBroker, free_port
from devstack.pgcluster import PostgresCluster
from devstack.receiver import Receiver
from devstack.stack import SERVICES, Stack
from shared.db import normalise_url

# The stream: growth-rate figures of city-wide indicators that cross their targets' bands back and forth,
# so status changes (and notifications) keep happening, month by month through 2024.
STREAM_SERIES = [
    ("retail_sales", "cumulative_yoy_pct", "%", 6.5),
    ("gdp", "cumulative_yoy_pct", "%", 5.5),
    ("general_budget_revenue", "cumulative_yoy_pct", "%", 4.0),
]


@dataclass
class Counts:
    """What the drill saw."""

    sent: int = 0  # distinct observations the client submitted
    accepted: int = 0  # of those, answered 2xx by ingest (after retries)
    stored: int = 0  # accepted ones found in ingest's database
    evaluated: int = 0  # stored series whose latest vintage the evaluator has
    expected_notifications: int = 0  # notifications the alerts service decided to send
    notified: int = 0  # distinct notifications that reached the receiver
    redelivered: int = 0  # repeats of a notification with the same idempotency key (a receiver drops them)
    lost: int = 0
    duplicated: int = 0
    faults: list[str] = field(default_factory=list)
    alert_state_mismatches: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        mismatch = f"; alert state differs from the evaluator for {self.alert_state_mismatches}" if (
            self.alert_state_mismatches) else ""
        return (f"sent {self.sent}, accepted {self.accepted}, stored {self.stored}, evaluated {self.evaluated}, "
                f"notified {self.notified}/{self.expected_notifications}, lost {self.lost}, "
                f"duplicated {self.duplicated} (same-key redeliveries dropped by the receiver: {self.redelivered})"
                + mismatch)


def _periods() -> list[str]:
    # Monthly releases of 2024 (1—2月 combined), then quarterly for GDP handled by the filter below.
    return [f"2024-M{m:02d}" for m in range(2, 13)]


def build_stream(seed: int, rounds: int) -> list[dict]:
    """A deterministic list of observations: every series, every period, values that cross the band."""
    rng = random.Random(seed)
    out = []
    for r in range(rounds):
        for indicator, measure, unit, target in STREAM_SERIES:
            periods = [f"2024-Q{q}" for q in range(1, 5)] if indicator == "gdp" else _periods()
            for period in periods:
                swing = rng.choice([-3.0, -1.6, 0.0, 1.6])
                out.append({"indicator": indicator, "region": "wuxi", "period": period, "measure": measure,
                            "value": round(target + swing + r * 0.01, 2), "unit": unit, "status": "provisional",
                            "revision_reason": f"第{r}轮" if r else None})
    return out


class Client:
    """Submits the stream one observation at a time, retrying each (same Idempotency-Key) until accepted."""

    def __init__(self, stack: Stack, key: str, stream: list[dict], rate: float) -> None:
        self.stack = stack
        self.key = key
        self.stream = stream
        self.rate = rate
        self.accepted: dict[int, str] = {}  # stream index -> observation id
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as http:
            for i, obs in enumerate(self.stream):
                idem = uuid.uuid4().hex
                while True:
                    try:
                        r = http.post(f"{self.stack.url('ingest')}/v1/observations", json=obs,
                                      headers={"Authorization": f"Bearer {self.key}", "Idempotency-Key": idem})
                        if r.status_code in (200, 201):
                            self.accepted[i] = r.json()["id"]
                            break
                        if r.status_code < 500 and r.status_code != 429:
                            raise RuntimeError(f"observation {i} rejected: {r.status_code} {r.text}")
                    except httpx.HTTPError:
                        pass  # ingest is down or restarting: retry the same request
                    time.sleep(0.2)
                time.sleep(1 / self.rate)
        self.done.set()


def _restart_service(stack: Stack, name: str, counts: Counts) -> None:
    for proc in stack.replicas_of(name):
        proc.kill()
        proc.start()
    for proc in stack.replicas_of(name):
        proc.wait_ready(120)
    counts.faults.append(f"SIGKILL+restart {name}")


def _restart_broker(stack: Stack, admin_token: str, counts: Counts) -> None:
    assert stack.broker is not None
    stack.broker.kill()
    time.sleep(1)
    stack.broker.start()
    # The broker came back empty: whatever was in flight is gone. Replay the year from ingest's database.
    deadline = time.monotonic() + 60
    while True:
        try:
            r = httpx.post(f"{stack.url('ingest')}/admin/replay", timeout=30,
                           headers={"Authorization": f"Bearer {admin_token}"},
                           json={"from_period": "2024-M01", "to_period": "2024"})
            if r.status_code == 202:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("ingest did not accept the replay")
        time.sleep(1)
    counts.faults.append(f"broker restart (lost everything) + replay of {r.json()['events']} observations")


def _restart_postgres(cluster: PostgresCluster, counts: Counts, down_s: float) -> None:
    cluster.restart_after(down_s)
    counts.faults.append(f"PostgreSQL stopped for {down_s:.0f}s")


def _scalar(url: str, sql: str, **params: object) -> int:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar() or 0)
    finally:
        engine.dispose()


def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def settle_and_count(stack: Stack, receiver: Receiver, client: Client, urls: dict[str, str],
                     counts: Counts, timeout_s: float) -> Counts:
    """Wait until the pipeline has drained, then count what arrived where."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pending_outbox = (_scalar(urls["ingest"], "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                          + _scalar(urls["evaluator"], "SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
        current = dict(_rows(urls["ingest"], "SELECT series_key, vintage FROM observations WHERE is_current"))
        seen = {f"{i}|{r}|{p}|{m}": v for i, r, p, m, v in
                _rows(urls["evaluator"], "SELECT indicator, region, period, measure, vintage FROM readings")}
        unevaluated = sum(1 for k, v in current.items() if seen.get(k) != v)
        pending_notes = _scalar(urls["alerts"], "SELECT count(*) FROM notifications WHERE status = 'pending'")
        if pending_outbox == 0 and unevaluated == 0 and pending_notes == 0:
            break
        time.sleep(1)
    time.sleep(3)  # let the last deliveries land
    counts.sent = len(client.stream)
    counts.accepted = len(client.accepted)
    stored = {r[0]: (r[1], r[2]) for r in _rows(urls["ingest"], "SELECT id, series_key, vintage FROM observations")}
    counts.stored = sum(1 for oid in client.accepted.values() if oid in stored)
    current = dict(_rows(urls["ingest"], "SELECT series_key, vintage FROM observations WHERE is_current"))
    seen = {f"{i}|{r}|{p}|{m}": v for i, r, p, m, v in
            _rows(urls["evaluator"], "SELECT indicator, region, period, measure, vintage FROM readings")}
    evaluated_series = sum(1 for k, v in current.items() if seen.get(k) == v)
    # An observation counts as evaluated when the evaluator holds its vintage or a later one of its series.
    counts.evaluated = sum(1 for oid in client.accepted.values()
                           if oid in stored and seen.get(stored[oid][0], 0) >= stored[oid][1])
    expected = {r[0] for r in _rows(urls["alerts"], "SELECT idempotency_key FROM notifications "
                                                    "WHERE status IN ('sent', 'pending')")}
    keys = receiver.idempotency_keys()
    key_counts = Counter(keys)
    counts.expected_notifications = len(expected)
    counts.notified = len(set(keys) & expected)
    counts.redelivered = sum(n - 1 for n in key_counts.values())
    # A duplicate is the same news twice under different keys: the same status change (evaluation) of the
    # same alert told to the same department on the same channel, whether alone or in a grouped notification.
    contents: Counter[tuple[object, ...]] = Counter()
    for key in key_counts:
        req = next(r for r in receiver.requests if r.headers.get("Idempotency-Key") == key)
        p = req.json()
        items = p.get("alerts") or [{"alert_id": p.get("alert_id"), "kind": p.get("kind"), "event": p.get("event")}]
        for item in items:
            contents[(p["department"]["id"], req.path, item.get("alert_id"), item.get("kind"),
                      (item.get("event") or {}).get("evaluation_id"))] += 1
    counts.duplicated = sum(n - 1 for n in contents.values())
    # Every target the evaluator holds as deviating has an open alert of that severity, and no other target
    # has one: a status change lost between the evaluator and the alerts service shows up here.
    states = {t: sev for t, sev in _rows(urls["evaluator"], "SELECT target_id, severity FROM target_states")}
    open_alerts = {t: sev for t, sev in _rows(urls["alerts"], "SELECT target_id, severity FROM alerts "
                                                              "WHERE status <> 'resolved'")}
    should_be_open = {t: sev for t, sev in states.items() if sev != "ok"}
    counts.alert_state_mismatches = sorted(set(should_be_open.items()) ^ set(open_alerts.items()))
    counts.lost = ((counts.accepted - counts.stored) + (counts.stored - counts.evaluated)
                   + len(counts.alert_state_mismatches)
                   + (len(current) - evaluated_series)
                   + (len(expected) - counts.notified) + len(set(keys) - expected))
    return counts


def run_drill(*, data_dir: Path, database_urls: dict[str, str], duration_s: float, outage_s: float,
              rate: float, seed: int, pg_cluster: PostgresCluster | None = None,
              broker_restart: bool = True) -> Counts:
    """Run the drill once and return the counts (see the module docstring).

    With ``pg_cluster`` (the server holding ``database_urls``) the drill also stops and restarts PostgreSQL.
    """
    rng = random.Random(seed)
    counts = Counts()
    receiver = Receiver().start()
    broker = TansuBroker(port=free_port(), log_path=data_dir / "broker.log")
    broker.start()
    stack = Stack(data_dir=data_dir / "stack", broker=broker, database_urls=database_urls, extra_env={
        "alerts": {"ALERTS_DEFAULT_WEBHOOK_URL": f"{receiver.url}/hook", "ALERTS_WEBHOOK_SECRET": "drill",
                   "ALERTS_RETRY_BASE_S": "0.5", "ALERTS_RETRY_MAX_S": "5"}})
    urls = {name: stack.services[name].env[f"{name.upper()}_DATABASE_URL"] for name in SERVICES}
    stack.start()
    try:
        key = stack.issue_ingest_key("市统计局")
        stream = build_stream(seed, rounds=max(1, int(duration_s * rate / 34)))
        client = Client(stack, key, stream, rate)
        t = threading.Thread(target=client.run, daemon=True)
        t.start()
        plan = ["ingest", "evaluator", "alerts", "receiver"] + (["broker"] if broker_restart else []) + (
            ["postgres"] if pg_cluster is not None else [])
        rng.shuffle(plan)
        gap = max(2.0, duration_s / (len(plan) + 1))
        for fault in plan:
            client.done.wait(rng.uniform(0.5, 1.5) * gap)
            print(f"  fault: {fault}", flush=True)
            if fault in SERVICES:
                _restart_service(stack, fault, counts)
            elif fault == "broker":
                _restart_broker(stack, stack.ingest_admin_token, counts)
            elif fault == "postgres" and pg_cluster is not None:
                _restart_postgres(pg_cluster, counts, down_s=5)
            elif fault == "receiver":
                receiver.stop()
                time.sleep(outage_s)
                receiver.start()
                counts.faults.append(f"receiver down for {outage_s:.0f}s")
        t.join(timeout=duration_s * 4 + 120)
        if t.is_alive():
            raise RuntimeError("the client did not finish submitting its stream")
        return settle_and_count(stack, receiver, client, urls, counts, timeout_s=180)
    finally:
        stack.stop()
        broker.stop()
        receiver.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.drill", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=120, help="seconds of streaming with faults")
    parser.add_argument("--outage", type=float, default=60, help="seconds the webhook receiver stays down")
    parser.add_argument("--rate", type=float, default=5, help="observations per second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=None, help="PostgreSQL admin URL: one fresh database per service")
    parser.add_argument("--pg-restart", action="store_true",
                        help="also stop and restart PostgreSQL: the databases then live on a PostgreSQL server of "
                             "the drill's own (created and removed by the drill), never the --postgres server")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="wuxi-drill-"))
    urls: dict[str, str] = {}
    cluster: PostgresCluster | None = None
    created: list[str] = []  # databases made on the --postgres server, dropped at the end
    if args.pg_restart:
        cluster = PostgresCluster().init()
        cluster.start()
        urls = {svc: cluster.create_database(f"drill_{svc}") for svc in SERVICES}
    elif args.postgres:
        admin = create_engine(normalise_url(args.postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for svc in SERVICES:
                name = f"drill_{svc}_{uuid.uuid4().hex[:6]}"
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                created.append(name)
                urls[svc] = args.postgres.rsplit("/", 1)[0] + f"/{name}"
        admin.dispose()
    where = "SQLite" if not urls else ("a PostgreSQL server of its own" if cluster else "PostgreSQL")
    print(f"drill: {args.duration:.0f}s at {args.rate:g} obs/s, receiver outage {args.outage:.0f}s, "
          f"{where}; logs in {data_dir}", flush=True)
    try:
        counts = run_drill(data_dir=data_dir, database_urls=urls, duration_s=args.duration,
                           outage_s=args.outage, rate=args.rate, seed=args.seed, pg_cluster=cluster)
    finally:
        if cluster is not None:
            cluster.remove()
        if created:
            admin = create_engine(normalise_url(args.postgres), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    for f in counts.faults:
        print(f"  {f}")
    print(counts.line())
    print(json.dumps({"lost": counts.lost, "duplicated": counts.duplicated}))
    sys.exit(0 if counts.lost == 0 and counts.duplicated == 0 else 1)


if __name__ == "__main__":
    main()
