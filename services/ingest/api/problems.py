"""Ingest's errors as problem details (shared/problems.py): its rule errors located in the request, Chinese first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.ingest.adapters.store import WriteConflict
from services.ingest.domain.observations import FieldError
from services.ingest.metrics import IngestCounters
from shared.problems import DomainErrors, Failure, Loc, Problem


def located(errors: Sequence[FieldError], prefix: Loc) -> list[Failure]:
    """Row-level errors located as ``prefix + (row, field)`` in a list (``observations``, ``file``), else
    ``prefix + (field,)``."""
    in_list = bool(prefix) and prefix[-1] in ("observations", "file")
    return [Failure((*prefix, e.row, e.field) if in_list else (*prefix, e.field), e.rule, e.message, e.message_zh)
            for e in errors]


def rejected(status: int, errors: Sequence[FieldError], prefix: Loc) -> Problem:
    """A 4xx naming every row, field and rule."""
    return Problem(status, located(errors, prefix))


def _conflict(_: WriteConflict) -> Problem:
    return Problem.of(409, "write_conflict", "another request changed the same series at the same moment; retry",
                      "另一请求同时修改了同一数据序列，请重试", headers={"Retry-After": "1"})


DOMAIN_ERRORS: DomainErrors = {WriteConflict: _conflict}


def counting(counters: IngestCounters) -> Callable[[Problem], None]:
    """Count every refused request's rules (``ingest_rejections_total{rule}``)."""

    def count(problem: Problem) -> None:
        if 400 <= problem.status < 500:
            for f in problem.errors or [Failure((), problem.code, "", "")]:
                counters.rejections.labels(f.type).inc()

    return count
