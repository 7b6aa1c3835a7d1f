"""Persistence code shared by the services: the leader lock and retention pruning (SQLAlchemy)."""
