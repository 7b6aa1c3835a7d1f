"""A background loop stopped by a bug fails readiness, then ends the served process non-zero (issue 11, item 8).

A real process (``shared.app.serve``, as ``python -m services.<name>`` runs) and real HTTP.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from devstack.broker import free_port
from shared.runtime import FATAL_EXIT_STATUS

SERVICE = textwrap.dedent('''
    import sys, threading
    from contextlib import asynccontextmanager
    from pathlib import Path
    from prometheus_client import CollectorRegistry
    from shared.app import build_app, serve
    from shared.metrics import CommonMetrics
    from shared.runtime import BackgroundLoops

    trigger = Path(sys.argv.pop(1))

    def loop(stop: threading.Event) -> None:
        while not stop.wait(0.05):
            if trigger.exists():
                raise KeyError("a bug with a secret in its text: postgresql://user:hunter2@db")

    def factory():
        loops = BackgroundLoops()

        @asynccontextmanager
        async def lifespan(app):
            loops.start("worker", loop)
            yield
            loops.stop()

        return build_app(title="t", description="t", metrics=CommonMetrics(CollectorRegistry(), "t"),
                         checks={"worker": lambda: loops.alive("worker")}, lifespan=lifespan)

    serve(factory, host="127.0.0.1", port=0, name="t")
''')


def test_a_loop_stopped_by_a_bug_fails_readiness_then_exits_the_process_non_zero(tmp_path: Path) -> None:
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    trigger = tmp_path / "trigger"
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, str(script), str(trigger), "--port", str(port)], cwd=root,
                            env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the service did not become ready"
            time.sleep(0.05)
        trigger.touch()
        deadline = time.monotonic() + 10
        while (r := httpx.get(f"{url}/readyz", timeout=1)).status_code == 200:
            assert time.monotonic() < deadline, "readiness did not fail"
            time.sleep(0.02)
        assert r.status_code == 503 and r.json()["checks"] == {"worker": "failing"}
        assert "hunter2" not in r.text and "KeyError" not in r.text  # readiness never echoes exception text
        assert proc.wait(timeout=30) == FATAL_EXIT_STATUS
        log = proc.stdout.read() if proc.stdout else ""
        assert "background loop worker stopped by an unexpected error" in log and "KeyError" in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
