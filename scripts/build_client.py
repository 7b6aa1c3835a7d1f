"""Build the bureaus' command-line client as a wheel of its own: ``wuxi-upload``, which needs httpx alone.

    python scripts/build_client.py [--out dist]     # prints the wheel's path

The server's distribution (``wuxi-targets``, pyproject.toml) brings FastAPI, SQLAlchemy, Kafka and the rest;
a bureau's PC needs none of them. This wheel holds only ``services/ingest/client.py`` and the CSV reader it
uses (``services/ingest/domain/csvtext.py``), with their empty package markers, declares ``httpx`` as its
only dependency, and installs the console script ``wuxi-upload`` (the same ``main`` as
``python -m services.ingest.client``). The modules are copied from the repository as they are, so the
client in the wheel is the client the tests run. Install it on the PC with
``pip install wuxi_upload-….whl`` (pip fetches httpx) and run ``wuxi-upload upload FILE --url …``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = (
    "services/__init__.py",
    "services/ingest/__init__.py",
    "services/ingest/client.py",
    "services/ingest/domain/__init__.py",
    "services/ingest/domain/csvtext.py",
)
NAME = "wuxi-upload"
SCRIPT = "wuxi-upload = services.ingest.client:main"


def _httpx_requirement() -> str:
    """The server's own httpx range, so the client and the server are tested against the same versions."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    [req] = [d for d in project["dependencies"] if d.split(">")[0].split("=")[0].split("[")[0].strip() == "httpx"]
    return str(req)


def _metadata(version: str) -> str:
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {version}\n"
            "Summary: The command-line client with which statistics bureaus upload CSV or .xlsx files to ingest.\n"
            f"Requires-Python: >=3.11\nRequires-Dist: {_httpx_requirement()}\n")


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def build(out: Path) -> Path:
    """Write the wheel (PEP 427: a zip of the modules and a .dist-info) into ``out``; returns its path.

    Written directly rather than by a build backend: five modules and four metadata files need no setuptools
    or network, and the result is the same bytes for the same sources (fixed timestamps).
    """
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    dist_info = f"wuxi_upload-{version}.dist-info"
    files: list[tuple[str, bytes]] = [(rel, (ROOT / rel).read_bytes()) for rel in MODULES]
    files += [
        (f"{dist_info}/METADATA", _metadata(version).encode()),
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: scripts/build_client.py\nRoot-Is-Purelib: true\n"
                               b"Tag: py3-none-any\n"),
        (f"{dist_info}/entry_points.txt", f"[console_scripts]\n{SCRIPT}\n".encode()),
        (f"{dist_info}/top_level.txt", b"services\n"),
    ]
    record = [_record_line(name, data) for name, data in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"wuxi_upload-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the wheel goes (default dist/)")
    args = parser.parse_args(argv)
    print(build(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
