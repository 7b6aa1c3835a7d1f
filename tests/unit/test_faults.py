"""Fault points fire only in a test build, exactly on the pass asked for, and kill the process at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from shared.faults import MARKER, _armed_from

SCRIPT = """
from shared.faults import fault_point
for i in range(1, 4):
    print("before", i, flush=True)
    fault_point("outbox.after_send")
    print("after", i, flush=True)
"""


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WX_")}
    return subprocess.run([sys.executable, "-c", SCRIPT], env={**base, **env}, capture_output=True, text=True,
                          timeout=30, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_an_armed_point_kills_the_process_on_its_nth_pass_after_the_marker() -> None:
    r = _run({"WX_TEST_BUILD": "1", "WX_FAULT_POINT": "outbox.after_send", "WX_FAULT_AFTER": "2"})
    assert r.returncode == -signal.SIGKILL
    assert r.stdout.split("\n") == ["before 1", "after 1", "before 2", ""]  # nothing ran after the point
    assert f"{MARKER} outbox.after_send pass=2" in r.stderr


def test_without_the_test_build_a_stray_fault_variable_does_nothing() -> None:
    r = _run({"WX_FAULT_POINT": "outbox.after_send"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("after") == 3 and MARKER not in r.stderr


def test_another_point_armed_leaves_this_one_alone() -> None:
    r = _run({"WX_TEST_BUILD": "1", "WX_FAULT_POINT": "consumer.after_db_commit"})
    assert r.returncode == 0 and r.stdout.count("after") == 3


@pytest.mark.parametrize(("env", "field"), [
    ({"WX_TEST_BUILD": "1", "WX_FAULT_POINT": "outbox.after_sned"}, "WX_FAULT_POINT"),
    ({"WX_TEST_BUILD": "1", "WX_FAULT_POINT": "outbox.after_send", "WX_FAULT_AFTER": "0"}, "WX_FAULT_AFTER"),
    ({"WX_TEST_BUILD": "1", "WX_FAULT_POINT": "outbox.after_send", "WX_FAULT_AFTER": "x"}, "WX_FAULT_AFTER"),
])
def test_a_misspelt_point_or_a_bad_pass_stops_a_test_build_at_start(env: dict[str, str], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        _armed_from(env)
    assert _armed_from({k: v for k, v in env.items() if k != "WX_TEST_BUILD"}) == (None, 0)
