"""shared/db.py insert_rows: large batches go through COPY on PostgreSQL (executemany elsewhere and for few rows),
with the same outcome as an executemany: every row, the column types' bind processing, SQLAlchemy's errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, Float, Integer, LargeBinary, MetaData, String, Table, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError, StatementError

from shared.db import COPY_FROM_ROWS, UTCDateTime, insert_rows, normalise_url, one_of

T0 = datetime(2024, 7, 15, 10, 0, tzinfo=UTC)


def _table() -> Table:
    return Table("rows", MetaData(), Column("id", Integer, primary_key=True, autoincrement=True),
                 Column("name", String(32), nullable=False, unique=True), Column("value", Float),
                 Column("payload", LargeBinary), Column("at", UTCDateTime, nullable=False))


def _rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [{"name": f"r{i}", "value": i / 3 if i % 5 else None, "payload": bytes([i % 256, 0, 255]) + "é".encode(),
             "at": T0} for i in range(start, start + n)]


@pytest.mark.parametrize("n", [3, COPY_FROM_ROWS, 2500], ids=["few", "from-the-threshold", "large"])
def test_every_row_arrives_as_an_executemany_would_write_it(database_url: str, n: int) -> None:
    engine = create_engine(normalise_url(database_url))
    table = _table()
    table.metadata.create_all(engine)
    inserts: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *a: inserts.append(a[2]) if a[2].startswith("INSERT") else None)
    try:
        with engine.begin() as conn:
            insert_rows(conn, table, _rows(n))
        copied = engine.dialect.name == "postgresql" and n >= COPY_FROM_ROWS
        assert len(inserts) == (0 if copied else 1)  # COPY bypasses SQLAlchemy's statements
        with engine.connect() as conn:
            got = conn.execute(select(table.c.name, table.c.value, table.c.payload, table.c.at)
                               .order_by(table.c.id)).all()
        assert [tuple(r) for r in got] == [(r["name"], r["value"], r["payload"], r["at"]) for r in _rows(n)]
    finally:
        engine.dispose()


def test_a_broken_unique_key_is_sqlalchemys_integrity_error_and_nothing_is_written(database_url: str) -> None:
    engine = create_engine(normalise_url(database_url))
    table = _table()
    table.metadata.create_all(engine)
    try:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            insert_rows(conn, table, _rows(300) + _rows(1, start=7))  # r7 twice
        with pytest.raises((StatementError, ValueError), match="aware datetime"), engine.begin() as conn:
            insert_rows(conn, table, [{**r, "at": T0.replace(tzinfo=None)} for r in _rows(300)])
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("negate", [False, True], ids=["in", "not-in"])
def test_one_of_selects_what_an_in_list_selects_with_one_parameter_on_postgresql(database_url: str,
                                                                                 negate: bool) -> None:
    engine = create_engine(normalise_url(database_url))
    table = _table()
    table.metadata.create_all(engine)
    statements: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *a: statements.append((a[2], a[3])) if a[2].startswith("SELECT") else None)
    try:
        with engine.begin() as conn:
            insert_rows(conn, table, _rows(40))
            names = [f"r{i}" for i in range(0, 40, 3)] + ["absent"]
            got = set(conn.execute(select(table.c.name).where(one_of(conn, table.c.name, names, negate=negate)))
                      .scalars())
            ids = sorted(conn.execute(select(table.c.id).where(
                one_of(conn, table.c.id, [1, 2, 40, 99], negate=negate))).scalars())
        every = {f"r{i}" for i in range(40)}
        assert got == (every - set(names) if negate else every & set(names))
        assert ids == ([i for i in range(1, 41) if i not in (1, 2, 40)] if negate else [1, 2, 40])
        if engine.dialect.name == "postgresql":  # one array parameter, whatever the number of values
            assert all(len(params) == 1 for _, params in statements), statements
    finally:
        engine.dispose()
