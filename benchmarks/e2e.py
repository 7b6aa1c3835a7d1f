"""End-to-end benchmark: starts the whole stack as processes and prints what it measured.

    ./dev bench [--n 300] [--rate 50] [--postgres postgresql://postgres@127.0.0.1:5432/test]

Phase 1, latency: N observations at a fixed rate R (open loop), each flipping GDP growth's status so each
yields one notification; latency = ingest's 201 answer → the webhook receiver's arrival time.
Phase 2, ingest throughput: single-observation POSTs from 32 concurrent clients, then 1,000-row batches
from 4 concurrent clients (regions other than the city, so the alert path stays quiet).
After phase 1, the latency hop by hop (devstack/hops.py: the services' stored timestamps, medians and p90).
Then each process's peak RSS (VmHWM). Not a test: numbers only, compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.hops import describe, hop_times
from devstack.receiver import Receiver
from devstack.scratchdb import ScratchDatabases
from devstack.stack import SERVICES, Stack, peak_rss_mb
from shared.catalogue import load_catalogue

REGIONS = ["jiangyin", "yixing", "liangxi", "xishan", "huishan", "binhu", "xinwu", "jingkai"]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


async def latency_phase(ingest: str, key: str, receiver: Receiver, n: int, rate: float) -> dict[str, float]:
    accepted: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {key}"}) as client:
        start = time.perf_counter()
        for i in range(n):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            r = await client.post(f"{ingest}/v1/observations", json={
                "indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct",
                "value": 3.0 if i % 2 == 0 else 8.0, "unit": "%", "revision_reason": "benchmark"})
            r.raise_for_status()
            accepted[r.json()["id"]] = time.time()
    receiver.wait_for(n, timeout_s=120)
    latencies = []
    for req in receiver.requests:
        obs_id = req.json()["event"]["observation_id"]
        if obs_id in accepted:
            latencies.append((req.at - accepted[obs_id]) * 1000)
    return {"notified": len(latencies), "p50_ms": pct(latencies, 50), "p95_ms": pct(latencies, 95),
            "p99_ms": pct(latencies, 99), "max_ms": max(latencies) if latencies else float("nan")}


def _rows(indicators: list[str], count: int) -> list[dict]:
    rows = []
    i = 0
    for ind in indicators:
        for region in REGIONS:
            for month in range(2, 13):
                for year in (2021, 2022, 2023):
                    rows.append({"indicator": ind, "region": region, "period": f"{year}-M{month:02d}",
                                 "measure": "cumulative_yoy_pct", "value": 5.0 + (i % 7) / 10, "unit": "%"})
                    i += 1
                    if len(rows) == count:
                        return rows
    return rows


async def single_post_phase(ingest: str, key: str, rows: list[dict], concurrency: int = 32) -> dict[str, float]:
    queue = list(rows)
    latencies: list[float] = []
    failed: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            row = queue.pop()
            t = time.perf_counter()
            try:
                r = await client.post(f"{ingest}/v1/observations", json=row)
            except httpx.TransportError as exc:  # counted and said, not a traceback ending the run
                failed.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append((time.perf_counter() - t) * 1000)
            if r.status_code >= 300:
                failed.append(f"HTTP {r.status_code}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits, headers={"Authorization": f"Bearer {key}"}) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    if failed:
        print(f"single POSTs: {len(failed)} of {len(rows)} failed, e.g. {failed[0]}", flush=True)
    return {"requests": len(rows), "per_s": len(rows) / elapsed, "p50_ms": pct(latencies, 50),
            "p99_ms": pct(latencies, 99)}


async def batch_phase(ingest: str, key: str, rows: list[dict], batch: int = 1000,
                      concurrency: int = 4) -> dict[str, float]:
    batches = [rows[i : i + batch] for i in range(0, len(rows), batch)]

    async def worker(client: httpx.AsyncClient) -> None:
        while batches:
            b = batches.pop()
            r = await client.post(f"{ingest}/v1/observations/batch", json={"observations": b})
            r.raise_for_status()

    async with httpx.AsyncClient(timeout=120, headers={"Authorization": f"Bearer {key}"}) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return {"observations": len(rows), "per_s": len(rows) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300, help="observations in the latency phase")
    parser.add_argument("--rate", type=float, default=50.0, help="observations per second in the latency phase")
    parser.add_argument("--singles", type=int, default=3000, help="single POSTs in the throughput phase")
    parser.add_argument("--batched", type=int, default=20000, help="observations sent in 1,000-row batches")
    parser.add_argument("--postgres", default=None, help="PostgreSQL admin URL; SQLite when omitted")
    args = parser.parse_args()

    receiver = Receiver().start()
    scratch = ScratchDatabases(args.postgres, prefix="bench") if args.postgres else None
    urls = {svc: scratch.create(svc) for svc in SERVICES} if scratch else {}
    data_dir = Path(tempfile.mkdtemp(prefix="wuxi-bench-"))
    stack = Stack(data_dir=data_dir, database_urls=urls, extra_env={"alerts": {
        "ALERTS_WEBHOOK_URLS": json.dumps({"fgw": f"{receiver.url}/fgw"}), "ALERTS_WEBHOOK_SECRET": "bench"},
        # One key sends everything here; the per-key rate limit (100/s by default) would measure itself.
        "ingest": {"INGEST_RATE_LIMIT_PER_S": "0"}})
    print(f"database: {'PostgreSQL' if urls else 'SQLite'}; logs in {data_dir / 'logs'}", flush=True)
    stack.start()
    try:
        ingest = stack.url("ingest")
        key = stack.issue_ingest_key("市统计局")
        lat = asyncio.run(latency_phase(ingest, key, receiver, args.n, args.rate))
        print(f"end to end at {args.rate:g}/s, n={args.n}: notified {lat['notified']}, p50 {lat['p50_ms']:.1f} ms, "
              f"p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms", flush=True)
        time.sleep(1.0)  # the relays mark what they published a moment after the broker's ack
        dbs = {svc: urls.get(svc, f"sqlite:///{data_dir / (svc + '.db')}") for svc in SERVICES}
        print("where it goes (devstack/hops.py, from the services' own timestamps):\n"
              + "\n".join(describe(hop_times(dbs))), flush=True)
        indicators = [i.id for i in load_catalogue().indicators.values()
                      if "cumulative_yoy_pct" in i.measures and i.frequency == "M"]
        rows = _rows(indicators, args.singles + args.batched)
        single = asyncio.run(single_post_phase(ingest, key, rows[: args.singles]))
        print(f"single POSTs, 32 clients: {single['per_s']:.0f}/s, p50 {single['p50_ms']:.1f} ms, "
              f"p99 {single['p99_ms']:.1f} ms", flush=True)
        batched = asyncio.run(batch_phase(ingest, key, rows[args.singles :]))
        print(f"1,000-row batches, 4 clients: {batched['per_s']:.0f} observations/s "
              f"({batched['observations']} observations)", flush=True)
        procs = {name: svc.proc.pid for name, svc in stack.services.items() if svc.proc}
        if stack.broker and stack.broker.proc:
            procs["broker"] = stack.broker.proc.pid
        print("peak RSS: " + ", ".join(f"{k} {peak_rss_mb(p):.0f} MB" for k, p in procs.items()), flush=True)
    finally:
        stack.stop()
        receiver.stop()
        if scratch:
            scratch.drop_all()


if __name__ == "__main__":
    main()
