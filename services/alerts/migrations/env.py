"""Alembic environment of the alerts service (its own database, its own history)."""

from services.alerts.adapters.tables import metadata
from shared.migrations.env import run

run(metadata)
