"""``python -m shared.redrive observations deviations``: put dead-lettered messages back onto their topics.

For after the cause is fixed (a column widened, a consumer upgraded). Each message of ``<prefix>.<topic>.dlq``
not re-driven before goes back, with its key and value, onto the topic it was read from (header
``dlq-topic``), in order. Counted and idempotent: the offsets read are committed for the group
``<prefix>.redrive`` only after the broker acknowledged the copies, so a second run re-drives nothing (and
a run that failed half-way re-drives the rest); a message dead-lettered twice (at least once into the dead
letters) goes back once; and the consumers skip an event they processed already, by its id. A message that
fails again is dead-lettered again, at a new offset, for the next re-drive.

Exit status: 0 done (or nothing to do), 2 bad arguments, 3 the broker failed (rerun it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from shared import deadletters
from shared.kafka import DEAD_LETTER_SUFFIX, MAX_REQUEST_SIZE, STRUCTURED_MODE_HEADERS

# Stop reading once every partition is at its high watermark, or after this long without a message.
IDLE_S = 3.0


@dataclass
class RedriveReport:
    """What a run did."""

    read: int = 0
    redriven: Counter[str] = field(default_factory=Counter)  # target topic -> messages put back
    repeats: int = 0  # copies of a message already re-driven in this run
    reasons: Counter[str] = field(default_factory=Counter)

    def lines(self, dry_run: bool) -> list[str]:
        """The summary, one fact a line."""
        verb = "would re-drive" if dry_run else "re-drove"
        out = [f"read {self.read} dead-lettered messages; {verb} {sum(self.redriven.values())}; "
               f"skipped {self.repeats} repeated copies"]
        out += [f"  {verb} {n} onto {topic}" for topic, n in sorted(self.redriven.items())]
        out += [f"  reason ({n}×): {reason}" for reason, n in self.reasons.most_common(10)]
        return out


def _header(record: Any, name: str) -> str | None:
    for k, v in record.headers or []:
        if k == name:
            return bytes(v).decode(errors="replace")
    return None


def redrive(bootstrap: list[str], dead_letter_topics: Sequence[str], *, group: str, dry_run: bool = False,
            limit: int | None = None, idle_s: float = IDLE_S) -> RedriveReport:
    """Re-drive the messages of these dead-letter topics that the group has not re-driven yet."""
    report = RedriveReport()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest", fetch_max_wait_ms=50, client_id=f"{group}-reader")
    producer = None if dry_run else KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, max_request_size=MAX_REQUEST_SIZE,
        client_id=f"{group}-writer")
    try:
        parts = [TopicPartition(t, p) for t in dead_letter_topics for p in sorted(consumer.partitions_for_topic(t)
                                                                                   or [])]
        if not parts:
            return report
        # assign(), not subscribe(): no group join to wait for; the group only keeps the offsets.
        consumer.assign(parts)
        seen: set[tuple[str, str, str]] = set()
        futures = []
        last_message = time.monotonic()
        while time.monotonic() - last_message < idle_s and (limit is None or report.read < limit):
            polled = consumer.poll(timeout_ms=200, max_records=500 if limit is None else limit - report.read)
            for records in polled.values():
                for rec in records:
                    report.read += 1
                    target = _header(rec, deadletters.TOPIC) or deadletters.source_topic(rec.topic)
                    origin = (target, _header(rec, deadletters.PARTITION) or "?",
                              _header(rec, deadletters.OFFSET) or f"{rec.topic}@{rec.partition}:{rec.offset}")
                    if origin in seen:
                        report.repeats += 1
                        continue
                    seen.add(origin)
                    report.redriven[target] += 1
                    report.reasons[(_header(rec, deadletters.REASON) or "")[:160]] += 1
                    if producer is not None:
                        headers = [*STRUCTURED_MODE_HEADERS,  # the CloudEvents Kafka binding (docs/kafka.md)
                                   ("redriven-from", f"{rec.topic}:{rec.partition}:{rec.offset}".encode())]
                        futures.append(producer.send(target, key=rec.key, value=rec.value, headers=headers))
            if polled:
                last_message = time.monotonic()
            elif all(consumer.highwater(tp) is not None and consumer.position(tp) >= consumer.highwater(tp)
                     for tp in parts):
                break
        if producer is not None and futures:
            producer.flush(timeout=30)
            for f in futures:
                f.get(timeout=30)
        if not dry_run:
            consumer.commit()  # only after every copy was acknowledged
        return report
    finally:
        consumer.close(autocommit=False)
        if producer is not None:
            producer.close(timeout=5)


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command; returns the exit status."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m shared.redrive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topics", nargs="+", metavar="TOPIC",
                        help="observations, deviations (the topic without prefix), or a full <topic>.dlq name")
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                        help="comma-separated brokers (default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)")
    parser.add_argument("--topic-prefix", default=os.environ.get("TOPIC_PREFIX", "wuxi"),
                        help="the services' <P>TOPIC_PREFIX (default: $TOPIC_PREFIX or wuxi)")
    parser.add_argument("--group", default=None, help="offsets are kept for this group (default <prefix>.redrive)")
    parser.add_argument("--dry-run", action="store_true", help="count and show what would be re-driven; change nothing")
    parser.add_argument("--limit", type=int, default=None, help="re-drive at most this many messages")
    args = parser.parse_args(argv)
    suffix = f".{DEAD_LETTER_SUFFIX}"
    topics = []
    for t in args.topics:
        if t.endswith(suffix):
            topics.append(t)
        elif t.startswith(f"{args.topic_prefix}."):
            topics.append(deadletters.dead_letter_topic(t))
        else:
            topics.append(deadletters.dead_letter_topic(f"{args.topic_prefix}.{t}"))
    bootstrap = [s.strip() for s in args.bootstrap_servers.split(",") if s.strip()]
    try:
        report = redrive(bootstrap, topics, group=args.group or f"{args.topic_prefix}.redrive",
                         dry_run=args.dry_run, limit=args.limit)
    except KafkaError as exc:
        print(f"the broker failed: {exc!r}; nothing was committed, rerun the command", file=sys.stderr)
        return 3
    for line in report.lines(args.dry_run):
        print(line, file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
