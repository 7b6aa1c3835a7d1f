"""The mutation score per module and in total, from mutmut's results in ``mutants/`` (``./dev mutate`` runs it).

    .venv/bin/python scripts/mutation_score.py [--mutants mutants] [--min 85]

A mutant counts as killed when a test failed on it (or timed out, or it crashed the interpreter: each is a
test noticing the change); it survived when every test passed. Mutants not run (no test covers the function)
count as survivors: code that no test reaches is not protected by the tests either. The last line is
``mutation score: N% killed (k/n)``; the exit status is 1 when a module is below ``--min``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

KILLED = {1, 3, 36, 24, -24, 152, 255, -11, -9}  # mutmut's exit codes for killed, timeout, segfault


def scores(mutants: Path) -> dict[str, tuple[int, int]]:
    """Module path -> (killed, total) from every ``*.meta`` file mutmut wrote."""
    result: dict[str, tuple[int, int]] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        module = str(meta.relative_to(mutants))[: -len(".meta")]
        result[module] = (sum(1 for c in codes.values() if c in KILLED), len(codes))
    return result


def survivors(mutants: Path) -> Counter[str]:
    """How many survivors each function has (the names mutmut gives: module.x_function__mutmut_N)."""
    out: Counter[str] = Counter()
    for meta in mutants.rglob("*.py.meta"):
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code not in KILLED:
                out[key.rsplit("__mutmut_", 1)[0]] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Print each module's score, the functions with most survivors, and the total."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutants", type=Path, default=Path("mutants"))
    ap.add_argument("--min", type=float, default=85.0, help="the lowest acceptable score per module, in %%")
    args = ap.parse_args(argv)
    by_module = scores(args.mutants)
    if not by_module:
        print(f"no mutmut results under {args.mutants}: run ./dev mutate first")
        return 2
    low = []
    for module, (killed, total) in by_module.items():
        pct = 100.0 * killed / total
        low += [module] if pct < args.min else []
        below = f"  below {args.min:g}%" if pct < args.min else ""
        print(f"{module}: {pct:.1f}% killed ({killed}/{total}){below}")
    worst = survivors(args.mutants).most_common(10)
    if worst:
        print("functions with the most survivors (mutmut results / mutmut show NAME for each):")
        for name, n in worst:
            print(f"    {n:4d}  {name}")
    killed = sum(k for k, _ in by_module.values())
    total = sum(t for _, t in by_module.values())
    print(f"mutation score: {100.0 * killed / total:.1f}% killed ({killed}/{total})")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
