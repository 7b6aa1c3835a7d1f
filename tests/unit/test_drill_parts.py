"""The fault drill's own parts: the receiver's failing phase, the upgrade shim, and how the drill counts."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from devstack.drill import BAD_GATEWAY_BODY, UPGRADE_FIELD, UPGRADE_SHIM, Counts, _dead_lettering_lines, _metric
from devstack.receiver import Receiver
from devstack.stack import REPO, ServiceProcess


def test_the_receiver_counts_the_error_answers_it_serves_with_their_binary_body() -> None:
    assert b"\x00" in BAD_GATEWAY_BODY
    recv = Receiver(fail_with=502, fail_body=BAD_GATEWAY_BODY, fail_content_type="application/octet-stream").start()
    try:
        for _ in range(2):
            r = httpx.post(f"{recv.url}/hook", json={"x": 1}, timeout=5)
            assert r.status_code == 502
            assert r.content == BAD_GATEWAY_BODY
            assert r.headers["content-type"] == "application/octet-stream"
        assert recv.failed == 2 and recv.requests == []
        recv.fail_with = None
        r = httpx.post(f"{recv.url}/hook", json={"x": 1}, timeout=5)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert recv.failed == 2 and len(recv.requests) == 1
    finally:
        recv.stop()


def test_the_upgrade_shim_adds_a_field_every_current_reader_ignores() -> None:
    script = """
import json
from datetime import datetime, timezone
import shared.outbox as outbox
from shared.messages import NotificationDeadLettered, decode
now = datetime(2024, 7, 1, tzinfo=timezone.utc)
data = NotificationDeadLettered(notification_id=1, idempotency_key="k", alert_ids=("a",), kind="firing",
                                department="rsj", channel="webhook", attempts=3, last_error=None,
                                created_at=now, dead_at=now)
row = outbox.Outbox(None, source="evaluator", topic_prefix="wuxi").rows([data], now)[0]
env = decode(row["payload"])
read, unknown = env.read()
print(json.dumps({"fields": sorted(env.data), "unknown": sorted(unknown), "same": read == data}))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(UPGRADE_SHIM), str(REPO)])}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert UPGRADE_FIELD in out["fields"]
    assert out["unknown"] == [UPGRADE_FIELD]
    assert out["same"] is True
    # Without the shim on the path, the same code writes no such field.
    plain = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert plain.returncode == 0, plain.stderr
    assert UPGRADE_FIELD not in json.loads(plain.stdout.strip().splitlines()[-1])["fields"]


def test_dead_lettering_log_lines_are_counted_in_every_service_log(tmp_path: Path) -> None:
    (tmp_path / "alerts.log").write_text('{"msg": "consumer: dead-lettering wuxi.deviations[0]@3: bad"}\nok\n')
    (tmp_path / "alerts-2.log").write_text("dead-lettering x\ndead-lettering y\n")
    (tmp_path / "notes.txt").write_text("dead-lettering not a log\n")
    assert _dead_lettering_lines(tmp_path) == 3


def test_the_drill_fails_on_anything_lost_duplicated_or_dead_lettered_but_not_on_uncertain() -> None:
    assert Counts().ok()
    assert Counts(uncertain=2).ok()
    assert not Counts(lost=1).ok()
    assert not Counts(duplicated=1).ok()
    assert not Counts(dead_lettered=1).ok()
    doc = json.loads(json.dumps(Counts(dead_lettered=1, leader_killed="alerts-2").as_dict()))
    assert doc["dead_lettered"] == 1 and doc["leader_killed"] == "alerts-2"


def test_the_leader_metric_is_read_from_metrics_text() -> None:
    metrics_text = "# HELP alerts_dispatcher_leader x\nalerts_dispatcher_leader 1.0\nalerts_dispatcher_leaderx 5\n"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = metrics_text.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = ServiceProcess("alerts", server.server_address[1], {}, Path("/dev/null"))
        assert _metric(proc, "alerts_dispatcher_leader") == 1
        assert _metric(proc, "alerts_dispatcher_buffered_notifications") is None
        metrics_text = "alerts_dispatcher_leader 0\n"
        assert _metric(proc, "alerts_dispatcher_leader") == 0
    finally:
        server.shutdown()
        server.server_close()
