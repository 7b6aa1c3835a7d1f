"""Release-morning benchmark: every region's figures pushed at once, through the whole stack, until every resulting
status change is notified; with the evaluator and alerts scaled out to 1, 2 and 4 replicas (consumer groups).

    .venv/bin/python benchmarks/release_morning.py [--postgres postgresql://postgres@127.0.0.1:5432/test]
        [--replicas 1,2,4] [--years 2021-2024] [--clients 8] [--batch 1000] [--timeout-s 600]

The figures: every region ingest knows (shared/regions.py) × every indicator of the catalogue × each of its
measures × each period of its frequency in the given years (months from 1—2月, quarters, the year), sent oldest
period first in batches of ``--batch`` by ``--clients`` concurrent clients. Values are made up but plausible: a
target's series straddles its target (so statuses move, as on a bad morning), other series lie within the
indicator's plausible range. It prints what is evaluated: only regions and years with a catalogue have targets;
the other figures are stored (they are last year's paths and the district rankings) and judged against nothing.

For each replica count, a stack of its own (its own broker, its own databases, dropped afterwards): the time from
the first POST until the last notification arrived and the pipeline was provably idle (devstack/idle.py), the
throughput of each stage, the consumer lag over time, and each process's peak RSS. Baseline from the same run:
the 1-replica figures; each scaled run prints its ratio to them. A run that does not become idle within
``--timeout-s`` says what was left and the script exits with status 1. Prints numbers; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.idle import Idleness, consumed_events, scalar
from devstack.receiver import Receiver
from devstack.scratchdb import ScratchDatabases
from devstack.stack import SERVICES, Stack, peak_rss_mb
from shared.catalogue import Catalogue, load_catalogues
from shared.catalogue.model import Frequency, Measure
from shared.db import normalise_url
from shared.regions import REGIONS

PCT = (Measure.YOY_PCT, Measure.CUMULATIVE_YOY_PCT)
CUMULATIVE = (Measure.CUMULATIVE_LEVEL, Measure.CUMULATIVE_YOY_PCT)


def _periods(frequency: Frequency, year: int) -> list[tuple[str, float]]:
    """(period code, share of the year gone) of one year, oldest first; monthly figures start with 1—2月."""
    if frequency == Frequency.MONTHLY:
        return [(f"{year}-M{m:02d}", m / 12) for m in range(2, 13)]
    if frequency == Frequency.QUARTERLY:
        return [(f"{year}-Q{q}", q / 4) for q in range(1, 5)]
    return [(str(year), 1.0)]


def _unit(seed: str) -> float:
    """A number in [0, 1) that depends only on ``seed`` (the same figures every run)."""
    return int(hashlib.blake2b(seed.encode(), digest_size=4).hexdigest(), 16) / 2**32


def release_rows(catalogue: Catalogue, regions: list[str], years: list[int]) -> list[dict[str, Any]]:
    """The morning's figures, oldest period first."""
    goals: dict[tuple[str, str], float] = {}  # (indicator, measure) -> the city target's value, in the indicator's unit
    for t in catalogue.targets.values():
        if t.indicator and t.measure and t.value is not None and t.indicator in catalogue.indicators:
            unit = catalogue.indicators[t.indicator].unit
            if t.measure in PCT or t.unit == unit:
                goals.setdefault((t.indicator, t.measure.value), t.value)
    rows: list[tuple[tuple[int, float], dict[str, Any]]] = []
    for year in years:
        for ind in catalogue.indicators.values():
            lo = ind.min_value if ind.min_value is not None else 0.0
            hi = ind.max_value if ind.max_value is not None else max(10 * lo, 1000.0)
            for measure in ind.measures:
                for period, share in _periods(ind.frequency, year):
                    for region in regions:
                        h = _unit(f"{region}/{ind.id}/{measure}/{period}")
                        goal = goals.get((ind.id, measure.value))
                        if measure in PCT:
                            centre = goal if goal is not None else 5.0
                            value, unit = round(centre - 1.5 + 3.0 * h, 2), "%"
                        else:
                            scale = share if measure in CUMULATIVE else 1.0
                            if goal is not None:
                                value = goal * scale * (0.85 + 0.3 * h)
                            else:
                                value = lo + (hi - lo) * (0.2 + 0.6 * h) * (scale if lo == 0 else 1.0)
                            value, unit = round(min(max(value, lo), hi), 2), ind.unit
                        rows.append(((year, share), {
                            "indicator": ind.id, "region": region, "period": period, "measure": measure.value,
                            "value": value, "unit": unit}))
    rows.sort(key=lambda r: r[0])
    return [r for _, r in rows]


