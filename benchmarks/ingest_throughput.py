"""Ingest throughput against targets, with a baseline measured in the same run on the same database.

    python benchmarks/ingest_throughput.py [--postgres postgresql://postgres@127.0.0.1:5432/test]

1. Baseline: a bare SQLAlchemy Core executemany insert of the same rows, 1,000 per transaction, into a
   table shaped like ingest's observations table (no validation, no outbox, no HTTP).
2. Batch API: 1,000-observation requests from 8 concurrent clients, each answered only after the rows
   and their outbox events committed. Target: >= 20,000 observations/s and >= 40% of the baseline.
3. Single POSTs from 32 concurrent connections (wrk when installed, closed loop), every request a new
   series. Target: >= 1,500/s with p99 < 50 ms.
The broker runs (the relay publishes as it goes), as in production. Prints a table; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text, create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.broker import TansuBroker, free_port
from devstack.scratchdb import ScratchDatabases
from devstack.stack import ServiceProcess, peak_rss_mb
from shared.catalogue import load_catalogue
from shared.db import normalise_url

REGIONS = ["jiangyin", "yixing", "liangxi", "xishan", "huishan", "binhu", "xinwu", "jingkai"]
TARGETS = {"batch_obs_per_s": 20_000, "batch_vs_baseline": 0.40, "single_per_s": 1_500, "single_p99_ms": 50}


def rows(n: int, offset: int = 0) -> list[dict]:
    """n distinct observations (distinct series), in the shape bureaus send."""
    cat = load_catalogue()
    inds = [i for i in cat.indicators.values() if "cumulative_yoy_pct" in i.measures and i.frequency == "M"]
    out = []
    k = offset
    while len(out) < n:
        ind = inds[k % len(inds)]
        rest = k // len(inds)
        region = REGIONS[rest % len(REGIONS)]
        rest //= len(REGIONS)
        month = 2 + rest % 11
        year = 2023 - (rest // 11) % 30
        out.append({"indicator": ind.id, "region": region, "period": f"{year}-M{month:02d}",
                    "measure": "cumulative_yoy_pct", "value": 5.0 + (k % 13) / 10, "unit": "%"})
        k += 1
    return out


def baseline(url: str, data: list[dict]) -> float:
    """Rows/s of a bare executemany insert of the same rows, 1,000 per transaction."""
    engine = create_engine(normalise_url(url))
    md = MetaData()
    name = f"bench_baseline_{uuid.uuid4().hex[:6]}"
    t = Table(name, md, Column("pk", Integer, primary_key=True, autoincrement=True),
              *(Column(c, String(200)) for c in ("id", "series_key", "indicator", "region", "period", "measure",
                                                 "unit", "status", "submitted_by")),
              Column("value", Float), Column("vintage", Integer), Column("note", Text),
              Column("recorded_at", DateTime(timezone=True)))
    md.create_all(engine)
    from datetime import UTC, datetime
    now = datetime.now(UTC)
    prepared = [{"id": uuid.uuid4().hex, "series_key": f"{r['indicator']}|{r['region']}|{r['period']}|{r['measure']}",
                 "indicator": r["indicator"], "region": r["region"], "period": r["period"], "measure": r["measure"],
                 "unit": r["unit"], "status": "provisional", "submitted_by": "bench", "value": r["value"],
                 "vintage": 1, "note": None, "recorded_at": now} for r in data]
    t0 = time.perf_counter()
    for i in range(0, len(prepared), 1000):
        with engine.begin() as conn:
            conn.execute(t.insert(), prepared[i : i + 1000])
    elapsed = time.perf_counter() - t0
    md.drop_all(engine)
    engine.dispose()
    return len(prepared) / elapsed


async def batch_api(url: str, key: str, data: list[dict], concurrency: int = 8) -> float:
    batches = [data[i : i + 1000] for i in range(0, len(data), 1000)]

    async def worker(client: httpx.AsyncClient) -> None:
        while batches:
            b = batches.pop()
            r = await client.post(f"{url}/v1/observations/batch", content=json.dumps({"observations": b}),
                                  headers={"Content-Type": "application/json"})
            if r.status_code != 201:
                raise RuntimeError(f"batch refused: {r.status_code} {r.text[:300]}")

    async with httpx.AsyncClient(timeout=120, headers={"Authorization": f"Bearer {key}"}) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return len(data) / (time.perf_counter() - t0)


WRK_SCRIPT = """
counter = 0
local inds = {%s}
local regions = {"jiangyin","yixing","liangxi","xishan","huishan","binhu","xinwu","jingkai"}
function setup(thread) thread:set("tid", counter); counter = counter + 1 end
local n = 0
request = function()
  n = n + 1
  local k = n * 16 + tid
  local ind = inds[(k %% #inds) + 1]
  local rest = math.floor(k / #inds)
  local region = regions[(rest %% #regions) + 1]
  rest = math.floor(rest / #regions)
  local month = 2 + rest %% 11
  local year = 1990 + math.floor(rest / 11) %% 34
  local body = string.format('{"indicator":"%%s","region":"%%s","period":"%%d-M%%02d",' ..
    '"measure":"cumulative_yoy_pct","value":5.1,"unit":"%%%%"}', ind, region, year, month)
  local headers = {["Content-Type"]="application/json", ["Authorization"]="Bearer %s"}
  return wrk.format("POST", "/v1/observations", headers, body)
end
done = function(summary, latency, requests)
  local codes = summary.errors.status
  io.write(string.format("RESULT %%d %%f %%f %%f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, codes))
end
"""


def singles_wrk(url: str, key: str, seconds: int) -> dict[str, float]:
    inds = [i.id for i in load_catalogue().indicators.values()
            if "cumulative_yoy_pct" in i.measures and i.frequency == "M"]
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT % (",".join(f'"{i}"' for i in inds), key))
    out = subprocess.run(["wrk", "-t", "2", "-c", "32", "-d", f"{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    _, n, dur, p50, p99, errors = line.split()
    return {"per_s": int(n) / float(dur), "p50_ms": float(p50), "p99_ms": float(p99), "non_2xx": int(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=None, help="PostgreSQL admin URL; SQLite when omitted")
    parser.add_argument("--observations", type=int, default=60_000, help="observations for the batch phase")
    parser.add_argument("--seconds", type=int, default=15, help="duration of the single-POST phase")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="wuxi-ingest-bench-"))
    scratch = ScratchDatabases(args.postgres, prefix="bench") if args.postgres else None
    url = scratch.create("ingest") if scratch else f"sqlite:///{tmp / 'ingest.db'}"
    broker = TansuBroker(log_path=tmp / "broker.log")
    broker.start()
    admin_token = uuid.uuid4().hex
    env = {**os.environ, "INGEST_DATABASE_URL": url, "INGEST_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
           "INGEST_ADMIN_TOKEN": admin_token, "INGEST_RATE_LIMIT_PER_S": "0",
           "INGEST_LOG_LEVEL": "WARNING"}
    procs = []
    port = free_port()
    try:
        p = ServiceProcess("ingest", port, dict(env), tmp / "ingest.log")
        p.start()
        procs.append(p)
        p.wait_ready(60)
        base = procs[0].url
        key = httpx.post(f"{base}/admin/keys", headers={"Authorization": f"Bearer {admin_token}"},
                         json={"organisation": "市统计局"}).json()["key"]
        data = rows(args.observations)
        asyncio.run(batch_api(base, key, rows(2000, offset=10**6)))  # warm-up
        batch = asyncio.run(batch_api(base, key, data))
        base_rate = baseline(url, rows(args.observations, offset=2 * 10**6))
        singles = singles_wrk(base, key, args.seconds) if shutil.which("wrk") else None
        rss = f"{peak_rss_mb(procs[0].proc.pid) if procs[0].proc else float('nan'):.0f} MB"
    finally:
        for p in procs:
            p.stop()
        broker.stop()
        if scratch:
            scratch.drop_all()
    db = "PostgreSQL" if args.postgres else "SQLite"
    print(f"database {db}, one ingest process; peak RSS {rss}")
    print("| measure | result | target |")
    print("| --- | --- | --- |")
    print(f"| bare executemany baseline | {base_rate:,.0f} rows/s | |")
    ok = batch >= TARGETS["batch_obs_per_s"]
    print(f"| batch API, 1,000 per request, 8 clients | {batch:,.0f} obs/s | >= 20,000 {'met' if ok else 'MISSED'} |")
    ratio = batch / base_rate
    ok = ratio >= TARGETS["batch_vs_baseline"]
    print(f"| batch API / baseline | {ratio:.0%} | >= 40% {'met' if ok else 'MISSED'} |")
    if singles:
        ok = singles["per_s"] >= TARGETS["single_per_s"] and singles["p99_ms"] < TARGETS["single_p99_ms"]
        print(f"| single POSTs, 32 connections (wrk) | {singles['per_s']:,.0f}/s, p50 {singles['p50_ms']:.1f} ms, "
              f"p99 {singles['p99_ms']:.1f} ms, non-2xx {singles['non_2xx']} | >= 1,500/s, p99 < 50 ms "
              f"{'met' if ok else 'MISSED'} |")
    else:
        print("| single POSTs, 32 connections (wrk) | NOT MEASURED: wrk is not installed (apt-get install wrk) | "
              ">= 1,500/s, p99 < 50 ms |")


if __name__ == "__main__":
    main()
