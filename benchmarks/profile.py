"""Where a service's time goes under a benchmark: runs the benchmark, samples one service with py-spy, summarises.

    .venv/bin/python benchmarks/profile.py --service ingest [--after 8] [--duration 15] [--out var/profiles] \\
        -- benchmarks/ingest_throughput.py --postgres postgresql://postgres@127.0.0.1:5432/test

Starts the benchmark (the arguments after ``--``), waits until a ``python -m services.<service>`` process it
started exists, lets it run ``--after`` seconds (start-up and the benchmark's warm-up), then samples it with py-spy
(``pip install py-spy``; it needs ptrace, so root or ``kernel.yama.ptrace_scope=0``) for ``--duration`` seconds:
by default only the thread holding the GIL (where the process's Python CPU goes), idle samples left out. It
writes the collapsed stacks (``<service>.txt``, loadable by speedscope or flamegraph.pl) under ``--out`` (and
``<service>.svg`` where inferno or flamegraph.pl is installed), and prints the functions with the largest share
of the samples: by their own time (the leaf frame), and inclusive for the project's own code. The benchmark then
runs to its end and prints its own figures. Not a test.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid``."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        path = Path(f"/proc/{p}/task/{p}/children")
        kids = [int(x) for x in path.read_text().split()] if path.exists() else []
        out += kids
        todo += kids
    return out


def find_service(bench: subprocess.Popen[bytes], service: str, timeout_s: float = 120.0) -> int:
    """The pid of the first ``python -m services.<service>`` the benchmark started."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for pid in _children(bench.pid):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-m" in cmd and f"services.{service}".encode() in cmd:
                return pid
        if bench.poll() is not None:
            raise SystemExit(f"the benchmark ended before services.{service} started")
        time.sleep(0.2)
    raise SystemExit(f"services.{service} did not start within {timeout_s:.0f}s")


def _short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    for root in (str(REPO) + "/", "site-packages/"):
        if root in file:
            file = file.split(root, 1)[1]
    return f"{m.group('func')} ({file})"


def summarise(collapsed: Path, top: int = 15) -> str:
    """Own-time and inclusive shares of the sampled functions (inclusive: the project's code only)."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [_short(f) for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if frames:
            own[frames[-1]] += count
        for f in set(frames):
            if f.split("(")[-1].startswith(("services/", "shared/")):
                incl[f] += count
    if not total:
        return "no samples (was the service busy?)"
    lines = [f"{total} samples", "", "own time (leaf frames):"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    lines += ["", "inclusive, project code:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in incl.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--service", required=True, choices=["ingest", "evaluator", "alerts"])
    ap.add_argument("--after", type=float, default=8.0, help="seconds to wait after the service started")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds to sample")
    ap.add_argument("--rate", type=int, default=200, help="samples per second")
    ap.add_argument("--all-threads", action="store_true", help="sample every running thread, not only the one "
                    "holding the GIL (threads waiting for the GIL then show where they wait: in uuid4, in a driver)")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "profiles")
    ap.add_argument("benchmark", nargs=argparse.REMAINDER, help="-- the benchmark script and its arguments")
    args = ap.parse_args()
    bench_args = args.benchmark[1:] if args.benchmark[:1] == ["--"] else args.benchmark
    if not bench_args:
        ap.error("give the benchmark after --")
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        ap.error(f"py-spy is not installed beside {sys.executable}: {sys.executable} -m pip install py-spy")
    args.out.mkdir(parents=True, exist_ok=True)
    bench = subprocess.Popen([sys.executable, *bench_args], cwd=REPO)
    try:
        pid = find_service(bench, args.service)
        time.sleep(args.after)
        collapsed, svg = args.out / f"{args.service}.txt", args.out / f"{args.service}.svg"
        common = [str(py_spy), "record", "--pid", str(pid), "--duration", str(int(args.duration)), "--rate",
                  str(args.rate), "--nonblocking", *([] if args.all_threads else ["--gil"])]
        # One sampling run gives the collapsed stacks; the flame graph is drawn from the same samples by py-spy.
        subprocess.run([*common, "--format", "raw", "--output", str(collapsed)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"\n== py-spy, services.{args.service} (pid {pid}), {args.duration:g} s: {collapsed}", flush=True)
        print(summarise(collapsed), flush=True)
        _flamegraph(collapsed, svg)
        return bench.wait()
    finally:
        if bench.poll() is None:
            bench.wait(timeout=900)


def _flamegraph(collapsed: Path, svg: Path) -> None:
    """An SVG of the collapsed stacks, when the ``flamegraph`` command (inferno or flamegraph.pl) is present."""
    for tool in ("inferno-flamegraph", "flamegraph.pl"):
        try:
            with collapsed.open("rb") as src, svg.open("wb") as dst:
                subprocess.run([tool], stdin=src, stdout=dst, check=True)
            print(f"flame graph: {svg}")
            return
        except (OSError, subprocess.CalledProcessError):
            svg.unlink(missing_ok=True)
    print("(no flame graph drawn: load the .txt into https://www.speedscope.app or flamegraph.pl)")


if __name__ == "__main__":
    sys.exit(main())