@dataclass
class Result:
    replicas: int
    observations: int
    ingest_s: float = float("nan")  # first POST -> last batch answered
    evaluated_s: float = float("nan")  # first POST -> ingest's outbox empty and the evaluator group caught up
    notified_s: float = float("nan")  # first POST -> the last notification arrived
    idle_s: float = float("nan")  # first POST -> provably idle
    deviations: float = 0.0
    notifications: int = 0
    sent_rows: int = 0
    lag: list[tuple[float, int, int]] = field(default_factory=list)  # (t, evaluator lag, alerts lag)
    rss: dict[str, float] = field(default_factory=dict)
    finished: bool = True
    left: dict[str, int] = field(default_factory=dict)
    standing: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # target -> (period, status, severity)


async def push(ingest: str, key: str, rows: list[dict[str, Any]], batch: int, clients: int) -> float:
    """Send the rows in order, ``clients`` batches in flight at a time; returns when the last was answered."""
    batches = [rows[i : i + batch] for i in range(0, len(rows), batch)]
    batches.reverse()

    async def worker(client: httpx.AsyncClient) -> None:
        while batches:
            b = batches.pop()
            r = await client.post(f"{ingest}/v1/observations/batch", json={"observations": b})
            if r.status_code not in (200, 201):
                raise SystemExit(f"ingest refused a batch ({r.status_code}): {r.text[:500]}")

    async with httpx.AsyncClient(timeout=300, headers={"Authorization": f"Bearer {key}"}) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return time.perf_counter()


def run_once(replicas: int, rows: list[dict[str, Any]], args: argparse.Namespace) -> Result:
    res = Result(replicas, len(rows))
    receiver = Receiver().start()
    scratch = ScratchDatabases(args.postgres, prefix="bench") if args.postgres else None
    data_dir = Path(tempfile.mkdtemp(prefix=f"wuxi-morning-{replicas}-"))
    urls = {svc: scratch.create(f"{svc}{replicas}") for svc in SERVICES} if scratch else {
        svc: f"sqlite:///{data_dir / (svc + '.db')}" for svc in SERVICES}
    stack = Stack(data_dir=data_dir, database_urls=urls, replicas={"evaluator": replicas, "alerts": replicas},
                  topic_prefix=f"morning{replicas}", extra_env={
                      "alerts": {"ALERTS_DEFAULT_WEBHOOK_URL": f"{receiver.url}/all", "ALERTS_WEBHOOK_SECRET": "bench"},
                      "ingest": {"INGEST_RATE_LIMIT_PER_S": "0"}})
    idle: Idleness | None = None
    try:
        stack.start()
        key = stack.issue_ingest_key("市统计局")
        idle = Idleness(stack, urls)
        pushed = threading.Event()
        t0 = time.perf_counter()
        done: dict[str, float] = {}

        def watch() -> None:
            assert idle is not None
            while True:
                b = idle.backlog()
                t = time.perf_counter() - t0
                ev_lag = b.get(f"{stack.topic_prefix}-evaluator lag", 0)
                al_lag = b.get(f"{stack.topic_prefix}-alerts lag", 0)
                res.lag.append((t, ev_lag, al_lag))
                if pushed.is_set():
                    if "evaluated" not in done and not b["ingest outbox"] and not ev_lag:
                        done["evaluated"] = t
                    if not any(b.values()):
                        done["idle"] = t
                        return
                if t > args.timeout_s:
                    res.finished, res.left = False, {k: v for k, v in b.items() if v}
                    return
                time.sleep(0.5)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        t_pushed = asyncio.run(push(stack.url("ingest"), key, rows, args.batch, args.clients))
        res.ingest_s = t_pushed - t0
        pushed.set()
        watcher.join()
        res.evaluated_s = done.get("evaluated", float("nan"))
        res.idle_s = done.get("idle", float("nan"))
        arrivals = [r.at for r in receiver.requests]
        res.notifications = len(arrivals)
        # Received.at is wall-clock time; the first POST's wall-clock time is t0's.
        wall0 = time.time() - (time.perf_counter() - t0)
        res.notified_s = max(arrivals) - wall0 if arrivals else float("nan")
        for proc in stack.replicas_of("alerts"):
            text = httpx.get(f"{proc.url}/metrics", timeout=10).text
            res.deviations += consumed_events(text, outcomes=("processed",))
        res.sent_rows = scalar(urls["alerts"], "SELECT count(*) FROM notifications WHERE status = 'sent'")
        res.standing = standing(urls["evaluator"])
        for proc in stack.processes:
            if proc.proc is not None:
                res.rss[f"{proc.name}-{proc.replica}" if proc.replica > 1 else proc.name] = peak_rss_mb(proc.proc.pid)
        if stack.broker is not None and stack.broker.proc is not None:
            res.rss["broker"] = peak_rss_mb(stack.broker.proc.pid)
    finally:
        if idle is not None:
            idle.close()
        stack.stop()
        receiver.stop()
        if scratch:
            scratch.drop_all()
    return res


