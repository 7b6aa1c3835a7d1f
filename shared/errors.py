"""Errors every service shares. Pure: imports nothing."""

from __future__ import annotations


class ConfigurationError(ValueError):
    """A setting, a catalogue, a directory or a routing file that cannot be used: the service must not start.

    ``python -m services.<name>`` prints it without a traceback and exits with status 2 (shared/app.py run)."""
