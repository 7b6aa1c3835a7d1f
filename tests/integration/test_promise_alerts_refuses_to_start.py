"""SECURITY.md: "secrets have no defaults: the alerts service does not start with a webhook that has no key, nor
with acknowledgement links (ALERTS_PUBLIC_URL) and no ALERTS_LINK_SECRET". Tested on the real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.broker import free_port
from devstack.stack import ENV_PREFIX

ROOT = Path(__file__).resolve().parents[2]


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not any(k.startswith(p) for p in ENV_PREFIX.values())}
    base.update({"ALERTS_DATABASE_URL": f"sqlite:///{tmp_path / 'alerts.db'}", "ALERTS_PORT": str(free_port()),
                 # No broker is needed: the process must stop before it would connect to one.
                 "ALERTS_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}, **env)
    return subprocess.run([sys.executable, "-m", "services.alerts"], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=30)  # a process that starts anyway fails here


@pytest.mark.parametrize(("env", "named"), [
    ({"ALERTS_DEFAULT_WEBHOOK_URL": "http://127.0.0.1:9/hook"}, "ALERTS_WEBHOOK_SECRET"),
    ({"ALERTS_WEBHOOK_URLS": '{"fgw": "http://127.0.0.1:9/fgw"}'}, "fgw"),
    ({"ALERTS_WEBHOOK_SECRET": "s", "ALERTS_DEFAULT_WEBHOOK_URL": "http://127.0.0.1:9/hook",
      "ALERTS_PUBLIC_URL": "https://alerts.example.gov.cn"}, "ALERTS_LINK_SECRET"),
], ids=["default-webhook-without-secret", "department-webhook-without-secret", "links-without-link-secret"])
def test_the_alerts_process_exits_naming_the_missing_secret(tmp_path: Path, env: dict[str, str], named: str) -> None:
    done = _start(tmp_path, **env)
    assert done.returncode != 0, done.stderr[-2000:]
    assert named in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, "a clear message, not a crash"
