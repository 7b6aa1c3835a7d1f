"""Locks that keep replicas of the evaluator from judging one target on each other's stale figures.

Observations are keyed by indicator, so one indicator's figures are handled by one replica, in order. A target
read from several indicators' series (a relational target: household income against GDP, deflated by CPI) can
be moved by figures on different partitions, handled by different replicas at once: each would read the other's
series before the other committed, and the last to commit would leave a standing judged on a stale figure. So a
batch first takes a transaction-scoped lock on each such target it moves, in one order (no deadlock), before it
reads anything: a second replica waits for the first's commit, then reads what it committed.

PostgreSQL only (``pg_advisory_xact_lock``, released at commit or rollback): on SQLite every transaction begins
IMMEDIATE, holding the one write lock from its first statement, so replicas sharing a file are serialised already.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

# The first key of the two-key advisory locks: targets' locks never meet other users' (the relay's leader lock
# uses the one-key form).
NAMESPACE = 0x5741_5247  # "WARG"
_LOCK = text("SELECT pg_advisory_xact_lock(:ns, :k)")


def lock_key(target: str) -> int:
    """A target's lock number (a signed 32-bit int, the same in every process)."""
    return int.from_bytes(hashlib.blake2b(target.encode(), digest_size=4).digest(), "big", signed=True)


def lock_targets(conn: Connection, targets: Iterable[str]) -> list[int]:
    """Lock these targets for the rest of ``conn``'s transaction, in key order; returns the keys locked.

    ``targets`` is read only on PostgreSQL: a generator spares SQLite the work of finding them.
    """
    if conn.dialect.name != "postgresql":
        return []
    keys = sorted({lock_key(t) for t in targets})
    for k in keys:
        conn.execute(_LOCK, {"ns": NAMESPACE, "k": k})
    return keys
