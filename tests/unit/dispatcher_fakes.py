"""A stand-in for the alerts database as the dispatcher reads it, for unit tests of the dispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ReadDatabase:
    """``read()`` yields the given repositories (an object with ``notifications`` and ``silences``)."""

    def __init__(self, repos: Any) -> None:
        self.repos = repos

    @contextmanager
    def read(self) -> Iterator[Any]:
        yield self.repos
