"""Fault drill: the whole stack as processes, a known stream of observations, and faults while it flows.

    python -m devstack.drill [--duration 120] [--outage 60] [--postgres postgresql://postgres@127.0.0.1:5432/test]
                             [--pg-restart] [--json]

Two alerts replicas run with grouping on. While a client pushes observations (retrying each with its
Idempotency-Key until ingest answers), the drill, one fault after another in a seeded random order:

- SIGKILLs ingest and the evaluator at random moments and restarts them;
- finds the alerts replica holding the dispatcher's leadership (``alerts_dispatcher_leader 1`` on its
  /metrics), SIGKILLs it, waits for the other replica to take over, and restarts it;
- restarts the broker (which loses everything; the drill then asks ingest to replay 2024's observations);
- stops and restarts PostgreSQL (with --pg-restart: the services' databases then live on a PostgreSQL server of
  the drill's own, devstack/pgcluster.py, so the machine's server is never stopped);
- on SQLite, holds the write lock of the alerts database (BEGIN IMMEDIATE) for longer than the services'
  busy timeout (SQLITE_BUSY_TIMEOUT_S=2, lock held 8 s);
- takes the departments' webhook receiver down for ``--outage`` seconds: first (about half of it) it answers
  502 with a binary body (gzip bytes, NUL included), then it refuses connections; at the start of the outage a
  lone figure (urban_new_jobs, 2024-M06, 3.0) gives 人社局 (rsj) its only alert of the run;
- upgrades the evaluator in a rolling restart to a "newer version" whose events carry a field the running
  alerts service does not know (devstack/upgrade_shim/sitecustomize.py), then publishes a fixed-asset
  investment figure whose alert must still reach its department.

At the end it waits for the pipeline to settle and counts, at the receiver, in the databases and in the logs:

    sent, accepted, stored, evaluated, notified, lost, duplicated, dead-lettered, uncertain

and exits non-zero unless lost, duplicated and dead-lettered are all 0. Run by tests/e2e/test_drill.py in a
short form, which also checks that every fault happened.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import json
import os
import random
import re
import sqlite3
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
from devstack.scratchdb import ScratchDatabases
from devstack.stack import ENV_PREFIX, REPO, SERVICES, ServiceProcess, Stack
from shared.db import normalise_url

# The stream: growth-rate figures of city-wide indicators that cross their targets' bands back and forth,
# so status changes (and notifications) keep happening, month by month through 2024.
STREAM_SERIES = [
    ("retail_sales", "cumulative_yoy_pct", "%", 6.5),
    ("gdp", "cumulative_yoy_pct", "%", 5.5),
    ("general_budget_revenue", "cumulative_yoy_pct", "%", 4.0),
]
# Published at the start of the receiver outage: 人社局's (rsj) only alert of the run (3.0 万人 of 13 by June).
LONE_OBSERVATION = {"indicator": "urban_new_jobs", "region": "wuxi", "period": "2024-M06",
                    "measure": "cumulative_level", "value": 3.0, "unit": "万人", "status": "provisional"}
LONE_DEPARTMENT, LONE_TARGET = "rsj", "urban_new_jobs"
# Published after the evaluator's upgrade: its alert must reach fgw through the old alerts service.
UPGRADE_OBSERVATION = {"indicator": "fixed_asset_investment", "region": "wuxi", "period": "2024-M06",
                       "measure": "cumulative_level", "value": 1000.0, "unit": "亿元", "status": "provisional"}
UPGRADE_TARGET = "fixed_asset_investment_total"
UPGRADE_SHIM = Path(__file__).resolve().parent / "upgrade_shim"  # its sitecustomize.py adds the field below
UPGRADE_FIELD = "drill_upgrade_release"
# What a broken proxy answers during the first part of the outage: 502 with gzip bytes (NUL among them),
# which PostgreSQL refuses in a text column if the dispatcher stored it as it came.
BAD_GATEWAY_BODY = gzip.compress(b"<html>\x00502 Bad Gateway\x00</html>", mtime=0)
SQLITE_BUSY_TIMEOUT_S = 2.0  # the services' SQLITE_BUSY_TIMEOUT_S in the drill (the default is 30)
SQLITE_LOCK_HOLD_S = 8.0  # how long the drill holds a database's write lock: longer than the busy timeout
MAX_OUTAGE_S = 600.0
ALERTS_REPLICAS = 2


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
    dead_lettered: int = 0  # consumer dead-letter events (log lines) + notifications given up as dead
    dead_lettered_events: int = 0  # of those, events a consumer dead-lettered ("dead-lettering" in the logs)
    dead_notifications: int = 0  # of those, notifications with status dead (retry budget ran out)
    failed_notifications: int = 0  # notifications refused for good (status failed); counted as lost
    uncertain: int = 0  # notifications with status uncertain (may or may not have arrived)
    faults: list[str] = field(default_factory=list)
    alert_state_mismatches: list[tuple[str, str]] = field(default_factory=list)
    # Evidence that each fault happened (tests/e2e/test_drill.py checks every one).
    leader_killed: str | None = None  # the alerts replica that held the dispatcher's leadership when killed
    leader_taken_over_by: str | None = None  # the replica that led after the kill
    bad_gateway_answers: int = 0  # 502s with the binary body the receiver served during the outage
    bad_gateway_recorded: int = 0  # attempts answered 502 in the alerts service's delivery log (stored, NUL or not)
    refused_phase_s: float = 0.0  # seconds the receiver refused connections
    lone_queued_in_outage: bool = False  # rsj's notification existed while the receiver was down
    lone_deliveries: int = 0  # distinct notifications (idempotency keys) carrying rsj's lone alert
    lone_requests: int = 0  # requests carrying it, repeats with the same key included
    upgraded: bool = False  # the evaluator was restarted as the newer version
    upgraded_events: int = 0  # events in the evaluator's outbox carrying the newer version's field
    upgrade_alert_deliveries: int = 0  # distinct notifications carrying the post-upgrade alert
    lock_held_s: float = 0.0  # seconds another process held a SQLite database's write lock
    lock_database: str | None = None

    def line(self) -> str:
        mismatch = f"; alert state differs from the evaluator for {self.alert_state_mismatches}" if (
            self.alert_state_mismatches) else ""
        return (f"sent {self.sent}, accepted {self.accepted}, stored {self.stored}, evaluated {self.evaluated}, "
                f"notified {self.notified}/{self.expected_notifications}, lost {self.lost}, "
                f"duplicated {self.duplicated} (same-key redeliveries dropped by the receiver: {self.redelivered}), "
                f"dead-lettered {self.dead_lettered} (events {self.dead_lettered_events}, notifications "
                f"{self.dead_notifications}), uncertain {self.uncertain}" + mismatch)

    def evidence(self) -> list[str]:
        """One line per fault: what shows it happened."""
        return [
            f"leader killed: {self.leader_killed}, then led by {self.leader_taken_over_by}",
            f"receiver outage: {self.bad_gateway_answers} answers 502 with a binary body "
            f"({self.bad_gateway_recorded} recorded in the delivery log), then connections refused for "
            f"{self.refused_phase_s:.0f}s",
            f"lone alert ({LONE_DEPARTMENT}/{LONE_TARGET}): queued during the outage {self.lone_queued_in_outage}, "
            f"delivered {self.lone_deliveries} time(s) ({self.lone_requests} request(s))",
            f"upgrade: evaluator upgraded {self.upgraded}, {self.upgraded_events} events with {UPGRADE_FIELD}, "
            f"alert of {UPGRADE_TARGET} delivered {self.upgrade_alert_deliveries} time(s)",
            f"SQLite write lock: held {self.lock_held_s:.1f}s on the {self.lock_database} database"
            if self.lock_database else "SQLite write lock: not held (the databases are not SQLite)",
        ]

    def ok(self) -> bool:
        """Nothing lost, nothing sent twice, nothing dead-lettered."""
        return self.lost == 0 and self.duplicated == 0 and self.dead_lettered == 0

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


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
                self.accepted[i] = submit(http, self.stack, self.key, obs)
                time.sleep(1 / self.rate)
        self.done.set()


def submit(http: httpx.Client, stack: Stack, key: str, obs: dict, timeout_s: float = 300) -> str:
    """Submit one observation, retrying it with the same Idempotency-Key until ingest accepts it; its id."""
    idem = uuid.uuid4().hex
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            r = http.post(f"{stack.url('ingest')}/v1/observations", json=obs,
                          headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem})
            if r.status_code in (200, 201):
                return str(r.json()["id"])
            if r.status_code < 500 and r.status_code != 429:
                raise RuntimeError(f"observation {obs} rejected: {r.status_code} {r.text}")
        except httpx.HTTPError:
            pass  # ingest is down or restarting: retry the same request
        time.sleep(0.2)
    raise RuntimeError(f"ingest did not accept {obs} in {timeout_s:.0f}s")


def _restart_service(stack: Stack, name: str, counts: Counts) -> None:
    for proc in stack.replicas_of(name):
        proc.kill()
        proc.start()
    for proc in stack.replicas_of(name):
        proc.wait_ready(120)
    counts.faults.append(f"SIGKILL+restart {name}")


def _replica_name(proc: ServiceProcess) -> str:
    return f"{proc.name}-{proc.replica}"


def _metric(proc: ServiceProcess, name: str) -> float | None:
    """The sum of a metric's samples on a process's /metrics (None when it does not answer)."""
    try:
        r = httpx.get(f"{proc.url}/metrics", timeout=3)
        r.raise_for_status()
    except httpx.HTTPError:
        return None
    found = re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})?\s+(\S+)$", r.text, flags=re.MULTILINE)
    return sum(float(v) for v in found) if found else None


def _leaders(stack: Stack) -> list[ServiceProcess]:
    return [p for p in stack.replicas_of("alerts") if _metric(p, "alerts_dispatcher_leader") == 1]


def _kill_leader(stack: Stack, counts: Counts) -> None:
    """SIGKILL the alerts replica whose dispatcher leads, wait for another to take over, restart it."""
    deadline = time.monotonic() + 60
    while len(leaders := _leaders(stack)) != 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no single dispatcher leader among the alerts replicas: {leaders}")
        time.sleep(0.5)
    victim = leaders[0]
    victim.kill()
    counts.leader_killed = _replica_name(victim)
    deadline = time.monotonic() + 60
    while not (others := [p for p in _leaders(stack) if p is not victim]):
        if time.monotonic() > deadline:
            raise RuntimeError("no other alerts replica took the dispatcher's leadership over")
        time.sleep(0.2)
    counts.leader_taken_over_by = _replica_name(others[0])
    victim.start()
    victim.wait_ready(120)
    counts.faults.append(f"SIGKILL of the dispatcher leader {counts.leader_killed} (taken over by "
                         f"{counts.leader_taken_over_by}) + restart")


def _notifications_of(url: str, department: str) -> int:
    return _scalar(url, "SELECT count(*) FROM notifications WHERE department = :d", d=department)


def _receiver_outage(receiver: Receiver, stack: Stack, key: str, urls: dict[str, str], outage_s: float,
                     counts: Counts) -> None:
    """Receiver answers 502 with a binary body, then refuses connections; rsj's lone alert comes meanwhile."""
    started = time.monotonic()
    receiver.fail_with, receiver.fail_body = 502, BAD_GATEWAY_BODY
    receiver.fail_content_type = "application/octet-stream"
    served_before = receiver.failed
    with httpx.Client(timeout=10) as http:
        submit(http, stack, key, LONE_OBSERVATION)
    # About half the outage answering 502, longer if no attempt has met one yet (at most 80% of it).
    while time.monotonic() - started < outage_s * 0.8 and (
            time.monotonic() - started < outage_s / 2 or receiver.failed == served_before):
        time.sleep(0.2)
    counts.bad_gateway_answers += receiver.failed - served_before
    receiver.stop()
    receiver.fail_with, receiver.fail_body = None, Receiver.fail_body
    receiver.fail_content_type = Receiver.fail_content_type
    refused_at = time.monotonic()
    while time.monotonic() - started < outage_s:
        if not counts.lone_queued_in_outage:
            with contextlib.suppress(Exception):  # the database may be restarting (PostgreSQL): look again
                counts.lone_queued_in_outage = _notifications_of(urls["alerts"], LONE_DEPARTMENT) > 0
        time.sleep(0.5)
    counts.refused_phase_s = time.monotonic() - refused_at
    receiver.start()
    counts.faults.append(f"receiver down for {time.monotonic() - started:.0f}s: {counts.bad_gateway_answers} "
                         f"answers 502 with a binary body, then connection refused for {counts.refused_phase_s:.0f}s")


