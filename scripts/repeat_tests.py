"""Run tests several times in a row and say which were flaky (passed in some runs, failed in others).

    .venv/bin/python scripts/repeat_tests.py [--runs 5] [PYTEST ARGS ...]   (default: tests/e2e)

Each run is a separate pytest process with its own random order (pytest-randomly: a different seed each run,
printed), its JUnit XML kept in a temporary directory. It is meant for the loaded machine the suite really runs
on: flakiness that needs load to show does not show on an idle one. The last line is
``flaky: none (N tests, R runs)`` or ``flaky: K of N tests`` with the list above it; the exit status is 0
only when every test passed in every run.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def outcomes(junit: Path) -> dict[str, str]:
    """Test id -> passed / failed / error / skipped, from one JUnit XML report."""
    result: dict[str, str] = {}
    if not junit.exists():
        return result
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        kinds = {child.tag for child in case}
        result[name] = ("failed" if "failure" in kinds else "error" if "error" in kinds
                        else "skipped" if "skipped" in kinds else "passed")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the tests ``--runs`` times; print per-run results, then the flaky and the always-failing tests."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args, pytest_args = ap.parse_known_args(argv)
    pytest_args = pytest_args or ["tests/e2e"]
    seen: dict[str, list[str]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="repeat-tests-") as tmp:
        for run in range(1, args.runs + 1):
            junit = Path(tmp) / f"run{run}.xml"
            t0 = time.monotonic()
            # Our own seed, printed, so a failing order can be run again (-q hides pytest-randomly's header).
            shuffled = "no:randomly" not in pytest_args
            seed_arg = [f"--randomly-seed={random.randrange(2**32)}"] if shuffled else []
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   f"--junitxml={junit}", *seed_arg, *pytest_args], cwd=ROOT, capture_output=True,
                                  text=True)
            got = outcomes(junit)
            seed = seed_arg[0] if seed_arg else "not shuffled"
            bad = sorted(t for t, o in got.items() if o in ("failed", "error"))
            print(f"run {run}/{args.runs}: {len(got)} tests, {len(bad)} failed, {time.monotonic() - t0:.0f} s, "
                  f"{seed}", flush=True)
            for t in bad:
                print(f"    failed: {t}", flush=True)
            if not got:
                print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
                print("no test results: pytest did not run (see its output above)")
                return 2
            for t, o in got.items():
                seen[t].append(o)
    flaky = sorted(t for t, os_ in seen.items() if "passed" in os_ and any(o in ("failed", "error") for o in os_))
    broken = sorted(t for t, os_ in seen.items() if os_ and all(o in ("failed", "error") for o in os_))
    for t in broken:
        print(f"failed in every run: {t}")
    for t in flaky:
        print(f"flaky ({seen[t].count('passed')}/{len(seen[t])} passed): {t}")
    print(f"flaky: {f'{len(flaky)} of {len(seen)} tests' if flaky else 'none'} ({len(seen)} tests, {args.runs} runs)")
    return 0 if not flaky and not broken else 1


if __name__ == "__main__":
    sys.exit(main())
