"""Evaluator throughput: how many observations per second it consumes, evaluates and commits.

    python benchmarks/evaluator_throughput.py [--n 50000] [--postgres postgresql://postgres@127.0.0.1:5432/test]

Fills the observations topic with N ObservationRecorded events first (a fifth of them city-wide figures of
indicators that have targets, so they are evaluated and may publish status changes; the rest district
figures, recorded only), then starts the evaluator and times it from its first processed message to the last.
Baseline in the same run: a bare kafka-python consumer reading the same N messages (the ceiling).
Target: >= 5,000 observations/s. Prints numbers; not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from kafka import KafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.broker import TansuBroker, free_port
from devstack.idle import scalar
from devstack.scratchdb import ScratchDatabases
from devstack.stack import ServiceProcess, peak_rss_mb
from services.evaluator.config import EvaluatorSettings
from shared.catalogue import load_catalogue
from shared.catalogue.model import Measure
from shared.kafka import ensure_topics, make_producer
from shared.messages import ObservationRecorded, ObservationStatus, encode, envelope_for

REGIONS = ["jiangyin", "yixing", "liangxi", "xishan", "huishan", "binhu", "xinwu", "jingkai"]


def fill(settings: EvaluatorSettings, n: int) -> None:
    cat = load_catalogue()
    targeted = sorted({t.indicator for t in cat.targets.values() if t.indicator and t.measure == "cumulative_yoy_pct"
                       and cat.indicators[t.indicator].frequency == "M"})
    others = [i.id for i in cat.indicators.values() if "cumulative_yoy_pct" in i.measures and i.frequency == "M"]
    producer = make_producer(settings, "bench")
    now = datetime.now(UTC)
    topic = f"{settings.topic_prefix}.observations"
    for k in range(n):
        if k % 5 == 0:  # city-wide, 2024, a growing vintage of a targeted series: evaluated
            ind, region, period = targeted[k % len(targeted)], "wuxi", f"2024-M{2 + (k // 5) % 10:02d}"
            vintage = 1 + k // (5 * len(targeted) * 10)
        else:
            ind, region = others[k % len(others)], REGIONS[k % len(REGIONS)]
            period, vintage = f"{2023 - (k // 1000) % 30}-M{2 + k % 11:02d}", 1
        data = ObservationRecorded(
            observation_id=uuid.uuid4().hex, indicator=ind, region=region, period=period,
            measure=Measure.CUMULATIVE_YOY_PCT, value=3.0 + (k % 70) / 10, unit="%",
            status=ObservationStatus.PROVISIONAL, vintage=vintage, submitted_by="bench", recorded_at=now)
        producer.send(topic, key=ind.encode(), value=encode(envelope_for(data, source="/bench", time=now)))
    producer.flush()
    producer.close()


def bare_consume(bootstrap: str, topic: str, n: int) -> float:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bare-{uuid.uuid4().hex[:6]}",
                             auto_offset_reset="earliest", enable_auto_commit=False, fetch_max_wait_ms=20,
                             session_timeout_ms=6000, heartbeat_interval_ms=2000, max_poll_records=500)
    got = 0
    start = None
    while got < n:
        batch = consumer.poll(timeout_ms=500)
        if batch and start is None:
            start = time.perf_counter()
        got += sum(len(v) for v in batch.values())
    elapsed = time.perf_counter() - (start or time.perf_counter())
    consumer.close()
    return n / elapsed


def processed(database_url: str) -> float:
    """Events the evaluator has committed, read from its database: scraping its /metrics five times a second would
    cost the evaluator a fifth of its CPU (the collectors query its database on every scrape) and measure that."""
    return float(scalar(database_url, "SELECT count(*) FROM processed_events"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wuxi-eval-bench-"))
    broker = TansuBroker(log_path=tmp / "broker.log")
    broker.start()
    scratch = ScratchDatabases(args.postgres, prefix="bench") if args.postgres else None
    url = scratch.create("eval") if scratch else f"sqlite:///{tmp / 'evaluator.db'}"
    settings = EvaluatorSettings(database_url=url, kafka_bootstrap_servers=broker.bootstrap, topic_prefix="wuxi")
    ensure_topics(settings, ["wuxi.observations", "wuxi.observations.dlq", "wuxi.deviations"])
    proc = None
    try:
        t = time.perf_counter()
        fill(settings, args.n)
        print(f"filled {args.n} events in {time.perf_counter() - t:.1f}s", flush=True)
        base = bare_consume(broker.bootstrap, "wuxi.observations", args.n)
        env = {**os.environ, "EVALUATOR_DATABASE_URL": url, "EVALUATOR_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
               "EVALUATOR_LOG_LEVEL": "WARNING"}
        proc = ServiceProcess("evaluator", free_port(), env, tmp / "evaluator.log")
        proc.start()
        proc.wait_ready(90)
        first = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = processed(url)
            if done > 0 and first is None:
                first = (time.perf_counter(), done)
            if done >= args.n:
                break
            time.sleep(0.2)
        end = time.perf_counter()
        assert first is not None
        rate = (done - first[1]) / max(1e-9, end - first[0])
        rss = peak_rss_mb(proc.proc.pid) if proc.proc else float("nan")
        published = re.findall(r'^outbox_published_total\{topic="wuxi.deviations"\} (\S+)$',
                               httpx.get(f"{proc.url}/metrics").text, re.M)
    finally:
        if proc:
            proc.stop()
        broker.stop()
        if scratch:
            scratch.drop_all()
    print(f"database {'PostgreSQL' if args.postgres else 'SQLite'}, {args.n} observations")
    print(f"| bare consumer (baseline) | {base:,.0f} msg/s |")
    verdict = "met" if rate >= 5000 else "MISSED"
    print(f"| evaluator: consume, evaluate, commit | {rate:,.0f} obs/s | >= 5,000 {verdict} |")
    print(f"| status changes published | {published[0] if published else 0} |")
    print(f"| evaluator peak RSS | {rss:.0f} MB |")


if __name__ == "__main__":
    main()
