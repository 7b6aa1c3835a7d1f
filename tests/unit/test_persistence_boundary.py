"""SQLAlchemy stays in the persistence code: adapters/, migrations/, shared/db.py, shared/outbox.py,
shared/inbox.py and each service's wiring (main.py). Everything else reaches the database through them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_FILES = {"shared/db.py", "shared/outbox.py", "shared/inbox.py"}
ALLOWED_DIRS = {"adapters", "migrations"}


def _allowed(rel: Path) -> bool:
    if rel.as_posix() in ALLOWED_FILES:
        return True
    if rel.parts[0] == "services" and len(rel.parts) == 3 and rel.name == "main.py":
        return True
    return any(part in ALLOWED_DIRS for part in rel.parts[:-1])


def _imports_sqlalchemy(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(n == "sqlalchemy" or n.startswith("sqlalchemy.") for n in names):
            lines.append(node.lineno)
    return lines


def sqlalchemy_importers(root: Path = ROOT) -> dict[str, list[int]]:
    """Every module under services/ and shared/ that imports SQLAlchemy -> the lines of those imports."""
    found: dict[str, list[int]] = {}
    for top in ("services", "shared"):
        for path in sorted((root / top).rglob("*.py")):
            lines = _imports_sqlalchemy(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            if lines:
                found[path.relative_to(root).as_posix()] = lines
    return found


def test_only_persistence_code_imports_sqlalchemy() -> None:
    offenders = {f: lines for f, lines in sqlalchemy_importers().items() if not _allowed(Path(f))}
    listing = "\n".join(f"  {f}: line {', '.join(map(str, lines))}" for f, lines in sorted(offenders.items()))
    assert not offenders, f"SQLAlchemy imported outside the persistence code:\n{listing}"


def test_the_check_sees_imports_anywhere_in_a_module(tmp_path: Path) -> None:
    # The check itself: plain, from and nested (function-level, TYPE_CHECKING) imports are all found.
    (tmp_path / "shared").mkdir()
    (tmp_path / "services" / "x" / "adapters").mkdir(parents=True)
    (tmp_path / "shared" / "a.py").write_text("import sqlalchemy as sa\n")
    (tmp_path / "shared" / "b.py").write_text("def f():\n    from sqlalchemy.engine import Connection\n")
    (tmp_path / "shared" / "c.py").write_text("import sqlalchemy_utils\nfrom typing import Any\n")
    (tmp_path / "services" / "x" / "adapters" / "d.py").write_text("from sqlalchemy import select\n")
    found = sqlalchemy_importers(tmp_path)
    assert found == {"shared/a.py": [1], "shared/b.py": [2], "services/x/adapters/d.py": [1]}
    assert [f for f in found if not _allowed(Path(f))] == ["shared/a.py", "shared/b.py"]
