"""The body of every service's Alembic env.py: online migrations against the URL set by run_migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, MetaData

from shared.db import make_engine


def run(target_metadata: MetaData) -> None:
    """Run the migrations of one service (called from its env.py)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no sqlalchemy.url in the Alembic configuration (run_migrations sets it)")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url, pool_size=1)
    try:
        _run_online(engine, target_metadata)
    finally:
        engine.dispose()


def _run_online(engine: Engine, target_metadata: MetaData) -> None:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        )
        with context.begin_transaction():
            context.run_migrations()
