"""Alembic environment of the ingest service (its own database, its own history)."""

from services.ingest.adapters.tables import metadata
from shared.migrations.env import run

run(metadata)
