"""The tables the code builds its queries from are the tables the migrations make.

Each service declares its tables twice: as SQLAlchemy ``Table`` objects (``adapters/tables.py``, with the
shared ``outbox_table`` and ``inbox_table``), which build every query, and as its Alembic history, which makes
the schema. Nothing else ties the two together: a column made nullable in one and not the other, a longer
``String`` or a renamed index would go unnoticed until a row is refused in production. Alembic's autogenerate
comparison reads the migrated database and names every difference.
"""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import UniqueConstraint, create_engine, inspect

from shared.db import normalise_url, run_migrations

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("service", ["ingest", "evaluator", "alerts"])
def test_the_migrated_schema_is_the_one_the_queries_are_built_from(service: str, database_url: str) -> None:
    # Executed afresh, not imported: the tables are then built inside the test (mutation testing maps tests to
    # the functions they call, and an import's calls belong to no test), and sys.modules keeps its objects.
    with warnings.catch_warnings():  # runpy warns that the module is also imported: that copy is left alone
        warnings.simplefilter("ignore", RuntimeWarning)
        metadata = runpy.run_module(f"services.{service}.adapters.tables")["metadata"]
    run_migrations(database_url, ROOT / "services" / service / "migrations")
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
            # What the comparison leaves out: primary keys, and unnamed unique constraints on SQLite.
            db = inspect(conn)
            keys = {name: (db.get_pk_constraint(name)["constrained_columns"],
                           sorted(sorted(u["column_names"]) for u in db.get_unique_constraints(name)))
                    for name in metadata.tables}
    finally:
        engine.dispose()
    assert differences == [], f"{service}: the migrations and adapters/tables.py differ: {differences}"
    declared = {name: ([c.name for c in table.primary_key.columns],
                       sorted(sorted(c.name for c in u.columns) for u in table.constraints
                              if isinstance(u, UniqueConstraint)))  # unique=True columns' included
                for name, table in metadata.tables.items()}
    assert keys == declared, f"{service}: primary keys or unique constraints differ"
    # The comparison saw the tables (an empty metadata would compare equal to nothing).
    assert {"outbox"} <= set(metadata.tables)
