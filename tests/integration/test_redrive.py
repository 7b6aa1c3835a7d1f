"""Re-driving dead-lettered messages onto their topic (issue 11, item 10): the operator's command as a real
process against the session's broker; counted, and idempotent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devstack.broker import TansuBroker
from shared.db import run_migrations
from shared.kafka import ensure_topics
from shared.messages import Envelope, EventData, InvalidMessage
from tests.integration.consumer_support import EVALUATOR_MIGRATIONS, consuming, events, produce, settings, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _redrive(broker: TansuBroker, prefix: str, *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "shared.redrive", *args, "--bootstrap-servers", broker.bootstrap,
                        "--topic-prefix", prefix], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_dead_letters_are_redriven_once_counted_and_then_processed(database_url: str, broker: TansuBroker,
                                                                   topic_prefix: str) -> None:
    run_migrations(database_url, EVALUATOR_MIGRATIONS)
    s = settings(database_url, broker.bootstrap, topic_prefix, topic_partitions=2)
    topic = f"{topic_prefix}.observations"
    ensure_topics(s, [topic, f"{topic}.dlq"])
    values = events(5)
    produce(s, topic, values)
    fixed = False
    handled: list[str] = []

    def handler(conn: object, envelope: Envelope, data: EventData) -> None:
        if not fixed:  # the consumer cannot handle these yet (say, a bug fixed by the next release)
            raise InvalidMessage("cannot handle this yet")
        handled.append(envelope.id)

    # Two groups meet the same messages: the dead-letter topic holds every message twice.
    with consuming(s, topic, handler, group=f"{topic_prefix}-other") as other:
        wait_for(lambda: other.messages(topic, "invalid") == 5, what="the other group's dead letters")
    with consuming(s, topic, handler, group=f"{topic_prefix}-g") as run:
        wait_for(lambda: run.messages(topic, "invalid") == 5, what="five dead letters")
        assert handled == []

        dry = _redrive(broker, topic_prefix, "observations", "--dry-run")
        assert "read 10 dead-lettered messages; would re-drive 5; skipped 5 repeated copies" in dry, dry
        assert "reason (5×): cannot handle this yet" in dry

        fixed = True
        out = _redrive(broker, topic_prefix, "observations")
        assert "read 10 dead-lettered messages; re-drove 5; skipped 5 repeated copies" in out, out
        assert f"re-drove 5 onto {topic}" in out
        wait_for(lambda: run.messages(topic, "processed") == 5, what="the re-driven messages to be processed")
        assert sorted(handled) == sorted(Envelope.model_validate_json(v).id for v in values)

        again = _redrive(broker, topic_prefix, f"{topic}.dlq")  # the full name works too
        assert "read 0 dead-lettered messages; re-drove 0" in again, again
        assert run.loop.crashed is None and run.messages(topic, "duplicate") == 0
