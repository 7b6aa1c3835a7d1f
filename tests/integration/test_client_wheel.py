"""The bureaus' client as its own wheel: httpx is its only dependency, and its console script runs where the
server's packages are not installed (a fresh virtual environment holding only the wheel and httpx's own)."""

from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from scripts.build_client import MODULES, build

ROOT = Path(__file__).resolve().parents[2]


def _dependency_closure(name: str) -> set[str]:
    """The distributions ``name`` needs (not its extras), itself included, from this environment's metadata."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        dist = md.distribution(todo.pop())
        key = dist.metadata["Name"].lower()
        if key in seen:
            continue
        seen.add(key)
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):  # not an extra, and for this Python
                todo.append(req.name)
    return seen


def _site_dir_with(dists: set[str], target: Path) -> Path:
    """A directory holding links to exactly these distributions' installed files (an offline stand-in for pip
    fetching httpx on a bureau's PC)."""
    target.mkdir()
    for name in dists:
        for f in md.distribution(name).files or []:
            top = f.parts[0]
            if top.endswith(".pth") or top == ".." or (target / top).exists():
                continue
            src = Path(str(f.locate())).resolve()
            while src.name != top:
                src = src.parent
            (target / top).symlink_to(src)
    return target


def test_the_client_wheel_holds_the_client_alone_and_depends_on_httpx_only(tmp_path: Path) -> None:
    wheel = build(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        # The modules are the repository's, byte for byte: the client in the wheel is the one the tests run.
        for rel in MODULES:
            assert zf.read(rel) == (ROOT / rel).read_bytes(), rel
    assert {n for n in names if not n.split("/")[0].endswith(".dist-info")} == set(MODULES)
    assert [line for line in meta.splitlines() if line.startswith("Requires-Dist:")] == ["Requires-Dist: httpx>=0.27"]
    assert "wuxi-upload = services.ingest.client:main" in entry


def test_the_installed_console_script_runs_without_the_servers_packages(tmp_path: Path) -> None:
    wheel = build(tmp_path / "dist")
    env_dir = tmp_path / "pc"
    venv.create(env_dir, with_pip=False)  # a bureau's PC: a bare Python, nothing of the server's
    py = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps",
                    "--no-index", "--disable-pip-version-check", str(wheel)], check=True, timeout=120)
    script = env_dir / "bin" / "wuxi-upload"
    assert script.is_file()
    deps = _site_dir_with(_dependency_closure("httpx"), tmp_path / "httpx-only")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(deps), "HOME": str(tmp_path)}
    probe = subprocess.run([str(py), "-c", "import fastapi"], env=env, capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0, "the server's packages must not be importable on the bureau's PC"

    helped = subprocess.run([str(script), "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: wuxi-upload")

    csv_file = tmp_path / "报表.csv"
    csv_file.write_text("indicator,period,measure,value,unit\ngdp,2024-Q1,cumulative_yoy_pct,5.1,%\n",
                        encoding="utf-8")
    # Nobody listens on port 9: the whole client runs (reads the file, checks it with the server) and fails on
    # the network, which is exit status 3 (README), not a traceback from a missing module.
    ran = subprocess.run([str(script), "upload", str(csv_file), "--url", "http://127.0.0.1:9", "--key", "wxk_x"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 3, ran.stderr
    assert "ModuleNotFoundError" not in ran.stderr
