"""A flood of random API keys against ingest over real HTTP, beside a bureau sending with its real key.

Prints how many key lookups reached the database, how the flood was answered (401 / 429), and the bureau's
latency meanwhile. Runs against whichever ingest is importable (PYTHONPATH), so the same script measures an
older checkout too:

    .venv/bin/python benchmarks/key_flood.py [--requests 20000] [--threads 8] [--postgres URL]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import uvicorn
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, event

from devstack.broker import TansuBroker, free_port
from services.ingest.config import IngestSettings
from services.ingest.main import create_app

ADMIN = "flood-admin-token"


def main() -> None:
    """Run the flood and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL instead of a SQLite file")
    args = parser.parse_args()

    lookups = Counter[str]()

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM api_keys" in statement and "key_hash" in statement.split("WHERE", 1)[-1]:
            lookups["api_keys"] += 1

    broker = TansuBroker()
    broker.start()
    tmp = Path(tempfile.mkdtemp())
    url = args.postgres or f"sqlite:///{tmp / 'ingest.db'}"
    settings = IngestSettings(database_url=url, kafka_bootstrap_servers=broker.bootstrap, topic_prefix="flood",
                              topic_partitions=1, admin_token=ADMIN, rate_limit_per_s=0, log_level="WARNING")
    app = create_app(settings, registry=CollectorRegistry())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    while not server.started:
        time.sleep(0.05)
    try:
        key = httpx.post(f"{base}/admin/keys", headers={"Authorization": f"Bearer {ADMIN}"},
                         json={"organisation": "市统计局"}).json()["key"]
        bureau = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{base}/v1/keys/me", headers=bureau).status_code == 200
        lookups.clear()
        codes = Counter[int]()
        latencies: list[float] = []
        done = threading.Event()

        def flood(n: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as c:
                for _ in range(n):
                    r = c.get("/v1/keys/me", headers={"Authorization": f"Bearer wxk_{secrets.token_urlsafe(32)}"})
                    codes[r.status_code] += 1

        def bureau_requests() -> None:
            with httpx.Client(base_url=base, timeout=30) as c:
                while not done.is_set():
                    t = time.perf_counter()
                    r = c.get("/v1/keys/me", headers=bureau)
                    latencies.append(time.perf_counter() - t)
                    codes[1000 + r.status_code] += 1
                    time.sleep(0.02)

        workers = [threading.Thread(target=flood, args=(args.requests // args.threads,)) for _ in range(args.threads)]
        watcher = threading.Thread(target=bureau_requests)
        start = time.perf_counter()
        watcher.start()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
        done.set()
        watcher.join()
        flood_total = sum(n for c, n in codes.items() if c < 1000)
        latencies.sort()
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; {flood_total} random-key requests "
              f"from {args.threads} threads in {elapsed:.1f}s ({flood_total / elapsed:.0f}/s)")
        print(f"  answers to the flood: {dict(sorted((c, n) for c, n in codes.items() if c < 1000))}")
        print(f"  key lookups that reached the database: {lookups['api_keys']}")
        print(f"  the bureau's key meanwhile: {sum(n for c, n in codes.items() if c >= 1000)} requests, answers "
              f"{dict(sorted((c - 1000, n) for c, n in codes.items() if c >= 1000))}, p50 "
              f"{statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        broker.stop()


if __name__ == "__main__":
    main()
