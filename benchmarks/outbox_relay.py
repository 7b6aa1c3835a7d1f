"""Outbox relay throughput: unsent outbox rows published to the broker and marked sent, against a bare producer.

    .venv/bin/python benchmarks/outbox_relay.py [--postgres postgresql://postgres@127.0.0.1:5432/test] [--n 20000]

1. Baseline: the same payloads sent by a bare producer (the services' own settings: acks=all, idempotent, zstd,
   256 KiB batches), flushed, with no database.
2. The relay (shared/outbox.py OutboxRelay.publish_pending, rounds of 1,000): select the unsent rows in id
   order, send them, wait for every ack, mark them sent. Alone in its process, nothing else writing.

Each run starts a broker of its own (Tansu, its topics gone with it) and a database of its own (a temporary
SQLite file, or a PostgreSQL database made and dropped). The events are ObservationRecorded of 90 indicators
(the Kafka key) over 6 partitions, about 600 bytes each. Prints a table; not a test.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from prometheus_client import CollectorRegistry  # noqa: E402
from sqlalchemy import MetaData  # noqa: E402

from devstack.broker import TansuBroker  # noqa: E402
from devstack.scratchdb import ScratchDatabases  # noqa: E402
from services.ingest.config import IngestSettings  # noqa: E402
from shared.catalogue.model import Measure  # noqa: E402
from shared.db import insert_rows, make_engine  # noqa: E402
from shared.kafka import STRUCTURED_MODE_HEADERS, ensure_topics, make_producer  # noqa: E402
from shared.messages import ObservationRecorded, ObservationStatus  # noqa: E402
from shared.metrics import CommonMetrics  # noqa: E402
from shared.outbox import Outbox, OutboxRelay, outbox_table  # noqa: E402

TOPIC = "relaybench.observations"
ROUND = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL admin URL; SQLite when omitted")
    parser.add_argument("--n", type=int, default=20_000, help="events to publish")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wuxi-relay-bench-"))
    scratch = ScratchDatabases(args.postgres, prefix="bench") if args.postgres else None
    broker = TansuBroker(log_path=tmp / "broker.log")
    try:
        broker.start()
        settings = IngestSettings(kafka_bootstrap_servers=broker.bootstrap, topic_prefix="relaybench",
                                  topic_partitions=6)
        ensure_topics(settings, [TOPIC])
        url = scratch.create("relay") if scratch else f"sqlite:///{tmp / 'outbox.db'}"
        engine = make_engine(url)
        metadata = MetaData()
        table = outbox_table(metadata)
        metadata.create_all(engine)
        outbox = Outbox(table, source="/wuxi-targets/bench", topic_prefix="relaybench")
        now = datetime.now(UTC)
        events = [ObservationRecorded(
            observation_id=f"o{i}", indicator=f"indicator_{i % 90}", region="wuxi", period="2024-M03",
            measure=Measure.CUMULATIVE_YOY_PCT, value=5.0 + i % 7 / 10, unit="%", status=ObservationStatus.FINAL,
            vintage=1, submitted_by="市统计局", recorded_at=now) for i in range(args.n + ROUND)]
        rows = outbox.rows(events, now)  # what the relay reads is what the baseline sends
        with engine.begin() as conn:
            insert_rows(conn, table, rows)

        producer = make_producer(settings, "relay-bench-baseline")
        producer.send(TOPIC, key=b"warm", value=b"{}").get(timeout=30)
        t0 = time.perf_counter()
        for r in rows[ROUND:]:
            producer.send(TOPIC, key=str(r["key"]).encode(), value=bytes(r["payload"]),  # type: ignore[arg-type]
                          headers=STRUCTURED_MODE_HEADERS)
        producer.flush(timeout=60)
        bare = args.n / (time.perf_counter() - t0)
        producer.close()

        relay = OutboxRelay(engine, table, lambda: make_producer(settings, "relay-bench"),
                            CommonMetrics(CollectorRegistry(), "bench"), batch_size=ROUND)
        if relay.publish_pending() != ROUND:  # the first round makes the producer and reads the metadata
            raise SystemExit("the relay did not publish its first round")
        t0 = time.perf_counter()
        published = 0
        deadline = time.monotonic() + 300
        while published < args.n:
            if time.monotonic() > deadline:
                raise SystemExit(f"the relay published {published} of {args.n} within 300 s; giving up")
            published += relay.publish_pending()
        relayed = published / (time.perf_counter() - t0)
        relay._reset_producer()
        engine.dispose()
        print(f"database {'PostgreSQL' if scratch else 'SQLite'}, {args.n:,} events, rounds of {ROUND:,}")
        print("| measure | events/s |")
        print("| --- | --- |")
        print(f"| bare producer, same payloads (baseline) | {bare:,.0f} |")
        print(f"| outbox relay: select, send, acks, mark sent | {relayed:,.0f} |")
        print(f"| relay / baseline | {relayed / bare:.0%} |")
    finally:
        broker.stop()
        if scratch:
            scratch.drop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