def _hold_sqlite_lock(url: str, name: str, hold_s: float, counts: Counts) -> None:
    """Another process's transaction holds the database's write lock for ``hold_s`` seconds, then rolls back."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")  # waits for the services' current write, then holds the lock
        got = time.monotonic()
        time.sleep(hold_s)
        conn.execute("ROLLBACK")
        counts.lock_held_s = time.monotonic() - got
    finally:
        conn.close()
    counts.lock_database = name
    counts.faults.append(f"SQLite write lock of the {name} database held for {counts.lock_held_s:.1f}s "
                         f"(busy timeout {SQLITE_BUSY_TIMEOUT_S:g}s)")


def _upgrade_evaluator(stack: Stack, key: str, counts: Counts) -> None:
    """Rolling upgrade: each evaluator process stopped and started as the newer version, then a new figure."""
    for proc in stack.replicas_of("evaluator"):
        proc.stop()
        path = [str(UPGRADE_SHIM), str(REPO), *filter(None, proc.env.get("PYTHONPATH", "").split(os.pathsep))]
        proc.env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path))
        proc.start()
        proc.wait_ready(120)
    counts.upgraded = True
    with httpx.Client(timeout=10) as http:
        submit(http, stack, key, UPGRADE_OBSERVATION)
    counts.faults.append(f"rolling upgrade of the evaluator (events gain {UPGRADE_FIELD}), then "
                         f"{UPGRADE_OBSERVATION['indicator']} published")


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


def _payload_bytes(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode()
    return bytes(value)  # type: ignore[arg-type]


def _carrying(receiver: Receiver, target_id: str, department: str | None = None) -> tuple[int, int]:
    """(distinct idempotency keys, requests) of accepted notifications with an alert of ``target_id``."""
    keys = []
    for req in list(receiver.requests):
        p = req.json()
        if department is not None and p["department"]["id"] != department:
            continue
        items = p.get("alerts") or [{"event": p.get("event")}]
        if any((item.get("event") or {}).get("target_id") == target_id for item in items):
            keys.append(req.headers.get("Idempotency-Key", ""))
    return len(set(keys)), len(keys)


def _dead_lettering_lines(log_dir: Path) -> int:
    n = 0
    for path in sorted(log_dir.glob("*.log")):
        with open(path, encoding="utf-8", errors="replace") as f:
            n += sum(1 for line in f if "dead-lettering" in line)
    return n


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
        pending_notes = (_scalar(urls["alerts"], "SELECT count(*) FROM notifications WHERE status = 'pending'")
                         + _scalar(urls["alerts"], "SELECT count(*) FROM notification_items "
                                                   "WHERE notification_id IS NULL"))
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
    by_status = dict(_rows(urls["alerts"], "SELECT status, count(*) FROM notifications GROUP BY status"))
    counts.dead_notifications = int(by_status.get("dead", 0))
    counts.bad_gateway_recorded = _scalar(urls["alerts"], "SELECT count(*) FROM delivery_attempts "
                                                          "WHERE http_status = 502")
    counts.failed_notifications = int(by_status.get("failed", 0))
    counts.uncertain = int(by_status.get("uncertain", 0))
    counts.dead_lettered_events = _dead_lettering_lines(stack.data_dir / "logs")
    counts.dead_lettered = counts.dead_lettered_events + counts.dead_notifications
    # The faults' own evidence: rsj's lone alert, and the alert of the figure published after the upgrade.
    counts.lone_deliveries, counts.lone_requests = _carrying(receiver, LONE_TARGET, LONE_DEPARTMENT)
    if counts.upgraded:
        counts.upgrade_alert_deliveries = _carrying(receiver, UPGRADE_TARGET)[0]
        counts.upgraded_events = sum(
            1 for (payload,) in _rows(urls["evaluator"], "SELECT payload FROM outbox")
            if f'"{UPGRADE_FIELD}"'.encode() in _payload_bytes(payload))
    missing_evidence = (counts.lone_deliveries == 0) + (counts.upgraded and counts.upgrade_alert_deliveries == 0)
    counts.lost = ((counts.accepted - counts.stored) + (counts.stored - counts.evaluated)
                   + len(counts.alert_state_mismatches)
                   + (len(current) - evaluated_series)
                   + (len(expected) - counts.notified) + len(set(keys) - expected)
                   + counts.failed_notifications + int(missing_evidence))
    return counts


def run_drill(*, data_dir: Path, database_urls: dict[str, str], duration_s: float, outage_s: float,
              rate: float, seed: int, pg_cluster: PostgresCluster | None = None,
              broker_restart: bool = True) -> Counts:
    """Run the drill once and return the counts (see the module docstring).

    With ``pg_cluster`` (the server holding ``database_urls``) the drill also stops and restarts PostgreSQL;
    on SQLite (no ``database_urls``, or sqlite URLs) it holds a database's write lock instead.
    """
    if not 0 < outage_s <= MAX_OUTAGE_S:
        raise ValueError(f"the receiver outage must be more than 0 and at most {MAX_OUTAGE_S:.0f}s")
    rng = random.Random(seed)
    counts = Counts()
    receiver = Receiver().start()
    broker = TansuBroker(port=free_port(), log_path=data_dir / "broker.log")
    broker.start()
    stack_dir = data_dir / "stack"
    sqlite = all(database_urls.get(s, "sqlite:").startswith("sqlite:") for s in SERVICES)
    common = {f"{ENV_PREFIX[s]}SQLITE_BUSY_TIMEOUT_S": f"{SQLITE_BUSY_TIMEOUT_S:g}" for s in SERVICES} if sqlite else {}
    extra_env = {s: {k: v for k, v in common.items() if k.startswith(ENV_PREFIX[s])} for s in SERVICES}
    extra_env["alerts"].update({
        "ALERTS_DEFAULT_WEBHOOK_URL": f"{receiver.url}/hook", "ALERTS_WEBHOOK_SECRET": "drill",
        "ALERTS_RETRY_BASE_S": "0.5", "ALERTS_RETRY_MAX_S": "5",
        # Grouping on: a receiver's alerts wait a second to go out together, groups at least 2 s apart.
        "ALERTS_GROUP_WAIT_S": "1", "ALERTS_GROUP_INTERVAL_S": "2"})
    stack = Stack(data_dir=stack_dir, broker=broker, database_urls=database_urls, extra_env=extra_env,
                  replicas={"alerts": ALERTS_REPLICAS})
    urls = {name: stack.services[name].env[f"{name.upper()}_DATABASE_URL"] for name in SERVICES}
    try:
        stack.start()  # inside the try: processes started before a failure (or Ctrl-C) are stopped too
        key = stack.issue_ingest_key("市统计局")
        stream = build_stream(seed, rounds=max(1, int(duration_s * rate / 34)))
        client = Client(stack, key, stream, rate)
        t = threading.Thread(target=client.run, daemon=True)
        t.start()
        plan = ["ingest", "evaluator", "alerts leader", "receiver", "upgrade"] + (
            ["broker"] if broker_restart else []) + (["postgres"] if pg_cluster is not None else []) + (
            ["sqlite lock"] if sqlite else [])
        rng.shuffle(plan)
        gap = max(2.0, duration_s / (len(plan) + 1))
        for fault in plan:
            client.done.wait(rng.uniform(0.5, 1.5) * gap)
            print(f"  fault: {fault}", flush=True)
            if fault in SERVICES:
                _restart_service(stack, fault, counts)
            elif fault == "alerts leader":
                _kill_leader(stack, counts)
            elif fault == "broker":
                _restart_broker(stack, stack.ingest_admin_token, counts)
            elif fault == "postgres" and pg_cluster is not None:
                _restart_postgres(pg_cluster, counts, down_s=5)
            elif fault == "receiver":
                _receiver_outage(receiver, stack, key, urls, outage_s, counts)
            elif fault == "upgrade":
                _upgrade_evaluator(stack, key, counts)
            elif fault == "sqlite lock":
                _hold_sqlite_lock(urls["alerts"], "alerts", SQLITE_LOCK_HOLD_S, counts)
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
    parser.add_argument("--outage", type=float, default=60,
                        help=f"seconds the webhook receiver is out (502s, then refused), at most {MAX_OUTAGE_S:.0f}")
    parser.add_argument("--rate", type=float, default=5, help="observations per second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=None, help="PostgreSQL admin URL: one fresh database per service")
    parser.add_argument("--pg-restart", action="store_true",
                        help="also stop and restart PostgreSQL: the databases then live on a PostgreSQL server of "
                             "the drill's own (created and removed by the drill), never the --postgres server")
    parser.add_argument("--json", action="store_true", help="also print every count as one JSON object (last line)")
    args = parser.parse_args()
    if not 0 < args.outage <= MAX_OUTAGE_S:
        parser.error(f"--outage: more than 0 and at most {MAX_OUTAGE_S:.0f} seconds")
    data_dir = Path(tempfile.mkdtemp(prefix="wuxi-drill-"))
    urls: dict[str, str] = {}
    cluster: PostgresCluster | None = None
    scratch = ScratchDatabases(args.postgres, prefix="drill") if args.postgres and not args.pg_restart else None
    if args.pg_restart:
        cluster = PostgresCluster().init()
        cluster.start()
        urls = {svc: cluster.create_database(f"drill_{svc}") for svc in SERVICES}
    elif scratch:
        urls = {svc: scratch.create(svc) for svc in SERVICES}
    where = "SQLite" if not urls else ("a PostgreSQL server of its own" if cluster else "PostgreSQL")
    print(f"drill: {args.duration:.0f}s at {args.rate:g} obs/s, receiver outage {args.outage:.0f}s, "
          f"{ALERTS_REPLICAS} alerts replicas with grouping, {where}; logs in {data_dir}", flush=True)
    try:
        counts = run_drill(data_dir=data_dir, database_urls=urls, duration_s=args.duration,
                           outage_s=args.outage, rate=args.rate, seed=args.seed, pg_cluster=cluster)
    finally:
        if cluster is not None:
            cluster.remove()
        if scratch:
            scratch.drop_all()
    for f in counts.faults:
        print(f"  {f}")
    for e in counts.evidence():
        print(f"  {e}")
    print(counts.line())
    print(f"lost {counts.lost}, duplicated {counts.duplicated}, dead-lettered {counts.dead_lettered}, "
          f"uncertain {counts.uncertain}: {'OK' if counts.ok() else 'FAILED'}")
    if args.json:
        print(json.dumps(counts.as_dict(), ensure_ascii=False))
    sys.exit(0 if counts.ok() else 1)


if __name__ == "__main__":
    main()