def standing(url: str) -> dict[str, tuple[str, str, str]]:
    """Where every target stands at the end: the same figures must leave the same standing, whatever the order."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return {t: (p, s, v) for t, p, s, v in conn.execute(text(
                "SELECT target_id, period, status, severity FROM target_states"))}
    finally:
        engine.dispose()


def _ratio(x: float, base: float) -> str:
    return f"{x / base:.2f}x" if base and base == base and x == x else "—"


def report(results: list[Result]) -> None:
    base = results[0]
    print("\n| replicas (evaluator, alerts) | observations | ingest obs/s | evaluated obs/s | status changes | "
          "notifications | first POST → last notified | → idle | speed-up to idle vs 1 replica | final standing |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        differ = sorted(t for t in {*r.standing, *base.standing} if r.standing.get(t) != base.standing.get(t))
        same = (f"{len(r.standing)} targets, as with {base.replicas}" if not differ
                else f"{len(differ)} of {len(r.standing)} differ from {base.replicas}: {', '.join(differ[:5])}")
        print(f"| {r.replicas} | {r.observations:,} | {r.observations / r.ingest_s:,.0f} | "
              f"{r.observations / r.evaluated_s:,.0f} | {r.deviations:,.0f} | {r.notifications:,} "
              f"({r.sent_rows:,} sent rows) | {r.notified_s:.1f} s | {r.idle_s:.1f} s | "
              f"{_ratio(base.idle_s, r.idle_s)} | {same} |" + ("" if r.finished else f" DID NOT FINISH: {r.left}"))
    for r in results:
        print(f"\npeak RSS, {r.replicas} replica(s): " + ", ".join(f"{k} {v:.0f} MB" for k, v in r.rss.items()))
        step = max(1, len(r.lag) // 12)
        print("consumer lag (s: evaluator group, alerts group): " + "; ".join(
            f"{t:.1f}: {e:,}, {a:,}" for t, e, a in r.lag[::step]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", default=None, help="PostgreSQL admin URL (a database per service and run); "
                    "SQLite files when omitted")
    ap.add_argument("--replicas", default="1,2,4", help="replica counts of the evaluator and alerts, in turn")
    ap.add_argument("--years", default="2021-2024", help="the years of figures sent, FIRST-LAST")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients")
    ap.add_argument("--batch", type=int, default=1000, help="observations per request")
    ap.add_argument("--timeout-s", type=float, default=600.0, help="give up on a run not idle after this long")
    args = ap.parse_args()
    first, _, last = args.years.partition("-")
    years = list(range(int(first), int(last or first) + 1))
    catalogues = load_catalogues()
    catalogue = catalogues.primary
    regions = list(REGIONS)
    rows = release_rows(catalogue, regions, years)
    judged = [(c.region, c.year, len(c.targets)) for c in catalogues.by_key.values() if c.year in years]
    without = [r for r in regions if not any(c[0] == r for c in judged)]
    print(f"{len(regions)} regions × {len(catalogue.indicators)} indicators (their measures and periods) × years "
          f"{years[0]}–{years[-1]} = {len(rows):,} observations, in batches of {args.batch} from {args.clients} "
          f"clients; database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    print("evaluated against: " + ", ".join(f"{r} {y} ({n} targets)" for r, y, n in judged)
          + f"; no catalogue yet for {', '.join(without)} (and for the other years): those figures are stored (last "
            "year's paths, the district rankings) and judged against nothing", flush=True)
    results = []
    for n in (int(x) for x in args.replicas.split(",")):
        r = run_once(n, rows, args)
        results.append(r)
        print(f"{n} replica(s): ingest {r.ingest_s:.1f} s, evaluated {r.evaluated_s:.1f} s, last notified "
              f"{r.notified_s:.1f} s, idle {r.idle_s:.1f} s" + ("" if r.finished else f"; NOT IDLE: {r.left}"),
              flush=True)
    report(results)
    print(json.dumps([{k: v for k, v in r.__dict__.items() if k not in ("lag", "standing")} for r in results]))
    return 0 if all(r.finished for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
