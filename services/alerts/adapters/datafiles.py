"""Reads the directory and routing files; a broken file stops start-up with a message naming entry and field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from services.alerts.domain.directory import Directory, DirectoryError, Routing
from shared.catalogue import Catalogue, Catalogues
from shared.catalogue.model import SECTIONS


def _read(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DirectoryError(f"{what} file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"{what} file {path} is not valid TOML: {exc}") from None


def load_directory(path: Path, catalogue: Catalogue | Catalogues) -> Directory:
    """The department directory, validated against the catalogue."""
    names = {d: catalogue.department_name(d) for d in catalogue.departments}
    try:
        return Directory.parse(_read(path, "directory"), names)
    except DirectoryError as exc:
        raise DirectoryError(f"{path}: {exc}") from None


def load_routing(path: Path, catalogue: Catalogue | Catalogues) -> Routing:
    """The routing rules, validated against the catalogue."""
    names = {d: catalogue.department_name(d) for d in catalogue.departments}
    try:
        return Routing.parse(_read(path, "routing"), names, SECTIONS)
    except DirectoryError as exc:
        raise DirectoryError(f"{path}: {exc}") from None
