"""A service's process collects garbage less often, and not over what start-up made (shared/app.py tune_gc)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# run() as `python -m services.<name>` calls it, with the server replaced by a report of the collector's state.
_SCRIPT = """
import gc, json, types
import shared.app as app
before = gc.get_threshold()
def report(app_factory, **kw):
    print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                      "app": app_factory().name}))
app.serve = report
app.run(lambda: types.SimpleNamespace(host="127.0.0.1", port=0), lambda s: types.SimpleNamespace(name="built"),
        name="test")
"""


def test_a_service_process_freezes_its_start_up_objects_and_collects_less_often() -> None:
    from shared.app import GC_THRESHOLDS

    out = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=REPO, capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["before"] == [700, 10, 10]  # the interpreter's defaults, untouched until run()
    assert got["after"] == list(GC_THRESHOLDS) and GC_THRESHOLDS[0] > 700
    assert got["frozen"] > 10_000  # the modules and the app are out of the collector's walks
    assert got["app"] == "built"
