"""The operator's re-drive of given-up notifications: ``python -m services.alerts.redrive [--status dead] …``.

Queues dead (by default), uncertain or failed notifications again with their idempotency keys and a fresh
retry budget, each with a ``redriven`` line in the delivery log. Uses ALERTS_DATABASE_URL; the running
dispatcher picks them up on its next poll. Idempotent: a second run finds nothing left to re-drive (a
notification is re-driven once, by whichever concurrent run gets it). Prints what it did, one line.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import datetime

from services.alerts import service
from services.alerts.adapters.db import Database
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.model import GIVEN_UP, DeliveryStatus
from shared.clock import utc_now
from shared.db import make_engine


def main(argv: list[str] | None = None) -> int:
    """Re-drive; exit 0, or 2 for bad arguments."""
    p = argparse.ArgumentParser(prog="python -m services.alerts.redrive", description=__doc__.split("\n")[0])
    p.add_argument("--status", action="append", choices=[s.value for s in GIVEN_UP],
                   help="which given-up notifications (repeatable; default: dead)")
    p.add_argument("--department", help="only this department's")
    p.add_argument("--channel", choices=[c.value for c in ChannelType], help="only this channel's")
    p.add_argument("--since", type=datetime.fromisoformat, help="only those queued since (ISO 8601 with offset)")
    p.add_argument("--limit", type=int, default=100_000, help="at most this many (default 100000)")
    p.add_argument("--database-url", default=os.environ.get("ALERTS_DATABASE_URL", "sqlite:///./var/alerts.db"))
    args = p.parse_args(argv)
    if args.since is not None and args.since.tzinfo is None:
        p.error("--since: give a time zone (e.g. 2024-07-01T09:00:00+08:00)")
    statuses = tuple(DeliveryStatus(s) for s in (args.status or [DeliveryStatus.DEAD.value]))
    engine = make_engine(args.database_url)
    try:
        with Database(engine).transaction() as repos:
            done = service.redrive(repos, statuses=statuses, department=args.department, channel=args.channel,
                                   since=args.since, by=f"redrive ({getpass.getuser()})", now=utc_now(),
                                   limit=args.limit)
    finally:
        engine.dispose()
    print(f"re-driven {done.redriven} of {done.matched} {'/'.join(s.value for s in statuses)} notifications")
    return 0


if __name__ == "__main__":
    sys.exit(main())
