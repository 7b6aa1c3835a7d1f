"""Reads the golden table (tests/golden/verdicts.csv): each row's figures, in the order they are sent, and the
standing expected after them. ``run`` (services/evaluator/domain/replay.py) feeds them through the pure domain.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from services.evaluator.domain.replay import SEVERITY_ZH, Figure, Standing, parse_figure, run

GOLDEN = Path(__file__).with_name("verdicts.csv")
COLUMNS = ("编号", "目标代码", "目标", "情形", "数据（依次报送）", "上期状态", "预期状态", "预期级别", "预期研判")


@dataclass(frozen=True)
class Case:
    """A row of the golden table."""

    id: str
    target: str
    figures: tuple[Figure, ...]
    previous: str  # the status before the last figure (Chinese), or —
    status: str  # Chinese
    severity: str  # Chinese
    message: str


def load_cases(path: Path = GOLDEN) -> list[Case]:
    """The golden table's rows (UTF-8 with BOM, Chinese headers)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [Case(r["编号"], r["目标代码"], _figures(r["数据（依次报送）"]), r["上期状态"], r["预期状态"], r["预期级别"],
                 r["预期研判"]) for r in rows]


def _figures(cell: str) -> tuple[Figure, ...]:
    return tuple(parse_figure(line) for line in cell.splitlines() if line.strip())


__all__ = ["COLUMNS", "GOLDEN", "SEVERITY_ZH", "Case", "Figure", "Standing", "load_cases", "parse_figure", "run"]
