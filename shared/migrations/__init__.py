"""Alembic helpers shared by every service's migrations."""
