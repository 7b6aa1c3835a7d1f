"""Alembic environment of the evaluator service (its own database, its own history)."""

from services.evaluator.adapters.tables import metadata
from shared.migrations.env import run

run(metadata)
