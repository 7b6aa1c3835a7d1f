"""The bureaus' command-line client imports with httpx and the standard library alone (no server packages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A fresh interpreter whose imports of the server's dependencies fail, as on a bureau's PC with only httpx.
PROBE = """
import sys
FORBIDDEN = ("fastapi", "starlette", "pydantic", "pydantic_core", "pydantic_settings", "sqlalchemy", "alembic",
             "kafka", "openpyxl", "prometheus_client", "uvicorn", "shared")

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"the client imported {name}")
        return None

sys.meta_path.insert(0, Refuse())
import services.ingest.client as c
assert c.main and c.split_file
print("ok")
"""


def test_the_client_imports_without_the_servers_dependencies() -> None:
    r = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
