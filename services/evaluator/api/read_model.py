"""The read API's and the HTML board's view: each target of the catalogue with its current state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.evaluator.ports import BoardRow
from shared.catalogue import Catalogue
from shared.catalogue.model import Target

SECTION_ZH = {
    "headline": "主要预期目标",
    "1": "（一）聚力稳定经济运行",
    "2": "（二）聚力强化创新驱动",
    "3": "（三）聚力强链补链延链",
    "4": "（四）聚力深化改革开放",
    "5": "（五）聚力优化空间布局",
    "6": "（六）聚力绿色低碳转型",
    "7": "（七）聚力文化强市建设",
    "8": "（八）聚力推进共同富裕",
    "9": "（九）聚力加强基层治理",
}


class FilterError(ValueError):
    """A filter names something the catalogue does not have; ``field`` says which filter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BoardEntry:
    """A target and, once evaluated, its current state and latest evaluation."""

    target: Target
    period: str | None = None
    status: str | None = None
    severity: str | None = None
    updated_at: datetime | None = None
    message_zh: str | None = None
    actual: float | None = None
    expected: float | None = None
    progress: float | None = None
    expected_progress: float | None = None


def check_filters(catalogue: Catalogue, department: str | None, section: str | None) -> None:
    """Raise FilterError when a filter names an unknown department or section."""
    if department is not None and department not in catalogue.departments:
        raise FilterError("department", f"unknown department {department!r}; use a department id such as 'fgw'")
    if section is not None and section not in SECTION_ZH:
        raise FilterError("section", f"section must be one of {', '.join(SECTION_ZH)}")


def board_entries(
    catalogue: Catalogue, states: dict[str, BoardRow], *, department: str | None = None, section: str | None = None
) -> list[BoardEntry]:
    """Every target (optionally of one lead or co-department, or one section) with its current state."""
    check_filters(catalogue, department, section)
    out = []
    for t in catalogue.targets.values():
        if department and department != t.lead_department and department not in t.co_departments:
            continue
        if section and section != t.section:
            continue
        s = states.get(t.id)
        if s is None:
            out.append(BoardEntry(t))
            continue
        out.append(BoardEntry(t, s.period, s.status, s.severity, s.updated_at, s.message_zh, s.actual, s.expected,
                              s.progress, s.expected_progress))
    return out
